import re
import uuid
from datetime import UTC, datetime

import pytest

from cloud.headoffice.roles import roles_setup
from cloud.reporting.services import sales_rollup_record
from cloud.sync.models import QuarantinedEvent
from retail.staff.models import Role
from tests.factories import make_completed_sale, make_product, make_store, make_user
from tests.html import without_tokens


@pytest.fixture
def sales(db):
    roles_setup()
    s1, s2 = make_store("S01", time_zone="UTC"), make_store("S02", time_zone="UTC")
    product = make_product(name="Bananas")
    for store, total in ((s1, "3.00"), (s2, "5.00")):
        sale = make_completed_sale(
            store, lines=[(product, "1", total)], completed_at=datetime(2026, 3, 1, 12, tzinfo=UTC)
        )
        sales_rollup_record(sale=sale)
    return s1, s2


URL = "/admin/reporting/dailystoresales/"


@pytest.mark.parametrize("role", [Role.HEAD_OFFICE, Role.ANALYST, Role.STORE_MANAGER])
def test_the_dashboard_page_loads_with_its_vendored_chart_library(client, sales, role):
    client.force_login(make_user(role, store=sales[0] if role == Role.STORE_MANAGER else None, is_staff=True))
    page = client.get(URL + "?from=2026-03-01&to=2026-03-01")
    html = page.content.decode()
    assert page.status_code == 200
    assert "/static/reporting/vendor/chart-4.6.1.umd.min.js" in html
    # nothing is fetched from another host (a store-side network may have no internet)
    assert not re.search(r'(src|href)="(https?:)?//', html), re.findall(
        r'(?:src|href)="(?:https?:)?//[^"]+', html
    )
    assert 'id="dash-figures"' in html and "provisional" in html


def test_a_store_manager_sees_only_their_stores_figures(client, sales):
    client.force_login(make_user(Role.STORE_MANAGER, store=sales[0], is_staff=True))
    data = client.get(URL + "data.json?from=2026-03-01&to=2026-03-01&store=S02").json()
    assert data["totals"]["total"] == "3.00"
    assert [s["code"] for s in data["stores"]] == ["S01"]


def test_head_office_sees_the_chain_or_one_store(client, sales):
    client.force_login(make_user(Role.HEAD_OFFICE, is_staff=True))
    assert client.get(URL + "data.json?from=2026-03-01&to=2026-03-01").json()["totals"]["total"] == "8.00"
    assert (
        client.get(URL + "data.json?from=2026-03-01&to=2026-03-01&store=S02").json()["totals"]["total"]
        == "5.00"
    )


def test_a_cashier_gets_no_dashboard(client, sales):
    client.force_login(make_user(Role.CASHIER, store=sales[0], is_staff=True))
    assert client.get(URL + "data.json").status_code == 403


def test_the_admin_index_shows_today_and_each_stores_freshness(client, sales):
    from datetime import timedelta

    from django.utils import timezone

    from cloud.sync.models import StoreSyncState

    # given S01 heard from a minute ago, 7 events behind, with one event in quarantine; S02 never
    StoreSyncState.objects.create(
        store=sales[0], last_contact_at=timezone.now() - timedelta(seconds=60), store_head_seq=12, ack_seq=5
    )
    QuarantinedEvent.objects.create(
        store=sales[0], event_id=uuid.uuid4(), origin="S01", seq=6, hlc=1, type="x.y", schema=1, payload={},
        reason="unknown_type", detail="",
    )  # fmt: skip
    product = make_product(name="Kiwi")
    today = make_completed_sale(sales[1], lines=[(product, "1", "7.00")], completed_at=timezone.now())
    sales_rollup_record(sale=today)

    # when head office and S01's manager open the admin index
    client.force_login(make_user(Role.HEAD_OFFICE, is_staff=True))
    html = client.get("/admin/").content.decode()
    client.force_login(make_user(Role.STORE_MANAGER, store=sales[0], is_staff=True))
    own = without_tokens(client.get("/admin/").content.decode())

    # then head office sees both stores, S02 provisional, and today's total; the manager only S01
    assert 'id="chain-today"' in html and "Chain total today: <strong>7.00</strong>" in html
    assert html.count("provisional</strong>") == 1
    assert "S02" in html and "S02" not in own and "S01" in own
    # and each store's sync health: S01's pending events and its quarantined one, linked; S02 never synced
    assert '<td class="pending">7</td>' in own
    assert 'href="/admin/cloud_sync/quarantinedevent/?origin__exact=S01"><strong>1</strong>' in own
    assert "never synced" in html
