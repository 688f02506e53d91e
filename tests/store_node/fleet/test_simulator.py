"""The fleet's simulated till and outbox: the events of one sale, gapless seqs, acknowledgements."""

from decimal import Decimal

from store_node.fleet.simulator import Fleet, FleetConfig, percentile

SETUP = {
    "stores": [
        {
            "code": "F0001",
            "id": "s-1",
            "terminal_id": "t-1",
            "cashier_id": "c-1",
            "enrollment_code": "X",
            "ack_seq": 7,
        }
    ],
    "products": [
        {
            "id": f"p-{i}",
            "sku": f"{i}",
            "name": f"P{i}",
            "price": "2.49",
            "tax_class": "STD",
            "tax_rate": "0.1900",
        }
        for i in range(6)
    ],
    "members": ["m-1"],
}


def _store(seed: int = 1):
    return Fleet(FleetConfig(url="http://127.0.0.1:1", seed=seed), SETUP).stores[0]


def test_a_sale_is_the_sale_its_stock_movements_and_its_points_with_gapless_seqs_after_the_ack():
    # given a store whose earlier life was acknowledged up to seq 7
    store = _store()
    # when it rings three sales
    for _ in range(3):
        store.ring_sale()
    # then its outbox continues at 8 without a gap, each sale followed by one movement per line
    seqs = [e["seq"] for e in store.outbox]
    assert seqs == list(range(8, 8 + len(seqs)))
    sales = [e for e in store.outbox if e["type"] == "sale.completed"]
    assert len(sales) == 3
    for sale in sales:
        p = sale["payload"]
        moves = [
            e for e in store.outbox if e["type"] == "stock.moved" and e["payload"]["reference"] == p["id"]
        ]
        assert [m["payload"]["product_id"] for m in moves] == [line["product_id"] for line in p["lines"]]
        assert all(
            m["payload"]["quantity"] == "-" + line["quantity"]
            for m, line in zip(moves, p["lines"], strict=True)
        )
        assert sum(Decimal(line["line_total"]) for line in p["lines"]) == Decimal(p["total"])
        assert Decimal(p["tenders"][0]["amount"]) == Decimal(p["total"])
        points = [
            e for e in store.outbox if e["type"] == "points.posted" and e["payload"]["sale_id"] == p["id"]
        ]
        assert len(points) == (1 if p["member_id"] else 0)
        if points:
            assert points[0]["payload"]["points"] == int(Decimal(p["total"])) == p["points_earned"]
    assert all(a["hlc"] < b["hlc"] for a, b in zip(store.outbox, store.outbox[1:], strict=False))


def test_an_acknowledgement_drops_the_events_up_to_it_and_times_the_sales_it_completes():
    # given two sales waiting
    store = _store(seed=2)
    store.ring_sale()
    first_end = store.seq
    store.ring_sale()
    # when the cloud acknowledges the first sale's last event
    store._acknowledge(first_end)
    # then only the second sale waits, and one latency was recorded
    assert store.outbox[0]["seq"] == first_end + 1
    assert store.ack == first_end
    assert len(store.metrics.latencies) == 1


def test_a_sale_rung_in_the_connect_phase_counts_there_though_acknowledged_in_the_steady_one():
    from store_node.fleet.simulator import Metrics

    # given a sale rung while the fleet was connecting
    store = _store(seed=3)
    connecting = store.fleet.metrics
    store.ring_sale()
    # when the steady phase begins, a sale is rung in it, and the cloud acknowledges both
    store.fleet.metrics = steady = Metrics()
    store.ring_sale()
    store._acknowledge(store.seq)
    # then each phase holds the latency of its own sale
    assert (len(connecting.latencies), len(steady.latencies)) == (1, 1)


def test_percentile_is_the_nearest_rank():
    assert percentile([], 99) is None
    assert percentile([5.0, 1.0, 3.0, 2.0, 4.0], 50) == 3.0
    assert percentile([float(i) for i in range(1, 101)], 99) == 99.0
    assert percentile([float(i) for i in range(1, 101)], 100) == 100.0


def _price(fseq: int) -> dict:
    payload = {"product_id": "p-1", "amount": "1.00", "effective_from": "2026-12-01T00:00:00Z"}
    return {"type": "price.set", "fseq": fseq, "payload": payload}


def test_a_slice_on_the_socket_is_taken_as_the_store_takes_it_and_a_gap_means_a_pull():
    store = _store()
    store.cursor = 10
    # a slice that starts before the cursor: what is after the cursor counts, the cursor is the slice's
    assert store.carried({"type": "events", "after": 8, "cursor": 14, "events": [_price(9), _price(12)]})
    assert (store.cursor, store.metrics.pulled, store.metrics.carried) == (14, 1, 1)
    assert len(store.metrics.price_lags) == 1
    # the same slice again: nothing new
    assert store.carried({"type": "events", "after": 8, "cursor": 14, "events": [_price(9), _price(12)]})
    assert (store.cursor, store.metrics.pulled, store.metrics.carried) == (14, 1, 1)
    # a slice after a position the store never got: it must pull, nothing changes
    assert not store.carried({"type": "events", "after": 15, "cursor": 20, "events": [_price(18)]})
    assert (store.cursor, store.metrics.pulled) == (14, 1)


def test_a_request_answered_busy_is_sent_again_after_its_retry_after_as_the_store_does():
    import asyncio

    import httpx

    # given a cloud that is busy twice, then answers
    seen: list[bytes] = []

    def cloud(request: httpx.Request) -> httpx.Response:
        seen.append(request.content)
        if len(seen) <= 2:
            return httpx.Response(503, headers={"Retry-After": "0.1"}, json={"code": "busy"})
        return httpx.Response(200, json={"ok": True})

    store = _store(seed=4)
    store.client = httpx.AsyncClient(transport=httpx.MockTransport(cloud), base_url="http://cloud")
    # when the store posts
    answer = asyncio.run(store._post("pull", {"cursor": 3}))
    # then it got the answer, having sent the same request three times and counted two busy answers
    assert answer.status_code == 200
    assert len(seen) == 3 and len(set(seen)) == 1
    assert store.metrics.busy == 2


def test_a_cloud_busy_every_time_is_given_up_on_after_four_retries():
    import asyncio

    import httpx

    calls: list[int] = []

    def cloud(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        return httpx.Response(503, headers={"Retry-After": "0"})

    store = _store(seed=5)
    store.client = httpx.AsyncClient(transport=httpx.MockTransport(cloud), base_url="http://cloud")
    answer = asyncio.run(store._post("push", {"events": []}))
    assert answer.status_code == 503
    assert len(calls) == 5 and store.metrics.busy == 4


def test_the_first_poll_falls_anywhere_in_the_interval_and_the_next_ones_at_its_end_as_the_stores_do():
    import time

    # given 200 simulated stores whose first whole cycles ended together
    stores = [_store(seed=n) for n in range(200)]
    waits = [s.wait_after(pulled=True, failures=0) for s in stores]
    # then their first polls spread over the 30 s (SyncWorker.wait_after), and a push cycle agrees
    assert min(waits) < 3.0 and 27.0 < max(waits) <= 30.0
    first = stores[0]
    due_in = first.last_pull + first.cfg.cycle_with_socket - time.monotonic()
    assert abs(due_in - waits[0]) < 0.5
    # and after that, the poll interval less its jitter (socket held), or the backoff after failures
    first.socket_held = True
    assert 24.0 <= first.wait_after(pulled=True, failures=0) <= 30.0
    assert 2.5 <= first.wait_after(pulled=False, failures=2) <= 20.0
