"""Till flows around a shift: open, pay in/out, X report, close with the Z report printed, no-sale."""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction

from retail.api_errors import DomainError
from retail.audit.services import audit_record
from retail.sales.models import Sale, SaleStatus
from retail.shifts.models import Shift
from retail.shifts.selectors import shift_open_for
from retail.shifts.services import shift_cash_move, shift_close, shift_open, shift_report
from retail.staff.models import Role
from store_node.checkout.services.receipts import report_payload
from store_node.checkout.services.terminal_login import approval_check
from store_node.devices.services import drawer_kick_request, print_job_enqueue


def current_shift(*, terminal) -> Shift:
    shift = shift_open_for(terminal=terminal)
    if shift is None:
        raise DomainError("This terminal has no open shift", code="no_open_shift")
    return shift


def till_shift_open(*, terminal, cashier, opening_float: Decimal) -> Shift:
    """Open a shift and open the drawer to put the float in."""
    with transaction.atomic():
        shift = shift_open(terminal=terminal, cashier=cashier, opening_float=opening_float)
        drawer_kick_request(terminal=terminal, reason="no_sale")
    return shift


def till_cash_move(*, terminal, staff, kind: str, amount: Decimal, reason: str):
    with transaction.atomic():
        move = shift_cash_move(
            shift=current_shift(terminal=terminal), staff=staff, kind=kind, amount=amount, reason=reason
        )
        drawer_kick_request(terminal=terminal, reason="no_sale")
    return move


def till_x_report(*, terminal, print_it: bool = False) -> dict:
    shift = current_shift(terminal=terminal)
    with transaction.atomic():
        report = shift_report(shift=shift, kind="X")
        if print_it:
            print_job_enqueue(terminal=terminal, kind="report", payload=report_payload(report))
    return report


def till_shift_close(*, terminal, denominations: dict) -> Shift:
    """Close the terminal's shift: counted cash, over/short, the Z report stored and printed.
    Refused while the terminal has an open or suspended sale of its own."""
    shift = current_shift(terminal=terminal)
    with transaction.atomic():
        if Sale.objects.filter(terminal=terminal, status=SaleStatus.OPEN).exists():
            raise DomainError("Finish, suspend or cancel the open sale first", code="sale_open")
        shift = shift_close(shift=shift, denominations=denominations)
        print_job_enqueue(terminal=terminal, kind="report", payload=report_payload(shift.z_report))
    return shift


def drawer_no_sale(*, terminal, cashier, reason: str, approval: dict) -> None:
    """Open the drawer without a sale: a supervisor's PIN, audited."""
    approver = approval_check(
        store_id=terminal.store_id, approval=approval, role=Role.SUPERVISOR, action="opening the drawer"
    )
    with transaction.atomic():
        drawer_kick_request(terminal=terminal, reason="no_sale")
        audit_record(
            action="no_sale",
            actor=cashier,
            approver=approver,
            store=terminal.store,
            terminal=terminal,
            subject=terminal.id,
            details={"reason": reason},
        )
