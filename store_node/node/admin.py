"""The store's own admin: what its manager may look at on site. Head office edits in the cloud."""

from django.contrib import admin

from retail.audit.models import AuditEntry
from retail.outbox.admin_display import RedactedPayloadMixin
from retail.outbox.models import Event


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    list_display = ["created_at", "action", "actor", "approver", "terminal", "subject"]
    list_filter = ["action"]
    readonly_fields = ["action", "store", "terminal", "actor", "approver", "subject", "details", "created_at"]


@admin.register(Event)
class EventAdmin(RedactedPayloadMixin, admin.ModelAdmin):
    list_display = ["seq", "type", "hlc", "created_at"]
    list_filter = ["type"]
    readonly_fields = ["id", "origin", "seq", "hlc", "type", "schema", "created_at"]
