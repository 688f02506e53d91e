"""Staff log in on a terminal with their PIN; wrong PINs lock the account for a while.

Lockout: after ``PIN_MAX_ATTEMPTS`` (5) wrong PINs in a row a user is locked for
``PIN_LOCK_MINUTES`` (15); a right PIN resets the count. Approvals (supervisor PINs typed into a
request) count towards the same lockout, so guessing a supervisor's PIN is as slow as guessing a
login. Failed attempts are committed on their own, before the caller's transaction begins, so
refusing a request never rolls the count back.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from retail.api_errors import DomainError, NotFound, PermissionRefused
from retail.staff.models import ROLE_RANK, Role, User
from store_node.checkout.models import TerminalSession

PIN_MAX_ATTEMPTS = getattr(settings, "PIN_MAX_ATTEMPTS", 5)
PIN_LOCK_MINUTES = getattr(settings, "PIN_LOCK_MINUTES", 15)
SESSION_HOURS = getattr(settings, "TERMINAL_SESSION_HOURS", 12)


class PinRefused(DomainError):
    status_code = 401
    code = "pin_invalid"


def _user_for_store(*, username: str, store_id) -> User:
    user = User.objects.filter(username=username, is_active=True).first()
    if user is None:
        raise NotFound(f"No staff member with username {username!r}", code="unknown_staff")
    if user.store_id != store_id and user.role != Role.HEAD_OFFICE:
        raise PermissionRefused(f"{username} does not work at this store", code="wrong_store")
    return user


def pin_verify(*, user: User, pin: str) -> None:
    """Check a PIN, counting failures and locking the user after too many. Must not run inside a
    transaction that may roll back (the failure count has to stick)."""
    now = timezone.now()
    if user.pin_locked_until and user.pin_locked_until > now:
        raise PermissionRefused(
            f"{user.username} is locked after {PIN_MAX_ATTEMPTS} wrong PINs until "
            f"{user.pin_locked_until:%H:%M} UTC; ask a manager to unlock",
            code="pin_locked",
        )
    if user.check_pin(pin):
        if user.failed_pin_attempts or user.pin_locked_until:
            User.objects.filter(pk=user.pk).update(failed_pin_attempts=0, pin_locked_until=None)
        return
    with transaction.atomic():
        User.objects.filter(pk=user.pk).update(failed_pin_attempts=F("failed_pin_attempts") + 1)
        failed = User.objects.filter(pk=user.pk).values_list("failed_pin_attempts", flat=True).get()
        if failed >= PIN_MAX_ATTEMPTS:
            until = now + timedelta(minutes=PIN_LOCK_MINUTES)
            User.objects.filter(pk=user.pk).update(failed_pin_attempts=0, pin_locked_until=until)
    if failed >= PIN_MAX_ATTEMPTS:
        raise PermissionRefused(
            f"Wrong PIN: {user.username} is now locked for {PIN_LOCK_MINUTES} minutes", code="pin_locked"
        )
    left = PIN_MAX_ATTEMPTS - failed
    raise PinRefused(f"Wrong PIN for {user.username}: {left} attempt{'s' if left != 1 else ''} left")


def terminal_login(*, terminal, username: str, pin: str) -> TerminalSession:
    """Log a staff member in on a terminal; ends any other session on that terminal."""
    if not terminal.active:
        raise DomainError(f"terminal {terminal.code} is not active", code="terminal_inactive")
    user = _user_for_store(username=username, store_id=terminal.store_id)
    pin_verify(user=user, pin=pin)
    now = timezone.now()
    with transaction.atomic():
        TerminalSession.objects.filter(terminal=terminal, ended_at__isnull=True).update(ended_at=now)
        session = TerminalSession.objects.create(
            token=secrets.token_urlsafe(32),
            terminal=terminal,
            user=user,
            created_at=now,
            expires_at=now + timedelta(hours=SESSION_HOURS),
        )
    return session


def terminal_logout(*, session: TerminalSession) -> None:
    TerminalSession.objects.filter(pk=session.pk, ended_at__isnull=True).update(ended_at=timezone.now())


def approval_check(*, store_id, approval: dict | None, role: str, action: str) -> User:
    """The approver of a sensitive action: ``approval = {"username", "pin"}`` of someone of at least
    ``role`` at this store. Runs before the action's transaction (see the module docstring)."""
    if not approval or not approval.get("username") or not approval.get("pin"):
        raise PermissionRefused(
            f"{action} needs the username and PIN of a {Role(role).label.lower()} or above",
            code="approval_required",
        )
    approver = _user_for_store(username=approval["username"], store_id=store_id)
    if ROLE_RANK.get(approver.role, -1) < ROLE_RANK[role]:
        raise PermissionRefused(
            f"{approver.username} may not approve {action}: a {Role(role).label.lower()} or above must",
            code="approval_rank",
        )
    pin_verify(user=approver, pin=approval["pin"])
    return approver


def staff_pin_unlock(*, terminal, username: str, approval: dict, actor=None) -> User:
    """A store manager lifts a PIN lockout (audited); the count of wrong PINs starts again at 0."""
    from retail.audit.services import audit_record

    user = _user_for_store(username=username, store_id=terminal.store_id)
    approver = approval_check(
        store_id=terminal.store_id, approval=approval, role=Role.STORE_MANAGER, action="unlocking a PIN"
    )
    with transaction.atomic():
        User.objects.filter(pk=user.pk).update(failed_pin_attempts=0, pin_locked_until=None)
        audit_record(
            action="pin_unlock",
            actor=actor or approver,
            approver=approver,
            store=terminal.store,
            terminal=terminal,
            subject=user.id,
            details={"username": user.username},
        )
    return user
