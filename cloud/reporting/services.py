"""Writes of the reporting app: keeping the pre-aggregated daily figures up to date."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db import IntegrityError, models, transaction
from django.db.models import F

from cloud.reporting.live import live_notify
from cloud.reporting.models import (
    Channel,
    DailyChainProductSales,
    DailyProductSales,
    DailyStoreSales,
    DailyTender,
    MonthlyChainProductSales,
    RolledUpSale,
)
from retail.sales.models import Sale, SaleKind, SaleStatus


def _add(model: type[models.Model], keys: dict, increments: dict) -> None:
    """Add ``increments`` to the row ``keys`` identifies, creating it when it is the first."""
    changes = {field: F(field) + value for field, value in increments.items()}
    if model.objects.filter(**keys).update(**changes):
        return
    try:
        with transaction.atomic():
            model.objects.create(**keys, **increments)
    except IntegrityError:
        # Another transaction created the row meanwhile (it committed before our insert went through).
        model.objects.filter(**keys).update(**changes)


def sale_local_day(sale: Sale):
    """The calendar day of the sale in its store's time zone: what a manager calls 'that day'."""
    moment = sale.completed_at or sale.created_at
    return moment.astimezone(ZoneInfo(sale.store.time_zone or "UTC")).date()


def sales_rollup_record(*, sale: Sale, channel: str = Channel.STORE) -> bool:
    """Count a completed sale or return into the daily figures of its store; once per sale.

    Call it inside the transaction that applies the sale at the cloud: the figures then commit or
    roll back with the sale. A second call for the same sale changes nothing and returns False.
    Returns count negatively: a day's ``total`` is what customers paid net of refunds.
    """
    if sale.status != SaleStatus.COMPLETED:
        return False
    day = sale_local_day(sale)
    with transaction.atomic():
        try:
            with transaction.atomic():
                RolledUpSale.objects.create(sale_id=sale.id, day=day)
        except IntegrityError:
            return False
        is_return = sale.kind == SaleKind.RETURN
        sign = -1 if is_return else 1
        lines = [line for line in sale.lines.all() if not line.voided]
        member = sale.member_id is not None
        total = sign * abs(sale.total)
        _add(
            DailyStoreSales,
            {"day": day, "store_id": sale.store_id, "channel": channel},
            {
                "sales_count": 0 if is_return else 1,
                "returns_count": 1 if is_return else 0,
                "total": total,
                "tax_total": sign * abs(sale.tax_total),
                "discount_total": sign * abs(sale.discount_total),
                "lines_count": 0 if is_return else len(lines),
                "units": sign * sum((abs(line.quantity) for line in lines), Decimal(0)),
                "member_sales_count": 1 if member and not is_return else 0,
                "member_total": total if member else Decimal(0),
                "points_earned": sale.points_earned,
            },
        )
        tenders: dict[str, list] = defaultdict(lambda: [0, Decimal(0)])
        for tender in sale.tenders.all():
            if tender.approved:
                tenders[tender.kind][0] += 1
                tenders[tender.kind][1] += sign * abs(tender.amount - tender.change)
        for kind, (count, amount) in sorted(tenders.items()):
            _add(
                DailyTender,
                {"day": day, "store_id": sale.store_id, "kind": kind},
                {"count": count, "amount": amount},
            )
        products: dict = defaultdict(lambda: [Decimal(0), Decimal(0)])
        for line in lines:
            products[line.product_id][0] += sign * abs(line.quantity)
            products[line.product_id][1] += sign * abs(line.line_total)
        for product_id, (quantity, line_total) in sorted(products.items(), key=lambda item: str(item[0])):
            _add(
                DailyProductSales,
                {"day": day, "store_id": sale.store_id, "product_id": product_id},
                {"quantity": quantity, "total": line_total},
            )
            _add(
                DailyChainProductSales,
                {"day": day, "product_id": product_id},
                {"quantity": quantity, "total": line_total},
            )
            _add(
                MonthlyChainProductSales,
                {"month": day.replace(day=1), "product_id": product_id},
                {"quantity": quantity, "total": line_total},
            )
        live_notify(store_id=sale.store_id, day=day)
    return True
