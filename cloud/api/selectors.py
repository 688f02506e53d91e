"""Reads of the omnichannel API: what the web shop shows."""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db.models import Q, QuerySet
from django.utils import timezone

from cloud.api.models import ApiKey
from cloud.api.services import secret_hash
from retail.catalog.models import Price, Product
from retail.members.models import Member, PointsEntry
from retail.stock.models import StockLevel
from retail.stores.models import Store

# Below this many units a store shows "low" rather than "in stock" (the shop says "only a few left").
LOW_STOCK = Decimal("3")


def api_key_authenticate(*, presented: str) -> ApiKey | None:
    """The active key matching ``ot_<prefix>_<secret>``, compared by hash; None otherwise."""
    parts = presented.split("_", 2)
    if len(parts) != 3 or parts[0] != "ot" or not parts[1] or not parts[2]:
        return None
    key = ApiKey.objects.filter(prefix=parts[1], revoked_at__isnull=True).first()
    if key is None:
        return None
    return key if hmac.compare_digest(key.secret_hash, secret_hash(parts[2])) else None


def product_list(*, search: str = "", updated_since: datetime | None = None) -> QuerySet[Product]:
    products = Product.objects.filter(active=True).order_by("sku")
    if search:
        products = products.filter(
            Q(name__icontains=search) | Q(sku=search) | Q(barcodes__code=search)
        ).distinct()
    if updated_since is not None:
        products = products.filter(updated_at__gte=updated_since)
    return products


def chain_prices(*, product_ids: list, at: datetime | None = None) -> dict:
    """The chain-wide price in effect now of each product (products without one are missing)."""
    at = at or timezone.now()
    rows = (
        Price.objects.filter(product_id__in=product_ids, store__isnull=True, effective_from__lte=at)
        .order_by("product_id", "-effective_from")
        .values_list("product_id", "amount")
    )
    prices: dict = {}
    for product_id, amount in rows:
        prices.setdefault(product_id, amount)
    return prices


@dataclass(frozen=True)
class StoreAvailability:
    store_code: str
    store_name: str
    price: Decimal | None
    on_hand: Decimal
    status: str  # in_stock | low | out


def product_availability(
    *, product: Product, store_codes: list[str] | None = None
) -> list[StoreAvailability]:
    """Price and stock of one product in every active store (or those named): three queries.

    The price is the store's own price if it has one in effect, else the chain-wide price.
    """
    now = timezone.now()
    stores = Store.objects.filter(active=True).order_by("code").values_list("id", "code", "name")
    if store_codes:
        stores = stores.filter(code__in=store_codes)
    stores = list(stores)
    prices: dict = {}
    for store_id, amount in (
        Price.objects.filter(product=product, effective_from__lte=now)
        .order_by("store_id", "-effective_from")
        .values_list("store_id", "amount")
    ):
        prices.setdefault(store_id, amount)
    levels = dict(
        StockLevel.objects.filter(product=product, store_id__in=[s[0] for s in stores]).values_list(
            "store_id", "on_hand"
        )
    )
    result = []
    for store_id, code, name in stores:
        on_hand = levels.get(store_id, Decimal(0))
        status = "out" if on_hand <= 0 else "low" if on_hand < LOW_STOCK else "in_stock"
        result.append(StoreAvailability(code, name, prices.get(store_id, prices.get(None)), on_hand, status))
    return result


def member_lookup(*, email: str = "", phone: str = "", number: str = "") -> Member | None:
    """The member (after merges, the surviving one) with this number, email or phone."""
    if number:
        candidates = Member.objects.filter(Q(number=number) | Q(card_barcode=number))
    elif email:
        candidates = Member.objects.filter(email__iexact=email.strip())
    elif phone:
        candidates = Member.objects.filter(phone=phone.strip())
    else:
        return None
    member = candidates.filter(merged_into__isnull=True).order_by("created_at").first() or candidates.first()
    seen = set()
    while member is not None and member.merged_into_id and member.pk not in seen:
        seen.add(member.pk)
        member = member.merged_into
    return member


def member_ledger(*, member: Member) -> QuerySet[PointsEntry]:
    return PointsEntry.objects.filter(member=member).order_by("-created_at", "id")
