from django.contrib import admin

from retail.catalog.models import Barcode, Price, Product, TaxClass, TaxRate


class TaxRateInline(admin.TabularInline):
    model = TaxRate
    extra = 0


@admin.register(TaxClass)
class TaxClassAdmin(admin.ModelAdmin):
    list_display = ["code", "name"]
    inlines = [TaxRateInline]


class BarcodeInline(admin.TabularInline):
    model = Barcode
    extra = 0


class PriceInline(admin.TabularInline):
    model = Price
    extra = 0
    fields = ["amount", "store", "effective_from"]
    autocomplete_fields = ["store"]


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ["sku", "name", "unit", "tax_class", "active", "updated_at"]
    list_filter = ["active", "unit", "tax_class"]
    search_fields = ["sku", "name", "barcodes__code"]
    inlines = [BarcodeInline, PriceInline]
    list_per_page = 50


@admin.register(Price)
class PriceAdmin(admin.ModelAdmin):
    list_display = ["product", "amount", "store", "effective_from"]
    list_filter = ["store"]
    search_fields = ["product__sku", "product__name"]
    list_select_related = ["product", "store"]
    raw_id_fields = ["product"]
