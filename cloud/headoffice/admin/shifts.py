from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.dateparse import parse_date

from cloud.headoffice.admin.scoping import StoreScopedMixin
from cloud.headoffice.z_reports import store_day_z_reports
from retail.shifts.models import CashMovement, Shift

STORE_DAYS_SHOWN = 60


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
    change_list_template = "admin/headoffice/shift_change_list.html"

    def get_urls(self):
        return [
            path(
                "store-days/",
                self.admin_site.admin_view(self.store_days_view),
                name="shifts_shift_store_days",
            ),
            *super().get_urls(),
        ]

    def store_days_view(self, request):
        """Z reports per store and day: the day's closed shifts of each store, summed."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        shifts = self.get_queryset(request)
        date_from, date_to = (
            parse_date(request.GET.get("from", "") or ""),
            parse_date(request.GET.get("to", "") or ""),
        )
        if date_from:
            shifts = shifts.filter(closed_at__date__gte=date_from)
        if date_to:
            shifts = shifts.filter(closed_at__date__lte=date_to)
        if request.GET.get("store"):
            shifts = shifts.filter(store__code=request.GET["store"])
        days = store_day_z_reports(shifts=shifts)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Z reports by store and day",
            "days": days[:STORE_DAYS_SHOWN],
            "more": len(days) > STORE_DAYS_SHOWN,
            "filters": {"from": date_from, "to": date_to, "store": request.GET.get("store", "")},
        }
        return TemplateResponse(request, "admin/headoffice/z_store_days.html", context)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="Z report")
    def z_report_text(self, obj):
        if not obj.z_report:
            return "—"
        return render_to_string("admin/headoffice/z_report.html", {"z": obj.z_report})

    @admin.display(description="Counted denominations")
    def denominations_text(self, obj):
        return render_to_string("admin/headoffice/denominations.html", {"counted": obj.counted_denominations})
