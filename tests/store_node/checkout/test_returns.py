from decimal import Decimal

import pytest

from retail.api_errors import Invalid, NotFound, PermissionRefused
from retail.audit.models import AuditEntry
from retail.members.models import PointsEntry
from retail.sales.models import Tender
from retail.stock.models import StockMovement
from store_node.checkout.services.returns import sale_return
from store_node.checkout.services.tenders import sale_complete
from store_node.devices.models import DrawerKick, PrintJob
from tests.store_node.checkout.helpers import MILK, ring

pytestmark = pytest.mark.django_db


def _sold(till, *scans, tenders, member=None):
    sale = ring(till, *scans, member=member)
    return sale_complete(sale_id=sale.id, terminal=till.terminal, cashier=till.cashier, tenders=tenders)


def _return(till, receipt, lines, **kw):
    return sale_return(terminal=till.terminal, cashier=till.cashier, receipt=receipt, lines=lines, **kw)


def test_partial_returns_use_cumulative_rounding_and_never_exceed_what_was_sold(till, goods):
    # given 3 x 1.99 = 5.97 paid by card
    sold = _sold(till, (MILK, 3), tenders=[{"kind": "card", "amount": "5.97", "reference": "A1"}])
    line = sold.lines.get()
    refunds = [
        _return(till, sold.receipt_number, [{"line_id": line.id, "quantity": 1}], refund_to="original").total
        for _ in range(3)
    ]
    with pytest.raises(Invalid) as too_many:
        _return(till, sold.receipt_number, [{"line_id": line.id, "quantity": 1}])

    assert refunds == [Decimal("-1.99"), Decimal("-1.99"), Decimal("-1.99")]
    assert sum(refunds) == -line.line_total
    assert too_many.value.code == "return_too_many"
    assert too_many.value.detail.endswith("cannot return 1: only 0.000 left to return on this line")
    assert (
        list(Tender.objects.filter(amount__lt=0).values_list("kind", "amount", "reference"))
        == [("card", Decimal("-1.99"), "A1")] * 3
    )


def test_refund_to_original_goes_to_the_card_first_then_cash(till, goods):
    sold = _sold(
        till,
        (MILK, 5),
        tenders=[
            {"kind": "card", "amount": "3.00", "reference": "C9"},
            {"kind": "cash", "tendered": "10.00"},
        ],
    )
    ret = _return(till, sold.receipt_number, [{"line_id": sold.lines.get().id, "quantity": 5}])

    assert list(ret.tenders.order_by("kind").values_list("kind", "amount")) == [
        ("card", Decimal("-3.00")),
        ("cash", Decimal("-6.95")),
    ]
    assert ret.total == Decimal("-9.95") and ret.cash_rounding == Decimal("0.00")
    assert DrawerKick.objects.filter(reason="sale").count() == 2
    assert PrintJob.objects.filter(payload__title="REFUND").count() == 1


def test_restock_or_write_off(till, goods):
    sold = _sold(till, (MILK, 2), tenders=[{"kind": "cash", "tendered": "5.00"}])
    line = sold.lines.get()
    ret = _return(
        till,
        sold.receipt_number.lower(),
        [
            {"line_id": line.id, "quantity": 1, "restock": True},
            {"line_id": line.id, "quantity": 1, "restock": False},
        ],
    )
    # the two picks of the same line merge into one return line (the later restock flag wins)
    moves = list(StockMovement.objects.filter(reference=ret.receipt_number).values_list("kind", "quantity"))
    assert sorted(moves) == [("return", Decimal("2.000")), ("write_off", Decimal("-2.000"))]
    assert ret.cash_rounding == Decimal("-0.02") and ret.tenders.get().amount == Decimal("-4.00")


def test_unknown_receipt_and_not_a_receipt(till, goods):
    with pytest.raises(NotFound) as unknown:
        _return(till, "S01-T09-000042", [{"line_id": "x", "quantity": 1}])
    with pytest.raises(Invalid) as not_receipt:
        _return(till, MILK, [{"line_id": "x", "quantity": 1}])
    assert unknown.value.code == "unknown_receipt" and not_receipt.value.code == "not_a_receipt"


def test_without_receipt_a_manager_approves_and_cash_is_refunded(till, goods):
    with pytest.raises(PermissionRefused):
        sale_return(
            terminal=till.terminal,
            cashier=till.cashier,
            lines=[{"scan": MILK, "quantity": 1}],
            approval={"username": "s101", "pin": "2222"},
        )
    ret = sale_return(
        terminal=till.terminal,
        cashier=till.cashier,
        lines=[{"scan": MILK, "quantity": 2}],
        approval={"username": "m101", "pin": "3333"},
        reason="gift",
    )

    assert ret.total == Decimal("-3.98") and ret.tenders.get().amount == Decimal("-4.00")
    entry = AuditEntry.objects.get(action="refund")
    assert (entry.actor, entry.approver, entry.details["reason"]) == (till.cashier, till.manager, "gift")


def test_returns_take_back_the_points_the_goods_earned_and_give_back_points_paid(till, goods, member):
    member.points_balance = 1000
    member.save()
    PointsEntry.objects.create(
        member=member, kind="adjust", points=1000, origin="cloud", created_at=till.shift.opened_at
    )
    sold = _sold(
        till,
        (MILK, 10),
        member=member,
        tenders=[{"kind": "points", "points": 500}, {"kind": "cash", "tendered": "20.00"}],
    )
    assert sold.points_earned == 14  # 19.90 - 5.00 in points = 14.90 -> 14.90 cash
    ret = _return(till, sold.receipt_number, [{"line_id": sold.lines.get().id, "quantity": 10}])

    member.refresh_from_db()
    assert ret.points_earned == -14
    assert member.points_balance == 1000 - 500 + 14 + 500 - 14
    assert (
        sum(PointsEntry.objects.filter(member=member).values_list("points", flat=True))
        == member.points_balance
    )


def test_a_sale_of_another_store_can_be_returned_here_once_synced(till, goods):
    from retail.shifts.services import shift_open
    from tests.factories import make_store, make_terminal, make_user

    # given a card sale rung at S02 and (as sync would) present in this store's database
    s02 = make_store("S02")
    lane = make_terminal(s02, "T01")
    cashier = make_user(store=s02)
    shift_open(terminal=lane, cashier=cashier, opening_float=Decimal("0.00"))
    from store_node.checkout.services.sales import sale_add_line, sale_open

    sale = sale_open(terminal=lane, cashier=cashier)
    sale_add_line(sale_id=sale.id, terminal=lane, cashier=cashier, scan=MILK, quantity=2)
    sold = sale_complete(
        sale_id=sale.id,
        terminal=lane,
        cashier=cashier,
        tenders=[{"kind": "card", "amount": "3.98", "reference": "S02-AUTH"}],
    )

    # when it is returned at S01
    ret = _return(till, sold.receipt_number, [{"line_id": sold.lines.get().id, "quantity": 1}])

    # then the refund goes to the card, the goods to S01's stock, the number to S01's till
    assert ret.receipt_number == "S01-T02-000001" and ret.original_sale == sold
    assert list(ret.tenders.values_list("kind", "amount", "reference")) == [
        ("card", Decimal("-1.99"), "S02-AUTH")
    ]
    assert StockMovement.objects.get(reference=ret.receipt_number).store == till.store


def test_a_returns_event_carries_every_amount_as_a_decimal_string(till, goods):
    # given a sale and a return of one of its units (return lines have no discounts of their own)
    sold = _sold(till, (MILK, 2), tenders=[{"kind": "cash", "tendered": "5.00"}])
    ret = _return(till, sold.receipt_number, [{"line_id": sold.lines.get().id, "quantity": 1}])

    # then its sale.completed event says every amount as a string, as the protocol wants (the
    # cloud quarantines a JSON number: docs/events.md), zero discounts included
    from retail.outbox.models import Event

    [line] = Event.objects.get(type="sale.completed", payload__id=str(ret.id)).payload["lines"]
    money = ("quantity", "unit_price", "line_discount", "sale_discount_share", "line_total", "tax_rate")
    assert {key: line[key] for key in money} == {
        "quantity": "-1",
        "unit_price": "1.99",
        "line_discount": "0.00",
        "sale_discount_share": "0.00",
        "line_total": "-1.99",
        "tax_rate": "0.1900",
    }
