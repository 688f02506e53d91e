"""Display filters of the store's screens."""

from decimal import Decimal

from django import template

register = template.Library()


@register.filter
def qty(value) -> str:
    """A quantity without trailing zeros or an exponent: 10.000 -> "10", 1.250 -> "1.25"."""
    if value in (None, ""):
        return ""
    return format(Decimal(value).normalize(), "f")


@register.filter
def signed_qty(value) -> str:
    """A difference with its sign: -2 -> "-2", 1.5 -> "+1.5", 0 -> "0"."""
    if value in (None, ""):
        return ""
    text = qty(value)
    return f"+{text}" if Decimal(value) > 0 else text
