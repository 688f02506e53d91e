"""Model fields shared by the domain apps: money and quantities are Decimals, never floats."""

from django.db import models

from retail.ids import new_id

MONEY_DIGITS = 12
QUANTITY_DIGITS = 12


def MoneyField(**kwargs) -> models.DecimalField:
    kwargs.setdefault("max_digits", MONEY_DIGITS)
    kwargs.setdefault("decimal_places", 2)
    return models.DecimalField(**kwargs)


def QuantityField(**kwargs) -> models.DecimalField:
    """Units for items sold each (whole numbers) or kilograms for weighed items (3 decimals)."""
    kwargs.setdefault("max_digits", QUANTITY_DIGITS)
    kwargs.setdefault("decimal_places", 3)
    return models.DecimalField(**kwargs)


def IdField() -> models.UUIDField:
    return models.UUIDField(primary_key=True, default=new_id, editable=False)
