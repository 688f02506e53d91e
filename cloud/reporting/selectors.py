"""Reads for the dashboards: every figure comes from the daily rollups, never from the sales table."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db.models import Sum
from django.utils import timezone

from cloud.reporting.models import (
    DailyChainProductSales,
    DailyProductSales,
    DailyStoreSales,
    DailyTender,
    MonthlyChainProductSales,
)
from retail.catalog.models import Product
from retail.stores.models import Store

ZERO = Decimal("0.00")


@dataclass(frozen=True)
class StoreFreshness:
    store_id: str
    code: str
    name: str
    last_contact_at: datetime | None  # None: never heard of, or sync not installed
    age_seconds: int | None
    provisional: bool


def store_freshness(*, store_ids: list | None = None, now: datetime | None = None) -> list[StoreFreshness]:
    """How old each store's figures may be: from the sync app's last contact with the store.

    A store is provisional when it has not been in contact for ``REPORTING_PROVISIONAL_AFTER_SECONDS``
    (its sales of that time may still be on its till) or when its last contact is unknown.
    """
    now = now or timezone.now()
    limit = getattr(settings, "REPORTING_PROVISIONAL_AFTER_SECONDS", 900)
    stores = Store.objects.order_by("code").values_list("id", "code", "name")
    if store_ids is not None:
        stores = stores.filter(id__in=store_ids)
    contacts = _last_contacts()
    result = []
    for store_id, code, name in stores:
        contact = contacts.get(store_id)
        age = None if contact is None else max(0, int((now - contact).total_seconds()))
        result.append(StoreFreshness(str(store_id), code, name, contact, age, age is None or age > limit))
    return result


def _last_contacts() -> dict:
    try:
        from cloud.sync.models import StoreSyncState
    except ImportError:  # the sync app is not installed: every store's age is unknown
        return {}
    return dict(StoreSyncState.objects.values_list("store_id", "last_contact_at"))


def _money(value) -> str:
    return str((value or ZERO).quantize(Decimal("0.01")))


def dashboard_figures(
    *, date_from: date, date_to: date, store_ids: list | None = None, top: int = 10
) -> dict:
    """Every dashboard figure for a span of days, chain-wide or for some stores: six grouped queries.

    Money is decimal strings. Basket size is lines per sale; member share is the members' part of
    the total; online versus store splits totals by channel.
    """
    span = {"day__gte": date_from, "day__lte": date_to}
    scope = {} if store_ids is None else {"store_id__in": store_ids}
    days = DailyStoreSales.objects.filter(**span, **scope)
    sums = {
        "sales": Sum("sales_count"),
        "returns": Sum("returns_count"),
        "total": Sum("total"),
        "tax": Sum("tax_total"),
        "discounts": Sum("discount_total"),
        "lines": Sum("lines_count"),
        "member_sales": Sum("member_sales_count"),
        "member_total": Sum("member_total"),
    }
    by_day = list(days.values("day").annotate(**sums).order_by("day"))
    by_store = {str(row["store_id"]): row for row in days.values("store_id").annotate(**sums)}
    by_channel = dict(days.values("channel").annotate(t=Sum("total")).values_list("channel", "t"))
    tenders = (
        DailyTender.objects.filter(**span, **scope)
        .values("kind")
        .annotate(amount=Sum("amount"), count=Sum("count"))
        .order_by("-amount")
    )
    top_rows = _top_products(date_from=date_from, date_to=date_to, store_ids=store_ids, top=top)
    names = dict(Product.objects.filter(id__in=[r["product_id"] for r in top_rows]).values_list("id", "name"))
    totals = {key: sum((row[key] or 0) for row in by_day) for key in sums}

    def ratio(part, whole) -> str:
        return f"{Decimal(part) / Decimal(whole):.4f}" if whole else "0.0000"

    stores = store_freshness(store_ids=store_ids)
    return {
        "from": date_from.isoformat(),
        "to": date_to.isoformat(),
        "totals": {
            "sales": totals["sales"],
            "returns": totals["returns"],
            "total": _money(totals["total"]),
            "tax": _money(totals["tax"]),
            "discounts": _money(totals["discounts"]),
            "basket_size": f"{Decimal(totals['lines']) / totals['sales']:.2f}" if totals["sales"] else "0.00",
            "average_sale": _money(Decimal(totals["total"]) / totals["sales"]) if totals["sales"] else "0.00",
            "member_share": ratio(totals["member_total"], totals["total"]),
        },
        "days": [
            {
                "day": row["day"].isoformat(),
                "sales": row["sales"],
                "total": _money(row["total"]),
                "basket_size": f"{Decimal(row['lines']) / row['sales']:.2f}" if row["sales"] else "0.00",
                "member_share": ratio(row["member_total"] or 0, row["total"] or 0),
            }
            for row in by_day
        ],
        "stores": [
            {
                "store_id": s.store_id,
                "code": s.code,
                "name": s.name,
                "sales": (by_store.get(s.store_id) or {}).get("sales") or 0,
                "total": _money((by_store.get(s.store_id) or {}).get("total")),
                "last_contact_at": s.last_contact_at.isoformat() if s.last_contact_at else None,
                "age_seconds": s.age_seconds,
                "provisional": s.provisional,
            }
            for s in stores
        ],
        "tenders": [{"kind": t["kind"], "amount": _money(t["amount"]), "count": t["count"]} for t in tenders],
        "channels": {channel: _money(by_channel.get(channel)) for channel in ("store", "online")},
        "top_products": [
            {
                "product_id": str(r["product_id"]),
                "name": names.get(r["product_id"], "?"),
                "total": _money(r["total"]),
                "quantity": str(Decimal(r["quantity"] or 0).quantize(Decimal("0.001"))),
            }
            for r in top_rows
        ],
    }


def _top_products(*, date_from: date, date_to: date, store_ids, top: int) -> list[dict]:
    """Best sellers by revenue. Chain-wide, whole months come from the monthly rollup, the days
    before and after them from the daily one: a year is ~12 rows per product, not 365."""
    sums = {"total": Sum("total"), "quantity": Sum("quantity")}
    if store_ids is not None:
        rows = (
            DailyProductSales.objects.filter(store_id__in=store_ids, day__gte=date_from, day__lte=date_to)
            .values("product_id")
            .annotate(**sums)
            .order_by("-total")[:top]
        )
        return list(rows)
    first_month = (
        date_from if date_from.day == 1 else (date_from.replace(day=1) + timedelta(days=32)).replace(day=1)
    )
    after_months = (date_to + timedelta(days=1)).replace(day=1)  # months before this one are complete
    totals: dict = {}
    parts = []
    if first_month < after_months:
        parts.append(MonthlyChainProductSales.objects.filter(month__gte=first_month, month__lt=after_months))
        parts.append(DailyChainProductSales.objects.filter(day__gte=date_from, day__lt=first_month))
        parts.append(DailyChainProductSales.objects.filter(day__gte=after_months, day__lte=date_to))
    else:
        parts.append(DailyChainProductSales.objects.filter(day__gte=date_from, day__lte=date_to))
    for part in parts:
        for row in part.values("product_id").annotate(**sums).values_list("product_id", "total", "quantity"):
            old = totals.get(row[0], (ZERO, ZERO))
            totals[row[0]] = (old[0] + row[1], old[1] + row[2])
    ranked = sorted(totals.items(), key=lambda item: (-item[1][0], str(item[0])))[:top]
    return [{"product_id": pid, "total": total, "quantity": quantity} for pid, (total, quantity) in ranked]


def default_span(*, today: date | None = None, days: int = 30) -> tuple[date, date]:
    today = today or timezone.localdate()
    return today - timedelta(days=days - 1), today
