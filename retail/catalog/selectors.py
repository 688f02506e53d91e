"""Catalog reads: the price and tax rate that apply to a product at a store at a moment."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from django.utils import timezone

from retail.catalog.models import Price, TaxRate


def price_for(*, product_id, store_id=None, at: datetime | None = None) -> Decimal | None:
    """The newest price in effect at ``at``; a store's own price beats the chain-wide one."""
    at = at or timezone.now()
    candidates = Price.objects.filter(product_id=product_id, effective_from__lte=at)
    if store_id is not None:
        override = (
            candidates.filter(store_id=store_id).order_by("-effective_from").values_list("amount", flat=True)
        )
        for amount in override[:1]:
            return amount
    chain = candidates.filter(store__isnull=True).order_by("-effective_from").values_list("amount", flat=True)
    return next(iter(chain[:1]), None)


def tax_rate_for(*, tax_class: str, at: datetime | None = None) -> Decimal | None:
    at = at or timezone.now()
    rates = TaxRate.objects.filter(tax_class_id=tax_class, effective_from__lte=at).order_by("-effective_from")
    return next(iter(rates.values_list("rate", flat=True)[:1]), None)
