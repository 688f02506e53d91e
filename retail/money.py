"""Decimal money helpers shared by the cloud and the store node.

Pure Python, no Django: importable and testable without settings.

Money is always ``decimal.Decimal`` quantised to the currency's minor unit (a cent by default);
quantities are ``Decimal`` with at most three decimals (kilograms to the gram). Floats never enter
money: every entry point here refuses them with ``TypeError``. The rounding rules these helpers
implement are written down in ``docs/money.md``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import (
    MAX_EMAX,
    MAX_PREC,
    MIN_EMIN,
    ROUND_FLOOR,
    ROUND_HALF_UP,
    Context,
    Decimal,
    InvalidOperation,
)

__all__ = [
    "CENT",
    "QUANTITY_QUANTUM",
    "ZERO",
    "allocate",
    "is_money",
    "money_sum",
    "percent_of",
    "round_cash",
    "round_money",
    "split_evenly",
    "to_money",
    "to_quantity",
]

CENT = Decimal("0.01")
"""The default minor unit. Pass ``minor_unit=Decimal("1")`` for currencies without cents (JPY)."""

QUANTITY_QUANTUM = Decimal("0.001")
"""Quantities (weights in kg) carry at most three decimals."""

ZERO = Decimal("0.00")

Number = Decimal | int | str


def _to_decimal(value: object, what: str) -> Decimal:
    """Convert str/int/Decimal to a finite Decimal; refuse floats, bools and anything else."""
    if type(value) is Decimal:  # the usual case: Decimals are immutable, no copy needed
        if not value.is_finite():
            raise ValueError(f"{what} must be finite, got {value!r}")
        return value
    # bool is an int subclass; True as an amount is always a bug.
    if isinstance(value, float | bool) or not isinstance(value, Decimal | int | str):
        raise TypeError(f"{what} must be a Decimal, int or str, not {type(value).__name__}")
    try:
        d = Decimal(value.strip()) if isinstance(value, str) else Decimal(value)
    except InvalidOperation:
        raise ValueError(f"{what} is not a number: {value!r}") from None
    if not d.is_finite():
        raise ValueError(f"{what} must be finite, got {value!r}")
    return d


def _check_minor_unit(minor_unit: Decimal) -> None:
    if not isinstance(minor_unit, Decimal) or minor_unit <= 0:
        raise ValueError(f"minor_unit must be a positive Decimal, got {minor_unit!r}")


def to_money(value: Number, *, minor_unit: Decimal = CENT) -> Decimal:
    """Convert ``value`` to a money Decimal quantised to ``minor_unit``, without rounding.

    Accepts ``Decimal``, ``int`` and ``str``. Refuses ``float`` (and ``bool``) with ``TypeError``,
    and a value with more precision than the minor unit with ``ValueError``: rounding is a business
    decision and must be spelled ``round_money``. Invariant: ``to_money(x) == Decimal(x)``.
    """
    _check_minor_unit(minor_unit)
    d = _to_decimal(value, "amount")
    q = d.quantize(minor_unit)
    if q != d:
        raise ValueError(f"amount {value!r} has more precision than {minor_unit}; round it with round_money")
    return q


def is_money(value: object, *, minor_unit: Decimal = CENT) -> bool:
    """True if ``value`` is a finite Decimal already expressible in whole minor units."""
    return isinstance(value, Decimal) and value.is_finite() and value.quantize(minor_unit) == value


def to_quantity(value: Number, *, integer: bool = False) -> Decimal:
    """Convert a quantity: at most three decimals (``integer=True``: a whole number), never a float.

    Raises ``TypeError`` for floats and ``ValueError`` for too many decimals. The result keeps its
    value exactly (``to_quantity("1.5") == Decimal("1.5")``).
    """
    d = _to_decimal(value, "quantity")
    quantum = Decimal(1) if integer else QUANTITY_QUANTUM
    if d.quantize(quantum) != d:
        if integer:
            raise ValueError(f"quantity {value!r} must be a whole number")
        raise ValueError(f"quantity {value!r} has more than 3 decimals")
    return d


def round_money(value: Decimal | int, *, minor_unit: Decimal = CENT) -> Decimal:
    """Round half-up (away from zero on a tie) to the minor unit.

    ``round_money(Decimal("0.005")) == Decimal("0.01")`` and ``round_money(Decimal("-0.005")) ==
    Decimal("-0.01")``: sales and refunds round symmetrically.
    """
    _check_minor_unit(minor_unit)
    d = _to_decimal(value, "amount")
    return d.quantize(minor_unit, rounding=ROUND_HALF_UP)


def round_cash(
    amount: Decimal, increment: Decimal = Decimal("0.05"), *, minor_unit: Decimal = CENT
) -> Decimal:
    """Round ``amount`` half-up to a multiple of the smallest coin ``increment``.

    Swiss/Australian style: with 0.05, 1.02 -> 1.00, 1.025 is never money, 1.03 -> 1.05, 1.075 ->
    1.10. ``increment == minor_unit`` leaves any money amount unchanged. Invariants: the result is a
    multiple of ``increment``, ``|result - amount| <= increment / 2``, and rounding is idempotent.
    """
    _check_minor_unit(minor_unit)
    d = _to_decimal(amount, "amount")
    inc = _to_decimal(increment, "increment")
    if inc <= 0:
        raise ValueError(f"cash increment must be positive, got {increment!r}")
    steps = (d / inc).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return (steps * inc).quantize(minor_unit)


def percent_of(amount: Decimal, percent: Decimal, *, minor_unit: Decimal = CENT) -> Decimal:
    """``amount * percent / 100`` rounded half-up to the minor unit (``percent`` is 0-100, not 0-1)."""
    a = _to_decimal(amount, "amount")
    p = _to_decimal(percent, "percent")
    return round_money(a * p / 100, minor_unit=minor_unit)


def money_sum(amounts: Iterable[Decimal], *, minor_unit: Decimal = CENT) -> Decimal:
    """Sum of money amounts, quantised to the minor unit (an empty sum is ``0.00``).

    Refuses floats. The sum of money amounts is exact, so no rounding happens here.
    """
    total = Decimal(0)
    for a in amounts:
        total += _to_decimal(a, "amount")
    return total.quantize(minor_unit)


def allocate(
    amount: Decimal, weights: Sequence[Decimal | int], *, minor_unit: Decimal = CENT
) -> list[Decimal]:
    """Split ``amount`` across ``weights`` by the largest-remainder method.

    Invariants:
    - the parts sum exactly to ``amount`` (which must be whole minor units);
    - each part is within one minor unit of its exact proportional share, and has the sign of
      ``amount`` (a negative amount is split like its absolute value, then negated);
    - a zero weight always gets exactly zero;
    - deterministic: the leftover minor units go to the largest fractional remainders, ties broken
      by position (earlier first).

    Weights must be non-negative; if they are all zero, ``amount`` must be zero.
    """
    _check_minor_unit(minor_unit)
    total = _to_decimal(amount, "amount")
    if total.quantize(minor_unit) != total:
        raise ValueError(f"cannot allocate {amount!r}: not a whole number of {minor_unit}")
    ws = [_to_decimal(w, "weight") for w in weights]
    if any(w < 0 for w in ws):
        raise ValueError("allocation weights must be non-negative")
    if not ws:
        if total != 0:
            raise ValueError("cannot allocate a non-zero amount over no weights")
        return []
    weight_sum = sum(ws, Decimal(0))
    if weight_sum == 0:
        if total != 0:
            raise ValueError("cannot allocate a non-zero amount over weights that are all zero")
        return [Decimal(0).quantize(minor_unit) for _ in ws]

    sign = -1 if total < 0 else 1
    units = int((abs(total) / minor_unit).to_integral_value(rounding=ROUND_FLOOR))
    # Exact integer arithmetic (Decimal division would round and could break the sum invariant):
    # the weights scaled by one power of ten to whole numbers, each exact share units * w / Σw is
    # a quotient and a remainder over the same Σw, so the remainders order the fractional parts.
    scaled = _whole_numbers(ws)
    scaled_sum = sum(scaled)
    floors, remainders = [], []
    for w in scaled:
        floor, remainder = divmod(units * w, scaled_sum)
        floors.append(floor)
        remainders.append(remainder)
    leftover = units - sum(floors)
    order = sorted(range(len(ws)), key=lambda i: (-remainders[i], i))
    for i in order[:leftover]:
        floors[i] += 1
    return [(sign * f * minor_unit).quantize(minor_unit) for f in floors]


_EXACT = Context(prec=MAX_PREC, Emax=MAX_EMAX, Emin=MIN_EMIN)  # no rounding, no overflow


def _whole_numbers(values: list[Decimal]) -> list[int]:
    """``values`` times the one power of ten that makes them all whole, exactly (no rounding)."""
    shift = max(0, -min(v.as_tuple().exponent for v in values))
    return [int(v.scaleb(shift, _EXACT)) for v in values]


def split_evenly(amount: Decimal, parts: int, *, minor_unit: Decimal = CENT) -> list[Decimal]:
    """Split ``amount`` into ``parts`` near-equal parts summing exactly to it (earlier parts get the
    extra minor units): ``split_evenly(Decimal("10.00"), 3) == [3.34, 3.33, 3.33]``."""
    if parts <= 0:
        raise ValueError("parts must be positive")
    return allocate(amount, [1] * parts, minor_unit=minor_unit)
