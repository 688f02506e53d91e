from django.contrib import admin

from cloud.headoffice.admin.no_delete import NoDeleteMixin
from cloud.headoffice.admin.scoping import StoreScopedMixin
from cloud.headoffice.admin.stock_pivot import StockPivotAdminMixin
from retail.stock.models import StockLevel, StockMovement


@admin.register(StockLevel)
class StockLevelAdmin(NoDeleteMixin, StockPivotAdminMixin, StoreScopedMixin, admin.ModelAdmin):
    """On hand is the sum of the movements: it is corrected by a count, never edited or deleted."""

    list_display = ["product", "store", "on_hand", "updated_at"]
    list_filter = ["store"]
    search_fields = ["product__sku", "product__name"]
    list_select_related = ["product", "store"]
    readonly_fields = ["store", "product", "on_hand", "updated_at"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(StockMovement)
class StockMovementAdmin(NoDeleteMixin, StoreScopedMixin, admin.ModelAdmin):
    list_display = ["created_at", "store", "product", "kind", "quantity", "reference", "origin"]
    list_filter = ["store", "kind"]
    search_fields = ["product__sku", "reference"]
    list_select_related = ["product", "store"]
    date_hierarchy = "created_at"

    def has_add_permission(self, request):
        return False  # a movement typed in here would leave its level and its event behind

    def has_change_permission(self, request, obj=None):
        return False
