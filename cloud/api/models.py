from django.db import models

from retail.fields import IdField


class ApiKey(models.Model):
    """An integration's key (the web shop, a marketplace). Only a hash of the secret is stored.

    A key reads ``ot_<prefix>_<secret>``: the prefix finds the row, the secret's SHA-256 must match.
    """

    id = IdField()
    name = models.CharField(max_length=80, help_text="Who uses it, e.g. 'Web shop'.")
    prefix = models.CharField(max_length=12, unique=True, editable=False)
    secret_hash = models.CharField(max_length=64, editable=False)
    rate_limit_per_minute = models.PositiveIntegerField(default=600)
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["name"]
        verbose_name = "API key"

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix})"

    @property
    def is_authenticated(self) -> bool:  # lets DRF treat the key as the request's principal
        return True


class OnlinePointsPosting(models.Model):
    """An integration's points posting by its own reference: posting it again changes nothing."""

    api_key = models.ForeignKey(ApiKey, on_delete=models.PROTECT, related_name="+")
    reference = models.CharField(max_length=64)
    entry = models.OneToOneField("members.PointsEntry", on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["api_key", "reference"], name="online_points_reference_once")
        ]

    def __str__(self) -> str:
        return self.reference
