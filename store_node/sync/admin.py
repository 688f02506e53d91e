from django.contrib import admin

from retail.outbox.admin_display import RedactedPayloadMixin
from store_node.sync.models import PulledQuarantine, SyncState


@admin.register(SyncState)
class SyncStateAdmin(admin.ModelAdmin):
    list_display = [
        "pushed_seq",
        "pull_cursor",
        "last_success_at",
        "last_attempt_at",
        "clock_offset_s",
        "last_error",
    ]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(PulledQuarantine)
class PulledQuarantineAdmin(RedactedPayloadMixin, admin.ModelAdmin):
    list_display = ["fseq", "origin", "seq", "type", "reason", "created_at"]

    def has_change_permission(self, request, obj=None):
        return False
