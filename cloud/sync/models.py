"""The cloud's side of store sync: credentials, per-store progress, the feed, and what needs a human."""

from django.conf import settings
from django.db import models

from retail.fields import IdField, QuantityField


class EnrollmentCode(models.Model):
    """A one-time code head office gives a new store; only its SHA-256 is kept."""

    id = IdField()
    store = models.ForeignKey("stores.Store", on_delete=models.CASCADE, related_name="+")
    code_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"enrollment code for {self.store_id}"


class StoreCredential(models.Model):
    """A store's bearer credential ``<key_id>.<secret>``; the cloud keeps only the secret's SHA-256."""

    id = IdField()
    store = models.ForeignKey("stores.Store", on_delete=models.CASCADE, related_name="+")
    key_id = models.CharField(max_length=16, unique=True)
    secret_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.key_id} ({'revoked' if self.revoked_at else 'active'})"


class StoreSyncState(models.Model):
    """Per store: the highest contiguous seq applied (moved in the apply transaction) and health."""

    store = models.OneToOneField("stores.Store", on_delete=models.CASCADE, primary_key=True, related_name="+")
    ack_seq = models.BigIntegerField(default=0, help_text="Highest contiguous seq of this store applied.")
    store_head_seq = models.BigIntegerField(default=0, help_text="The store's last seq, as it reported.")
    oldest_unsynced_at = models.DateTimeField(null=True, blank=True)
    pull_cursor = models.BigIntegerField(default=0, help_text="Feed position the store last pulled to.")
    last_contact_at = models.DateTimeField(null=True, blank=True)
    last_push_at = models.DateTimeField(null=True, blank=True)
    last_pull_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "store sync health"
        verbose_name_plural = "store sync health"

    def __str__(self) -> str:
        return f"{self.store_id} @ {self.ack_seq}"


class FeedState(models.Model):
    """The single row that allocates feed positions. Taking it is the feed's write lock: positions
    are handed out and committed in the same order, so a reader never skips a late commit."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    last_seq = models.BigIntegerField(default=0)
    published_cloud_seq = models.BigIntegerField(
        default=0, help_text="Cloud outbox seq copied into the feed."
    )
    floor_seq = models.BigIntegerField(default=0, help_text="Entries at or below this were pruned.")
    nudge_seq = models.BigIntegerField(
        default=0, help_text="Position of the last entry that wakes the stores (the nudge watches it)."
    )

    def __str__(self) -> str:
        return f"feed @ {self.last_seq}"


class FeedEntry(models.Model):
    """An event a store may pull, in feed order; ``origin``/``origin_seq`` name the original event."""

    seq = models.BigIntegerField(primary_key=True)
    event_id = models.UUIDField()
    origin = models.CharField(max_length=64)
    origin_seq = models.BigIntegerField()
    hlc = models.BigIntegerField()
    type = models.CharField(max_length=40)
    schema = models.PositiveSmallIntegerField()
    payload = models.JSONField()
    audience = models.ForeignKey(
        "stores.Store",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        help_text="Empty: every store may see it.",
    )
    not_to = models.ForeignKey(
        "stores.Store",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        help_text="The store the entry is about (its own stock levels): never sent to it.",
    )
    # NULL (every region) differs from "" (the stores with no region set).
    audience_region = models.CharField(  # noqa: DJ001
        max_length=40, null=True, blank=True, help_text="Set: only the stores of this region may see it."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["seq"]
        verbose_name_plural = "feed entries"

    def __str__(self) -> str:
        return f"#{self.seq} {self.origin}#{self.origin_seq} {self.type}"


class SharedStockChange(models.Model):
    """A (store, product) whose level moved by a store's push since head office last published the
    levels (``cloud.sync.shared_state``). ``token`` changes with every push that touches it, so a
    publication removes only the changes it read."""

    store = models.ForeignKey("stores.Store", on_delete=models.CASCADE, related_name="+")
    product = models.ForeignKey("catalog.Product", on_delete=models.CASCADE, related_name="+")
    token = models.BigIntegerField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["store", "product"], name="shared_stock_change_once")]

    def __str__(self) -> str:
        return f"{self.product_id} at {self.store_id}"


class SharedPointsChange(models.Model):
    """A member whose balance moved by a store's push since head office last published the balances."""

    member = models.OneToOneField(
        "members.Member", on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    token = models.BigIntegerField()

    def __str__(self) -> str:
        return str(self.member_id)


class SharedStatePublication(models.Model):
    """The single row that orders publications of other stores' stock levels and points balances."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    count = models.BigIntegerField(default=0)
    published_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"publication {self.count}"


class QuarantinedEvent(models.Model):
    """A store event the cloud could not apply: kept whole, with why, until someone retries it."""

    id = IdField()
    store = models.ForeignKey("stores.Store", on_delete=models.CASCADE, related_name="+")
    event_id = models.UUIDField()
    origin = models.CharField(max_length=64)
    seq = models.BigIntegerField()
    hlc = models.BigIntegerField()
    type = models.CharField(max_length=40)
    schema = models.PositiveSmallIntegerField()
    payload = models.JSONField()
    reason = models.CharField(max_length=32, db_index=True)
    detail = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["origin", "seq"], name="quarantine_once_per_event")]

    def __str__(self) -> str:
        return f"{self.origin}#{self.seq} {self.type}: {self.reason}"


class Oversell(models.Model):
    """Stock of a product at a store went below zero when a store's movement was applied."""

    id = IdField()
    store = models.ForeignKey("stores.Store", on_delete=models.CASCADE, related_name="+")
    product = models.ForeignKey("catalog.Product", on_delete=models.CASCADE, related_name="+")
    on_hand = QuantityField(max_digits=14)
    origin = models.CharField(max_length=64)
    seq = models.BigIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.product_id} at {self.store_id}: {self.on_hand}"


class PointsOverdraw(models.Model):
    """A member's points balance went below zero (e.g. two stores redeemed the same points offline)."""

    id = IdField()
    member = models.ForeignKey("members.Member", on_delete=models.CASCADE, related_name="+")
    balance = models.IntegerField()
    origin = models.CharField(max_length=64)
    seq = models.BigIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.member_id}: {self.balance}"


class MergeOutcome(models.TextChoices):
    MERGED = "merged", "Merged"
    DISMISSED = "dismissed", "Not the same person"


class MemberMergeProposal(models.Model):
    """Two members that share a phone or e-mail (e.g. signed up at two stores offline).

    Head office decides it in admin: merged (``survivor`` is the member that stayed) or dismissed.
    """

    id = IdField()
    member = models.ForeignKey("members.Member", on_delete=models.CASCADE, related_name="+")
    duplicate = models.ForeignKey("members.Member", on_delete=models.CASCADE, related_name="+")
    matched_on = models.CharField(max_length=16)
    created_at = models.DateTimeField(auto_now_add=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=10, choices=MergeOutcome.choices, blank=True)
    survivor = models.ForeignKey(
        "members.Member", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.member_id} ~ {self.duplicate_id} ({self.matched_on})"
