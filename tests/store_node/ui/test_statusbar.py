"""The status bar every terminal and handheld page shows: sync state and this node's clock."""

import pytest

from retail.staff.models import Role
from store_node.sync.models import SyncCredential, SyncState
from tests.factories import make_store, make_terminal, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def lane(settings, client):
    store = make_store(settings.STORE_CODE)
    terminal = make_terminal(store, "T01")
    make_user(Role.CASHIER, store, pin="1111", username="c101")
    SyncCredential.objects.create(
        cloud_url="http://cloud.test", store_id=store.id, store_code=store.code, token="k.s"
    )
    assert client.post(f"/t/{terminal.id}/login", {"username": "c101", "pin": "1111"}).status_code == 302
    return f"/t/{terminal.id}/status"


def test_a_till_whose_clock_is_a_day_fast_says_so_in_the_status_bar(lane, client):
    SyncState.objects.create(pk=1, clock_offset_s=86400 + 3)

    bar = client.get(lane).content.decode()

    assert 'data-testid="clock-warning">Clock 1 day ahead of head office: set the time<' in bar


def test_a_clock_that_agrees_with_head_office_shows_nothing(lane, client):
    SyncState.objects.create(pk=1, clock_offset_s=-2)

    assert "clock-warning" not in client.get(lane).content.decode()
