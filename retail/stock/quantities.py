"""How much of a product a stock document (a transfer line, a receiving count) may name.

Products sold each move in whole units; products sold by weight move in kilograms to the gram
(three decimals), the precision of every quantity column (``retail.fields.QuantityField``).
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from retail.api_errors import Invalid
from retail.catalog.models import Unit

# QuantityField holds 12 digits, 3 of them decimals.
_MAX = Decimal("999999999.999")


def stock_quantity_parse(*, name: str, unit: str, raw, allow_zero: bool = False) -> Decimal:
    """``raw`` (a Decimal or the text someone typed) as a quantity of the product, or ``Invalid``.

    The messages name the product and say what to type instead, for admin forms and handhelds.
    """
    if isinstance(raw, float):
        raise TypeError("stock quantities are Decimals, never floats")
    try:
        quantity = raw if isinstance(raw, Decimal) else Decimal(str(raw).strip().replace(",", "."))
    except InvalidOperation:
        raise Invalid(
            f"{name}: enter the quantity as a number, not {raw!r}.", code="quantity_invalid"
        ) from None
    if not quantity.is_finite():
        raise Invalid(f"{name}: enter the quantity as a number, not {raw!r}.", code="quantity_invalid")
    if quantity < 0 or (quantity == 0 and not allow_zero):
        least = "zero or more" if allow_zero else "more than zero"
        raise Invalid(f"{name}: the quantity must be {least}, not {quantity}.", code="quantity_not_positive")
    if quantity > _MAX:
        raise Invalid(f"{name}: {quantity} is more than any store can hold.", code="quantity_too_large")
    if unit == Unit.KG:
        if quantity != quantity.quantize(Decimal("0.001")):
            raise Invalid(
                f"{name} is sold by weight: give the kilograms with at most three decimals, not {quantity}.",
                code="quantity_too_precise",
            )
    elif quantity != quantity.to_integral_value():
        raise Invalid(
            f"{name} is sold by the piece: the quantity must be a whole number, not {quantity}.",
            code="quantity_not_whole",
        )
    return quantity
