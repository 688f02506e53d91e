"""Head-office reads: whose data a member of staff may see."""

from __future__ import annotations

from retail.staff.models import Role

ALL_STORES = "all"
NO_STORE = "none"


def staff_store_scope(*, user):
    """``ALL_STORES`` for head office and analysts, the home store's id for store staff, else ``NO_STORE``."""
    if not user.is_authenticated or not user.is_active:
        return NO_STORE
    if user.is_superuser or user.role in (Role.HEAD_OFFICE, Role.ANALYST):
        return ALL_STORES
    return user.store_id or NO_STORE
