"""Exact decimal arithmetic in queries, on SQLite too.

SQLite has no decimal type: a ``DecimalField`` is stored as a REAL, so ``F("qty") + x`` and
``Sum("qty")`` are computed in binary floating point there (``Sum`` of -0.001 and -0.056 comes back
as -0.0570000000000001). These helpers keep decimals exact on every database: sums are taken over
the values scaled to whole minor units, and projections are updated from Python ``Decimal``s.
"""

from __future__ import annotations

from decimal import Decimal

from django.db.models import BigIntegerField, F, QuerySet, Sum, Value
from django.db.models.functions import Cast, Round


def decimal_sum(queryset: QuerySet, field: str, *, places: int) -> Decimal:
    """``Σ field`` over the queryset, exact to ``places`` decimals (values must fit that scale)."""
    return queryset.aggregate(total=DecimalSum(field, places=places))["total"]


class DecimalSum(Sum):
    """``Sum`` of a DecimalField that is exact on SQLite too; use it wherever money or quantities are summed.

    Sums the values scaled to whole units of ``10**-places`` as integers, and converts back to a
    ``Decimal`` with exactly ``places`` decimals. An empty set sums to zero, not ``None``.
    """

    def __init__(self, field: str, *, places: int = 2, **extra):
        self.places = places
        scaled = Cast(Round(F(field) * Value(10**places)), BigIntegerField())
        super().__init__(scaled, output_field=BigIntegerField(), **extra)

    def convert_value(self, value, expression, connection):
        return (Decimal(value or 0) / 10**self.places).quantize(Decimal(1).scaleb(-self.places))
