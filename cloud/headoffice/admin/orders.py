from django.contrib import admin, messages

from cloud.api.models import Order, OrderLine, OrderStatus, OrderStatusChange
from cloud.api.orders import order_status_set
from cloud.headoffice.admin.no_delete import NoDeleteMixin
from cloud.headoffice.admin.scoping import StoreScopedMixin
from retail.api_errors import DomainError


class OrderLineInline(admin.TabularInline):
    model = OrderLine
    extra = 0
    can_delete = False
    fields = readonly_fields = ["position", "sku", "description", "quantity", "unit_price", "line_total"]


class OrderHistoryInline(admin.TabularInline):
    model = OrderStatusChange
    extra = 0
    can_delete = False
    fields = readonly_fields = ["status", "at", "note"]


def _move(status: str):
    @admin.action(description=f"Mark selected orders {status}", permissions=["change"])
    def action(modeladmin, request, queryset):
        moved, refused = 0, []
        for order in queryset:
            try:
                order_status_set(order=order, status=status, note=f"by {request.user.username} in the admin")
                moved += 1
            except DomainError as error:
                refused.append(f"{order.number}: {error.detail}")
        if moved:
            messages.success(request, f"{moved} order(s) now {status}.")
        for line in refused:
            messages.error(request, line)

    action.__name__ = f"mark_{status}"
    return action


@admin.register(Order)
class OrderAdmin(NoDeleteMixin, StoreScopedMixin, admin.ModelAdmin):
    """Online orders. Until sync routes them, head office (or the pickup store's manager) moves them on."""

    list_display = [
        "number",
        "fulfilment",
        "store",
        "status_shown",
        "total",
        "prepaid",
        "member",
        "created_at",
    ]
    list_filter = ["status", "fulfilment", "store"]
    search_fields = ["number", "reference", "member__number", "customer_name"]
    list_select_related = ["store", "member"]
    date_hierarchy = "created_at"
    inlines = [OrderLineInline, OrderHistoryInline]
    actions = [
        _move(s)
        for s in (
            OrderStatus.PICKING,
            OrderStatus.READY,
            OrderStatus.SHIPPED,
            OrderStatus.DELIVERED,
            OrderStatus.CANCELLED,
        )
    ]

    @admin.display(description="status", ordering="status")
    def status_shown(self, order):
        return order.status_text

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in Order._meta.fields]

    def has_add_permission(self, request):
        return False
