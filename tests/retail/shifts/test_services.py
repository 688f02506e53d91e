from decimal import Decimal

import pytest

from retail.api_errors import DomainError, Invalid
from retail.outbox.models import Event
from retail.shifts.services import counted_cash, shift_cash_move, shift_close, shift_open
from tests.factories import make_terminal, make_user

pytestmark = pytest.mark.django_db


def test_one_open_shift_per_terminal_with_events(store):
    terminal, cashier = make_terminal(store, "T01"), make_user(store=store)
    shift = shift_open(terminal=terminal, cashier=cashier, opening_float=Decimal("150.00"))
    with pytest.raises(DomainError) as twice:
        shift_open(terminal=terminal, cashier=cashier, opening_float=Decimal("1.00"))
    assert twice.value.code == "shift_already_open"
    assert Event.objects.get(type="shift.opened").payload["opening_float"] == "150.00"
    assert shift.status == "open"


def test_close_counts_denominations_and_stores_the_z_report(store):
    terminal, cashier = make_terminal(store, "T01"), make_user(store=store)
    shift = shift_open(terminal=terminal, cashier=cashier, opening_float=Decimal("100.00"))
    shift_cash_move(
        shift=shift, staff=cashier, kind="paid_out", amount=Decimal("12.30"), reason="milk for staff"
    )
    closed = shift_close(shift=shift, denominations={"50": 1, "20.00": 1, "10.00": 1, "5.00": 1, "0.50": 1})

    assert (closed.expected_cash, closed.counted_cash, closed.over_short) == (
        Decimal("87.70"),
        Decimal("85.50"),
        Decimal("-2.20"),
    )
    assert closed.z_report["paid_out"] == "12.30" and closed.z_report["number"] == "S01-T01-Z0001"
    assert closed.counted_denominations == {"50.00": 1, "20.00": 1, "10.00": 1, "5.00": 1, "0.50": 1}
    with pytest.raises(DomainError):
        shift_close(shift=closed, denominations={})
    with pytest.raises(DomainError):
        shift_cash_move(shift=closed, staff=cashier, kind="paid_in", amount=Decimal("1"), reason="x")


@pytest.mark.parametrize("bad", [{"x": 1}, {"1.00": -1}, {"0": 2}, {"1.00": 1.5}, {"1.001": 1}])
def test_counted_cash_refuses_odd_counts(bad):
    with pytest.raises(Invalid):
        counted_cash(bad)
