import pytest

from cloud.headoffice.roles import ANALYST_GROUP, roles_setup, staff_role_set
from retail.api_errors import Invalid
from retail.outbox.models import Event
from retail.staff.models import Role
from tests.factories import make_store, make_user

pytestmark = pytest.mark.django_db


def test_roles_setup_gives_the_analyst_only_view_permissions():
    # when the roles are set up (twice: it is idempotent)
    roles_setup()
    counts = roles_setup()

    # then an analyst may view sales and change nothing anywhere
    analyst = make_user(Role.ANALYST, is_staff=True)
    assert analyst.has_perm("sales.view_sale")
    assert analyst.has_perm("catalog.view_product")
    assert not analyst.has_perm("catalog.change_product")
    assert not analyst.has_perm("catalog.add_price")
    assert not any(
        p.split(".")[1].startswith(("add_", "change_", "delete_")) for p in analyst.get_all_permissions()
    )
    assert counts[ANALYST_GROUP] == len(analyst.get_all_permissions())


def test_the_role_alone_grants_the_group_permissions():
    # given a store manager never added to any group
    roles_setup()
    manager = make_user(Role.STORE_MANAGER, store=make_store(), is_staff=True)

    # then they have the store manager's permissions and not head office's
    assert manager.groups.count() == 0
    assert manager.has_perm("catalog.add_price")
    assert manager.has_perm("stores.change_terminal")
    assert not manager.has_perm("catalog.change_product")
    assert not manager.has_perm("stores.add_store")
    assert not make_user(Role.CASHIER, store=make_store()).has_perm("sales.view_sale")


def test_staff_role_set_records_the_change_as_an_event():
    # given a cashier
    store = make_store()
    user = make_user(Role.CASHIER, store=store)

    # when head office makes them an analyst
    staff_role_set(user=user, role=Role.ANALYST)

    # then they lose their store, gain admin access, and the change is an event
    user.refresh_from_db()
    assert (user.role, user.store_id, user.is_staff) == (Role.ANALYST, None, True)
    event = Event.objects.get(type="staff.updated")
    assert event.payload["role"] == "analyst" and event.payload["store_id"] is None


@pytest.mark.parametrize(
    "role, store_of_target, code",
    [
        (Role.HEAD_OFFICE, "own", "role_refused"),
        (Role.STORE_MANAGER, "own", "role_refused"),
        (Role.CASHIER, "other", "role_refused"),
        (Role.CASHIER, None, "store_required"),
    ],
)
def test_a_store_manager_only_appoints_till_staff_of_their_store(role, store_of_target, code):
    # given the manager of one store
    own, other = make_store(), make_store()
    manager = make_user(Role.STORE_MANAGER, store=own, is_staff=True)
    user = make_user(Role.CASHIER, store=own)
    store = {"own": own, "other": other, None: None}[store_of_target]

    # when they try to give a role they may not
    with pytest.raises(Invalid) as refused:
        staff_role_set(user=user, role=role, store=store, by=manager)

    # then it is refused and nothing changed
    assert refused.value.code == code
    user.refresh_from_db()
    assert (user.role, user.store_id) == (Role.CASHIER, own.id)
    assert not Event.objects.filter(type="staff.updated").exists()


def test_the_migrations_alone_set_up_the_groups_with_orders_and_reporting():
    # given only the migrated database (no setup_roles run)
    manager = make_user(Role.STORE_MANAGER, store=make_store(), is_staff=True)
    analyst = make_user(Role.ANALYST, is_staff=True)

    # then the roles already carry the permissions of the later apps
    assert manager.has_perm("omni_api.change_order") and manager.has_perm("reporting.view_dailystoresales")
    assert analyst.has_perm("omni_api.view_order") and not analyst.has_perm("omni_api.change_order")
