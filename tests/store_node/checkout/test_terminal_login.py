from datetime import timedelta

import pytest
from django.utils import timezone

from retail.api_errors import DomainError, NotFound, PermissionRefused
from retail.staff.models import Role
from store_node.checkout.selectors import terminal_session_get
from store_node.checkout.services.terminal_login import (
    PinRefused,
    approval_check,
    terminal_login,
    terminal_logout,
)
from tests.factories import make_store, make_user

pytestmark = pytest.mark.django_db


def test_login_gives_a_session_token_for_the_terminal(till):
    session = terminal_login(terminal=till.terminal, username="c101", pin="1111")

    found = terminal_session_get(token=session.token)
    assert found.user == till.cashier and found.terminal == till.terminal
    assert session.expires_at - session.created_at == timedelta(hours=12)


def test_a_new_login_ends_the_terminals_previous_session(till):
    first = terminal_login(terminal=till.terminal, username="c101", pin="1111")
    terminal_login(terminal=till.terminal, username="s101", pin="2222")

    assert terminal_session_get(token=first.token) is None


def test_logout_ends_the_session(till):
    session = terminal_login(terminal=till.terminal, username="c101", pin="1111")
    terminal_logout(session=session)
    assert terminal_session_get(token=session.token) is None


def test_wrong_pins_count_down_then_lock_even_the_right_pin_out(till):
    messages = []
    for _ in range(4):
        with pytest.raises(PinRefused) as refused:
            terminal_login(terminal=till.terminal, username="c101", pin="9999")
        messages.append(refused.value.detail)
    with pytest.raises(PermissionRefused) as locked:
        terminal_login(terminal=till.terminal, username="c101", pin="9999")
    with pytest.raises(PermissionRefused) as still_locked:
        terminal_login(terminal=till.terminal, username="c101", pin="1111")

    assert messages == [f"Wrong PIN for c101: {n} attempt{'s' if n > 1 else ''} left" for n in (4, 3, 2, 1)]
    assert locked.value.code == "pin_locked" and still_locked.value.code == "pin_locked"
    till.cashier.refresh_from_db()
    assert till.cashier.pin_locked_until > timezone.now() + timedelta(minutes=14)


def test_the_right_pin_resets_the_count_and_a_lock_expires(till):
    for _ in range(3):
        with pytest.raises(PinRefused):
            terminal_login(terminal=till.terminal, username="c101", pin="0000")
    terminal_login(terminal=till.terminal, username="c101", pin="1111")
    till.cashier.refresh_from_db()
    assert till.cashier.failed_pin_attempts == 0

    till.cashier.pin_locked_until = timezone.now() - timedelta(seconds=1)
    till.cashier.save()
    assert terminal_login(terminal=till.terminal, username="c101", pin="1111").user == till.cashier


def test_unknown_staff_and_staff_of_another_store_are_refused(till):
    other = make_user(Role.CASHIER, make_store("S09"), username="x901")
    with pytest.raises(NotFound) as unknown:
        terminal_login(terminal=till.terminal, username="nobody", pin="1111")
    with pytest.raises(PermissionRefused) as wrong_store:
        terminal_login(terminal=till.terminal, username=other.username, pin="1234")
    assert unknown.value.code == "unknown_staff" and wrong_store.value.code == "wrong_store"


def test_inactive_terminal_refuses_logins(till):
    till.terminal.active = False
    till.terminal.save()
    with pytest.raises(DomainError) as refused:
        terminal_login(terminal=till.terminal, username="c101", pin="1111")
    assert refused.value.code == "terminal_inactive"


def test_approval_needs_rank_and_the_right_pin(till):
    store_id = till.store.id
    assert (
        approval_check(
            store_id=store_id, approval={"username": "s101", "pin": "2222"}, role=Role.SUPERVISOR, action="x"
        )
        == till.supervisor
    )
    with pytest.raises(PermissionRefused) as rank:
        approval_check(
            store_id=store_id,
            approval={"username": "c101", "pin": "1111"},
            role=Role.SUPERVISOR,
            action="a price override",
        )
    with pytest.raises(PermissionRefused) as missing:
        approval_check(
            store_id=store_id, approval=None, role=Role.STORE_MANAGER, action="a return without a receipt"
        )
    with pytest.raises(PinRefused):
        approval_check(
            store_id=store_id, approval={"username": "s101", "pin": "0000"}, role=Role.SUPERVISOR, action="x"
        )

    assert rank.value.code == "approval_rank"
    assert (
        missing.value.detail
        == "a return without a receipt needs the username and PIN of a store manager or above"
    )
    till.supervisor.refresh_from_db()
    assert till.supervisor.failed_pin_attempts == 1


def test_a_manager_unlocks_a_locked_cashier_and_it_is_audited(till):
    from retail.audit.models import AuditEntry
    from store_node.checkout.services.terminal_login import staff_pin_unlock

    for _ in range(5):
        with pytest.raises(DomainError):
            terminal_login(terminal=till.terminal, username="c101", pin="0000")
    with pytest.raises(PermissionRefused):
        staff_pin_unlock(
            terminal=till.terminal, username="c101", approval={"username": "s101", "pin": "2222"}
        )
    staff_pin_unlock(terminal=till.terminal, username="c101", approval={"username": "m101", "pin": "3333"})

    assert terminal_login(terminal=till.terminal, username="c101", pin="1111").user == till.cashier
    entry = AuditEntry.objects.get(action="pin_unlock")
    assert (entry.approver, entry.subject) == (till.manager, str(till.cashier.id))


def test_unlock_over_the_api(client, till):
    till.cashier.pin_locked_until = till.shift.opened_at.replace(year=2100)
    till.cashier.save()
    response = client.post(
        "/api/checkout/terminal/unlock",
        {"terminal": "T02", "username": "c101", "approval": {"username": "m101", "pin": "3333"}},
        content_type="application/json",
    )
    assert response.status_code == 204
    till.cashier.refresh_from_db()
    assert till.cashier.pin_locked_until is None
