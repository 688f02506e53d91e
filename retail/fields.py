"""Model fields shared by the domain apps: money and quantities are Decimals, never floats."""

from decimal import Decimal

from django.db import models

from retail.ids import new_id

MONEY_DIGITS = 12
QUANTITY_DIGITS = 12


def _decimal_default(kwargs: dict) -> None:
    # ``default=0`` would leave an int on every unsaved instance, and an event payload built from
    # one carries a JSON number where the protocol wants a decimal string (the cloud quarantines
    # it). 0 == Decimal("0.00"), so migrations see no change.
    default = kwargs.get("default")
    if isinstance(default, int) and not isinstance(default, bool):
        kwargs["default"] = Decimal(default).quantize(Decimal(1).scaleb(-kwargs["decimal_places"]))


def MoneyField(**kwargs) -> models.DecimalField:
    kwargs.setdefault("max_digits", MONEY_DIGITS)
    kwargs.setdefault("decimal_places", 2)
    _decimal_default(kwargs)
    return models.DecimalField(**kwargs)


def QuantityField(**kwargs) -> models.DecimalField:
    """Units for items sold each (whole numbers) or kilograms for weighed items (3 decimals)."""
    kwargs.setdefault("max_digits", QUANTITY_DIGITS)
    kwargs.setdefault("decimal_places", 3)
    _decimal_default(kwargs)
    return models.DecimalField(**kwargs)


def IdField() -> models.UUIDField:
    return models.UUIDField(primary_key=True, default=new_id, editable=False)
