"""Each admin page, for each role: what it may see, and that what it may not do is refused."""

import uuid
from decimal import Decimal

import pytest
from django.contrib import admin

from cloud.sync.models import (
    FeedEntry,
    MemberMergeProposal,
    Oversell,
    PointsOverdraw,
    QuarantinedEvent,
    StoreCredential,
)
from retail.catalog.models import Price
from retail.outbox.models import Event
from retail.stores.models import Terminal
from tests.factories import make_member
from tests.html import without_tokens

# Pages every role with admin access opens (a store manager: scoped to their store).
PAGES = [
    "/admin/",
    "/admin/catalog/product/",
    "/admin/catalog/price/",
    "/admin/catalog/taxclass/",
    "/admin/stores/store/",
    "/admin/staff/user/",
    "/admin/members/member/",
    "/admin/stock/stocklevel/",
    "/admin/stock/stockmovement/",
    "/admin/sales/sale/",
    "/admin/omni_api/order/",
    "/admin/shifts/shift/",
    "/admin/reporting/dailystoresales/",
    "/admin/transfers/transfer/",
]

# Chain-wide pages: head office and analysts open them, a store manager is refused (403).
CHAIN_PAGES = [
    "/admin/outbox/event/",
    "/admin/omni_api/apikey/",
    "/admin/cloud_sync/storesyncstate/",
    "/admin/cloud_sync/quarantinedevent/",
    "/admin/cloud_sync/oversell/",
    "/admin/cloud_sync/pointsoverdraw/",
    "/admin/cloud_sync/membermergeproposal/",
    "/admin/cloud_sync/feedentry/",
    "/admin/cloud_sync/enrollmentcode/",
    "/admin/cloud_sync/storecredential/",
]

# Superusers only (Django's own groups page; no role has permissions on it).
SUPERUSER_PAGES = ["/admin/auth/group/"]


@pytest.fixture
def sync_rows(chain):
    """One row of each kind the sync pages list, all at S01 (or chain-wide), none decided yet."""
    from cloud.sync.services import enrollment_code_create, store_enroll

    _, code = enrollment_code_create(store=chain.s1)
    store_enroll(code=code)
    enrollment_code_create(store=chain.s2)
    member, duplicate = make_member(phone="+4930123"), make_member(phone="+4930123")
    return {
        "oversell": Oversell.objects.create(
            store=chain.s1, product=chain.product, on_hand=Decimal("-1"), origin="S01", seq=7
        ),
        "pointsoverdraw": PointsOverdraw.objects.create(member=member, balance=-5, origin="S01", seq=8),
        "quarantinedevent": QuarantinedEvent.objects.create(
            store=chain.s1,
            event_id=uuid.uuid4(),
            origin="S01",
            seq=9,
            hlc=1,
            type="points.posted",
            schema=1,
            payload={"id": str(uuid.uuid4()), "member_id": str(member.id), "kind": "earn", "points": 5},
            reason="missing_reference",  # the member has arrived since: a retry applies it
        ),
        "storecredential": StoreCredential.objects.get(store=chain.s1),
        "membermergeproposal": MemberMergeProposal.objects.create(
            member=member, duplicate=duplicate, matched_on="phone"
        ),
        "feedentry": FeedEntry.objects.create(
            seq=1000,  # clear of the positions a retry hands out
            event_id=uuid.uuid4(),
            origin="cloud",
            origin_seq=1,
            hlc=1,
            type="store.updated",
            schema=1,
            payload={"id": str(chain.s1.id), "name": "Berlin"},
        ),
    }


# (model, action, whether it was done to the row)
SYNC_ACTIONS = [
    ("oversell", "mark_resolved", lambda row: row.resolved_at is not None),
    ("pointsoverdraw", "mark_resolved", lambda row: row.resolved_at is not None),
    ("quarantinedevent", "retry", lambda row: row.resolved_at is not None),
    ("storecredential", "revoke", lambda row: row.revoked_at is not None),
    ("membermergeproposal", "dismiss", lambda row: row.resolved_at is not None),
]


def _run_action(client, model, action, row):
    return client.post(f"/admin/cloud_sync/{model}/", {"action": action, "_selected_action": [str(row.pk)]})


def test_the_page_lists_name_every_admin_page():
    registered = {f"/admin/{m._meta.app_label}/{m._meta.model_name}/" for m in admin.site._registry}
    assert registered == set(PAGES[1:]) | set(CHAIN_PAGES) | set(SUPERUSER_PAGES)


@pytest.mark.parametrize("who", ["head_office", "analyst"])
@pytest.mark.parametrize("url", CHAIN_PAGES)
def test_every_chain_page_loads_for_head_office_and_analysts(client, chain, sync_rows, who, url):
    client.force_login(getattr(chain, who))
    assert client.get(url).status_code == 200


@pytest.mark.parametrize("url", CHAIN_PAGES + SUPERUSER_PAGES)
def test_chain_pages_are_not_for_store_managers(client, chain, url):
    client.force_login(chain.manager)
    assert client.get(url).status_code == 403


def test_every_admin_action_says_which_permission_it_needs():
    # Django offers an action without ``permissions`` to anyone who may view the list.
    unguarded = [
        f"{type(model_admin).__name__}.{name}"
        for model_admin in admin.site._registry.values()
        for func, name, _ in model_admin._get_base_actions()
        if not getattr(func, "allowed_permissions", ())
    ]
    assert unguarded == []


def test_no_admin_page_offers_an_analyst_an_action(rf, chain):
    # given an analyst's request
    request = rf.get("/admin/")
    request.user = chain.analyst

    # when every admin says which actions it offers them
    offered = {
        type(model_admin).__name__: sorted(model_admin.get_actions(request))
        for model_admin in admin.site._registry.values()
    }

    # then none offers any
    assert {name: actions for name, actions in offered.items() if actions} == {}


@pytest.mark.parametrize("model, action, done", SYNC_ACTIONS)
def test_an_analyst_is_not_offered_a_sync_action_and_posting_it_changes_nothing(
    client, chain, sync_rows, model, action, done
):
    # given an analyst on a sync page with an undecided row
    client.force_login(chain.analyst)
    row = sync_rows[model]

    # when they look for the action and post it anyway
    page = client.get(f"/admin/cloud_sync/{model}/").content.decode()
    posted = _run_action(client, model, action, row)

    # then it was not offered and the row is as it was
    assert f'value="{action}"' not in page
    assert posted.status_code in (200, 302, 403)
    row.refresh_from_db()
    assert not done(row)


@pytest.mark.parametrize("model, action, done", SYNC_ACTIONS)
def test_head_office_runs_each_sync_action(client, chain, sync_rows, model, action, done):
    # given head office on a sync page with an undecided row
    client.force_login(chain.head_office)
    row = sync_rows[model]

    # when they pick the action offered and run it on the row
    page = client.get(f"/admin/cloud_sync/{model}/").content.decode()
    posted = _run_action(client, model, action, row)

    # then it was offered and done
    assert f'value="{action}"' in page
    assert posted.status_code == 302
    row.refresh_from_db()
    assert done(row)


@pytest.mark.parametrize("model, action, done", SYNC_ACTIONS)
def test_a_store_manager_cannot_run_sync_actions_even_on_their_store(
    client, chain, sync_rows, model, action, done
):
    # given S01's manager (every row is S01's or chain-wide)
    client.force_login(chain.manager)
    row = sync_rows[model]

    # when they post the action
    posted = _run_action(client, model, action, row)

    # then it is forbidden and nothing changed: sync's decisions are head office's
    assert posted.status_code == 403
    row.refresh_from_db()
    assert not done(row)


@pytest.mark.parametrize("who", ["head_office", "analyst", "manager"])
@pytest.mark.parametrize("url", PAGES)
def test_every_list_page_loads_for_every_role(client, chain, who, url):
    client.force_login(getattr(chain, who))
    assert client.get(url).status_code == 200


def test_a_store_manager_sees_only_their_own_stores_sales(client, chain):
    # given the manager of S01
    client.force_login(chain.manager)

    # when they list sales and open each store's sale
    listing = client.get("/admin/sales/sale/").content.decode()
    own = client.get(f"/admin/sales/sale/{chain.sale1.pk}/change/")
    other = client.get(f"/admin/sales/sale/{chain.sale2.pk}/change/")

    # then only S01's exists for them
    assert "S01-T01-000001" in listing and "S02-T01-000001" not in listing
    assert own.status_code == 200 and "S01-T01-000001" in own.content.decode()
    assert other.status_code == 302  # the admin's "does not exist" redirect, revealing nothing
    assert "Hamburg" not in listing  # not even the other store's name in the filters


def test_head_office_and_analysts_see_every_stores_sales(client, chain):
    for user in (chain.head_office, chain.analyst):
        client.force_login(user)
        listing = client.get("/admin/sales/sale/").content.decode()
        assert "S01-T01-000001" in listing and "S02-T01-000001" in listing


def test_an_analyst_can_change_nothing(client, chain, sync_rows):
    # given an analyst looking at a product, with sync rows waiting for a decision
    client.force_login(chain.analyst)
    url = f"/admin/catalog/product/{chain.product.pk}/change/"
    page = client.get(url)

    # when they post changes to a product, a store and a new price anyway, and every sync action
    actions = [_run_action(client, model, action, sync_rows[model]) for model, action, _ in SYNC_ACTIONS]
    posts = [
        client.post(url, {"sku": chain.product.sku, "name": "Hacked", "unit": "each", "tax_class": "STD"}),
        client.post(f"/admin/stores/store/{chain.s1.pk}/change/", {"code": "S01", "name": "Hacked"}),
        client.post(
            "/admin/catalog/price/add/",
            {"product": chain.product.pk, "amount": "0.01", "effective_from_0": "2026-01-01"},
        ),
        client.get("/admin/catalog/price/add/"),
        client.post(f"/admin/sales/sale/{chain.sale1.pk}/delete/", {"post": "yes"}),
    ]

    # then the page is read only and every attempt is forbidden, with nothing changed
    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()
    assert [p.status_code for p in posts] == [403, 403, 403, 403, 403]
    chain.product.refresh_from_db()
    chain.s1.refresh_from_db()
    assert (chain.product.name, chain.s1.name) == ("Bananas", "Berlin")
    assert Price.objects.count() == 1
    assert not Event.objects.exists()
    assert all(a.status_code in (200, 403) for a in actions)  # 200: the list again, no action run
    for model, _, done in SYNC_ACTIONS:
        row = sync_rows[model]
        row.refresh_from_db()
        assert not done(row), model


def test_a_store_manager_edits_their_own_store_and_not_another(client, chain):
    # given the manager of S01
    client.force_login(chain.manager)
    form = {
        "name": "Berlin Mitte",
        "address": "",
        "city": "Berlin",
        "postcode": "",
        "phone": "",
        "vat_number": "",
        "time_zone": "Europe/Berlin",
        "active": "on",
        "terminals-TOTAL_FORMS": "1",
        "terminals-INITIAL_FORMS": "1",
        "terminals-MIN_NUM_FORMS": "0",
        "terminals-MAX_NUM_FORMS": "1000",
        "terminals-0-id": str(Terminal.objects.get(store=chain.s1).pk),
        "terminals-0-store": str(chain.s1.pk),
        "terminals-0-code": "T01",
        "terminals-0-name": "Lane 1",
        "terminals-0-printer_address": "virtual://",
        "terminals-0-paper_width_mm": "80",
        "terminals-0-drawer_pin": "2",
        "terminals-0-scanner_address": "",
        "terminals-0-active": "on",
    }

    # when they rename their store and its lane, then try the same on S02
    own = client.post(f"/admin/stores/store/{chain.s1.pk}/change/", form)
    other = client.post(f"/admin/stores/store/{chain.s2.pk}/change/", {**form, "name": "Taken over"})

    # then their store changed, with events for the store and the lane, and S02 did not
    assert own.status_code == 302 and own.url == "/admin/stores/store/"
    chain.s1.refresh_from_db()
    chain.s2.refresh_from_db()
    assert (chain.s1.name, chain.s2.name) == ("Berlin Mitte", "Hamburg")
    assert Terminal.objects.get(store=chain.s1).name == "Lane 1"
    assert sorted(Event.objects.values_list("type", flat=True)) == ["store.updated", "terminal.updated"]
    assert other.status_code == 302 and other.url == "/admin/"


def test_a_store_manager_sets_a_price_for_their_store_only(client, chain):
    # given the manager of S01
    client.force_login(chain.manager)
    price = {
        "product": chain.product.pk,
        "amount": "2.29",
        "effective_from_0": "2026-02-01",
        "effective_from_1": "00:00",
    }

    # when they add a price for S01 and another for S02
    own = client.post("/admin/catalog/price/add/", {**price, "store": chain.s1.pk})
    other = client.post("/admin/catalog/price/add/", {**price, "store": chain.s2.pk})
    chain_wide = client.post("/admin/catalog/price/add/", {**price, "store": ""})

    # then only S01's is saved, as a price.set event; the others are form errors
    assert own.status_code == 302
    assert other.status_code == 200 and chain_wide.status_code == 200
    assert list(Price.objects.filter(store__isnull=False).values_list("store__code", "amount")) == [
        ("S01", Decimal("2.29"))
    ]
    event = Event.objects.get(type="price.set")
    assert (event.payload["store_id"], event.payload["amount"]) == (str(chain.s1.pk), "2.29")


def test_a_store_manager_cannot_open_the_chain_wide_price_for_editing(client, chain):
    client.force_login(chain.manager)
    chain_price = Price.objects.get(store__isnull=True)
    page = client.get(f"/admin/catalog/price/{chain_price.pk}/change/")
    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()


def test_a_store_manager_sees_only_their_staff_and_cannot_make_anyone_superuser(client, chain):
    # given the manager of S01 and a cashier of S01
    from tests.factories import make_user

    cashier = make_user("cashier", store=chain.s1, username="cara")
    client.force_login(chain.manager)

    # when they list staff, open S02's cashier, and post superuser powers for their cashier
    listing = client.get("/admin/staff/user/").content.decode()
    other = client.get(f"/admin/staff/user/{chain.cashier2.pk}/change/")
    client.post(
        f"/admin/staff/user/{cashier.pk}/change/",
        {
            "username": "cara",
            "first_name": "Cara",
            "last_name": "",
            "email": "",
            "role": "supervisor",
            "store": chain.s1.pk,
            "is_active": "on",
            "is_superuser": "on",
            "is_staff": "on",
            "failed_pin_attempts": "0",
        },
    )

    # then S02's staff are invisible and the cashier became a supervisor, nothing more
    assert "cara" in listing and "kai" not in listing and "hedda" not in listing
    assert other.status_code == 302
    cashier.refresh_from_db()
    assert (cashier.role, cashier.is_superuser, cashier.is_staff) == ("supervisor", False, False)
    assert Event.objects.get(type="staff.updated").payload["role"] == "supervisor"


def test_a_store_manager_moves_on_only_their_stores_pickup_orders(client, chain):
    from decimal import Decimal

    from cloud.api.models import Order
    from cloud.api.orders import OrderItem, order_place
    from cloud.api.services import api_key_create
    from retail.stock.services import stock_move

    # given a pickup order at each store
    key, _ = api_key_create(name="Web shop")
    orders = {}
    for store in (chain.s1, chain.s2):
        stock_move(store_id=store.id, product_id=chain.product.id, kind="receipt", quantity=Decimal("5"))
        orders[store.code], _ = order_place(
            api_key=key,
            reference=f"r-{store.code}",
            fulfilment="pickup",
            store_code=store.code,
            items=[OrderItem(sku=chain.product.sku, quantity=Decimal("1"))],
        )

    # when S01's manager lists orders and marks every order they can select as picking
    client.force_login(chain.manager)
    listing = client.get("/admin/omni_api/order/").content.decode()
    client.post(
        "/admin/omni_api/order/",
        {"action": "mark_picking", "_selected_action": [str(o.pk) for o in orders.values()]},
    )

    # then only S01's order is theirs and only it moved
    assert orders["S01"].number in listing and orders["S02"].number not in listing
    assert dict(Order.objects.values_list("store__code", "status")) == {"S01": "picking", "S02": "placed"}


def test_z_reports_of_another_store_are_hidden_from_a_store_manager(client, chain):
    from datetime import UTC, datetime
    from decimal import Decimal

    from retail.shifts.models import Shift
    from retail.stores.models import Terminal

    # given a closed shift with its Z report at each store
    shifts = {}
    for store in (chain.s1, chain.s2):
        shifts[store.code] = Shift.objects.create(
            store=store,
            terminal=Terminal.objects.get(store=store),
            cashier=chain.manager,
            status="closed",
            opened_at=datetime(2026, 3, 1, 8, tzinfo=UTC),
            closed_at=datetime(2026, 3, 1, 18, tzinfo=UTC),
            opening_float=Decimal("100.00"),
            z_report={"store": store.code, "sales_total": "123.45"},
        )

    # when S01's manager opens both, and head office opens S02's
    client.force_login(chain.manager)
    own = client.get(f"/admin/shifts/shift/{shifts['S01'].pk}/change/")
    other = client.get(f"/admin/shifts/shift/{shifts['S02'].pk}/change/")
    client.force_login(chain.head_office)
    by_head_office = client.get(f"/admin/shifts/shift/{shifts['S02'].pk}/change/")

    # then the manager reads their own Z report only; head office reads any
    assert own.status_code == 200 and "<th>Sales</th><td> · 123.45</td>" in own.content.decode()
    assert other.status_code == 302
    assert by_head_office.status_code == 200 and "S02" in by_head_office.content.decode()


@pytest.fixture
def elsewhere(chain):
    """What happened at S02, and between S02 and a third store: none of it is S01's manager's business."""
    from datetime import UTC, datetime

    from cloud.api.orders import OrderItem, order_place
    from cloud.api.services import api_key_create
    from cloud.transfers.services import TransferItem, transfer_draft_save
    from retail.catalog.services import price_set
    from retail.shifts.models import Shift
    from retail.stock.services import stock_move
    from tests.factories import make_store

    s3 = make_store("S03", name="Munich")
    stock_move(store_id=chain.s2.id, product_id=chain.product.id, kind="receipt", quantity=Decimal("9"))
    price_set(product=chain.product, amount=Decimal("2.99"), store=chain.s2)
    Shift.objects.create(
        store=chain.s2,
        terminal=Terminal.objects.get(store=chain.s2),
        cashier=chain.cashier2,
        status="closed",
        opened_at=datetime(2026, 3, 1, 8, tzinfo=UTC),
        closed_at=datetime(2026, 3, 1, 18, tzinfo=UTC),
        opening_float=Decimal("100.00"),
    )
    key, _ = api_key_create(name="Web shop")
    order_place(
        api_key=key,
        reference="r-S02",
        fulfilment="pickup",
        store_code="S02",
        items=[OrderItem(sku=chain.product.sku, quantity=Decimal("1"))],
    )
    transfer_draft_save(
        from_store=chain.s2,
        to_store=s3,
        items=[TransferItem(product=chain.product, quantity="1")],
        by=chain.head_office,
    )
    return chain


@pytest.mark.parametrize("url", [*PAGES, "product"])
def test_no_page_a_store_manager_opens_names_another_store(client, elsewhere, url):
    # given S01's manager, and sales, stock, a price, a shift, an order and a transfer elsewhere
    client.force_login(elsewhere.manager)
    if url == "product":
        url = f"/admin/catalog/product/{elsewhere.product.pk}/change/"

    # when they open the page
    page = client.get(url)

    # then nothing on it (rows, filters, inlines) names S02 or S03, nor their terminals
    assert page.status_code == 200
    html = without_tokens(page.content.decode())
    assert [name for name in ("S02", "Hamburg", "S03", "Munich") if name in html] == []


def test_the_sales_terminal_filter_offers_a_store_manager_their_own_lanes(client, chain):
    # given sales on two lanes of S01 (one lane only would need no filter) and on S02's lane
    from tests.factories import make_completed_sale, make_terminal

    own, other = make_terminal(chain.s1, "T02"), Terminal.objects.get(store=chain.s2)
    sale = make_completed_sale(
        chain.s1, lines=[(chain.product, "1", "2.50")], receipt_number="S01-T02-000001"
    )
    sale.terminal = own
    sale.save()

    # when S01's manager and head office open the sales list
    client.force_login(chain.manager)
    for_manager = client.get("/admin/sales/sale/").content.decode()
    client.force_login(chain.head_office)
    for_head_office = client.get("/admin/sales/sale/").content.decode()

    # then the manager may filter by their lane only; head office by either
    assert f"terminal__id__exact={own.pk}" in for_manager
    assert f"terminal__id__exact={other.pk}" not in for_manager
    assert f"terminal__id__exact={own.pk}" in for_head_office
    assert f"terminal__id__exact={other.pk}" in for_head_office
