"""Shift writes: open with a float, pay in and out, close with counted cash and a stored Z report."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.db import IntegrityError, transaction
from django.utils import timezone

from retail.api_errors import DomainError, Invalid
from retail.money import money_sum, to_money
from retail.outbox.services import event_append
from retail.shifts.models import CashMovement, CashMovementKind, Shift, ShiftStatus
from retail.shifts.selectors import shift_figures


def shift_open(*, terminal, cashier, opening_float: Decimal) -> Shift:
    """Open a shift on a terminal. Invariant: at most one open shift per terminal (a DB constraint)."""
    if opening_float < 0:
        raise Invalid("the opening float cannot be negative", code="float_negative")
    try:
        with transaction.atomic():
            shift = Shift.objects.create(
                store_id=terminal.store_id,
                terminal=terminal,
                cashier=cashier,
                opened_at=timezone.now(),
                opening_float=to_money(opening_float),
            )
            event_append(
                type="shift.opened",
                payload={
                    "id": shift.id,
                    "store_id": shift.store_id,
                    "terminal_id": terminal.id,
                    "cashier_id": cashier.id,
                    "opened_at": shift.opened_at,
                    "opening_float": shift.opening_float,
                },
            )
    except IntegrityError:
        raise DomainError(
            f"terminal {terminal.code} already has an open shift; close it first", code="shift_already_open"
        ) from None
    return shift


def shift_cash_move(*, shift: Shift, staff, kind: str, amount: Decimal, reason: str) -> CashMovement:
    """Pay cash into or out of the drawer outside a sale, with the reason and its event."""
    if kind not in CashMovementKind.values:
        raise Invalid(f"kind must be one of {', '.join(CashMovementKind.values)}", code="cash_move_kind")
    if amount <= 0:
        raise Invalid("the amount must be positive; the kind gives the direction", code="amount_not_positive")
    if not reason.strip():
        raise Invalid("give a reason for paying cash in or out", code="reason_required")
    if shift.status != ShiftStatus.OPEN:
        raise DomainError("the shift is closed", code="shift_closed")
    with transaction.atomic():
        move = CashMovement.objects.create(
            shift=shift,
            staff=staff,
            kind=kind,
            amount=to_money(amount),
            reason=reason.strip(),
            created_at=timezone.now(),
        )
        event_append(
            type="shift.cash_moved",
            payload={
                "id": move.id,
                "shift_id": shift.id,
                "kind": kind,
                "amount": move.amount,
                "reason": move.reason,
                "staff_id": staff.id,
                "created_at": move.created_at,
            },
        )
    return move


def counted_cash(denominations: dict) -> tuple[Decimal, dict[str, int]]:
    """Sum a count by denomination (``{"20.00": 3, "0.05": 7}``); refuses anything odd."""
    clean: dict[str, int] = {}
    for denom, count in denominations.items():
        try:
            value = to_money(str(denom))
        except (ValueError, TypeError, InvalidOperation):
            raise Invalid(f"denomination {denom!r} is not an amount", code="denomination_invalid") from None
        if value <= 0 or not isinstance(count, int) or isinstance(count, bool) or count < 0:
            raise Invalid(
                f"denomination {denom}: give a positive value and a whole, non-negative count",
                code="denomination_invalid",
            )
        clean[f"{value}"] = clean.get(f"{value}", 0) + count
    return money_sum(Decimal(d) * n for d, n in clean.items()), clean


def _json(figures: dict) -> dict:
    # Decimals as strings, like every payload (docs/events.md).
    def conv(v):
        if isinstance(v, Decimal):
            return f"{v}"
        if isinstance(v, dict):
            return {k: conv(x) for k, x in v.items()}
        if isinstance(v, list):
            return [conv(x) for x in v]
        return v

    return conv(figures)


def shift_report(*, shift: Shift, kind: str = "X") -> dict:
    """The X (or, at close, Z) report of a shift as JSON-ready data."""
    figures = shift_figures(shift=shift)
    closed = Shift.objects.filter(terminal_id=shift.terminal_id, status=ShiftStatus.CLOSED).count()
    label = shift.terminal.label
    return _json(
        {
            "kind": kind,
            "number": f"{label}-{kind}{closed + (1 if kind == 'Z' else 0):04d}",
            "shift_id": str(shift.id),
            "terminal": label,
            "cashier": shift.cashier.get_full_name() or shift.cashier.username,
            "opened_at": shift.opened_at.isoformat(),
            "generated_at": timezone.now().isoformat(),
            **figures,
        }
    )


def shift_close(*, shift: Shift, denominations: dict) -> Shift:
    """Close a shift with its counted cash.

    Invariant: ``over_short == counted_cash - expected_cash`` and the stored Z report equals the sum
    of the shift's completed sales, returns and cash movements (``retail.shifts.selectors``).
    """
    counted, clean = counted_cash(denominations)
    with transaction.atomic():
        shift = Shift.objects.select_related("terminal__store", "cashier").get(pk=shift.pk)
        if shift.status != ShiftStatus.OPEN:
            raise DomainError("the shift is already closed", code="shift_closed")
        report = shift_report(shift=shift, kind="Z")
        expected = Decimal(report["expected_cash"])
        shift.closed_at = timezone.now()
        shift.expected_cash = expected
        shift.counted_cash = counted
        shift.over_short = counted - expected
        shift.counted_denominations = clean
        report.update(
            closed_at=shift.closed_at.isoformat(),
            counted_cash=f"{counted}",
            over_short=f"{shift.over_short}",
            counted_denominations=clean,
        )
        shift.z_report = report
        shift.status = ShiftStatus.CLOSED
        shift.save()
        event_append(
            type="shift.closed",
            payload={
                "id": shift.id,
                "closed_at": shift.closed_at,
                "expected_cash": expected,
                "counted_cash": counted,
                "over_short": shift.over_short,
                "counted_denominations": clean,
                "z_report": report,
            },
        )
    return shift
