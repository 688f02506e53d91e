import json

from django.contrib import admin
from django.utils.html import format_html

from cloud.headoffice.admin.scoping import StoreScopedMixin
from retail.shifts.models import CashMovement, Shift


class CashMovementInline(admin.TabularInline):
    model = CashMovement
    extra = 0
    can_delete = False
    fields = readonly_fields = ["created_at", "kind", "amount", "reason", "staff"]


@admin.register(Shift)
class ShiftAdmin(StoreScopedMixin, admin.ModelAdmin):
    """Shifts and their Z reports, by store and day (the till writes them; nobody edits them here)."""

    list_display = [
        "opened_at",
        "store",
        "terminal",
        "cashier",
        "status",
        "expected_cash",
        "counted_cash",
        "over_short",
    ]
    list_filter = ["status", "store"]
    list_select_related = ["store", "terminal", "cashier"]
    search_fields = ["terminal__code", "cashier__username"]
    date_hierarchy = "opened_at"
    inlines = [CashMovementInline]
    exclude = ["z_report", "counted_denominations"]
    readonly_fields = ["z_report_text", "denominations_text"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="Z report")
    def z_report_text(self, obj):
        return (
            format_html("<pre>{}</pre>", json.dumps(obj.z_report, indent=2, ensure_ascii=False))
            if obj.z_report
            else "—"
        )

    @admin.display(description="Counted denominations")
    def denominations_text(self, obj):
        return format_html("<pre>{}</pre>", json.dumps(obj.counted_denominations, indent=2))
