"""The one receipt layout, as a list of printable blocks.

Every output (ESC/POS bytes, plain text, PNG, HTML) is rendered from the same
:class:`Layout`, so the preview a cashier sees is the paper the customer gets. Lines are
already cut to the paper's column count here; renderers never wrap.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Literal

from hardware.barcodes import Symbology, validate_barcode
from hardware.receipt import Receipt, ReceiptLine, Report

__all__ = [
    "PAPER_58MM",
    "PAPER_80MM",
    "Barcode",
    "Block",
    "Cut",
    "Feed",
    "Layout",
    "Paper",
    "QrCode",
    "Text",
    "format_money",
    "format_number",
    "receipt_layout",
    "report_layout",
]

Align = Literal["left", "center", "right"]


@dataclass(frozen=True)
class Paper:
    name: str
    # Characters per line in font A at normal size.
    columns: int
    # Printable width in dots; decides whether a Code 128 fits or a QR code is used instead.
    dots: int


PAPER_58MM = Paper("58mm", columns=32, dots=384)
PAPER_80MM = Paper("80mm", columns=48, dots=576)


@dataclass(frozen=True)
class Text:
    """One printed line (no newline inside), at most ``columns`` wide (half that if double width)."""

    text: str
    align: Align = "left"
    bold: bool = False
    double_height: bool = False
    double_width: bool = False


@dataclass(frozen=True)
class Barcode:
    data: str
    symbology: Symbology = "CODE128"
    module_width: int = 2
    height: int = 60

    def __post_init__(self) -> None:
        validate_barcode(self.symbology, self.data)


@dataclass(frozen=True)
class QrCode:
    data: str
    module_size: int = 5


@dataclass(frozen=True)
class Feed:
    lines: int = 1


@dataclass(frozen=True)
class Cut:
    partial: bool = True


Block = Text | Barcode | QrCode | Feed | Cut


@dataclass(frozen=True)
class Layout:
    paper: Paper
    blocks: tuple[Block, ...]


def format_money(amount: Decimal) -> str:
    """Two decimals at least, never rounded: a value with more precision prints in full."""
    if not isinstance(amount, Decimal) or not amount.is_finite():
        raise TypeError(f"money must be a finite Decimal, got {amount!r}")
    if amount == 0:
        amount = abs(amount)  # no "-0.00" on paper
    exponent = amount.as_tuple().exponent
    if isinstance(exponent, int) and exponent > -2:
        # Only appends zeros, so this is exact.
        amount = amount.quantize(Decimal("0.01"))
    return f"{amount:f}"


def format_number(value: Decimal) -> str:
    """Quantities, weights and rates without trailing zeros (3.000 -> 3, 7.50 -> 7.5)."""
    if value == value.to_integral_value():
        return f"{value.quantize(Decimal(1)):f}"
    return f"{value.normalize():f}"


class _Builder:
    def __init__(self, paper: Paper) -> None:
        self.paper = paper
        self.width = paper.columns
        self.blocks: list[Block] = []

    def line(self, text: str = "", **style: object) -> None:
        self.blocks.append(Text(text, **style))  # type: ignore[arg-type]

    def wrapped(self, text: str, align: Align = "left", bold: bool = False) -> None:
        for part in _wrap(text, self.width):
            self.line(part, align=align, bold=bold)

    def big(self, text: str, bold: bool = True) -> None:
        # Double width halves the columns; fall back to double height only when it would wrap.
        if len(text) <= self.width // 2:
            self.line(text, align="center", bold=bold, double_height=True, double_width=True)
        else:
            for part in _wrap(text, self.width):
                self.line(part, align="center", bold=bold, double_height=True)

    def pair(self, left: str, right: str, bold: bool = False, double_height: bool = False) -> None:
        for text in _pair(left, right, self.width):
            self.line(text, bold=bold, double_height=double_height)

    def rule(self, char: str = "-") -> None:
        self.line(char * self.width)


def receipt_layout(receipt: Receipt, paper: Paper = PAPER_80MM) -> Layout:
    """Lay out a sale receipt for ``paper``; same input gives the same blocks, always."""
    b = _Builder(paper)
    _header(b, receipt.header_lines)
    if receipt.title:
        b.big(receipt.title)
    b.rule()
    b.pair(f"Receipt {receipt.receipt_number}", f"Till {receipt.terminal}" if receipt.terminal else "")
    b.pair(_when(receipt.issued_at), f"Cashier {receipt.cashier}")
    b.rule()

    has_codes = any(line.tax_code for line in receipt.lines)
    for line in receipt.lines:
        _item(b, line, has_codes)
    b.rule()

    b.pair("Subtotal", format_money(receipt.subtotal))
    for discount in receipt.discounts:
        b.pair(discount.label, _minus(discount.amount))
    b.rule("=")
    b.pair("TOTAL", f"{receipt.currency} {format_money(receipt.total)}", bold=True, double_height=True)
    b.rule("=")
    if receipt.cash_rounding:
        sign = "+" if receipt.cash_rounding > 0 else ""
        b.pair("Cash rounding", f"{sign}{format_money(receipt.cash_rounding)}")

    for tender in receipt.tenders:
        label = f"{tender.kind} {tender.reference}" if tender.reference else tender.kind
        b.pair(label, format_money(tender.amount))
    if receipt.change is not None:
        b.pair("Change", format_money(receipt.change))

    if receipt.taxes:
        b.rule()
        _taxes(b, receipt)

    if receipt.loyalty:
        loyalty = receipt.loyalty
        b.rule()
        b.pair("Member", loyalty.member_number)
        b.pair("Points earned", str(loyalty.points_earned))
        if loyalty.points_redeemed:
            b.pair("Points redeemed", str(loyalty.points_redeemed))
        if loyalty.points_balance is not None:
            b.pair("Points balance", str(loyalty.points_balance))

    if receipt.footer_lines:
        b.rule()
        for footer in receipt.footer_lines:
            b.wrapped(footer, align="center")
    b.blocks.append(Feed())
    b.blocks.append(_return_code(receipt.barcode_data, paper))
    b.blocks.append(Cut())
    return Layout(paper, tuple(b.blocks))


def report_layout(report: Report, paper: Paper = PAPER_80MM) -> Layout:
    """Lay out a Z (closing) or X (reading) report."""
    b = _Builder(paper)
    _header(b, report.header_lines)
    b.big(f"{report.kind} REPORT")
    b.rule()
    b.pair(f"No. {report.number}", f"Till {report.terminal}" if report.terminal else "")
    if report.cashier:
        b.pair("Cashier", report.cashier)
    if report.period_start:
        b.pair("From", _when(report.period_start))
    if report.period_end:
        b.pair("To", _when(report.period_end))
    b.pair("Printed", _when(report.generated_at))
    b.pair("Currency", report.currency)
    for row in report.rows:
        if row.heading:
            b.rule()
            b.wrapped(row.label, bold=True)
            continue
        b.pair(row.label, _report_value(row.value), bold=row.emphasis)
    b.rule()
    for footer in report.footer_lines:
        b.wrapped(footer, align="center")
    b.blocks.append(Cut())
    return Layout(paper, tuple(b.blocks))


def _header(b: _Builder, lines: tuple[str, ...]) -> None:
    if not lines:
        return
    b.big(lines[0])
    for line in lines[1:]:
        b.wrapped(line, align="center")


def _item(b: _Builder, line: ReceiptLine, has_codes: bool) -> None:
    total = format_money(line.line_total)
    if has_codes:
        total = f"{total} {line.tax_code or ' '}"
    if line.weight is not None:
        detail = f"{format_number(line.weight)} {line.unit} x {format_money(line.unit_price)}/{line.unit}"
    elif line.quantity is not None and line.quantity != 1:
        detail = f"{format_number(line.quantity)} x {format_money(line.unit_price)}"
    else:
        detail = None
    if detail is None:
        b.pair(line.description, total)
    else:
        b.wrapped(line.description)
        b.pair(f"  {detail}", total)
    if line.discount:
        amount = _minus(line.discount.amount)
        b.pair(f"  {line.discount.label}", f"{amount}  " if has_codes else amount)


def _taxes(b: _Builder, receipt: Receipt) -> None:
    rows = [
        (
            f"{row.code + ' ' if row.code else ''}{format_number(row.rate)}%",
            format_money(row.taxable),
            format_money(row.tax),
        )
        for row in receipt.taxes
    ]
    w_tax = max(len("Tax"), *(len(r[2]) for r in rows))
    w_taxable = max(len("Taxable"), *(len(r[1]) for r in rows))
    w_rate = b.width - w_tax - w_taxable - 2
    b.line(f"{'Rate':<{w_rate}} {'Taxable':>{w_taxable}} {'Tax':>{w_tax}}")
    for rate, taxable, tax in rows:
        b.line(f"{rate[:w_rate]:<{w_rate}} {taxable:>{w_taxable}} {tax:>{w_tax}}")


def _return_code(data: str, paper: Paper) -> Barcode | QrCode:
    # Code 128 set B: start + data + check + stop symbols of 11 modules, stop has 2 more.
    modules = 11 * (len(data) + 3) + 2
    quiet_zone = 20
    if data.isascii() and data.isprintable():
        for width in (3, 2):
            if modules * width + quiet_zone <= paper.dots:
                return Barcode(data, "CODE128", module_width=width)
    # Too long for the roll (or not ASCII): a QR code always fits and scanners read both.
    return QrCode(data)


def _report_value(value: Decimal | int | str | None) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return format_money(value)
    return str(value)


def _minus(amount: Decimal) -> str:
    return f"-{format_money(amount)}"


def _when(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M")


def _wrap(text: str, width: int) -> list[str]:
    return textwrap.wrap(text, width, break_long_words=True, break_on_hyphens=False) or [""]


def _pair(left: str, right: str, width: int) -> list[str]:
    """Left text and right-aligned value; long left text wraps, the value stays on the first line."""
    if not right:
        return _wrap(left, width)
    room = width - len(right) - 1
    if room < min(12, width // 3):
        # The value alone nearly fills the line (a long cashier name, a huge amount): own lines.
        left_lines = _wrap(left, width) if left else []
        return [*left_lines, *(part.rjust(width) for part in _wrap(right, width))]
    parts = _wrap(left, room)
    return [parts[0].ljust(room) + " " + right, *parts[1:]]
