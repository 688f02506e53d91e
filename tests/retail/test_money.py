from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from retail.money import (
    allocate,
    is_money,
    money_sum,
    percent_of,
    round_cash,
    round_money,
    split_evenly,
    to_money,
    to_quantity,
)

D = Decimal
PROPS = settings(max_examples=200, deadline=None)

cents = st.integers(min_value=-10_000_000, max_value=10_000_000).map(lambda c: D(c) / 100)
non_negative_cents = st.integers(min_value=0, max_value=10_000_000).map(lambda c: D(c) / 100)


# --- to_money / to_quantity ------------------------------------------------------------------


def test_to_money_accepts_str_int_decimal():
    assert to_money("12.5") == D("12.50")
    assert str(to_money("12.5")) == "12.50"
    assert to_money(3) == D("3.00")
    assert to_money(D("0.10")) == D("0.10")
    assert to_money(" 7 ") == D("7.00")


@pytest.mark.parametrize("bad", [1.0, 0.1, True])
def test_to_money_refuses_floats_and_bools(bad):
    with pytest.raises(TypeError):
        to_money(bad)


@pytest.mark.parametrize("bad", ["abc", "NaN", "Infinity", ""])
def test_to_money_refuses_non_numbers(bad):
    with pytest.raises(ValueError):
        to_money(bad)


def test_to_money_refuses_sub_cent_precision_instead_of_rounding():
    with pytest.raises(ValueError, match="round_money"):
        to_money("1.005")


def test_to_money_with_a_currency_without_cents():
    assert to_money("150", minor_unit=D("1")) == D("150")
    with pytest.raises(ValueError):
        to_money("150.5", minor_unit=D("1"))


def test_to_quantity():
    assert to_quantity("1.250") == D("1.25")
    assert to_quantity(3, integer=True) == 3
    with pytest.raises(ValueError, match="3 decimals"):
        to_quantity("0.0005")
    with pytest.raises(ValueError, match="whole number"):
        to_quantity("1.5", integer=True)
    with pytest.raises(TypeError):
        to_quantity(1.5)


def test_is_money():
    assert is_money(D("1.10"))
    assert not is_money(D("1.105"))
    assert not is_money(1.1)


# --- round_money -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("0.005", "0.01"),
        ("0.004", "0.00"),
        ("2.675", "2.68"),  # the classic float trap: 2.675 is 2.67499... as a float
        ("-0.005", "-0.01"),  # symmetric: refunds round like sales
        ("1.5", "1.50"),
    ],
)
def test_round_money_half_up(value, expected):
    assert round_money(D(value)) == D(expected)


def test_round_money_refuses_float():
    with pytest.raises(TypeError):
        round_money(2.675)


# --- round_cash ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "expected"),
    [
        ("1.00", "1.00"),
        ("1.01", "1.00"),
        ("1.02", "1.00"),
        ("1.03", "1.05"),
        ("1.07", "1.05"),
        ("1.08", "1.10"),
        ("1.025", "1.05"),  # an exact half rounds up
        ("-1.03", "-1.05"),
    ],
)
def test_round_cash_to_five_cents(amount, expected):
    assert round_cash(D(amount)) == D(expected)


def test_round_cash_with_other_increments():
    assert round_cash(D("12.34"), D("0.01")) == D("12.34")
    assert round_cash(D("12.34"), D("0.10")) == D("12.30")
    assert round_cash(D("12.35"), D("0.10")) == D("12.40")
    assert round_cash(D("12.50"), D("1")) == D("13.00")


def test_round_cash_rejects_non_positive_increment():
    with pytest.raises(ValueError):
        round_cash(D("1.00"), D("0"))


@PROPS
@given(cents, st.sampled_from([D("0.01"), D("0.05"), D("0.10"), D("0.20"), D("0.50"), D("1")]))
def test_round_cash_is_within_half_an_increment_and_idempotent(amount, increment):
    rounded = round_cash(amount, increment)
    assert abs(rounded - amount) <= increment / 2
    assert rounded % increment == 0
    assert round_cash(rounded, increment) == rounded
    assert rounded.as_tuple().exponent == -2
    if increment == D("0.01"):
        assert rounded == amount


# --- percent_of / money_sum ------------------------------------------------------------------


def test_percent_of_rounds_half_up():
    assert percent_of(D("9.99"), D("15")) == D("1.50")  # 1.4985
    assert percent_of(D("0.10"), D("5")) == D("0.01")  # 0.005
    assert percent_of(D("19.99"), D("12.5")) == D("2.50")  # 2.49875


def test_money_sum():
    assert money_sum([]) == D("0.00")
    assert money_sum([D("0.10"), D("0.20")]) == D("0.30")
    with pytest.raises(TypeError):
        money_sum([D("1"), 0.1])


# --- allocate --------------------------------------------------------------------------------


def test_allocate_largest_remainder():
    # exact shares 3.333.., 3.333.., 3.333..: the leftover cent goes to the first (tie by position)
    assert allocate(D("10.00"), [1, 1, 1]) == [D("3.34"), D("3.33"), D("3.33")]
    # exact shares 0.5, 0.3, 0.2 of 0.05 -> 2.5, 1.5, 1.0 cents: remainders tie, first wins
    assert allocate(D("0.05"), [D("5"), D("3"), D("2")]) == [D("0.03"), D("0.01"), D("0.01")]
    # the largest remainder wins over position: 1.00 over 1:2 -> 33.33.. / 66.66..
    assert allocate(D("1.00"), [1, 2]) == [D("0.33"), D("0.67")]


def test_allocate_zero_weight_gets_zero():
    assert allocate(D("0.01"), [0, 1, 0]) == [D("0.00"), D("0.01"), D("0.00")]


def test_allocate_negative_amount_mirrors_positive():
    assert allocate(D("-10.00"), [1, 1, 1]) == [D("-3.34"), D("-3.33"), D("-3.33")]


def test_allocate_edge_cases():
    assert allocate(D("0.00"), []) == []
    assert allocate(D("0.00"), [0, 0]) == [D("0.00"), D("0.00")]
    with pytest.raises(ValueError):
        allocate(D("1.00"), [0, 0])
    with pytest.raises(ValueError):
        allocate(D("1.00"), [])
    with pytest.raises(ValueError):
        allocate(D("1.00"), [1, -1])
    with pytest.raises(ValueError):
        allocate(D("1.005"), [1])
    with pytest.raises(TypeError):
        allocate(D("1.00"), [0.5, 0.5])


@PROPS
@given(
    amount=st.integers(-(10**9), 10**9),
    weights=st.lists(
        st.one_of(
            st.integers(0, 10**6),
            st.decimals(min_value=0, max_value=10**6, places=3, allow_nan=False, allow_infinity=False),
            st.sampled_from([D("1E+3"), D("0E-5"), D("0.0000001"), D("123.4560")]),
        ),
        min_size=1,
        max_size=30,
    ),
)
def test_allocate_is_the_exact_rational_largest_remainder_split(amount, weights):
    from fractions import Fraction

    # given any amount in cents and any non-negative weights (integers, decimals of any scale)
    total = D(amount).scaleb(-2)
    if sum(D(w) for w in weights) == 0:
        weights = [*weights, 1]
    # then the parts are the floors of the exact rational shares plus one cent for the largest
    # fractional remainders (ties by position), computed here with Fractions
    units, wsum = abs(amount), sum(Fraction(D(w)) for w in weights)
    exact = [units * Fraction(D(w)) / wsum for w in weights]
    floors = [e.numerator // e.denominator for e in exact]
    for i in sorted(range(len(exact)), key=lambda i: (-(exact[i] - floors[i]), i))[: units - sum(floors)]:
        floors[i] += 1
    sign = -1 if amount < 0 else 1
    assert allocate(total, weights) == [(sign * f * D("0.01")).quantize(D("0.01")) for f in floors]


def test_split_evenly():
    assert split_evenly(D("10.00"), 3) == [D("3.34"), D("3.33"), D("3.33")]
    assert split_evenly(D("0.01"), 2) == [D("0.01"), D("0.00")]


def test_allocate_in_whole_units():
    assert allocate(D("100"), [1, 1, 1], minor_unit=D("1")) == [D("34"), D("33"), D("33")]


weights = st.lists(
    st.integers(min_value=0, max_value=10**6).map(lambda c: D(c) / 100), min_size=1, max_size=12
).filter(lambda ws: sum(ws) > 0)


@PROPS
@given(cents, weights)
def test_allocate_sums_exactly_and_stays_within_a_cent_of_the_exact_share(amount, ws):
    parts = allocate(amount, ws)
    assert sum(parts) == amount
    total_weight = sum(ws)
    for part, w in zip(parts, ws, strict=True):
        assert abs(part - amount * w / total_weight) < D("0.01")
        if w == 0:
            assert part == 0
        assert part * amount >= 0  # same sign as the amount
    assert allocate(amount, ws) == parts  # deterministic
