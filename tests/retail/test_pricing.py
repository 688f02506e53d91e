from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from retail.money import round_cash
from retail.pricing import (
    Discount,
    Line,
    Refund,
    SoldLine,
    TaxSummary,
    Tender,
    TenderError,
    cash_due,
    price_basket,
    refund_line,
    refund_lines,
    settle,
)

D = Decimal
PROPS = settings(max_examples=150, deadline=None)


# --- input validation ------------------------------------------------------------------------


def test_line_refuses_floats_and_nonsense():
    with pytest.raises(TypeError):
        Line(unit_price=1.99, quantity=D(1), tax_rate=D("0.20"))
    with pytest.raises(ValueError, match="whole number"):
        Line(unit_price=D("1.99"), quantity=D("1.5"), tax_rate=D("0.20"))
    with pytest.raises(ValueError, match="3 decimals"):
        Line(unit_price=D("1.99"), quantity=D("1.2345"), tax_rate=D("0.20"), by_weight=True)
    with pytest.raises(ValueError, match="positive"):
        Line(unit_price=D("1.99"), quantity=D(0), tax_rate=D("0.20"))
    with pytest.raises(ValueError, match="fraction"):
        Line(unit_price=D("1.99"), quantity=D(1), tax_rate=D("20"))
    with pytest.raises(ValueError, match="negative"):
        Line(unit_price=D("-1"), quantity=D(1), tax_rate=D("0.20"))


def test_discount_validation():
    assert Discount.percent("10") == Discount("percent", D("10"))
    assert Discount.amount("2.5").value == D("2.50")
    with pytest.raises(ValueError):
        Discount.percent("101")
    with pytest.raises(ValueError):
        Discount.amount("-1")
    with pytest.raises(ValueError):
        Discount.amount("0.005")
    with pytest.raises(ValueError):
        Discount("coupon", D(1))


def test_discount_is_clamped_to_its_base():
    assert Discount.amount("5.00").amount_off(D("3.00")) == D("3.00")
    assert Discount.percent("100").amount_off(D("3.00")) == D("3.00")
    assert Discount.percent("15").amount_off(D("9.99")) == D("1.50")  # 1.4985 half-up
    assert Discount.amount("5.00").amount_off(D("0.00")) == D("0.00")


# --- the basket, exact values ----------------------------------------------------------------


def test_inclusive_basket_exact_values():
    # given an EU-style basket: tax-inclusive shelf prices, two rates, a weighed line, a voided line
    lines = [
        Line(unit_price=D("1.99"), quantity=D(2), tax_rate=D("0.20")),
        Line(unit_price=D("12.99"), quantity=D("0.755"), tax_rate=D("0.05"), by_weight=True),
        Line(unit_price=D("10.00"), quantity=D(1), tax_rate=D("0.20"), discount=Discount.percent("15")),
        Line(unit_price=D("5.00"), quantity=D(1), tax_rate=D("0.20"), voided=True),
    ]
    # when it is priced with 5.00 off the sale
    basket = price_basket(lines, prices_include_tax=True, sale_discount=Discount.amount("5.00"))
    # then: gross 3.98 / 9.807 45 -> 9.81 / 10.00 - 1.50; the 5.00 is split 0.89 / 2.20 / 1.91
    assert [ln.gross for ln in basket.lines] == [D("3.98"), D("9.81"), D("10.00"), D("0.00")]
    assert [ln.line_discount for ln in basket.lines] == [D("0.00"), D("0.00"), D("1.50"), D("0.00")]
    assert [ln.sale_discount for ln in basket.lines] == [D("0.89"), D("2.20"), D("1.91"), D("0.00")]
    assert [ln.net for ln in basket.lines] == [D("3.09"), D("7.61"), D("6.59"), D("0.00")]
    # tax per rate: 7.61 * 0.05 / 1.05 = 0.362 -> 0.36; 9.68 * 0.2 / 1.2 = 1.613 -> 1.61
    assert basket.taxes == (
        TaxSummary(rate=D("0.05"), taxable=D("7.25"), tax=D("0.36"), total=D("7.61")),
        TaxSummary(rate=D("0.20"), taxable=D("8.07"), tax=D("1.61"), total=D("9.68")),
    )
    # the 1.61 is shared back 0.51 / 1.10 (largest remainder over 3.09 and 6.59)
    assert [ln.tax for ln in basket.lines] == [D("0.51"), D("0.36"), D("1.10"), D("0.00")]
    assert [ln.total for ln in basket.lines] == [D("3.09"), D("7.61"), D("6.59"), D("0.00")]
    assert basket.subtotal == D("23.79")
    assert basket.line_discount_total == D("1.50")
    assert basket.sale_discount == D("5.00")
    assert basket.discount_total == D("6.50")
    assert basket.tax_total == D("1.97")
    assert basket.total == D("17.29")


def test_exclusive_basket_exact_values():
    # given a US-style basket: prices before tax, an exempt line, a discount larger than its line
    lines = [
        Line(unit_price=D("2.49"), quantity=D(3), tax_rate=D("0.0825")),
        Line(unit_price=D("19.99"), quantity=D(1), tax_rate=D("0.0825"), discount=Discount.amount("25.00")),
        Line(unit_price=D("4.00"), quantity=D(1), tax_rate=D("0")),
    ]
    # when it is priced with 10 % off the sale
    basket = price_basket(lines, prices_include_tax=False, sale_discount=Discount.percent("10"))
    # then the line discount is clamped to 19.99, the sale discount is 10 % of 11.47 = 1.147 -> 1.15
    assert [ln.line_discount for ln in basket.lines] == [D("0.00"), D("19.99"), D("0.00")]
    assert basket.sale_discount == D("1.15")
    assert [ln.sale_discount for ln in basket.lines] == [D("0.75"), D("0.00"), D("0.40")]
    assert [ln.net for ln in basket.lines] == [D("6.72"), D("0.00"), D("3.60")]
    # tax on the 8.25 % base 6.72 is 0.5544 -> 0.55, added on top
    assert basket.taxes == (
        TaxSummary(rate=D("0"), taxable=D("3.60"), tax=D("0.00"), total=D("3.60")),
        TaxSummary(rate=D("0.0825"), taxable=D("6.72"), tax=D("0.55"), total=D("7.27")),
    )
    assert [ln.total for ln in basket.lines] == [D("7.27"), D("0.00"), D("3.60")]
    assert basket.subtotal == D("31.46")
    assert basket.discount_total == D("21.14")
    assert basket.tax_total == D("0.55")
    assert basket.total == D("10.87")


def test_tax_is_per_rate_not_per_line():
    # three 0.10 lines at 20 % inclusive: per line 0.0167 -> 0.02 each would make 0.06;
    # per rate it is 0.30 * 0.2 / 1.2 = 0.05
    lines = [Line(unit_price=D("0.10"), quantity=D(1), tax_rate=D("0.20")) for _ in range(3)]
    basket = price_basket(lines, prices_include_tax=True)
    assert basket.tax_total == D("0.05")
    assert sum(ln.tax for ln in basket.lines) == D("0.05")


def test_extended_price_rounds_half_up():
    # 0.333 kg at 1.50 = 0.4995 -> 0.50; 3 x 0.125 (a unit price finer than a cent) = 0.375 -> 0.38
    basket = price_basket(
        [
            Line(unit_price=D("1.50"), quantity=D("0.333"), tax_rate=D("0"), by_weight=True),
            Line(unit_price=D("0.125"), quantity=D(3), tax_rate=D("0")),
        ],
        prices_include_tax=True,
    )
    assert [ln.gross for ln in basket.lines] == [D("0.50"), D("0.38")]


def test_empty_and_all_voided_baskets_are_zero():
    for lines in ([], [Line(unit_price=D("1.00"), quantity=D(1), tax_rate=D("0.2"), voided=True)]):
        basket = price_basket(lines, prices_include_tax=False, sale_discount=Discount.amount("1.00"))
        assert basket.total == D("0.00")
        assert basket.sale_discount == D("0.00")
        assert basket.taxes == ()


# --- the basket, properties ------------------------------------------------------------------

money_st = st.integers(min_value=0, max_value=50_000).map(lambda c: D(c) / 100)
rates = st.sampled_from([D("0"), D("0.05"), D("0.07"), D("0.0825"), D("0.10"), D("0.20"), D("0.255")])
discounts = st.one_of(
    st.none(),
    st.integers(min_value=0, max_value=100).map(lambda p: Discount.percent(D(p))),
    st.decimals(min_value=0, max_value=100, places=1).map(Discount.percent),
    money_st.map(Discount.amount),
)


@st.composite
def lines_st(draw):
    by_weight = draw(st.booleans())
    if by_weight:
        quantity = D(draw(st.integers(min_value=1, max_value=20_000))) / 1000
        unit_price = D(draw(st.integers(min_value=0, max_value=10_000_000))) / 1000  # per kg, 3 dp
    else:
        quantity = D(draw(st.integers(min_value=1, max_value=50)))
        unit_price = draw(money_st)
    return Line(
        unit_price=unit_price,
        quantity=quantity,
        tax_rate=draw(rates),
        discount=draw(discounts),
        voided=draw(st.integers(min_value=0, max_value=4)) == 0,  # one line in five
        by_weight=by_weight,
    )


baskets = st.tuples(st.lists(lines_st(), max_size=10), discounts, st.booleans())


@PROPS
@given(baskets)
def test_basket_totals_agree_to_the_cent(basket_input):
    lines, sale_discount, inclusive = basket_input
    basket = price_basket(lines, prices_include_tax=inclusive, sale_discount=sale_discount)
    nets = sum((ln.net for ln in basket.lines), D("0.00"))

    for line, result in zip(lines, basket.lines, strict=True):
        assert result.gross - result.line_discount - result.sale_discount == result.net
        assert min(result.gross, result.line_discount, result.sale_discount, result.net, result.tax) >= 0
        assert result.total == (result.net if inclusive else result.net + result.tax)
        if line.voided:
            assert result.total == result.gross == 0
        if inclusive:
            assert result.tax <= result.net

    assert sum(ln.sale_discount for ln in basket.lines) == basket.sale_discount
    assert basket.subtotal - basket.discount_total == nets
    assert sum(t.total for t in basket.taxes) == basket.total
    assert sum(t.taxable for t in basket.taxes) + basket.tax_total == basket.total
    assert sum(ln.total for ln in basket.lines) == basket.total
    assert sum(ln.tax for ln in basket.lines) == basket.tax_total
    assert basket.total == (nets if inclusive else nets + basket.tax_total)
    # the per-rate bases partition the net lines
    base_sum = sum((t.total if inclusive else t.taxable) for t in basket.taxes)
    assert base_sum == nets
    for tax in basket.taxes:
        base = tax.total if inclusive else tax.taxable
        exact = base * tax.rate / (1 + tax.rate) if inclusive else base * tax.rate
        assert abs(tax.tax - exact) <= D("0.005")
    for amount in (basket.total, basket.tax_total, basket.subtotal, basket.discount_total):
        assert amount.as_tuple().exponent == -2


# --- tenders ---------------------------------------------------------------------------------


def test_cash_is_rounded_and_gives_change():
    s = settle(D("17.29"), [Tender("cash", D("20.00"))])
    assert (s.cash_due, s.change, s.rounding) == (D("17.30"), D("2.70"), D("0.01"))


def test_cash_rounding_down_and_exact_cash():
    s = settle(D("17.27"), [Tender("cash", D("17.25"))])
    assert (s.cash_due, s.change, s.rounding) == (D("17.25"), D("0.00"), D("-0.02"))


def test_only_the_cash_part_is_rounded():
    s = settle(D("17.29"), [Tender("card", D("10.00")), Tender("cash", D("10.00"))])
    assert (s.non_cash, s.cash_due, s.change, s.rounding) == (D("10.00"), D("7.30"), D("2.70"), D("0.01"))
    s = settle(D("17.29"), [Tender("card", D("17.29"))])
    assert (s.cash_due, s.change, s.rounding) == (D("0.00"), D("0.00"), D("0.00"))


def test_without_cash_rounding_increment_of_a_cent():
    s = settle(D("17.29"), [Tender("cash", D("20"))], cash_increment=D("0.01"))
    assert (s.cash_due, s.change, s.rounding) == (D("17.29"), D("2.71"), D("0.00"))


@pytest.mark.parametrize(
    ("tenders", "message"),
    [
        ([Tender("card", D("17.30"))], "exceed"),
        ([Tender("points", D("10.00")), Tender("card", D("7.30"))], "exceed"),
        ([Tender("card", D("17.00"))], "short by 0.29"),
        ([Tender("cash", D("17.20"))], "short of the 17.30"),
        ([], "short by 17.29"),
    ],
)
def test_tenders_that_do_not_settle(tenders, message):
    with pytest.raises(TenderError, match=message):
        settle(D("17.29"), tenders)


def test_tender_must_be_positive_money():
    with pytest.raises(TenderError):
        Tender("cash", D("0"))
    with pytest.raises(TypeError):
        Tender("cash", 20.0)


def test_cash_due():
    assert cash_due(D("17.29")) == D("17.30")
    assert cash_due(D("17.29"), D("17.29")) == D("0.00")
    assert cash_due(D("17.29"), D("17.27")) == D("0.00")  # 0.02 rounds to nothing


@PROPS
@given(
    total=money_st,
    card=money_st,
    extra_cash=money_st,
    increment=st.sampled_from([D("0.01"), D("0.05"), D("0.10"), D("1")]),
)
def test_settlement_covers_the_total_exactly(total, card, extra_cash, increment):
    card = min(card, total)
    tenders = [Tender("card", card)] if card else []
    due = cash_due(total, card, cash_increment=increment)
    if due:
        tenders.append(Tender("cash", due + extra_cash))
    elif total - card:
        # the remainder rounds to no cash at all: it is only settled if a cash tender is present
        tenders.append(Tender("cash", extra_cash or D("0.01")))
    s = settle(total, tenders, cash_increment=increment)
    assert s.change >= 0
    assert s.non_cash + s.cash_due == s.total + s.rounding
    assert s.cash_tendered - s.change == s.cash_due
    assert abs(s.rounding) <= increment / 2
    assert s.cash_due == round_cash(total - card, increment) or s.cash_due == 0
    assert sum(t.amount for t in tenders) - s.change == total + s.rounding


# --- refunds ---------------------------------------------------------------------------------


def test_partial_refunds_use_cumulative_rounding():
    line = SoldLine(total=D("10.00"), tax=D("1.67"), quantity=D(3))
    first = refund_line(line, D(1))
    assert first == Refund(amount=D("3.33"), tax=D("0.56"), quantity=D(1))
    line = SoldLine(total=D("10.00"), tax=D("1.67"), quantity=D(3), returned_quantity=D(1))
    second = refund_line(line, D(1))
    assert second == Refund(amount=D("3.34"), tax=D("0.55"), quantity=D(1))
    line = SoldLine(total=D("10.00"), tax=D("1.67"), quantity=D(3), returned_quantity=D(2))
    last = refund_line(line, D(1))
    assert last == Refund(amount=D("3.33"), tax=D("0.56"), quantity=D(1))
    assert first.amount + second.amount + last.amount == D("10.00")
    assert first.tax + second.tax + last.tax == D("1.67")


def test_weighed_refund():
    line = SoldLine(total=D("9.87"), tax=D("0.47"), quantity=D("1.234"), by_weight=True)
    assert refund_line(line, D("0.5")).amount == D("4.00")  # 3.999 18 half-up


def test_refund_cannot_exceed_what_is_left():
    line = SoldLine(total=D("10.00"), tax=D("0"), quantity=D(3), returned_quantity=D(2))
    with pytest.raises(ValueError, match="only 1 left"):
        refund_line(line, D(2))
    with pytest.raises(ValueError):
        refund_line(line, D(0))
    with pytest.raises(ValueError, match="whole number"):
        refund_line(line, D("0.5"))


def test_refund_lines():
    lines = {
        "a": SoldLine(total=D("3.09"), tax=D("0.51"), quantity=D(2)),
        "b": SoldLine(total=D("7.61"), tax=D("0.36"), quantity=D("0.755"), by_weight=True),
    }
    refunds = refund_lines(lines, {"a": D(1)})
    assert refunds == {"a": Refund(amount=D("1.55"), tax=D("0.26"), quantity=D(1))}
    with pytest.raises(ValueError, match="unknown"):
        refund_lines(lines, {"z": D(1)})


@st.composite
def return_sequences(draw):
    by_weight = draw(st.booleans())
    unit = 1000 if by_weight else 1
    sold_units = draw(st.integers(min_value=1, max_value=5_000 if by_weight else 40))
    total = draw(money_st)
    tax = draw(st.integers(min_value=0, max_value=int(total * 100))) / D(100)
    cuts = sorted(set(draw(st.lists(st.integers(min_value=1, max_value=sold_units), max_size=8))))
    if draw(st.booleans()) or not cuts:
        cuts.append(sold_units)  # sometimes everything comes back
    cuts = sorted(set(cuts))
    steps = [b - a for a, b in zip([0, *cuts], cuts, strict=False)]
    return total, tax, D(sold_units) / unit, [D(s) / unit for s in steps], by_weight


@PROPS
@given(return_sequences())
def test_partial_refunds_never_exceed_and_sum_to_what_was_paid(seq):
    total, tax, sold, steps, by_weight = seq
    returned = D(0)
    refunded = refunded_tax = D("0.00")
    for step in steps:
        line = SoldLine(total=total, tax=tax, quantity=sold, returned_quantity=returned, by_weight=by_weight)
        refund = refund_line(line, step)
        assert refund.amount >= 0
        assert 0 <= refund.tax <= refund.amount + D("0.01")  # the tax part is within a rounding cent
        returned += step
        refunded += refund.amount
        refunded_tax += refund.tax
        assert refunded <= total
        assert refunded_tax <= tax
    if returned == sold:
        assert refunded == total
        assert refunded_tax == tax
