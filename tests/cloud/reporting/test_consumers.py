from datetime import UTC, datetime

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.testing import WebsocketCommunicator
from django.db import transaction

from cloud.headoffice.roles import roles_setup
from cloud.reporting.consumers import DashboardConsumer
from cloud.reporting.services import sales_rollup_record
from retail.staff.models import Role
from tests.factories import make_completed_sale, make_product, make_store, make_user

# No pytest-asyncio here: each test runs its coroutine with async_to_sync.
pytestmark = pytest.mark.django_db(transaction=True)


def _given():
    roles_setup()
    s1, s2 = make_store("S01"), make_store("S02")
    return s1, s2, make_product(), make_user(Role.STORE_MANAGER, store=s1, is_staff=True)


def _sell(store, product):
    with transaction.atomic():
        for _ in range(3):  # three sales in one transaction: one nudge
            sale = make_completed_sale(
                store, lines=[(product, "1", "1.00")], completed_at=datetime(2026, 3, 1, 12, tzinfo=UTC)
            )
            sales_rollup_record(sale=sale)


async def _connect(user):
    communicator = WebsocketCommunicator(DashboardConsumer.as_asgi(), "/ws/reporting/live")
    communicator.scope["user"] = user
    connected, _ = await communicator.connect()
    return communicator, connected


def test_a_manager_is_nudged_for_their_store_only():
    async_to_sync(_nudged_for_own_store)()


async def _nudged_for_own_store():
    # given S01's manager watching the dashboard
    s1, s2, product, manager = await sync_to_async(_given)()
    communicator, connected = await _connect(manager)
    assert connected

    # when S02 sells, then S01 sells
    await sync_to_async(_sell)(s2, product)
    assert await communicator.receive_nothing(timeout=0.2)
    await sync_to_async(_sell)(s1, product)

    # then only S01's commit reaches them, once
    message = await communicator.receive_json_from(timeout=2)
    assert message == {"type": "figures.changed", "changes": [{"store_id": str(s1.id), "day": "2026-03-01"}]}
    assert await communicator.receive_nothing(timeout=0.2)
    await communicator.disconnect()


def test_a_cashier_or_anonymous_visitor_is_refused():
    async_to_sync(_refused)()


async def _refused():
    s1, _, _, _ = await sync_to_async(_given)()
    cashier = await sync_to_async(make_user)(Role.CASHIER, store=s1)
    for user in (cashier, None):
        communicator, connected = await _connect(user)
        assert not connected


def _session_cookie(user) -> bytes:
    from django.test import Client

    client = Client()
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}".encode()


def test_the_routed_socket_refuses_a_page_of_another_origin():
    async_to_sync(_origin_checked)()


async def _origin_checked():
    from cloud.asgi import application

    # given S01's manager signed in to the admin (their session cookie)
    _, _, _, manager = await sync_to_async(_given)()
    cookie = await sync_to_async(_session_cookie)(manager)

    # when a page of this site, a page of another site (sending the same cookie) and a client
    # that says no origin open the socket through the cloud's routes
    outcomes = []
    for origin in (b"http://localhost", b"https://evil.example", None):
        headers = [(b"cookie", cookie), (b"host", b"localhost")]
        if origin is not None:
            headers.append((b"origin", origin))
        communicator = WebsocketCommunicator(application, "/ws/reporting/live", headers=headers)
        connected, _ = await communicator.connect()
        outcomes.append(connected)
        if connected:
            await communicator.disconnect()

    # then only the page of this site is let in
    assert outcomes == [True, False, False]
