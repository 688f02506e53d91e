import gzip
import json
from decimal import Decimal

import pytest
from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator
from rest_framework.test import APIClient

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
    pull(enrolled["clients"]["S01"], 0)  # head office publishes S02's level
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


def test_a_new_chains_first_store_loads_its_snapshot_before_anything_was_pulled(enrolled):
    from cloud.sync.models import FeedState

    FeedState.objects.all().delete()  # a cloud whose feed never moved
    lines = _snapshot(enrolled["clients"]["S01"])
    assert (lines[0]["t"], lines[0]["cursor"], lines[-1]["t"]) == ("header", 0, "end")


def _token(store):
    _, code = enrollment_code_create(store=store)
    return store_enroll(code=code)[1]


def _client(token):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def _socket(token):
    from cloud.asgi import application

    return WebsocketCommunicator(
        application, "/ws/sync/v1/nudge", headers=[(b"authorization", f"Bearer {token}".encode())]
    )


async def _opening(socket) -> dict:
    """The message a socket hears when it opens: an empty slice ending at the feed position after
    which every entry reaches this socket (a store whose cursor is there pulls nothing)."""
    message = await socket.receive_json_from(timeout=3)
    assert message["type"] == "events" and message["events"] == []
    assert message["after"] == message["cursor"]
    return message


# No pytest-asyncio here: each test runs its coroutine with async_to_sync.
@pytest.mark.django_db(transaction=True)
def test_the_socket_opens_with_an_empty_slice_then_carries_head_office_changes_as_a_pulled_page_would():
    async_to_sync(_carries_changes)()


async def _carries_changes():
    from asgiref.sync import sync_to_async

    from tests.factories import make_product, make_store

    store = await sync_to_async(make_store)("S05")
    product = await sync_to_async(make_product)()
    token = await sync_to_async(_token)(store)
    socket = _socket(token)
    connected, _ = await socket.connect()
    assert connected
    # on connect: an empty slice up to where the socket's slices will start
    opening = await _opening(socket)
    # when head office changes a price
    await sync_to_async(price_set)(product=product, amount=Decimal("4.56"))
    # then the socket carries the new price, with the feed positions the message spans
    message = await socket.receive_json_from(timeout=3)
    assert message["type"] == "events"
    assert [(e["type"], e["payload"]["amount"]) for e in message["events"]] == [("price.set", "4.56")]
    assert message["after"] < message["events"][0]["fseq"] <= message["cursor"]
    # and the slices tile the feed from the opening on
    assert message["after"] == opening["cursor"]
    # and it is exactly what a pull from ``after`` returns: the same events, the same cursor
    page = (await sync_to_async(pull)(_client(token), message["after"])).json()
    assert (page["events"], page["cursor"], page["more"]) == (message["events"], message["cursor"], False)
    await socket.disconnect()


@pytest.mark.django_db(transaction=True)
def test_the_opening_slice_tells_a_store_that_has_pulled_from_one_that_missed_a_change():
    async_to_sync(_opening_position)()


async def _opening_position():
    from asgiref.sync import sync_to_async

    from tests.factories import make_product, make_store

    store = await sync_to_async(make_store)("S05")
    product = await sync_to_async(make_product)()
    token = await sync_to_async(_token)(store)
    await sync_to_async(price_set)(product=product, amount=Decimal("1.00"))
    # given a store that pulled to the head just before its socket opened
    cursor = (await sync_to_async(pull)(_client(token), 0)).json()["cursor"]
    socket = _socket(token)
    assert (await socket.connect())[0]
    # then the opening ends where it already is: as a slice it "already had", so no pull
    assert (await _opening(socket))["cursor"] == cursor
    await socket.disconnect()
    # when head office changes a price while the store's socket is closed
    await sync_to_async(price_set)(product=product, amount=Decimal("2.00"))
    socket = _socket(token)
    assert (await socket.connect())[0]
    # then the opening ends past the store's cursor (it must pull), and that pull brings the change
    opening = await _opening(socket)
    assert opening["cursor"] > cursor
    page = (await sync_to_async(pull)(_client(token), cursor)).json()
    assert [(e["type"], e["payload"]["amount"]) for e in page["events"]] == [("price.set", "2.00")]
    assert page["cursor"] == opening["cursor"]
    await socket.disconnect()


@pytest.mark.django_db(transaction=True)
def test_each_socket_carries_only_what_its_store_may_see_and_every_socket_the_cursor():
    async_to_sync(_carries_entitled_only)()


async def _carries_entitled_only():
    from asgiref.sync import sync_to_async

    from tests.factories import make_product, make_store

    s05, s06 = await sync_to_async(make_store)("S05"), await sync_to_async(make_store)("S06")
    product = await sync_to_async(make_product)()
    tokens = {"S05": await sync_to_async(_token)(s05), "S06": await sync_to_async(_token)(s06)}
    sockets = {code: _socket(token) for code, token in tokens.items()}
    for socket in sockets.values():
        assert (await socket.connect())[0]
        await _opening(socket)
    # when head office sets a price for S05 only
    await sync_to_async(price_set)(product=product, amount=Decimal("2.22"), store=s05)
    # then both sockets hear of the same span of the feed, but only S05 gets the price
    heard = {code: await socket.receive_json_from(timeout=3) for code, socket in sockets.items()}
    assert [e["payload"]["amount"] for e in heard["S05"]["events"]] == ["2.22"]
    assert heard["S06"]["events"] == []
    assert heard["S05"]["cursor"] == heard["S06"]["cursor"] and heard["S05"]["after"] == heard["S06"]["after"]
    # and each equals that store's own pull from the same cursor
    for code, message in heard.items():
        page = (await sync_to_async(pull)(_client(tokens[code]), message["after"])).json()
        assert (page["events"], page["cursor"]) == (message["events"], message["cursor"])
    for socket in sockets.values():
        await socket.disconnect()


@pytest.mark.django_db(transaction=True)
def test_a_change_too_big_for_the_socket_is_sent_as_more(monkeypatch):
    from cloud.sync import selectors

    monkeypatch.setattr(selectors, "SOCKET_MAX_EVENTS", 2)
    async_to_sync(_too_big)()


async def _too_big():
    from asgiref.sync import sync_to_async

    from tests.factories import make_product, make_store

    store = await sync_to_async(make_store)("S05")
    products = [await sync_to_async(make_product)() for _ in range(3)]
    socket = _socket(await sync_to_async(_token)(store))
    assert (await socket.connect())[0]
    await _opening(socket)

    def import_prices():
        from django.db import transaction

        with transaction.atomic():
            for product in products:
                price_set(product=product, amount=Decimal("1.11"))

    # when one change puts three entries in the feed, more than the socket carries (two here)
    await sync_to_async(import_prices)()
    # then the store is told to pull
    assert await socket.receive_json_from(timeout=3) == {"type": "more"}
    await socket.disconnect()


def test_another_stores_shared_facts_wait_for_the_poll_while_head_office_wakes_the_stores(enrolled):
    from cloud.sync.selectors import feed_head

    s02, product = enrolled["stores"]["S02"], enrolled["product"]
    before = feed_head()
    # when S02 pushes a stock movement, which every other store learns
    assert (
        push(
            enrolled["clients"]["S02"], [envelope("S02", 1, "stock.moved", moved(s02, product, "-1"))]
        ).status_code
        == 200
    )
    # then the head the nudge watches has not moved: nobody is woken for it
    assert feed_head() == before
    # but S01's next poll brings it, as S02's level
    events = pull(enrolled["clients"]["S01"], 0).json()["events"]
    assert [(e["origin"], e["type"]) for e in events] == [("cloud", "stock.levels")]
    # and head office's publication of it did not move the head either
    assert feed_head() == before
    # and a head office price change does move it
    price_set(product=product, amount=Decimal("3.10"))
    assert feed_head() != before


@pytest.mark.django_db(transaction=True)
def test_a_socket_is_not_woken_by_another_stores_sale_but_is_by_head_office():
    async_to_sync(_woken_by_head_office_only)()


async def _woken_by_head_office_only():
    from asgiref.sync import sync_to_async

    from tests.factories import make_product, make_store

    listener, seller = await sync_to_async(make_store)("S05"), await sync_to_async(make_store)("S06")
    product = await sync_to_async(make_product)()
    token, seller_token = await sync_to_async(_token)(listener), await sync_to_async(_token)(seller)
    socket = _socket(token)
    assert (await socket.connect())[0]
    await _opening(socket)

    def sell():
        return push(
            _client(seller_token), [envelope("S06", 1, "stock.moved", moved(seller, product, "-2"))]
        ).status_code

    assert await sync_to_async(sell)() == 200
    assert await socket.receive_nothing(timeout=1.0)  # five of the watcher's 0.2 s reads
    await sync_to_async(price_set)(product=product, amount=Decimal("4.56"))
    # and the seller's level, which the watcher published meanwhile (no store pulled), travels
    # with head office's change
    events = (await socket.receive_json_from(timeout=3))["events"]
    assert [e["type"] for e in events] == ["stock.levels", "price.set"]
    assert events[0]["payload"]["store_id"] == str(seller.id)
    assert events[0]["payload"]["levels"] == [[str(product.id), "-2.000"]]
    await socket.disconnect()


@pytest.mark.django_db(transaction=True)
def test_one_watcher_per_process_reads_the_feed_for_every_open_socket():
    async_to_sync(_one_watcher)()


async def _one_watcher():
    from asgiref.sync import sync_to_async

    from cloud.sync.consumers import watcher
    from tests.factories import make_product, make_store

    product = await sync_to_async(make_product)()
    sockets = []
    for code in ("S06", "S07", "S08"):
        store = await sync_to_async(make_store)(code)
        socket = _socket(await sync_to_async(_token)(store))
        assert (await socket.connect())[0]
        await _opening(socket)
        sockets.append(socket)
    # given three stores connected to this process: one watcher task serves them all
    assert len(watcher.sockets) == 3
    task = watcher.task
    # when head office changes a price
    await sync_to_async(price_set)(product=product, amount=Decimal("7.89"))
    # then every socket hears it, from that one task, once
    for socket in sockets:
        assert [e["type"] for e in (await socket.receive_json_from(timeout=3))["events"]] == ["price.set"]
    assert watcher.task is task
    for socket in sockets:
        assert await socket.receive_nothing(timeout=0.5)
        await socket.disconnect()
    # and with no socket left the process stops reading the head
    assert watcher.sockets == set() and watcher.task is None


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


def _orders(enrolled):
    """At S01: an open pickup order, one moved on to picking, a cancelled one; one at S02; a delivery."""
    from cloud.api.orders import OrderItem, order_place, order_status_set
    from cloud.api.services import api_key_create
    from retail.stock.services import stock_move

    product = enrolled["product"]
    for store in enrolled["stores"].values():
        stock_move(store_id=store.id, product_id=product.id, kind="receipt", quantity=Decimal("20"))
    key, _ = api_key_create(name="Web shop")
    item = [OrderItem(sku=product.sku, quantity=Decimal("1"))]

    def place(ref, **kw):
        return order_place(api_key=key, reference=ref, items=item, **kw)[0]

    placed = place("o-1", fulfilment="pickup", store_code="S01", customer_name="Ada")
    picking = place("o-2", fulfilment="pickup", store_code="S01")
    order_status_set(order=picking, status="picking")
    cancelled = place("o-3", fulfilment="pickup", store_code="S01")
    order_status_set(order=cancelled, status="cancelled")
    place("o-4", fulfilment="pickup", store_code="S02")
    place("o-5", fulfilment="delivery", address="Street 1", postcode="10115", city="Berlin")
    return placed, picking


def test_the_snapshot_sends_the_order_placed_of_the_stores_open_pickup_orders_again(enrolled):
    from retail.outbox.models import Event

    # given orders for pickup at S01 (open, moved on, cancelled), one at S02 and a delivery
    placed, picking = _orders(enrolled)

    # when S01 takes its snapshot
    lines = _snapshot(enrolled["clients"]["S01"])

    # then its event rows hold the original order.placed of S01's two open orders, nothing else
    events = [
        line["event"] for line in lines if line["t"] == "event" and line["event"]["type"] == "order.placed"
    ]
    originals = Event.objects.filter(type="order.placed", payload__number__in=[placed.number, picking.number])
    assert [(e["id"], e["origin"], e["seq"], e["payload"]["number"]) for e in events] == [
        (str(e.id), "cloud", e.seq, e.payload["number"]) for e in originals.order_by("seq")
    ]
    assert events[0]["payload"]["customer_name"] == "Ada"
    assert events[0]["payload"]["store_id"] == str(enrolled["stores"]["S01"].id)
    assert lines[-1] == {"t": "end", "rows": len(lines) - 2}


def test_the_open_orders_for_a_snapshot_are_one_query_however_many(enrolled, django_assert_num_queries):
    from cloud.api.orders import orders_open_envelopes

    _orders(enrolled)
    _orders_more = [_orders_extra(enrolled, n) for n in range(4)]

    with django_assert_num_queries(1):
        envs = list(orders_open_envelopes(enrolled["stores"]["S01"].id))

    assert len(envs) == 2 + len(_orders_more) and {e.type for e in envs} == {"order.placed"}


def _orders_extra(enrolled, n):
    from cloud.api.models import ApiKey
    from cloud.api.orders import OrderItem, order_place

    return order_place(
        api_key=ApiKey.objects.get(),
        reference=f"x-{n}",
        fulfilment="pickup",
        store_code="S01",
        items=[OrderItem(sku=enrolled["product"].sku, quantity=Decimal("1"))],
    )[0]


@pytest.mark.django_db(transaction=True)
def test_the_snapshot_streams_while_a_thread_writes_it_and_ends_with_every_row():
    # given a store with products (committed: the writer thread reads them on its own connection)
    from tests.factories import make_product, make_store

    store = make_store("S07")
    products = [make_product(f"{n}.00") for n in range(1, 8)]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {_token(store)}")
    # when it asks for its snapshot outside any transaction (as under daphne)
    response = client.get("/api/sync/v1/snapshot")
    lines = [
        json.loads(line)
        for line in gzip.decompress(async_to_sync(_collect)(response.streaming_content)).splitlines()
    ]
    # then the stream holds the header, every row and the end row counting them
    head = pull(client, 0).json()["cursor"]
    assert (lines[0]["t"], lines[0]["cursor"], response["X-Sync-Cursor"]) == ("header", head, str(head))
    assert lines[-1] == {"t": "end", "rows": len(lines) - 2}
    assert {line["id"] for line in lines if line["t"] == "product"} == {str(p.id) for p in products}


@pytest.mark.django_db(transaction=True)
def test_a_snapshot_that_fails_just_after_its_cursor_is_still_a_stream_cut_short(monkeypatch):
    # given a snapshot whose rows fail right after the cursor is published, and a view that only
    # looks at the build after that failure (the order two threads may take)
    import threading

    import cloud.sync.services as services
    from tests.factories import make_product, make_store

    store = make_store("S09")
    make_product("1.00")

    def failing_rows(*, store_id):
        yield from ()
        raise RuntimeError("the database went away")

    class StartedSeenLate(threading.Event):
        """The view's wait for the cursor returns only once the build has failed."""

        def __init__(self, failed):
            super().__init__()
            self.failed = failed

        def wait(self, timeout=None):
            super().wait(timeout)
            return self.failed.wait(5)

    class LooksLate(services.SnapshotFile):
        def __init__(self):
            super().__init__()
            self.failed = threading.Event()
            self.started = StartedSeenLate(self.failed)

        def fail(self, error):
            super().fail(error)
            self.failed.set()

    monkeypatch.setattr(services, "snapshot_rows", failing_rows)
    monkeypatch.setattr(services, "SnapshotFile", LooksLate)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {_token(store)}")
    # when the store asks for it, then the answer is a stream (the cursor was known), not a 500,
    # and it breaks off before any end row
    response = client.get("/api/sync/v1/snapshot")
    assert response.status_code == 200
    with pytest.raises(RuntimeError, match="could not be written"):
        async_to_sync(_collect)(response.streaming_content)


@pytest.mark.django_db(transaction=True)
def test_a_snapshot_whose_writing_fails_midway_is_cut_short_without_its_end(monkeypatch):
    # given a store whose snapshot's rows fail after the first one
    import cloud.sync.services as services
    from tests.factories import make_product, make_store

    store = make_store("S08")
    make_product("1.00")
    real_rows = services.snapshot_rows

    def failing_rows(*, store_id):
        rows = real_rows(store_id=store_id)
        try:
            yield next(rows)
            raise RuntimeError("the database went away")
        finally:
            rows.close()  # its cursor, before the writer thread closes its connection

    monkeypatch.setattr(services, "snapshot_rows", failing_rows)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {_token(store)}")
    response = client.get("/api/sync/v1/snapshot")
    # when the store reads it, then the stream breaks off: it never sees an end row
    with pytest.raises(RuntimeError, match="could not be written"):
        async_to_sync(_collect)(response.streaming_content)
