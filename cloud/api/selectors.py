"""Reads of the omnichannel API: what the web shop shows."""

from __future__ import annotations

import hmac
import time
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db import connection
from django.db.models import Q, QuerySet
from django.utils import timezone

from cloud.api.models import OPEN_STATUSES, ApiKey
from cloud.api.services import secret_hash
from retail.catalog.models import Price, Product
from retail.members.models import Member, PointsEntry
from retail.members.selectors import merged_set

# Below this many units a store shows "low" rather than "in stock" (the shop says "only a few left").
LOW_STOCK = Decimal("3")


# Keys by prefix for a few seconds per process: the web shop's calls skip a query each. A revoked
# key therefore stops working within KEY_CACHE_SECONDS everywhere (at once in the revoking process).
KEY_CACHE_SECONDS = 5.0
_key_cache: dict[str, tuple[float, ApiKey | None]] = {}


def api_key_authenticate(*, presented: str) -> ApiKey | None:
    """The active key matching ``ot_<prefix>_<secret>``, compared by hash; None otherwise."""
    parts = presented.split("_", 2)
    if len(parts) != 3 or parts[0] != "ot" or not parts[1] or not parts[2] or len(parts[1]) > 12:
        return None
    cached = _key_cache.get(parts[1])
    if cached is not None and cached[0] > time.monotonic():
        key = cached[1]
    else:
        key = ApiKey.objects.filter(prefix=parts[1], revoked_at__isnull=True).first()
        if len(_key_cache) > 1000:
            _key_cache.clear()
        _key_cache[parts[1]] = (time.monotonic() + KEY_CACHE_SECONDS, key)
    if key is None:
        return None
    return key if hmac.compare_digest(key.secret_hash, secret_hash(parts[2])) else None


def api_key_forget(*, prefix: str) -> None:
    _key_cache.pop(prefix, None)


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
    reserved: Decimal  # held by open pickup orders at the store
    status: str  # in_stock | low | out, by what is not reserved


_AVAILABILITY_SQL = """
WITH prod AS (SELECT id FROM catalog_product WHERE sku = %s AND active)
SELECT s.code, s.name,
  CAST((SELECT l.on_hand FROM stock_stocklevel l WHERE l.store_id = s.id AND l.product_id = prod.id) AS TEXT),
  CAST((SELECT p.amount FROM catalog_price p
        WHERE p.store_id = s.id AND p.product_id = prod.id AND p.effective_from <= %s
        ORDER BY p.effective_from DESC LIMIT 1) AS TEXT),
  CAST((SELECT p.amount FROM catalog_price p
        WHERE p.store_id IS NULL AND p.product_id = prod.id AND p.effective_from <= %s
        ORDER BY p.effective_from DESC LIMIT 1) AS TEXT),
  CAST((SELECT SUM(ol.quantity) FROM omni_api_orderline ol
        JOIN omni_api_order o ON o.id = ol.order_id
        WHERE ol.product_id = prod.id AND o.store_id = s.id AND o.status IN ({open_statuses})) AS TEXT)
FROM prod CROSS JOIN stores_store s
WHERE s.active {codes}
ORDER BY s.code
"""


def product_availability(*, sku: str, store_codes: list[str] | None = None) -> list[StoreAvailability] | None:
    """Price and stock of an active product in every active store (or those named); None if no such product.

    The price is the store's own price if it has one in effect, else the chain-wide price. This is
    the web shop's hottest call (p99 target 20 ms), so it is one hand-written SELECT (the product by
    SKU included) rather than four ORM queries: building ORM queries cost more than running them.
    """
    now = Price._meta.get_field("effective_from").get_db_prep_value(timezone.now(), connection)
    codes = ""
    params: list = [sku, now, now, *OPEN_STATUSES]
    open_statuses = ", ".join(["%s"] * len(OPEN_STATUSES))
    if store_codes:
        codes = "AND s.code IN (" + ", ".join(["%s"] * len(store_codes)) + ")"
        params += list(store_codes)
    with connection.cursor() as cursor:
        cursor.execute(_AVAILABILITY_SQL.format(codes=codes, open_statuses=open_statuses), params)
        rows = cursor.fetchall()
    if not rows and not Product.objects.filter(sku=sku, active=True).exists():
        return None
    result = []
    for code, name, on_hand, own, chain, reserved in rows:
        on_hand = Decimal(on_hand) if on_hand is not None else Decimal(0)
        reserved = Decimal(reserved) if reserved is not None else Decimal(0)
        price = own if own is not None else chain
        available = on_hand - reserved
        status = "out" if available <= 0 else "low" if available < LOW_STOCK else "in_stock"
        result.append(
            StoreAvailability(
                code, name, None if price is None else Decimal(price), on_hand, reserved, status
            )
        )
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
    """The entries behind the member's balance: its own and those of the members merged into it."""
    return PointsEntry.objects.filter(merged_set(member_id=member.pk)).order_by("-created_at", "id")
