"""Z reports per store and day: the closed shifts' Z reports of each store summed over its
business day (the store's local date of closing), for head office."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from zoneinfo import ZoneInfo

from retail.shifts.models import Shift, ShiftStatus

# The Z report's money figures that add up over a day's shifts (docs/checkout.md, "Z report").
SUMMED = (
    "sales_total",
    "returns_total",
    "net_sales",
    "discount_total",
    "cash_rounding",
    "opening_float",
    "paid_in",
    "paid_out",
    "expected_cash",
    "counted_cash",
    "over_short",
)
COUNTED = ("sales_count", "returns_count")


@dataclass
class StoreDay:
    store_code: str
    store_name: str
    day: date
    shifts: list[Shift] = field(default_factory=list)
    figures: dict = field(
        default_factory=lambda: {name: Decimal("0.00") for name in SUMMED} | dict.fromkeys(COUNTED, 0)
    )
    taxes: dict = field(default_factory=dict)  # (tax_class, rate) -> {"taxable", "tax"}
    tenders: dict = field(default_factory=dict)  # kind -> amount

    @property
    def tax_rows(self) -> list[dict]:
        return [
            {"tax_class": k[0], "rate": k[1], **v}
            for k, v in sorted(self.taxes.items(), key=lambda i: (Decimal(i[0][1]), i[0][0]))
        ]


def store_day_z_reports(*, shifts) -> list[StoreDay]:
    """The closed shifts of ``shifts`` (a queryset, already scoped) grouped by store and local day,
    newest day first; every figure is the sum of the shifts' stored Z reports."""
    days: dict = {}
    zones: dict = defaultdict(lambda: None)
    closed = shifts.filter(status=ShiftStatus.CLOSED, z_report__isnull=False).select_related(
        "store", "terminal"
    )
    for shift in closed.order_by("closed_at"):
        zone = zones[shift.store_id] or ZoneInfo(shift.store.time_zone or "UTC")
        zones[shift.store_id] = zone
        key = (shift.store_id, shift.closed_at.astimezone(zone).date())
        day = days.get(key) or days.setdefault(key, StoreDay(shift.store.code, shift.store.name, key[1]))
        day.shifts.append(shift)
        z = shift.z_report
        for name in SUMMED:
            day.figures[name] += Decimal(str(z.get(name, "0")))
        for name in COUNTED:
            day.figures[name] += int(z.get(name, 0))
        for row in z.get("taxes", []):
            sums = day.taxes.setdefault(
                (row["tax_class"], str(row["rate"])), {"taxable": Decimal("0.00"), "tax": Decimal("0.00")}
            )
            sums["taxable"] += Decimal(str(row["taxable"]))
            sums["tax"] += Decimal(str(row["tax"]))
        for kind, amount in z.get("tenders", {}).items():
            day.tenders[kind] = day.tenders.get(kind, Decimal("0.00")) + Decimal(str(amount))
    return sorted(days.values(), key=lambda d: (d.day, d.store_code), reverse=True)
