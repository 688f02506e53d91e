"""Head-office roles as Django groups: what each staff role may see and change in the admin.

A user's ``role`` names their group (``ROLE_GROUPS``); ``RolePermissionBackend`` grants the group's
permissions from the role alone, so staff created anywhere (a store, the demo seed, a bulk load)
have the right permissions without anyone remembering to add them to a group. Which *rows* a
store manager sees is the admin's job (``cloud.headoffice.admin.scoping``): permissions say what
kind of thing, the store scope says whose.
"""

from __future__ import annotations

from django.apps import apps as global_apps
from django.contrib.auth.backends import ModelBackend
from django.db import transaction

from retail.api_errors import Invalid
from retail.outbox.services import event_append
from retail.staff.models import Role, User

HEAD_OFFICE_GROUP = "Head office"
STORE_MANAGER_GROUP = "Store manager"
ANALYST_GROUP = "Analyst"

ROLE_GROUPS = {
    Role.HEAD_OFFICE: HEAD_OFFICE_GROUP,
    Role.STORE_MANAGER: STORE_MANAGER_GROUP,
    Role.ANALYST: ANALYST_GROUP,
}

# Apps whose data head office manages; an app not installed (yet) is skipped.
MANAGED_APPS = [
    "stores",
    "staff",
    "catalog",
    "members",
    "stock",
    "shifts",
    "sales",
    "audit",
    "outbox",
    "reporting",
    "omni_api",
    "cloud_sync",
    "sync",
    "orders",
    "transfers",
]

# A store manager runs one store: its terminals and staff, its own price overrides; reads the rest.
STORE_MANAGER_PERMISSIONS = [
    "stores.view_store",
    "stores.change_store",
    "stores.view_terminal",
    "stores.add_terminal",
    "stores.change_terminal",
    "staff.view_user",
    "staff.add_user",
    "staff.change_user",
    "catalog.view_product",
    "catalog.view_barcode",
    "catalog.view_taxclass",
    "catalog.view_taxrate",
    "catalog.view_price",
    "catalog.add_price",
    "catalog.change_price",
    "members.view_member",
    "members.view_pointsentry",
    "stock.view_stocklevel",
    "stock.view_stockmovement",
    "shifts.view_shift",
    "shifts.view_cashmovement",
    "sales.view_sale",
    "sales.view_saleline",
    "sales.view_saletaxline",
    "sales.view_tender",
    "reporting.view_dailystoresales",
    "reporting.view_dailytender",
    "reporting.view_dailyproductsales",
    "omni_api.view_order",
    "omni_api.change_order",
    "omni_api.view_orderline",
    "omni_api.view_orderstatuschange",
    # Transfers from or to their store, to follow them (head office creates and sends them).
    "transfers.view_transfer",
    "transfers.view_transferline",
    "transfers.view_transferstatuschange",
]

STORE_ROLES = {Role.CASHIER, Role.SUPERVISOR, Role.STORE_MANAGER}


def roles_setup(*, apps=global_apps) -> dict[str, int]:
    """Create (or bring up to date) the three head-office groups; returns permissions per group.

    Idempotent: run it after adding an app (``manage.py setup_roles``); the data migration runs it
    once with the historical models. Head office may do everything in the managed apps, an analyst
    may view everything in them and change nothing.
    """
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    managed = Permission.objects.filter(content_type__app_label__in=MANAGED_APPS)
    wanted = {
        HEAD_OFFICE_GROUP: list(managed),
        ANALYST_GROUP: list(managed.filter(codename__startswith="view_")),
        STORE_MANAGER_GROUP: [
            p
            for p in managed.select_related("content_type")
            if f"{p.content_type.app_label}.{p.codename}" in STORE_MANAGER_PERMISSIONS
        ],
    }
    counts = {}
    for name, permissions in wanted.items():
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.set(permissions)
        counts[name] = len(permissions)
    return counts


def staff_payload(user: User) -> dict:
    return {
        "id": user.id,
        "username": user.username,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "role": user.role,
        "store_id": user.store_id,
        "pin_hash": user.pin_hash,
        "is_active": user.is_active,
    }


def staff_role_check(*, role: str, store=None, by: User | None = None) -> None:
    """Refuse (``Invalid``) a role a user may not have or ``by`` may not give."""
    if role not in Role.values:
        raise Invalid(f"unknown role {role!r}", code="role_unknown")
    if role in STORE_ROLES and store is None:
        raise Invalid("store staff need a home store", code="store_required")
    if role not in STORE_ROLES:
        store = None
    if by is not None and not by.is_superuser and by.role == Role.STORE_MANAGER:
        if role not in (Role.CASHIER, Role.SUPERVISOR) or store is None or store.pk != by.store_id:
            raise Invalid(
                "a store manager appoints cashiers and supervisors of their store", code="role_refused"
            )


def staff_role_set(*, user: User, role: str, store=None, by: User | None = None) -> User:
    """Give a member of staff a role (and home store), with a ``staff.updated`` event.

    Store roles need a store; head office and analysts have none. Admin access (``is_staff``)
    follows the role. A store manager (``by``) may only hand out till roles in their own store.
    """
    staff_role_check(role=role, store=store, by=by)
    if role not in STORE_ROLES:
        store = None
    with transaction.atomic():
        user.role, user.store = role, store
        user.is_staff = user.is_superuser or role in ROLE_GROUPS
        user.save()
        event_append(type="staff.updated", payload=staff_payload(user))
    return user


class RolePermissionBackend(ModelBackend):
    """Django's model backend, plus the permissions of the group the user's role names."""

    def _get_group_permissions(self, user_obj):
        Permission = global_apps.get_model("auth", "Permission")
        by_role = Permission.objects.filter(group__name=ROLE_GROUPS.get(user_obj.role, ""))
        return super()._get_group_permissions(user_obj) | by_role
