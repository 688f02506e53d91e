from django.db import models

from retail.fields import IdField


class Member(models.Model):
    """A loyalty member: one identity across every store and the web shop.

    ``points_balance`` is a projection kept by ``retail.members.services``: for a member that was
    not merged, the sum of the ``PointsEntry`` rows of its *merged set* (itself and every member
    merged into it); for a merged member, 0. ``field_clocks`` holds the hybrid-logical-clock stamp
    of the last write of each profile field, for last-writer-wins merges across nodes.

    ``merged_into`` names the survivor of a head-office merge (``member.merged``), always a member
    that is not merged itself: merging into a merged member re-points to its survivor, and members
    merged into a loser follow it. Ledger entries and sales keep the member they were posted to.
    """

    id = IdField()
    number = models.CharField(max_length=20, unique=True)
    card_barcode = models.CharField(max_length=32, unique=True, null=True, blank=True)
    first_name = models.CharField(max_length=80, blank=True)
    last_name = models.CharField(max_length=80, blank=True)
    phone = models.CharField(max_length=32, blank=True, db_index=True)
    email = models.EmailField(blank=True, db_index=True)
    consent_marketing = models.BooleanField(default=False)
    consent_email = models.BooleanField(default=False)
    consent_sms = models.BooleanField(default=False)
    points_balance = models.IntegerField(default=0)
    field_clocks = models.JSONField(default=dict, blank=True)
    origin = models.CharField(max_length=64, help_text="The node that created the member.")
    created_at = models.DateTimeField(auto_now_add=True)
    merged_into = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="merged_members",
        help_text="The surviving member this one was merged into (never itself merged).",
    )
    merged_at = models.DateTimeField(null=True, blank=True)

    PROFILE_FIELDS = (
        "card_barcode",
        "first_name",
        "last_name",
        "phone",
        "email",
        "consent_marketing",
        "consent_email",
        "consent_sms",
    )

    class Meta:
        ordering = ["number"]

    def __str__(self) -> str:
        return f"{self.number} {self.name}"

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


class PointsKind(models.TextChoices):
    EARN = "earn", "Earned"
    REDEEM = "redeem", "Redeemed"
    ADJUST = "adjust", "Adjustment"
    EXPIRE = "expire", "Expired"


class PointsEntry(models.Model):
    """One signed change of a member's points. Entries are never edited; the sum is the balance."""

    id = IdField()
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="points_entries")
    kind = models.CharField(max_length=8, choices=PointsKind.choices)
    points = models.IntegerField(help_text="Positive for earn, negative for redeem and expire.")
    sale_id = models.UUIDField(null=True, blank=True, db_index=True)
    reason = models.CharField(max_length=200, blank=True)
    origin = models.CharField(max_length=64)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["member", "created_at"]
        verbose_name_plural = "points entries"
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(kind="earn", points__gte=0)
                    | models.Q(kind__in=["redeem", "expire"], points__lte=0)
                    | models.Q(kind="adjust")
                ),
                name="points_sign_matches_kind",
            )
        ]

    def __str__(self) -> str:
        return f"{self.member_id} {self.kind} {self.points:+d}"
