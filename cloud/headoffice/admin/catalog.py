from django.contrib import admin, messages
from django.db.models import Q

from cloud.headoffice.admin.csv_views import CsvAdminMixin
from cloud.headoffice.admin.no_delete import NoDeleteMixin
from cloud.headoffice.admin.scoping import StoreScopedMixin
from cloud.headoffice.catalog_csv import (
    PRICE_COLUMNS,
    PRODUCT_COLUMNS,
    catalog_export,
    catalog_import,
    prices_export,
    prices_import,
)
from cloud.headoffice.selectors import ALL_STORES, NO_STORE, staff_store_scope
from retail.catalog.models import Barcode, Price, Product, TaxClass, TaxRate
from retail.catalog.services import price_set, product_payload, products_deactivate
from retail.outbox.services import event_append
from retail.stores.models import Store


def _price_event(price: Price) -> None:
    event_append(
        type="price.set",
        payload={
            "id": price.id,
            "product_id": price.product_id,
            "store_id": price.store_id,
            "amount": price.amount,
            "effective_from": price.effective_from,
        },
    )


class TaxRateInline(admin.TabularInline):
    model = TaxRate
    extra = 0
    can_delete = False  # a later rate supersedes it (tax.rate_set); there is no event for a delete


@admin.register(TaxClass)
class TaxClassAdmin(NoDeleteMixin, admin.ModelAdmin):
    list_display = ["code", "name"]
    inlines = [TaxRateInline]

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        for formset in formsets:
            for rate in [*formset.new_objects, *(obj for obj, _ in formset.changed_objects)]:
                event_append(
                    type="tax.rate_set",
                    payload={
                        "tax_class": rate.tax_class_id,
                        "rate": rate.rate,
                        "effective_from": rate.effective_from,
                    },
                )


class BarcodeInline(admin.TabularInline):
    model = Barcode
    extra = 0


class PriceInline(admin.TabularInline):
    model = Price
    extra = 0
    can_delete = False  # a later price supersedes it (price.set); there is no event for a delete
    fields = ["amount", "store", "effective_from"]
    autocomplete_fields = ["store"]

    def get_queryset(self, request):
        # As on the price list: a store manager sees the chain-wide prices and their own store's.
        prices = super().get_queryset(request)
        scope = staff_store_scope(user=request.user)
        if scope == ALL_STORES:
            return prices
        own = Q(store=scope) if scope != NO_STORE else Q(pk__in=[])
        return prices.filter(own | Q(store__isnull=True))


@admin.register(Product)
class ProductAdmin(NoDeleteMixin, CsvAdminMixin, admin.ModelAdmin):
    csv_columns = PRODUCT_COLUMNS
    csv_filename = "catalog.csv"
    list_display = ["sku", "name", "unit", "tax_class", "active", "updated_at"]
    list_filter = ["active", "unit", "tax_class"]
    search_fields = ["sku", "name", "barcodes__code"]
    inlines = [BarcodeInline, PriceInline]
    list_per_page = 50
    actions = ["deactivate"]

    def get_form(self, request, obj=None, **kwargs):
        kwargs.setdefault(
            "help_texts",
            {
                "active": "Untick to take the product off sale at every store. Products are "
                "deactivated, never deleted: sales, stock movements and transfers name them."
            },
        )
        return super().get_form(request, obj, **kwargs)

    @admin.action(description="Deactivate selected products (off sale everywhere)", permissions=["change"])
    def deactivate(self, request, queryset):
        done = products_deactivate(products=queryset)
        messages.success(request, f"{done} product(s) deactivated; the stores follow at their next sync.")

    def csv_import(self, request, data, progress=None):
        return catalog_import(data=data, **({"progress": progress} if progress else {}))

    def csv_export(self, request):
        return catalog_export(products=self.get_queryset(request))

    def save_related(self, request, form, formsets, change):
        # Same transaction as the form (the admin wraps it): the events commit with the rows.
        super().save_related(request, form, formsets, change)
        product = form.instance
        event_append(
            type="product.updated",
            payload=product_payload(product, list(product.barcodes.values_list("code", flat=True))),
        )
        for formset in formsets:
            if formset.model is Price:
                for price in [*formset.new_objects, *(obj for obj, _ in formset.changed_objects)]:
                    _price_event(price)


@admin.register(Price)
class PriceAdmin(NoDeleteMixin, CsvAdminMixin, StoreScopedMixin, admin.ModelAdmin):
    csv_columns = PRICE_COLUMNS
    csv_filename = "prices.csv"
    chain_wide_rows_visible = True
    list_display = ["product", "amount", "store", "effective_from"]
    list_filter = ["store"]
    search_fields = ["product__sku", "product__name"]
    list_select_related = ["product", "store"]
    raw_id_fields = ["product"]

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            _price_event(obj)
        else:
            saved = price_set(
                product=obj.product, amount=obj.amount, effective_from=obj.effective_from, store=obj.store
            )
            obj.pk = saved.pk

    def csv_import(self, request, data, progress=None):
        scope = self.store_scope(request)
        store = None if scope == ALL_STORES else Store.objects.get(pk=scope)
        return prices_import(data=data, store=store, **({"progress": progress} if progress else {}))

    def csv_export(self, request):
        return prices_export(prices=self.get_queryset(request))
