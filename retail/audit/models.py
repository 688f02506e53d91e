from django.conf import settings
from django.db import models

from retail.fields import IdField


class AuditEntry(models.Model):
    """Who did something sensitive at a till, and who approved it. Written in the action's transaction."""

    id = IdField()
    action = models.CharField(max_length=40, db_index=True)
    store = models.ForeignKey(
        "stores.Store", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    terminal = models.ForeignKey(
        "stores.Terminal", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")
    approver = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    subject = models.CharField(
        max_length=64, blank=True, help_text="Id of the sale, line or shift concerned."
    )
    details = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "audit entries"

    def __str__(self) -> str:
        return f"{self.action} {self.subject}"
