"""The money rules hold for whatever a till does: random baskets rung, paid and returned through the
services agree with ``retail.pricing`` to the cent, and the Z report is the sum of its shift."""

from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from retail.pricing import Discount, Line, price_basket
from retail.sales.models import Sale, Tender
from retail.shifts.selectors import shift_figures
from store_node.checkout.services.returns import sale_return
from store_node.checkout.services.sales import (
    sale_add_line,
    sale_open,
    sale_set_discount,
    sale_set_line_discount,
)
from store_node.checkout.services.tenders import sale_complete

pytestmark = pytest.mark.django_db

RATES = {"100001": Decimal("0.19"), "100002": Decimal("0.07"), "100003": Decimal("0.07")}
PRICES = {"100001": Decimal("1.99"), "100002": Decimal("3.50"), "100003": Decimal("1.99")}

line_st = st.tuples(
    st.sampled_from(["100001", "100002", "100003"]),
    st.integers(1, 12),
    st.integers(1, 4000),  # grams for the weighed product
    st.one_of(
        st.none(),
        st.tuples(st.just("percent"), st.integers(0, 100)),
        st.tuples(st.just("amount"), st.integers(0, 500)),
    ),
)
discount_st = st.one_of(
    st.none(),
    st.tuples(st.just("percent"), st.integers(0, 100)),
    st.tuples(st.just("amount"), st.integers(0, 3000)),
)
tender_st = st.sampled_from(["cash", "card", "split"])
PROPERTY = settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def _ring(till, lines, sale_discount):
    sale = sale_open(terminal=till.terminal, cashier=till.cashier)
    expected = []
    for sku, qty, grams, disc in lines:
        weighed = sku == "100003"
        quantity = Decimal(grams) / 1000 if weighed else Decimal(qty)
        line = sale_add_line(
            sale_id=sale.id,
            terminal=till.terminal,
            cashier=till.cashier,
            sku=sku,
            **({"weight": quantity} if weighed else {"quantity": qty}),
        )
        discount = None
        if disc:
            value = Decimal(disc[1]) if disc[0] == "percent" else Decimal(disc[1]) / 100
            sale_set_line_discount(
                sale_id=sale.id, line_id=line.id, terminal=till.terminal, kind=disc[0], value=value
            )
            discount = Discount(disc[0], value)
        expected.append(
            Line(
                unit_price=PRICES[sku],
                quantity=quantity,
                tax_rate=RATES[sku],
                discount=discount,
                by_weight=weighed,
            )
        )
    sd = None
    if sale_discount:
        value = (
            Decimal(sale_discount[1]) if sale_discount[0] == "percent" else Decimal(sale_discount[1]) / 100
        )
        sale_set_discount(sale_id=sale.id, terminal=till.terminal, kind=sale_discount[0], value=value)
        sd = Discount(sale_discount[0], value)
    return sale, price_basket(expected, prices_include_tax=True, sale_discount=sd)


def _pay(till, sale, how):
    sale.refresh_from_db()
    total = sale.total
    if how == "card" or total == 0:
        tenders = [{"kind": "card", "amount": total, "reference": "P"}] if total else []
    elif how == "split" and total >= Decimal("0.02"):
        tenders = [
            {"kind": "card", "amount": (total / 2).quantize(Decimal("0.01")), "reference": "P"},
            {"kind": "cash", "tendered": total},
        ]
    else:
        tenders = [{"kind": "cash", "tendered": total + 1}]
    if not tenders:
        tenders = [{"kind": "cash", "tendered": Decimal("1.00")}]
    return sale_complete(sale_id=sale.id, terminal=till.terminal, cashier=till.cashier, tenders=tenders)


@PROPERTY
@given(lines=st.lists(line_st, min_size=1, max_size=5), sale_discount=discount_st, how=tender_st)
def test_rung_sales_agree_with_pricing_and_tenders_cover_them_exactly(till, goods, lines, sale_discount, how):
    Sale.objects.filter(terminal=till.terminal, status="open").update(status="cancelled")
    sale, expected = _ring(till, lines, sale_discount)
    done = _pay(till, sale, how)

    stored = list(done.lines.order_by("position"))
    assert [line.line_total for line in stored] == [r.total for r in expected.lines]
    assert [line.sale_discount_share for line in stored] == [r.sale_discount for r in expected.lines]
    assert (done.subtotal, done.discount_total, done.tax_total, done.total) == (
        expected.subtotal,
        expected.discount_total,
        expected.tax_total,
        expected.total,
    )
    assert sorted((t.rate, t.taxable, t.tax) for t in done.tax_lines.all()) == [
        (t.rate, t.taxable, t.tax) for t in expected.taxes
    ]
    tenders = list(Tender.objects.filter(sale=done, approved=True))
    assert all(t.change >= 0 for t in tenders)
    assert sum(t.amount for t in tenders) == done.total + done.cash_rounding
    assert abs(done.cash_rounding) <= Decimal("0.025")


@PROPERTY
@given(
    lines=st.lists(line_st, min_size=1, max_size=4),
    sale_discount=discount_st,
    picks=st.lists(st.tuples(st.integers(0, 3), st.integers(1, 5)), min_size=1, max_size=8),
)
def test_refunds_never_exceed_what_was_paid_and_z_report_sums_the_shift(
    till, goods, lines, sale_discount, picks
):
    Sale.objects.filter(terminal=till.terminal, status="open").update(status="cancelled")
    sale, _ = _ring(till, lines, sale_discount)
    done = _pay(till, sale, "cash")
    sold = [line for line in done.lines.order_by("position")]
    for index, qty in picks:
        line = sold[index % len(sold)]
        returned = -sum(r.quantity for r in line.return_lines.all())
        left = line.quantity - returned
        if left <= 0:
            continue
        take = min(Decimal(qty), left) if line.quantity == line.quantity.to_integral() else left
        sale_return(
            terminal=till.terminal,
            cashier=till.cashier,
            receipt=done.receipt_number,
            lines=[{"line_id": line.id, "quantity": take}],
            refund_to="cash",
        )
    for line in sold:
        refunded = -sum(r.line_total for r in line.return_lines.all())
        assert Decimal(0) <= refunded <= line.line_total
        if -sum(r.quantity for r in line.return_lines.all()) == line.quantity:
            assert refunded == line.line_total

    figures = shift_figures(shift=till.shift)
    completed = Sale.objects.filter(shift=till.shift, status="completed")
    assert figures["sales_total"] == sum(s.total for s in completed if s.kind == "sale")
    assert figures["returns_total"] == sum(s.total for s in completed if s.kind == "return")
    all_tenders = Tender.objects.filter(sale__in=completed, approved=True)
    assert sum(figures["tenders"].values()) == sum(t.amount for t in all_tenders)
    assert figures["expected_cash"] == till.shift.opening_float + sum(
        t.amount for t in all_tenders if t.kind == "cash"
    )
    assert sum(t["tax"] for t in figures["taxes"]) == sum(s.tax_total for s in completed)
