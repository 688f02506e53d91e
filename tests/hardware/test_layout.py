from __future__ import annotations

from decimal import Decimal

import pytest
from conftest import make_receipt
from hypothesis import given, settings
from hypothesis import strategies as st

from hardware.layout import PAPER_58MM, PAPER_80MM, Text, format_money, format_number, receipt_layout
from hardware.receipt import LineDiscount, ReceiptLine


@pytest.mark.parametrize(
    ("amount", "printed"),
    [
        (Decimal("1"), "1.00"),
        (Decimal("1.5"), "1.50"),
        (Decimal("12.34"), "12.34"),
        (Decimal("-0.31"), "-0.31"),
        (Decimal("-0.00"), "0.00"),
        (Decimal("0.125"), "0.125"),  # more precision than cents is shown, never rounded away
        (Decimal("1E+3"), "1000.00"),
    ],
)
def test_money_is_formatted_never_rounded(amount: Decimal, printed: str) -> None:
    assert format_money(amount) == printed


def test_money_must_be_decimal() -> None:
    with pytest.raises(TypeError, match="money must be a finite Decimal, got 1.5"):
        format_money(1.5)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("value", "printed"), [(Decimal("3.000"), "3"), (Decimal("1.235"), "1.235"), (Decimal("7.50"), "7.5")]
)
def test_quantities_drop_trailing_zeros(value: Decimal, printed: str) -> None:
    assert format_number(value) == printed


_money = st.decimals(min_value=Decimal("-99999.99"), max_value=Decimal("99999.99"), places=2)
_text = st.text(st.characters(codec="utf-8", exclude_categories=("Cc", "Cs", "Zl", "Zp")), max_size=80)


@settings(max_examples=60, deadline=None)
@given(
    descriptions=st.lists(_text, min_size=1, max_size=5),
    amounts=st.lists(_money, min_size=1, max_size=5),
    cashier=_text,
    weighed=st.booleans(),
)
def test_every_line_fits_the_paper(
    descriptions: list[str], amounts: list[Decimal], cashier: str, weighed: bool
) -> None:
    lines = tuple(
        ReceiptLine(
            desc,
            amount,
            amount,
            quantity=None if weighed else Decimal("2"),
            weight=Decimal("1.235") if weighed else None,
            unit="kg" if weighed else None,
            discount=LineDiscount(desc[:20], abs(amount)),
        )
        for desc, amount in zip(descriptions, amounts, strict=False)
    )
    receipt = make_receipt(lines=lines, cashier=cashier, total=amounts[0], subtotal=amounts[-1])
    for paper in (PAPER_58MM, PAPER_80MM):
        for block in receipt_layout(receipt, paper).blocks:
            if isinstance(block, Text):
                limit = paper.columns // 2 if block.double_width else paper.columns
                assert len(block.text) <= limit, block
                assert "\n" not in block.text


def test_value_too_wide_to_share_a_line_goes_on_its_own_line() -> None:
    layout = receipt_layout(make_receipt(cashier="0" * 25), PAPER_58MM)
    texts = [b.text for b in layout.blocks if isinstance(b, Text)]
    assert texts[5:8] == ["2025-11-23 14:05", "Cashier".rjust(32), ("0" * 25).rjust(32)]
