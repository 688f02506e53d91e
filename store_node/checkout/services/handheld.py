"""Staff on a handheld: signing in with the till's PIN check, and posting a stock count.

Signing in is the terminal's check (``terminal_login._user_for_store`` and ``pin_verify``): the same
wrong-PIN count and lockout, so a PIN is guessed no faster on a handheld than at a till. Who may do
what on the handheld: cashiers and above may use it (look up, count, pick orders); posting a count
moves the book stock, so it needs a supervisor or above, either signed in or approving in place
with their own staff number and PIN (``approval_check``, the same lockout again).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from retail.api_errors import Invalid, PermissionRefused
from retail.audit.services import audit_record
from retail.staff.models import Role, User
from retail.stock.services import stock_count
from store_node.checkout.services.terminal_login import _user_for_store, approval_check, pin_verify

COUNT_POST_ROLE = Role.SUPERVISOR


def handheld_login(*, store_id, username: str, pin: str) -> User:
    """The staff member signing in on a handheld of this store, or a refusal saying why.

    Refuses a missing field (``login_incomplete``), an unknown staff number (``unknown_staff``),
    someone of another store (``wrong_store``), a wrong PIN (``pin_invalid``, counted), a locked
    account (``pin_locked``) and a role below cashier (``role_refused``, after the PIN: the role of
    an account is not told to someone who does not know its PIN).
    """
    username = (username or "").strip()
    if not username or not pin:
        raise Invalid("Enter your staff number and your PIN.", code="login_incomplete")
    user = _user_for_store(username=username, store_id=store_id)
    pin_verify(user=user, pin=pin)
    if not user.has_rank(Role.CASHIER):
        raise PermissionRefused(
            f"{user.username} may not use the handheld: it is for cashiers and above", code="role_refused"
        )
    return user


def count_post_needs_approval(*, user: User) -> bool:
    """Whether ``user`` needs a supervisor's staff number and PIN to post a count."""
    return not user.has_rank(COUNT_POST_ROLE)


@dataclass(frozen=True)
class CountPosted:
    reference: str
    lines: int
    moved: int
    approver: User | None


def stock_count_post(*, store, counts: dict, counted_by: User, approval: dict | None = None) -> CountPosted:
    """Post a handheld count sheet (``{product_id: counted}``): one ``stock.counted`` per line.

    Invariant: a count is posted by a supervisor or above, or with one's approval; the approval is
    checked before the transaction (a wrong PIN's count sticks, as at the till). The lines, their
    events (each names who counted and who approved, in its ``note``) and the ``stock_count``
    audit entry (actor and approver) commit together or not at all.
    """
    if not counts:
        raise Invalid("Nothing counted yet: scan a product and enter how many.", code="count_empty")
    approver = None
    if count_post_needs_approval(user=counted_by):
        approver = approval_check(
            store_id=store.id, approval=approval, role=COUNT_POST_ROLE, action="posting a count"
        )
    reference = f"COUNT-{timezone.now():%Y%m%d-%H%M%S}"
    note = f"counted by {counted_by.username}" + (f", approved by {approver.username}" if approver else "")
    with transaction.atomic():
        movements = [
            stock_count(
                store_id=store.id,
                product_id=product_id,
                counted=Decimal(counted),
                reference=reference,
                note=note[:200],
            )
            for product_id, counted in counts.items()
        ]
        moved = sum(1 for m in movements if m is not None)
        audit_record(
            action="stock_count",
            actor=counted_by,
            approver=approver,
            store=store,
            subject=reference,
            details={"lines": len(movements), "moved": moved},
        )
    return CountPosted(reference=reference, lines=len(movements), moved=moved, approver=approver)
