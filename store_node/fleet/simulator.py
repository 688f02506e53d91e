"""A fleet of simulated stores speaking the real sync protocol (docs/sync-protocol.md) to a cloud.

Each simulated store is a few asyncio tasks in one process, not a Django node: it enrolls with its
one-time code, loads the snapshot header (its first cursor), keeps its outbox in memory (gapless
``seq``, HLC stamps) and behaves like ``store_node.sync.worker.SyncWorker``: a cycle (push the
backlog in bounded batches from ``ack_seq + 1``, then pull with its cursor until ``more`` is
false) every 5 s (every 30 s while its nudge socket is open; each wait less up to a fifth at
random, ``poll_delay``) and at once after a ``{"type": "more"}``
on the nudge socket, or a slice of the feed there that does not follow its cursor (one that does
is applied without a pull; slices are applied by the sync loop between cycles, as the worker's
thread does, so the socket's opening slice that came during the first pull needs no second one);
a push alone at once after a local sale; the first poll anywhere in the interval
(``poll_splay``); a request answered 503 busy sent again after its Retry-After, four times at
most; full-jitter backoff after failures.
Every ``sale_every`` seconds it rings a sale with the event shapes of docs/events.md: ``sale.completed``, one ``stock.moved`` per line, ``points.posted`` when a
member is on the sale; totals come from ``retail.pricing``.

Offline periods close its connections and stop syncing while the till keeps selling; ``backlog``
rings that many sales into the outbox before the store first comes back (a store back after a
long outage). Nothing here uses Django while it runs (the store's worker and client lend it their
jitter and retry rules, nothing more), so the load generator costs only what it sends.
"""

from __future__ import annotations

import asyncio
import collections
import gzip
import json
import os
import random
import ssl
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import httpx

from retail.pricing import Line, price_basket
from retail.replication.wire import MAX_BATCH_BYTES, MAX_PUSH_EVENTS, PROTOCOL_VERSION
from store_node.sync.client import KEEPALIVE_S, SyncClient, busy_wait_s
from store_node.sync.nudge import listen
from store_node.sync.worker import backoff_delay, poll_delay, poll_splay

API = "/api/sync/v1/"


def percentile(values: list[float], q: float) -> float | None:
    """The ``q``-th percentile (0-100) by nearest rank; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * q // 100))
    return ordered[int(rank) - 1]


@dataclass
class FleetConfig:
    url: str
    sale_every: float = 10.0
    cycle_every: float = 5.0
    cycle_with_socket: float = 30.0  # SyncWorker.interval_with_socket: the nudge brings head office's changes
    report_every: float = 300.0  # SyncWorker.report_every: an empty push reports the head this often
    max_backoff: float = 300.0
    batch_events: int = MAX_PUSH_EVENTS
    offline_every: float = 0.0  # mean seconds between outages per store (0: never)
    offline_for: float = 0.0
    backlog: int = 0  # sales rung offline before the store first comes back
    backlog_age: float = 3600.0  # how long ago that outage began, in seconds
    websocket: bool = True
    snapshot: bool = True
    cafile: str | None = None
    seed: int = 1
    timeout: float = 60.0


@dataclass
class Metrics:
    started: float = field(default_factory=time.monotonic)
    sales: int = 0
    events_rung: int = 0
    accepted: int = 0
    duplicates: int = 0
    quarantined: int = 0
    pulled: int = 0
    pushes: int = 0
    pulls: int = 0
    carried: int = 0  # slices of the feed applied from the nudge socket, without a pull
    busy: int = 0  # requests answered 503 busy and sent again after their Retry-After
    heard: dict[str, int] = field(default_factory=dict)  # nudge socket messages by what they did
    more_at: dict[int, int] = field(default_factory=dict)  # "more" heard per 10 s window of the phase
    latencies: list[float] = field(default_factory=list)
    latency_at: list[float] = field(default_factory=list)  # seconds since the phase began, per latency
    errors: dict[str, int] = field(default_factory=dict)
    sockets: int = 0
    sockets_peak: int = 0
    enrolled: int = 0
    price_lags: list[float] = field(default_factory=list)

    def error(self, kind: str) -> None:
        self.errors[kind] = self.errors.get(kind, 0) + 1

    def hear(self, kind: str) -> None:
        self.heard[kind] = self.heard.get(kind, 0) + 1
        if kind == "more":
            window = int((time.monotonic() - self.started) // 10) * 10
            self.more_at[window] = self.more_at.get(window, 0) + 1

    def socket(self, delta: int) -> None:
        self.sockets += delta
        self.sockets_peak = max(self.sockets_peak, self.sockets)


def _windows(latencies: list[float], at: list[float], width: float) -> list[list]:
    """[window start s, samples, p99 ms] per ``width`` seconds of the phase: where the tail sits."""
    by: dict[int, list[float]] = {}
    for value, when in zip(latencies, at, strict=True):
        by.setdefault(int(when // width), []).append(value)
    return [[int(k * width), len(v), round(percentile(v, 99) * 1000, 1)] for k, v in sorted(by.items())]


class SimStore:
    def __init__(self, spec: dict, fleet: Fleet, index: int):
        self.spec, self.fleet = spec, fleet
        self.rng = random.Random(f"{fleet.cfg.seed}-{index}")
        self.code: str = spec["code"]
        self.token = ""
        self.outbox: list[dict] = []  # events not yet acknowledged, in seq order
        # seq of a sale's last event -> (monotonic time rung, the phase's metrics it counts in)
        self.rung_at: dict[int, tuple[float, Metrics]] = {}
        self.seq = self.ack = int(spec.get("ack_seq", 0))  # an earlier run's events are all acknowledged
        self.cursor = 0
        self.last_hlc = 0
        self.receipt = 0
        self.online = asyncio.Event()
        self.wake = asyncio.Event()
        self.client: httpx.AsyncClient | None = None
        self.caught_up = asyncio.Event()
        self.synced_once = asyncio.Event()  # a whole cycle (push and pull) succeeded
        self.pull_more = True
        self.socket_held = False
        self.slices: collections.deque[dict] = collections.deque()  # SyncWorker.carried
        # SyncWorker.want: a local sale asks for a push; a nudge or the poll for a whole cycle.
        self.push_wanted, self.pull_wanted = False, True
        self.last_pull = float("-inf")
        self.splayed = False  # SyncWorker.splayed
        self.last_report = float("-inf")  # SyncWorker.last_report

    @property
    def cfg(self) -> FleetConfig:
        return self.fleet.cfg

    @property
    def metrics(self) -> Metrics:
        return self.fleet.metrics

    # ------------------------------------------------------------ the till

    def _hlc(self, wall: float) -> int:
        self.last_hlc = max(int(wall * 1000) << 16, self.last_hlc + 1)
        return self.last_hlc

    def _append(self, type_: str, payload: dict, wall: float) -> int:
        self.seq += 1
        self.outbox.append(
            {
                "id": str(uuid.uuid4()),
                "origin": self.code,
                "seq": self.seq,
                "hlc": self._hlc(wall),
                "type": type_,
                "schema": 1,
                "payload": payload,
            }
        )
        return self.seq

    def ring_sale(self, *, wall: float | None = None, measured: bool = True) -> None:
        """One sale as the till's checkout writes it: the sale, its stock movements, its points."""
        wall = time.time() if wall is None else wall
        at = datetime.fromtimestamp(wall, UTC)
        stamp = at.isoformat().replace("+00:00", "Z")
        products = self.rng.sample(
            self.fleet.products, k=min(len(self.fleet.products), self.rng.randint(1, 5))
        )
        quantities = [self.rng.choice((1, 1, 1, 2, 3)) for _ in products]
        basket = price_basket(
            [
                Line(unit_price=Decimal(p["price"]), quantity=Decimal(q), tax_rate=Decimal(p["tax_rate"]))
                for p, q in zip(products, quantities, strict=True)
            ],
            prices_include_tax=True,
        )
        member = (
            self.rng.choice(self.fleet.members) if self.fleet.members and self.rng.random() < 0.4 else None
        )
        points = int(basket.total) if member else 0
        self.receipt += 1
        sale_id = str(uuid.uuid4())
        lines = [
            {
                "id": str(uuid.uuid4()),
                "position": i + 1,
                "product_id": p["id"],
                "sku": p["sku"],
                "description": p["name"],
                "barcode": "",
                "quantity": f"{q}.000",
                "unit_price": p["price"],
                "line_discount": str(r.line_discount),
                "sale_discount_share": str(r.sale_discount),
                "line_total": str(r.total),
                "tax_class": p["tax_class"],
                "tax_rate": p["tax_rate"],
                "voided": False,
                "original_line_id": None,
                "restock": True,
            }
            for i, (p, q, r) in enumerate(zip(products, quantities, basket.lines, strict=True))
        ]
        sale = {
            "id": sale_id,
            "kind": "sale",
            "store_id": self.spec["id"],
            "terminal_id": self.spec["terminal_id"],
            "shift_id": None,
            "cashier_id": self.spec["cashier_id"],
            "member_id": member,
            "original_sale_id": None,
            "receipt_number": f"{self.code}-T01-{self.fleet.run}-{self.receipt:07d}",
            "created_at": (at - timedelta(seconds=40)).isoformat().replace("+00:00", "Z"),
            "completed_at": stamp,
            "subtotal": str(basket.subtotal),
            "discount_total": str(basket.discount_total),
            "tax_total": str(basket.tax_total),
            "total": str(basket.total),
            "cash_rounding": "0.00",
            "points_earned": points,
            "lines": lines,
            "discounts": [],
            "tax_lines": [
                {"tax_class": "", "rate": str(t.rate), "taxable": str(t.taxable), "tax": str(t.tax)}
                for t in basket.taxes
            ],
            "tenders": [
                {
                    "id": str(uuid.uuid4()),
                    "kind": "card",
                    "amount": str(basket.total),
                    "tendered": str(basket.total),
                    "change": "0.00",
                    "reference": "sim",
                    "approved": True,
                    "points": 0,
                }
            ],
        }
        by_class = {p["tax_rate"]: p["tax_class"] for p in products}
        for t in sale["tax_lines"]:
            t["tax_class"] = by_class.get(t["rate"], "")
        self._append("sale.completed", sale, wall)
        for p, q in zip(products, quantities, strict=True):
            last = self._append(
                "stock.moved",
                {
                    "id": str(uuid.uuid4()),
                    "store_id": self.spec["id"],
                    "product_id": p["id"],
                    "kind": "sale",
                    "quantity": f"-{q}.000",
                    "reference": sale_id,
                    "note": "",
                    "created_at": stamp,
                },
                wall,
            )
        if member:
            last = self._append(
                "points.posted",
                {
                    "id": str(uuid.uuid4()),
                    "member_id": member,
                    "kind": "earn",
                    "points": points,
                    "sale_id": sale_id,
                    "reason": "",
                    "created_at": stamp,
                },
                wall,
            )
        if measured:
            self.rung_at[last] = (time.monotonic(), self.metrics)
        self.metrics.sales += 1
        self.metrics.events_rung += 2 + len(products) - (0 if member else 1)
        self.caught_up.clear()
        self.push_wanted = True
        self.wake.set()  # sync_wake(): a local sale starts a push at once

    async def till(self) -> None:
        await asyncio.sleep(self.rng.uniform(0, self.cfg.sale_every))
        while True:
            self.ring_sale()
            await asyncio.sleep(self.rng.uniform(0.5, 1.5) * self.cfg.sale_every)

    # ------------------------------------------------------------ the protocol

    async def _post(self, path: str, body: dict) -> httpx.Response:
        raw = json.dumps(body, separators=(",", ":")).encode()
        headers = {"Content-Type": "application/json", "Accept-Encoding": "gzip"}
        if len(raw) > 16 * 1024:
            raw, headers["Content-Encoding"] = gzip.compress(raw, compresslevel=5), "gzip"
        # SyncClient._post: a 503 changed nothing; the same request again after its Retry-After.
        for attempt in range(SyncClient.BUSY_RETRIES + 1):
            answer = await self.client.post(API + path, content=raw, headers=headers)
            if answer.status_code != 503 or attempt == SyncClient.BUSY_RETRIES:
                return answer
            self.metrics.busy += 1
            await asyncio.sleep(busy_wait_s(answer))
        return answer

    async def enroll(self) -> None:
        answer = await self._post("enroll", {"code": self.spec["enrollment_code"]})
        if answer.status_code != 201:
            raise RuntimeError(f"{self.code}: enroll -> {answer.status_code} {answer.text[:200]}")
        self.token = answer.json()["credential"]
        self.client.headers["Authorization"] = f"Bearer {self.token}"
        if self.cfg.snapshot:
            # A new store loads its snapshot first; the header names the cursor it equals.
            async with self.client.stream("GET", API + "snapshot") as response:
                if response.status_code != 200:
                    raise RuntimeError(f"{self.code}: snapshot -> {response.status_code}")
                async for _ in response.aiter_raw():
                    pass
                self.cursor = int(response.headers["X-Sync-Cursor"])
        self.metrics.enrolled += 1

    async def push(self, *, report_head: bool = True) -> bool:
        """Push until the cloud acknowledged the local head (an empty push reports the head, only
        when ``report_head``: ``sync_push``)."""
        if not report_head and not self.outbox:
            return True
        while True:
            batch, size = [], 0
            for env in self.outbox[: self.cfg.batch_events]:
                size += len(json.dumps(env["payload"])) + 200
                if batch and size > MAX_BATCH_BYTES * 0.9:
                    break
                batch.append(env)
            oldest = self.outbox[0]["payload"].get("created_at") if self.outbox else None
            body = {
                "protocol": PROTOCOL_VERSION,
                "head_seq": self.seq,
                "oldest_unsynced_at": oldest,
                "events": batch,
            }
            answer = await self._post("push", body)
            self.metrics.pushes += 1
            if answer.status_code == 409 and answer.json().get("code") == "seq_gap":
                self._acknowledge(answer.json()["expected_seq"] - 1)
                continue
            if answer.status_code != 200:
                self.metrics.error(f"push {answer.status_code}")
                return False
            data = answer.json()
            self.metrics.accepted += data["applied"]
            self.metrics.duplicates += data["duplicates"]
            self.metrics.quarantined += len(data["quarantined"])
            for item in data["quarantined"]:
                self.metrics.error(f"quarantined {item['reason']}")
            self._acknowledge(data["ack_seq"])
            self.last_report = time.monotonic()  # SyncWorker: a push the cloud answered reported the head
            if not self.outbox or not batch:
                return True

    def _acknowledge(self, ack: int) -> None:
        if ack > self.seq:
            raise RuntimeError(f"{self.code}: ack_ahead_of_outbox ({ack} > {self.seq})")
        now = time.monotonic()
        while self.outbox and self.outbox[0]["seq"] <= ack:
            seq = self.outbox.pop(0)["seq"]
            rung = self.rung_at.pop(seq, None)
            if rung is not None:
                at, metrics = rung  # counted in the phase it was rung in
                metrics.latencies.append(now - at)
                metrics.latency_at.append(now - metrics.started)
        self.ack = max(self.ack, ack)

    async def pull(self) -> bool:
        while True:
            answer = await self._post("pull", {"protocol": PROTOCOL_VERSION, "cursor": self.cursor})
            self.metrics.pulls += 1
            if answer.status_code != 200:
                self.metrics.error(f"pull {answer.status_code}")
                return False
            data = answer.json()
            self._received(data["events"])
            # The store moves it in the transaction that applies the page; never back past a slice
            # the socket brought meanwhile (the store serializes the two, this simulator does not).
            self.cursor = max(self.cursor, data["cursor"])
            self.pull_more = data["more"]
            if not data["more"]:
                return True

    def _received(self, events: list[dict]) -> None:
        now = time.time()
        for env in events:
            if env["type"] == "price.set" and env["payload"].get("effective_from"):
                try:
                    at = datetime.fromisoformat(env["payload"]["effective_from"].replace("Z", "+00:00"))
                    self.metrics.price_lags.append(now - at.timestamp())
                except ValueError:
                    pass
        self.metrics.pulled += len(events)

    def carried(self, message: dict) -> bool:
        """A slice of the feed the socket brought (``store_node.sync.services.sync_socket_apply``):
        applied when the store's cursor is at least ``after``; False when it must pull instead."""
        after, cursor = int(message["after"]), int(message["cursor"])
        if self.cursor < after:
            self.metrics.hear("slice after the cursor")
            return False
        if self.cursor < cursor:
            self._received([env for env in message["events"] if env["fseq"] > self.cursor])
            self.cursor = cursor
            self.metrics.carried += 1
            self.metrics.hear("slice applied")
        else:
            self.metrics.hear("slice already had")
        return True

    async def cycle(self, *, pull: bool = True) -> bool:
        report = time.monotonic() - self.last_report >= self.cfg.report_every  # SyncWorker.reports_head
        try:
            ok = await self.push(report_head=report) and (not pull or await self.pull())
        except (httpx.HTTPError, OSError, ValueError) as exc:
            self.metrics.error(f"{type(exc).__name__}")
            ok = False
        except Exception as exc:  # a simulator bug must show in the report, not stop one store silently
            self.metrics.error(f"crash {type(exc).__name__}: {str(exc)[:80]}")
            ok = False
        if not ok:
            # sync_once's kept client: a failed cycle closes it, and the next opens a connection.
            await self.client.aclose()
            self.client = self.fleet.new_client(self.token)
            return False
        if ok and pull and not self.outbox and not self.pull_more:
            self.caught_up.set()
        if ok and pull:
            self.synced_once.set()
        return ok

    def wait_after(self, *, pulled: bool, failures: int) -> float:
        """SyncWorker.wait_after: after the first whole cycle, the poll anywhere in the interval
        (``poll_splay``); then the poll interval with its jitter, or the backoff after failures."""
        interval = self.cfg.cycle_with_socket if self.socket_held else self.cfg.cycle_every
        if pulled and not self.splayed:
            self.splayed = True
            wait = poll_splay(self.cfg.cycle_with_socket if self.cfg.websocket else interval, rng=self.rng)
            self.last_pull = time.monotonic() - (self.cfg.cycle_with_socket - wait)
            return wait
        if failures == 0:
            return poll_delay(interval, rng=self.rng)
        return backoff_delay(failures, base=self.cfg.cycle_every, cap=self.cfg.max_backoff, rng=self.rng)

    async def sync_loop(self) -> None:
        """SyncWorker._loop: the slices the socket brought first (so one that came during a cycle
        is compared with the cursor that cycle's pull reached), then a cycle if one is wanted."""
        failures = 0
        next_cycle_at = float("-inf")  # SyncWorker.next_cycle_at: the poll (or the backoff) is due then
        while True:
            await self.online.wait()
            self.wake.clear()
            while self.slices:
                if not self.carried(self.slices.popleft()):
                    self.pull_wanted = True
            if self.pull_wanted or self.push_wanted:
                due = time.monotonic() - self.last_pull >= self.cfg.cycle_with_socket  # cycle_pulls
                pull = self.pull_wanted or not self.push_wanted or due
                self.pull_wanted = self.push_wanted = False
                if pull:
                    self.last_pull = time.monotonic()
                ok = await self.cycle(pull=pull)
                failures = 0 if ok else failures + 1
                next_cycle_at = time.monotonic() + self.wait_after(pulled=ok and pull, failures=failures)
            try:
                await asyncio.wait_for(self.wake.wait(), max(0.0, next_cycle_at - time.monotonic()))
            except TimeoutError:
                self.pull_wanted = True  # the poll: a whole cycle

    async def nudge_loop(self) -> None:
        failures = 0
        while True:
            await self.online.wait()
            held = False

            def heard(text: str) -> None:
                nonlocal held
                if not held:
                    held = self.socket_held = True
                    self.metrics.socket(+1)
                message = json.loads(text)
                if message.get("type") == "events":
                    self.slices.append(message)  # SyncWorker.carry: the sync loop applies it
                else:
                    self.metrics.hear(str(message.get("type")))
                    self.pull_wanted = True
                self.wake.set()

            try:
                ws = self.cfg.url.replace("https://", "wss://").replace("http://", "ws://")
                await listen(
                    f"{ws}/ws/sync/v1/nudge",
                    token=self.token,
                    on_message=heard,
                    stop=lambda: not self.online.is_set(),
                )
                failures = 0
            except (OSError, asyncio.IncompleteReadError, TimeoutError) as exc:
                self.metrics.error(f"socket {type(exc).__name__}")
                failures += 1
            finally:
                self.socket_held = False
                if held:
                    self.metrics.socket(-1)
            await asyncio.sleep(self.rng.uniform(0.5, min(60.0, 1.0 * 2**failures)))

    async def outages(self) -> None:
        while True:
            await asyncio.sleep(self.rng.expovariate(1 / self.cfg.offline_every))
            self.online.clear()
            await self.client.aclose()
            self.client = self.fleet.new_client(self.token)
            await asyncio.sleep(self.cfg.offline_for)
            self.online.set()
            self.wake.set()


class Fleet:
    def __init__(self, cfg: FleetConfig, setup: dict):
        self.cfg = cfg
        self.metrics = Metrics()
        self.products = setup["products"]
        self.members = setup.get("members", [])
        self.run = setup.get("run", "sim")
        self.ssl = ssl.create_default_context(cafile=cfg.cafile) if cfg.url.startswith("https") else None
        if cfg.cafile:
            # The nudge client (store_node.sync.nudge) verifies with the default trust store, as a real
            # store does; a self-signed test cloud's certificate joins it through SSL_CERT_FILE.
            os.environ["SSL_CERT_FILE"] = cfg.cafile
        self.stores = [SimStore(spec, self, i) for i, spec in enumerate(setup["stores"])]
        self.tasks: list[asyncio.Task] = []

    def new_client(self, token: str = "") -> httpx.AsyncClient:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.AsyncClient(
            base_url=self.cfg.url,
            verify=self.ssl if self.ssl is not None else True,
            timeout=self.cfg.timeout,
            limits=httpx.Limits(max_connections=1, max_keepalive_connections=1, keepalive_expiry=KEEPALIVE_S),
            headers=headers,
        )

    async def enroll_all(self, concurrency: int = 16) -> None:
        gate = asyncio.Semaphore(concurrency)

        async def one(store: SimStore) -> None:
            async with gate:
                store.client = self.new_client()
                await store.enroll()

        await asyncio.gather(*(one(s) for s in self.stores))

    def ring_backlog(self) -> None:
        """Every store rings ``backlog`` sales offline, spread over the outage that began ``backlog_age`` ago."""
        now = time.time()
        for store in self.stores:
            for n in range(self.cfg.backlog):
                store.ring_sale(
                    wall=now - self.cfg.backlog_age + n * self.cfg.backlog_age / max(1, self.cfg.backlog),
                    measured=False,
                )

    def start(self, *, online: bool = True, tills: bool = True) -> None:
        for store in self.stores:
            if online:
                store.online.set()
            self.tasks.append(asyncio.create_task(store.sync_loop()))
            if self.cfg.websocket:
                self.tasks.append(asyncio.create_task(store.nudge_loop()))
            if tills:
                self.tasks.append(asyncio.create_task(store.till()))
            if self.cfg.offline_every > 0:
                self.tasks.append(asyncio.create_task(store.outages()))

    def all_online(self) -> None:
        for store in self.stores:
            store.online.set()
            store.pull_wanted = True  # back after an outage: a whole cycle
            store.wake.set()

    def backlog_events(self) -> int:
        return sum(len(s.outbox) for s in self.stores)

    async def caught_up(self) -> None:
        await asyncio.gather(*(s.caught_up.wait() for s in self.stores))

    async def stop(self) -> None:
        # Offline first: a socket loop that swallowed its cancellation (asyncio.wait_for can) then
        # ends by itself, because the nudge client stops once the store is offline.
        for store in self.stores:
            store.online.clear()
        pending = set(self.tasks)
        for _ in range(10):
            for task in pending:
                task.cancel()
            _, pending = await asyncio.wait(pending, timeout=1.0)
            if not pending:
                break
        self.tasks.clear()
        for store in self.stores:
            if store.client is not None:
                await store.client.aclose()

    def connected_count(self) -> int:
        """Stores that have synced once and, with sockets on, hold their nudge socket."""
        return sum(
            1 for s in self.stores if s.synced_once.is_set() and (s.socket_held or not self.cfg.websocket)
        )

    def connected(self) -> bool:
        return self.connected_count() == len(self.stores)

    def summary(self, elapsed: float, cloud: dict | None = None, metrics: Metrics | None = None) -> dict:
        m = metrics or self.metrics
        p50, p99 = percentile(m.latencies, 50), percentile(m.latencies, 99)
        return {
            "stores": len(self.stores),
            "enrolled": m.enrolled,
            "seconds": round(elapsed, 1),
            "sales": m.sales,
            "events_rung": m.events_rung,
            "events_accepted": m.accepted,
            "events_per_s": round(m.accepted / elapsed, 1) if elapsed else 0.0,
            "duplicates": m.duplicates,
            "quarantined": m.quarantined,
            "pushes": m.pushes,
            "pulls": m.pulls,
            "carried": m.carried,
            "busy_retries": m.busy,
            "heard": dict(sorted(m.heard.items())),
            "more_by_10s": dict(sorted(m.more_at.items())),
            "pulled_events": m.pulled,
            "sync_p50_ms": round(p50 * 1000, 1) if p50 is not None else None,
            "sync_p99_ms": round(p99 * 1000, 1) if p99 is not None else None,
            "latency_samples": len(m.latencies),
            "sync_p99_ms_by_30s": _windows(m.latencies, m.latency_at, 30.0),
            "price_visible_p99_ms": round(percentile(m.price_lags, 99) * 1000, 1) if m.price_lags else None,
            "sockets_held": m.sockets,
            "sockets_peak": m.sockets_peak,
            "errors": dict(m.errors),
            "error_count": sum(m.errors.values()),
            "backlog_events": self.backlog_events(),
            "cloud": cloud or {},
        }


@dataclass
class RunResult:
    steady: dict
    storm: dict | None
    connect: dict | None = None


async def fleet_run(
    cfg: FleetConfig,
    setup: dict,
    *,
    duration: float,
    storm_backlog: int = 0,
    storm_timeout: float = 600.0,
    connect_timeout: float = 300.0,
    probe=None,
    tick=None,
) -> RunResult:
    """Enroll every store, start them all in the same second (the connect phase: until every store
    has synced once and holds its socket; the tills sell from the start), run the steady fleet for
    ``duration`` s more, then (``storm_backlog`` > 0) take
    every store offline, ring that many sales each as the outage's backlog, bring all back at once
    and time until every store has pushed its backlog and pulled to the feed's head.

    ``tick(phase, fleet, probe_sample)`` is called about once a second for a progress display.
    """
    fleet = Fleet(cfg, setup)
    sample: dict = {}

    async def watch(phase: str, until) -> None:
        nonlocal sample
        while not until():
            await asyncio.sleep(1.0)
            sample = probe.sample() if probe is not None else {}
            if tick is not None:
                tick(phase, fleet, sample)

    done = False
    watcher = asyncio.create_task(watch("enroll", lambda: done))
    try:
        await fleet.enroll_all()
    finally:
        done = True
        await watcher
    fleet.metrics = Metrics()
    fleet.metrics.enrolled = len(fleet.stores)
    if probe is not None:
        probe.sample()
        probe.first, probe.first_at = dict(probe.last), probe.last_at
        probe.peak_cpu = probe.peak_rss = 0
    fleet.start()
    # Connect: all stores start at once, as after a power cut or a cloud restart; a sale rung before
    # every store is connected counts here, whenever it is acknowledged.
    started = time.monotonic()
    await watch("connect", lambda: fleet.connected() or time.monotonic() - started >= connect_timeout)
    connect_metrics, connect_s = fleet.metrics, time.monotonic() - started
    connected = fleet.connected_count()
    fleet.metrics = Metrics(sockets=connect_metrics.sockets, sockets_peak=connect_metrics.sockets)
    connect_cloud = probe.summary() if probe is not None else None
    if probe is not None:
        probe.first, probe.first_at = dict(probe.last), probe.last_at
        probe.peak_cpu = probe.peak_rss = 0
    started = time.monotonic()
    await watch("steady", lambda: time.monotonic() - started >= duration)
    elapsed = time.monotonic() - started
    await fleet.stop()
    steady = fleet.summary(elapsed, probe.summary() if probe is not None else None)
    connect = fleet.summary(connect_s, connect_cloud, metrics=connect_metrics)
    connect.update(connected=connected, connect_s=round(connect_s, 1))
    both = connect_metrics.latencies + fleet.metrics.latencies
    whole = percentile(both, 99)
    steady["sync_p99_ms_with_connect"] = round(whole * 1000, 1) if whole is not None else None
    storm = None
    if storm_backlog:
        storm_cfg = FleetConfig(**{**cfg.__dict__, "backlog": storm_backlog, "offline_every": 0.0})
        fleet.cfg = storm_cfg
        for store in fleet.stores:
            store.client = fleet.new_client(store.token)
        fleet.ring_backlog()
        backlog = fleet.backlog_events()
        fleet.metrics = Metrics()
        for store in fleet.stores:
            store.caught_up.clear()
        if probe is not None:
            probe.sample()
            probe.first, probe.first_at = dict(probe.last), probe.last_at
            probe.peak_cpu = probe.peak_rss = 0
        started = time.monotonic()
        fleet.start(online=False, tills=False)
        fleet.all_online()  # all back together
        caught = asyncio.create_task(fleet.caught_up())
        await asyncio.wait([caught, asyncio.create_task(watch("storm", caught.done))], timeout=storm_timeout)
        elapsed = time.monotonic() - started
        finished = caught.done()
        caught.cancel()
        await fleet.stop()
        storm = fleet.summary(elapsed, probe.summary() if probe is not None else None)
        storm.update(
            backlog_sales_per_store=storm_backlog, backlog_events_at_return=backlog, caught_up=finished
        )
        storm["caught_up_s"] = round(elapsed, 1) if finished else None
    return RunResult(steady=steady, storm=storm, connect=connect)
