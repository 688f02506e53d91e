"""Catalog writes. Head office owns the catalog: these run at the cloud and stores apply their events."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from retail.api_errors import Invalid
from retail.catalog.models import Barcode, Price, Product, TaxRate
from retail.outbox.services import event_append


def product_payload(product: Product, barcodes: list[str]) -> dict:
    return {
        "id": product.id,
        "sku": product.sku,
        "name": product.name,
        "unit": product.unit,
        "tax_class": product.tax_class_id,
        "active": product.active,
        "barcodes": sorted(barcodes),
    }


def product_upsert(
    *, sku: str, name: str, unit: str, tax_class: str, active: bool = True, barcodes: list[str] | tuple = ()
) -> Product:
    """Create or change a product (by SKU) and replace its barcodes, with a ``product.updated`` event."""
    with transaction.atomic():
        product = Product.objects.filter(sku=sku).first() or Product(sku=sku)
        product.name, product.unit, product.tax_class_id, product.active = name, unit, tax_class, active
        product.full_clean(validate_unique=False)
        product.save()
        taken = (
            Barcode.objects.filter(code__in=barcodes).exclude(product=product).values_list("code", flat=True)
        )
        if taken:
            raise Invalid(
                f"barcode {', '.join(taken)} already belongs to another product", code="barcode_taken"
            )
        Barcode.objects.filter(product=product).exclude(code__in=barcodes).delete()
        Barcode.objects.bulk_create(
            [Barcode(code=c, product=product) for c in barcodes], ignore_conflicts=True
        )
        event_append(type="product.updated", payload=product_payload(product, list(barcodes)))
    return product


def products_deactivate(*, products) -> int:
    """Take ``products`` off sale at every store: ``active`` off, with a ``product.updated`` each.

    Products are never deleted (sales, movements and transfers name them); returns how many were
    active before.
    """
    with transaction.atomic():
        changed = list(
            Product.objects.filter(pk__in=products.values("pk"), active=True).prefetch_related("barcodes")
        )
        for product in changed:
            product.active = False
            product.save(update_fields=["active", "updated_at"])
            event_append(
                type="product.updated",
                payload=product_payload(product, [b.code for b in product.barcodes.all()]),
            )
    return len(changed)


def price_set(
    *, product: Product, amount: Decimal, effective_from: datetime | None = None, store=None
) -> Price:
    """Set a price from a moment on (now by default), chain-wide or for one store, with a ``price.set`` event."""
    if not isinstance(amount, Decimal):
        raise TypeError("prices are Decimals")
    if amount < 0:
        raise Invalid("a price cannot be negative", code="price_negative")
    with transaction.atomic():
        price, _ = Price.objects.update_or_create(
            product=product,
            store=store,
            effective_from=effective_from or timezone.now(),
            defaults={"amount": amount},
        )
        event_append(
            type="price.set",
            payload={
                "id": price.id,
                "product_id": product.id,
                "store_id": store.id if store else None,
                "amount": price.amount,
                "effective_from": price.effective_from,
            },
        )
    return price


def tax_rate_set(*, tax_class: str, rate: Decimal, effective_from: datetime) -> TaxRate:
    with transaction.atomic():
        tax_rate, _ = TaxRate.objects.update_or_create(
            tax_class_id=tax_class, effective_from=effective_from, defaults={"rate": rate}
        )
        event_append(
            type="tax.rate_set",
            payload={"tax_class": tax_class, "rate": rate, "effective_from": effective_from},
        )
    return tax_rate
