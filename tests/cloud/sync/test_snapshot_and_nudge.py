import gzip
import json
from decimal import Decimal

import pytest
from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator

from cloud.sync.services import enrollment_code_create, store_enroll
from retail.catalog.services import price_set
from tests.cloud.sync.conftest import envelope, moved, pull, push


async def _collect(chunks) -> bytes:
    return b"".join([chunk async for chunk in chunks])


def _snapshot(client):
    response = client.get("/api/sync/v1/snapshot")
    assert response.status_code == 200
    body = async_to_sync(_collect)(response.streaming_content)
    return [json.loads(line) for line in gzip.decompress(body).splitlines()]


def test_the_snapshot_is_tagged_with_the_feed_head_and_holds_what_the_store_may_see(enrolled):
    s02, product = enrolled["stores"]["S02"], enrolled["product"]
    price_set(product=product, amount=Decimal("1.23"), store=s02)
    push(
        enrolled["clients"]["S02"],
        [envelope("S02", 1, "stock.moved", moved(s02, product, "5", kind="receipt"))],
    )
    lines = _snapshot(enrolled["clients"]["S01"])
    header, end = lines[0], lines[-1]
    head = pull(enrolled["clients"]["S01"], 0).json()["cursor"]
    assert (header["t"], header["cursor"], header["store"]) == ("header", head, "S01")
    assert end == {"t": "end", "rows": len(lines) - 2}
    tables = {line["t"] for line in lines[1:-1]}
    assert {"store", "product", "barcode", "price", "stock_level"} <= tables
    prices = [line for line in lines if line["t"] == "price"]
    assert all(p["store_id"] is None for p in prices)  # S02's own price is not S01's business
    levels = [line for line in lines if line["t"] == "stock_level"]
    assert [(lv["store_id"], lv["on_hand"]) for lv in levels] == [(str(s02.id), "5.000")]


def _token(store):
    _, code = enrollment_code_create(store=store)
    return store_enroll(code=code)[1]


# No pytest-asyncio here: each test runs its coroutine with async_to_sync.
@pytest.mark.django_db(transaction=True)
def test_the_nudge_socket_says_more_on_connect_and_when_head_office_changes_something():
    async_to_sync(_says_more)()


async def _says_more():
    from asgiref.sync import sync_to_async

    from cloud.asgi import application
    from tests.factories import make_product, make_store

    store = await sync_to_async(make_store)("S05")
    product = await sync_to_async(make_product)()
    token = await sync_to_async(_token)(store)
    socket = WebsocketCommunicator(
        application, "/ws/sync/v1/nudge", headers=[(b"authorization", f"Bearer {token}".encode())]
    )
    connected, _ = await socket.connect()
    assert connected
    assert await socket.receive_json_from(timeout=3) == {"type": "more"}
    await sync_to_async(price_set)(product=product, amount=Decimal("4.56"))
    assert await socket.receive_json_from(timeout=3) == {"type": "more"}
    await socket.disconnect()


@pytest.mark.django_db(transaction=True)
def test_the_nudge_socket_refuses_a_bad_credential():
    async_to_sync(_refuses)()


async def _refuses():
    from cloud.asgi import application

    socket = WebsocketCommunicator(
        application, "/ws/sync/v1/nudge", headers=[(b"authorization", b"Bearer x.y")]
    )
    connected, code = await socket.connect()
    assert (connected, code) == (False, 4401)
