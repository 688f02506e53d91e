"""The basket calculation: pure functions over frozen dataclasses.

Pure Python, no Django. This module *is* the documented rounding rule (``docs/money.md``); the
checkout, the receipt, the cloud's reports and refunds all call it rather than re-deriving totals.

Order of operations for a basket:

1. per line: ``gross = round_half_up(unit_price * quantity)``;
2. per line: the line discount (percent rounded half-up on the line, amount as given), clamped to
   ``[0, gross]``;
3. the sale discount (percent rounded half-up on the sum, or amount), clamped to the sum of the
   lines after their own discounts, then allocated over the non-voided lines proportionally to that
   amount by largest remainder;
4. per tax rate: tax on the sum of that rate's net line amounts, half-up; inclusive ``base * r / (1
   + r)``, exclusive ``base * r``;
5. the rate's tax is allocated back onto its lines (largest remainder) so a line knows what was
   paid for it, which is what refunds give back.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal

from retail.money import (
    CENT,
    allocate,
    money_sum,
    percent_of,
    round_cash,
    round_money,
    to_money,
    to_quantity,
)

__all__ = [
    "Basket",
    "Discount",
    "Line",
    "LineResult",
    "Refund",
    "Settlement",
    "SoldLine",
    "TaxSummary",
    "Tender",
    "TenderError",
    "cash_due",
    "price_basket",
    "refund_line",
    "refund_lines",
    "settle",
]

ZERO = Decimal("0.00")


def _dec(value: object, what: str) -> Decimal:
    # Same refusal of floats as retail.money, for the non-money Decimals (rates, percents).
    if type(value) is Decimal and value.is_finite():  # the usual case, taken as it is (immutable)
        return value
    if isinstance(value, float | bool) or not isinstance(value, Decimal | int | str):
        raise TypeError(f"{what} must be a Decimal, int or str, not {type(value).__name__}")
    d = Decimal(value)
    if not d.is_finite():
        raise ValueError(f"{what} must be finite")
    return d


# ---------------------------------------------------------------------------------------------
# Input
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Discount:
    """A discount on a line or on the whole sale.

    ``kind="percent"``: ``value`` is a percentage 0-100 (``Decimal("10")`` is 10 %), unlike tax rates
    which are fractions. ``kind="amount"``: ``value`` is money off, in the basket's price basis
    (tax-inclusive when prices include tax). Either way the amount taken off is clamped to what it
    applies to, so nothing goes below zero.
    """

    kind: Literal["percent", "amount"]
    value: Decimal

    def __post_init__(self) -> None:
        if self.kind not in ("percent", "amount"):
            raise ValueError(f"discount kind must be 'percent' or 'amount', not {self.kind!r}")
        value = _dec(self.value, "discount")
        if value < 0:
            raise ValueError("a discount cannot be negative")
        if self.kind == "percent" and value > 100:
            raise ValueError("a percent discount cannot exceed 100")
        if self.kind == "amount":
            value = to_money(value)
        object.__setattr__(self, "value", value)

    @classmethod
    def percent(cls, value: Decimal | int | str) -> Discount:
        return cls("percent", _dec(value, "discount"))

    @classmethod
    def amount(cls, value: Decimal | int | str) -> Discount:
        return cls("amount", to_money(value))

    def amount_off(self, base: Decimal, *, minor_unit: Decimal = CENT) -> Decimal:
        """Money taken off ``base``: percent rounded half-up, always within ``[0, base]``."""
        if base <= 0:
            return ZERO.quantize(minor_unit)
        off = percent_of(base, self.value, minor_unit=minor_unit) if self.kind == "percent" else self.value
        return min(off, base).quantize(minor_unit)


@dataclass(frozen=True)
class Line:
    """One basket line as the till knows it.

    ``unit_price`` may carry more decimals than money (a price per kg of 12.999 is allowed);
    ``quantity`` is positive with at most three decimals, and a whole number unless
    ``by_weight``. ``tax_rate`` is a fraction (``Decimal("0.20")`` for 20 %).
    """

    unit_price: Decimal
    quantity: Decimal
    tax_rate: Decimal
    discount: Discount | None = None
    voided: bool = False
    by_weight: bool = False

    def __post_init__(self) -> None:
        price = _dec(self.unit_price, "unit_price")
        if price < 0:
            raise ValueError("unit_price cannot be negative; returns go through refund_line")
        qty = to_quantity(self.quantity, integer=not self.by_weight)
        if qty <= 0:
            raise ValueError("quantity must be positive; remove or void the line instead")
        rate = _dec(self.tax_rate, "tax_rate")
        if rate < 0 or rate >= 1:
            raise ValueError(f"tax_rate is a fraction in [0, 1), got {self.tax_rate!r}")
        object.__setattr__(self, "unit_price", price)
        object.__setattr__(self, "quantity", qty)
        object.__setattr__(self, "tax_rate", rate)


# ---------------------------------------------------------------------------------------------
# Output
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LineResult:
    """A priced line. All amounts are money; a voided line is all zeros.

    Invariants: ``gross - line_discount - sale_discount == net >= 0``; ``total == net`` when prices
    include tax (``tax`` is then the tax contained in it) and ``net + tax`` when they exclude it.
    ``tax`` is this line's share of its rate's tax; ``total`` is what the customer paid for it.
    """

    gross: Decimal
    line_discount: Decimal
    sale_discount: Decimal
    net: Decimal
    tax_rate: Decimal
    tax: Decimal
    total: Decimal
    voided: bool


@dataclass(frozen=True)
class TaxSummary:
    """One tax rate's totals. Invariant: ``taxable + tax == total``.

    ``taxable`` is the amount excluding tax, ``total`` including it, whatever the price basis.
    """

    rate: Decimal
    taxable: Decimal
    tax: Decimal
    total: Decimal


@dataclass(frozen=True)
class Basket:
    """The priced basket.

    Invariants: ``subtotal - discount_total == sum(line.net)``; ``total == sum(line.total) ==
    sum(t.total for t in taxes)``; ``total == sum(line.net) + (0 if prices_include_tax else
    tax_total)``; ``sale_discount == sum(line.sale_discount)``.
    """

    lines: tuple[LineResult, ...]
    taxes: tuple[TaxSummary, ...]
    subtotal: Decimal
    line_discount_total: Decimal
    sale_discount: Decimal
    discount_total: Decimal
    tax_total: Decimal
    total: Decimal
    prices_include_tax: bool


def _tax_on(base: Decimal, rate: Decimal, *, inclusive: bool, minor_unit: Decimal) -> Decimal:
    exact = base * rate / (1 + rate) if inclusive else base * rate
    return round_money(exact, minor_unit=minor_unit)


def price_basket(
    lines: Sequence[Line],
    *,
    prices_include_tax: bool,
    sale_discount: Discount | None = None,
    minor_unit: Decimal = CENT,
) -> Basket:
    """Price a basket by the documented rounding rule (``docs/money.md``).

    Lines come back in input order, voided ones as zeros. Invariants kept: every line amount is
    non-negative; the sale discount shares sum exactly to the sale discount; each rate's tax is
    computed once on the sum of its lines and its line shares sum exactly to it; the totals listed
    on ``Basket`` agree to the minor unit.
    """
    gross: list[Decimal] = []
    line_off: list[Decimal] = []
    for line in lines:
        if line.voided:
            gross.append(ZERO.quantize(minor_unit))
            line_off.append(ZERO.quantize(minor_unit))
            continue
        g = round_money(line.unit_price * line.quantity, minor_unit=minor_unit)
        gross.append(g)
        off = line.discount.amount_off(g, minor_unit=minor_unit) if line.discount else ZERO
        line_off.append(off.quantize(minor_unit))

    after_line = [g - d for g, d in zip(gross, line_off, strict=True)]
    discountable = money_sum(after_line, minor_unit=minor_unit)
    sale_off = (
        sale_discount.amount_off(discountable, minor_unit=minor_unit)
        if sale_discount
        else ZERO.quantize(minor_unit)
    )
    # Voided lines have weight zero, so they get exactly zero.
    shares = allocate(sale_off, after_line, minor_unit=minor_unit) if lines else []
    nets = [a - s for a, s in zip(after_line, shares, strict=True)]

    # Per rate: one tax computation on the rate's summed net lines, then shared back to the lines.
    by_rate: dict[Decimal, list[int]] = {}
    for i, line in enumerate(lines):
        if not line.voided:
            by_rate.setdefault(line.tax_rate, []).append(i)
    line_tax = [ZERO.quantize(minor_unit) for _ in lines]
    taxes: list[TaxSummary] = []
    for rate in sorted(by_rate):
        idx = by_rate[rate]
        base = money_sum((nets[i] for i in idx), minor_unit=minor_unit)
        tax = _tax_on(base, rate, inclusive=prices_include_tax, minor_unit=minor_unit)
        for i, t in zip(idx, allocate(tax, [nets[i] for i in idx], minor_unit=minor_unit), strict=True):
            line_tax[i] = t
        if prices_include_tax:
            taxes.append(TaxSummary(rate=rate, taxable=base - tax, tax=tax, total=base))
        else:
            taxes.append(TaxSummary(rate=rate, taxable=base, tax=tax, total=base + tax))

    results = tuple(
        LineResult(
            gross=gross[i],
            line_discount=line_off[i],
            sale_discount=shares[i],
            net=nets[i],
            tax_rate=line.tax_rate,
            tax=line_tax[i],
            total=nets[i] if prices_include_tax else nets[i] + line_tax[i],
            voided=line.voided,
        )
        for i, line in enumerate(lines)
    )
    subtotal = money_sum(gross, minor_unit=minor_unit)
    line_discount_total = money_sum(line_off, minor_unit=minor_unit)
    tax_total = money_sum((t.tax for t in taxes), minor_unit=minor_unit)
    net_total = money_sum(nets, minor_unit=minor_unit)
    return Basket(
        lines=results,
        taxes=tuple(taxes),
        subtotal=subtotal,
        line_discount_total=line_discount_total,
        sale_discount=sale_off,
        discount_total=line_discount_total + sale_off,
        tax_total=tax_total,
        total=net_total if prices_include_tax else net_total + tax_total,
        prices_include_tax=prices_include_tax,
    )


# ---------------------------------------------------------------------------------------------
# Tenders
# ---------------------------------------------------------------------------------------------


class TenderError(ValueError):
    """The tenders do not settle the total; the message is fit to show the cashier."""


CASH = "cash"


@dataclass(frozen=True)
class Tender:
    """A payment. ``method`` is ``"cash"`` or anything else (``"card"``, ``"points"``, ``"voucher"``):
    only cash may exceed what is due (the excess is change)."""

    method: str
    amount: Decimal

    def __post_init__(self) -> None:
        amount = to_money(self.amount)
        if amount <= 0:
            raise TenderError(f"a {self.method} tender must be positive, got {amount}")
        object.__setattr__(self, "amount", amount)

    @property
    def is_cash(self) -> bool:
        return self.method == CASH


@dataclass(frozen=True)
class Settlement:
    """How the tenders settle a total.

    Invariants: ``non_cash + cash_due == total + rounding``; ``cash_tendered - change == cash_due``;
    ``change >= 0``; ``|rounding| <= cash_increment / 2`` and it is zero when nothing is paid in
    cash. ``rounding`` is positive when the customer pays more than the total (record it as the
    cash rounding adjustment).
    """

    total: Decimal
    non_cash: Decimal
    cash_due: Decimal
    cash_tendered: Decimal
    change: Decimal
    rounding: Decimal


def cash_due(
    total: Decimal,
    non_cash: Decimal = ZERO,
    *,
    cash_increment: Decimal = Decimal("0.05"),
    minor_unit: Decimal = CENT,
) -> Decimal:
    """What the cashier asks for in cash once ``non_cash`` has been paid: the remainder rounded to
    the smallest coin, half-up. Never negative."""
    remaining = to_money(total, minor_unit=minor_unit) - to_money(non_cash, minor_unit=minor_unit)
    if remaining <= 0:
        return ZERO.quantize(minor_unit)
    return round_cash(remaining, cash_increment, minor_unit=minor_unit)


def settle(
    total: Decimal,
    tenders: Iterable[Tender],
    *,
    cash_increment: Decimal = Decimal("0.05"),
    minor_unit: Decimal = CENT,
) -> Settlement:
    """Check that ``tenders`` settle ``total`` exactly and work out change and cash rounding.

    Non-cash tenders (card, points, ...) are applied first and together may not exceed the total.
    Whatever remains is due in cash, rounded to ``cash_increment`` (only the cash part is
    rounded); without a cash tender the non-cash tenders must cover the total to the minor unit.
    Cash may over-tender; the excess is change, never negative. Raises ``TenderError``.
    """
    total = to_money(total, minor_unit=minor_unit)
    if total < 0:
        raise TenderError("settle takes a sale total; refunds go through refund_line")
    tenders = list(tenders)
    non_cash = money_sum((t.amount for t in tenders if not t.is_cash), minor_unit=minor_unit)
    cash = money_sum((t.amount for t in tenders if t.is_cash), minor_unit=minor_unit)
    has_cash = any(t.is_cash for t in tenders)
    if non_cash > total:
        raise TenderError(f"card and other tenders ({non_cash}) exceed the amount due ({total})")
    remaining = total - non_cash
    if not has_cash:
        if remaining:
            raise TenderError(f"tenders are short by {remaining}")
        return Settlement(total, non_cash, ZERO, ZERO, ZERO, ZERO)
    due = cash_due(total, non_cash, cash_increment=cash_increment, minor_unit=minor_unit)
    if cash < due:
        raise TenderError(f"cash tendered ({cash}) is short of the {due} due in cash")
    return Settlement(
        total=total,
        non_cash=non_cash,
        cash_due=due,
        cash_tendered=cash,
        change=cash - due,
        rounding=due - remaining,
    )


# ---------------------------------------------------------------------------------------------
# Refunds
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SoldLine:
    """What a receipt line sold and what has been returned of it so far.

    ``total`` and ``tax`` are the original ``LineResult.total`` and ``LineResult.tax`` (what was
    paid, including tax); ``returned_quantity`` is the sum of earlier returns.
    """

    total: Decimal
    tax: Decimal
    quantity: Decimal
    returned_quantity: Decimal = Decimal(0)
    by_weight: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "total", to_money(self.total))
        object.__setattr__(self, "tax", to_money(self.tax))
        qty = to_quantity(self.quantity, integer=not self.by_weight)
        returned = to_quantity(self.returned_quantity, integer=not self.by_weight)
        if qty <= 0 or returned < 0 or returned > qty:
            raise ValueError(f"returned quantity {returned} must be within [0, {qty}]")
        if self.total < 0 or self.tax < 0 or self.tax > self.total:
            raise ValueError("a sold line's total and tax must satisfy 0 <= tax <= total")
        object.__setattr__(self, "quantity", qty)
        object.__setattr__(self, "returned_quantity", returned)


@dataclass(frozen=True)
class Refund:
    """Money given back for one return of one line; ``tax`` is the part of ``amount`` that is tax."""

    amount: Decimal
    tax: Decimal
    quantity: Decimal


def _cumulative(amount: Decimal, part: Decimal, whole: Decimal, minor_unit: Decimal) -> Decimal:
    return (amount * part / whole).quantize(minor_unit, rounding=ROUND_HALF_UP)


def refund_line(line: SoldLine, quantity: Decimal, *, minor_unit: Decimal = CENT) -> Refund:
    """Refund for returning ``quantity`` more of ``line``.

    Cumulative rounding: after returning ``q`` of ``Q`` in total, ``round_half_up(total * q / Q)``
    has been refunded; this return gives the difference from what earlier returns gave. So every
    refund is non-negative, the refunds of any sequence of partial returns never exceed what was
    paid, and once everything is back they sum exactly to ``line.total`` (and the tax parts to
    ``line.tax``). Raises ``ValueError`` for returning more than is left.
    """
    qty = to_quantity(quantity, integer=not line.by_weight)
    if qty <= 0:
        raise ValueError("return quantity must be positive")
    left = line.quantity - line.returned_quantity
    if qty > left:
        raise ValueError(f"cannot return {qty}: only {left} left to return on this line")
    before, after = line.returned_quantity, line.returned_quantity + qty

    def part(amount: Decimal) -> Decimal:
        return _cumulative(amount, after, line.quantity, minor_unit) - _cumulative(
            amount, before, line.quantity, minor_unit
        )

    return Refund(amount=part(line.total), tax=part(line.tax), quantity=qty)


def refund_lines(
    lines: Mapping[str, SoldLine], quantities: Mapping[str, Decimal], *, minor_unit: Decimal = CENT
) -> dict[str, Refund]:
    """``refund_line`` for several lines of one receipt, keyed by the caller's line ids.

    The refund's total is ``sum(r.amount for r in result.values())``; cash-round it with
    ``retail.money.round_cash`` only if it is paid out in cash.
    """
    unknown = set(quantities) - set(lines)
    if unknown:
        raise ValueError(f"unknown lines: {sorted(unknown)}")
    return {key: refund_line(lines[key], qty, minor_unit=minor_unit) for key, qty in quantities.items()}
