"""The quantity rule of stock documents: whole units each, kilograms to the gram by weight."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from retail.api_errors import Invalid
from retail.stock.quantities import stock_quantity_parse


@pytest.mark.parametrize(
    "unit, raw, expected",
    [
        ("each", "3", Decimal("3")),
        ("each", " 12 ", Decimal("12")),
        ("kg", "1,25", Decimal("1.25")),
        ("kg", "0.001", Decimal("0.001")),
    ],
)
def test_a_quantity_as_typed_is_read_exactly(unit, raw, expected):
    assert stock_quantity_parse(name="X", unit=unit, raw=raw) == expected


def test_zero_is_allowed_only_when_asked_for():
    assert stock_quantity_parse(name="Tea", unit="each", raw="0", allow_zero=True) == 0
    with pytest.raises(Invalid) as refused:
        stock_quantity_parse(name="Tea", unit="each", raw="0")
    assert refused.value.code == "quantity_not_positive"


@pytest.mark.parametrize("raw", ["NaN", "Infinity", "", "1e", "two", "1000000000"])
def test_what_is_not_a_storable_number_is_refused(raw):
    with pytest.raises(Invalid):
        stock_quantity_parse(name="Tea", unit="kg", raw=raw)


def test_a_float_is_a_programming_error_not_a_typing_mistake():
    with pytest.raises(TypeError):
        stock_quantity_parse(name="Tea", unit="each", raw=1.5)


@given(st.decimals(min_value=Decimal("0.001"), max_value=Decimal("999999"), places=3))
def test_by_weight_any_gram_is_accepted_and_by_the_piece_only_whole_numbers(value):
    assert stock_quantity_parse(name="Apples", unit="kg", raw=str(value)) == value
    if value == value.to_integral_value():
        assert stock_quantity_parse(name="Tea", unit="each", raw=str(value)) == value
    else:
        with pytest.raises(Invalid) as refused:
            stock_quantity_parse(name="Tea", unit="each", raw=str(value))
        assert refused.value.code == "quantity_not_whole"


@given(st.decimals(min_value=Decimal("0.0001"), max_value=Decimal("1000"), places=4))
def test_by_weight_more_than_grams_is_refused(value):
    if value == value.quantize(Decimal("0.001")):
        return
    with pytest.raises(Invalid) as refused:
        stock_quantity_parse(name="Apples", unit="kg", raw=str(value))
    assert refused.value.code == "quantity_too_precise"
