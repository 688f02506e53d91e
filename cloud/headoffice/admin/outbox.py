from django.contrib import admin

from cloud.headoffice.admin.no_delete import NoDeleteMixin
from retail.outbox.admin_display import RedactedPayloadMixin
from retail.outbox.models import Event


@admin.register(Event)
class EventAdmin(RedactedPayloadMixin, NoDeleteMixin, admin.ModelAdmin):
    list_display = ["origin", "seq", "type", "schema", "hlc", "created_at"]
    list_filter = ["origin", "type"]
    readonly_fields = ["id", "origin", "seq", "hlc", "type", "schema", "created_at"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
