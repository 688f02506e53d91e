from decimal import Decimal

import pytest

from retail.api_errors import DomainError, Invalid
from retail.audit.models import AuditEntry
from retail.outbox.models import Event
from retail.shifts.models import Shift
from store_node.checkout.services.returns import sale_return
from store_node.checkout.services.shifts import (
    drawer_no_sale,
    till_cash_move,
    till_shift_close,
    till_x_report,
)
from store_node.checkout.services.tenders import sale_complete
from store_node.devices.models import DrawerKick, PrintJob
from tests.store_node.checkout.helpers import MILK, ring

pytestmark = pytest.mark.django_db


def test_a_day_at_the_till_closes_with_the_right_z_report(till, goods):
    # given a day: two sales (cash and card), a return, a paid in, a paid out
    s1 = ring(till, (MILK, 3))
    s1 = sale_complete(
        sale_id=s1.id,
        terminal=till.terminal,
        cashier=till.cashier,
        tenders=[{"kind": "cash", "tendered": "10.00"}],
    )
    s2 = ring(till, "2101234012505")
    sale_complete(
        sale_id=s2.id,
        terminal=till.terminal,
        cashier=till.cashier,
        tenders=[{"kind": "card", "amount": "2.49", "reference": "Z"}],
    )
    sale_return(
        terminal=till.terminal,
        cashier=till.cashier,
        receipt=s1.receipt_number,
        lines=[{"line_id": s1.lines.get().id, "quantity": 1}],
    )
    till_cash_move(
        terminal=till.terminal,
        staff=till.cashier,
        kind="paid_in",
        amount=Decimal("20.00"),
        reason="change from bank",
    )
    till_cash_move(
        terminal=till.terminal,
        staff=till.cashier,
        kind="paid_out",
        amount=Decimal("4.50"),
        reason="window cleaner",
    )
    x = till_x_report(terminal=till.terminal, print_it=True)

    # when the cashier counts 130.45 and closes
    shift = till_shift_close(
        terminal=till.terminal, denominations={"50.00": 2, "10.00": 3, "0.20": 2, "0.05": 1}
    )

    # then expected = 100 float + 5.95 cash sale - 2.00 cash refund + 20 - 4.50 = 119.45: over by 11.00
    z = shift.z_report
    assert x["expected_cash"] == "119.45" and x["kind"] == "X"
    assert (shift.expected_cash, shift.counted_cash, shift.over_short) == (
        Decimal("119.45"),
        Decimal("130.45"),
        Decimal("11.00"),
    )
    assert {
        k: z[k] for k in ("sales_count", "sales_total", "returns_count", "returns_total", "net_sales")
    } == {
        "sales_count": 2,
        "sales_total": "8.46",
        "returns_count": 1,
        "returns_total": "-1.99",
        "net_sales": "6.47",
    }
    assert z["tenders"] == {"card": "2.49", "cash": "3.95", "points": "0.00"}
    assert z["taxes"] == [
        {"tax_class": "RED", "rate": "0.0700", "taxable": "2.33", "tax": "0.16"},
        {"tax_class": "STD", "rate": "0.1900", "taxable": "3.35", "tax": "0.63"},
    ]
    assert z["number"] == "S01-T02-Z0001" and z["over_short"] == "11.00"
    assert Shift.objects.get().status == "closed"
    assert Event.objects.filter(type="shift.closed").get().payload["z_report"] == z
    assert list(PrintJob.objects.filter(kind="report").values_list("payload__kind", flat=True)) == ["X", "Z"]


def test_close_refuses_odd_counts_and_an_open_sale(till, goods):
    with pytest.raises(Invalid):
        till_shift_close(terminal=till.terminal, denominations={"abc": 1})
    with pytest.raises(Invalid):
        till_shift_close(terminal=till.terminal, denominations={"1.00": -1})
    ring(till, MILK)
    with pytest.raises(DomainError) as open_sale:
        till_shift_close(terminal=till.terminal, denominations={})
    assert open_sale.value.code == "sale_open"


def test_cash_moves_need_a_reason_and_a_positive_amount(till):
    with pytest.raises(Invalid):
        till_cash_move(
            terminal=till.terminal, staff=till.cashier, kind="paid_out", amount=Decimal("5"), reason=" "
        )
    with pytest.raises(Invalid):
        till_cash_move(
            terminal=till.terminal, staff=till.cashier, kind="paid_out", amount=Decimal("0"), reason="x"
        )


def test_no_sale_opens_the_drawer_with_a_supervisor_and_is_audited(till):
    drawer_no_sale(
        terminal=till.terminal,
        cashier=till.cashier,
        reason="give change",
        approval={"username": "s101", "pin": "2222"},
    )
    assert DrawerKick.objects.get().reason == "no_sale"
    entry = AuditEntry.objects.get(action="no_sale")
    assert (entry.actor, entry.approver, entry.details) == (
        till.cashier,
        till.supervisor,
        {"reason": "give change"},
    )
