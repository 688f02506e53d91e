from django.contrib import admin

from cloud.headoffice.admin.no_delete import NoDeleteMixin
from cloud.headoffice.admin.scoping import StoreScopedMixin
from retail.sales.models import Sale, SaleLine, SaleTaxLine, Tender


class SaleLineInline(admin.TabularInline):
    model = SaleLine
    extra = 0
    fields = [
        "position",
        "sku",
        "description",
        "quantity",
        "unit_price",
        "line_discount",
        "sale_discount_share",
        "line_total",
        "tax_rate",
        "voided",
    ]
    readonly_fields = fields


class TaxLineInline(admin.TabularInline):
    model = SaleTaxLine
    extra = 0
    readonly_fields = ["tax_class", "rate", "taxable", "tax"]


class TenderInline(admin.TabularInline):
    model = Tender
    extra = 0
    readonly_fields = ["kind", "amount", "tendered", "change", "reference", "approved", "points"]


@admin.register(Sale)
class SaleAdmin(NoDeleteMixin, StoreScopedMixin, admin.ModelAdmin):
    """Sales and returns (``kind``), as the stores recorded them: read only, never deleted."""

    list_display = [
        "receipt_number",
        "kind",
        "status",
        "store",
        "terminal",
        "total",
        "member",
        "completed_at",
    ]
    list_filter = ["kind", "status", "store", "terminal"]
    search_fields = ["receipt_number", "member__number", "terminal__code"]
    list_select_related = ["store", "terminal", "member"]
    inlines = [SaleLineInline, TaxLineInline, TenderInline]
    date_hierarchy = "completed_at"

    def has_add_permission(self, request):
        return False  # a sale typed in here would have no event and no stock movements

    def has_change_permission(self, request, obj=None):
        return False
