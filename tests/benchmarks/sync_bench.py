"""Sync speed with real processes: a cloud (daphne on PostgreSQL) and store nodes (SQLite).

* ``sync.cloud_ingest_events_per_s``: stock.moved events of one store pushed over HTTP (gzip'd
  batches of 2,000: a store sends up to 5,000, so this is the harder case) and applied by one cloud
  process on PostgreSQL. 100,000 events (20,000 with ``--quick``).
* ``sync.catchup_100k_s``: a store back after a week with 20,000 sales (2,000 quick), each one
  ``sale.completed`` + 3 ``stock.moved`` + ``points.posted`` = 5 events, written into its outbox
  in bulk before the clock starts (ids are UUIDv7, ``retail.ids.new_id``, as a store makes them),
  while head office changed 5,000 prices (500 quick): wall time of
  ``manage.py sync --once`` until fully up to date both ways.
* ``sync.catchup_peak_rss_mb``: the peak resident memory of that ``sync --once`` process.
* ``sync.catalog_load_100k_s``: a new store's first ``sync --once`` (the snapshot) against a cloud
  with 100,000 products with prices and barcodes (10,000 quick).
* ``sync.catalog_load_1m_s`` (full run only): the same with 1,000,000 products: seed_demo's 20,000,
  grown to a million in bulk SQL before the clock starts (``_catalog_grow``).
* ``sync.price_visible_p99_ms``: a store running ``manage.py syncworker`` (nudge socket on); head
  office changes a price 40 times (15 quick), one every 1.5 s; from the commit to the price row
  being readable in the store's database.

Standalone: ``.venv/bin/python tests/benchmarks/sync_bench.py [--quick]``.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if __package__ in (None, ""):
    sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from retail.ids import new_id  # noqa: E402  (the ids real stores make: UUIDv7, in time order)
from tests.benchmarks.runner import BenchIncomplete  # noqa: E402
from tests.system.nodes import PY, Node, make_node  # noqa: E402

PG = os.environ.get("SYNC_BENCH_PG", "postgres://postgres@127.0.0.1:5432")


def _pg_cloud(workdir: Path, name: str) -> Node:
    import psycopg

    db = f"omnitill_sync_bench_{name}_{os.getpid()}"
    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {db}")
        conn.execute(f"CREATE DATABASE {db}")
    node = Node("cloud", workdir, f"cloud-{name}")
    node.env["DATABASE_URL"] = f"{PG}/{db}"
    node.pg_name = db
    node.manage("migrate", "--no-input", "-v", "0", timeout=600)
    return node


def _pg_drop(node: Node) -> None:
    import psycopg

    node.stop()
    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {node.pg_name} WITH (FORCE)")


def _enroll_code(cloud: Node, store: str = "S01") -> str:
    return cloud.shell(
        "from cloud.sync.services import enrollment_code_create as c; from retail.stores.models import Store as S\n"
        f"print(c(store=S.objects.get(code='{store}'))[1])"
    )


def bench_ingest(workdir: Path, events: int) -> float:
    cloud = _pg_cloud(workdir, "ingest")
    try:
        cloud.manage("seed_demo", "--products", "200", "--members", "10", timeout=600)
        code = _enroll_code(cloud)
        ids = json.loads(
            cloud.shell(
                "import json; from retail.stores.models import Store; from retail.catalog.models import Product\n"
                "print(json.dumps([str(Store.objects.get(code='S01').id), [str(p) for p in Product.objects.values_list('id', flat=True)]]))"
            )
        )
        store_id, products = ids
        cloud.serve()
        token = httpx.post(f"{cloud.url}/api/sync/v1/enroll", json={"code": code}).json()["credential"]
        from retail.replication.wire import gzip_dumps

        hlc0 = (int(time.time() * 1000) - 60_000) << 16
        batches = []
        for start in range(0, events, 2000):
            batch = [
                {
                    "id": str(new_id()),
                    "origin": "S01",
                    "seq": seq,
                    "hlc": hlc0 + seq,
                    "type": "stock.moved",
                    "schema": 1,
                    "payload": {
                        "id": str(new_id()),
                        "store_id": store_id,
                        "product_id": products[seq % len(products)],
                        "kind": "sale",
                        "quantity": "-1.000",
                        "reference": "",
                        "note": "",
                        "created_at": "2026-03-01T10:00:00Z",
                    },
                }
                for seq in range(start + 1, min(events, start + 2000) + 1)
            ]
            batches.append(gzip_dumps({"protocol": 1, "events": batch, "head_seq": events}))
        headers = {
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/json",
            "Content-Encoding": "gzip",
        }
        with httpx.Client(base_url=cloud.url, headers=headers, timeout=300) as client:
            started = time.perf_counter()
            for body in batches:
                answer = client.post("/api/sync/v1/push", content=body)
                answer.raise_for_status()
            elapsed = time.perf_counter() - started
        assert answer.json()["ack_seq"] == events, answer.text
        return events / elapsed
    finally:
        _pg_drop(cloud)


def _fill_outbox(store: Node, cloud_ids: dict, sales: int) -> int:
    """Write ``sales`` sales' events into the store's outbox in bulk (setup, not measured)."""
    now_ms = int(time.time() * 1000) - 7 * 86_400_000
    rows, seq = [], store.value("select coalesce(max(seq), 0) from outbox_event where origin='S01'") or 0
    products = cloud_ids["products"]
    for n in range(sales):
        sale_id = str(new_id())
        lines = []
        events = []
        for i in range(3):
            product = products[(n * 3 + i) % len(products)]
            lines.append(
                {"id": str(new_id()), "position": i + 1, "product_id": product, "sku": "", "description": "x", "barcode": "",
                 "quantity": "1.000", "unit_price": "1.00", "line_discount": "0.00", "sale_discount_share": "0.00",
                 "line_total": "1.00", "tax_class": "STD", "tax_rate": "0.1900", "voided": False, "original_line_id": None, "restock": True}
            )  # fmt: skip
            events.append(("stock.moved", {"id": str(new_id()), "store_id": cloud_ids["store"], "product_id": product, "kind": "sale",
                           "quantity": "-1.000", "reference": sale_id, "note": "", "created_at": "2026-03-01T10:00:00Z"}))  # fmt: skip
        sale = {
            "id": sale_id, "kind": "sale", "store_id": cloud_ids["store"], "terminal_id": cloud_ids["terminal"], "shift_id": None,
            "cashier_id": cloud_ids["cashier"], "member_id": cloud_ids["member"], "original_sale_id": None,
            "receipt_number": f"S01-T01-B{n:07d}", "created_at": "2026-03-01T10:00:00Z", "completed_at": "2026-03-01T10:01:00Z",
            "subtotal": "3.00", "discount_total": "0.00", "tax_total": "0.48", "total": "3.00", "cash_rounding": "0.00",
            "points_earned": 3, "lines": lines, "discounts": [],
            "tax_lines": [{"tax_class": "STD", "rate": "0.1900", "taxable": "2.52", "tax": "0.48"}],
            "tenders": [{"id": str(new_id()), "kind": "cash", "amount": "3.00", "tendered": "5.00", "change": "2.00",
                         "reference": "", "approved": True, "points": 0}],
        }  # fmt: skip
        events = [("sale.completed", sale), *events]
        events.append(("points.posted", {"id": str(new_id()), "member_id": cloud_ids["member"], "kind": "earn", "points": 3,
                       "sale_id": sale_id, "reason": "", "created_at": "2026-03-01T10:01:00Z"}))  # fmt: skip
        for type_, payload in events:
            seq += 1
            rows.append(
                (
                    new_id().hex,
                    "S01",
                    seq,
                    (now_ms << 16) + seq,
                    type_,
                    1,
                    json.dumps(payload),
                    "2026-03-01 10:01:00",
                )
            )
    with sqlite3.connect(store.db) as db:
        db.executemany(
            "insert into outbox_event (id, origin, seq, hlc, type, schema, payload, created_at) values (?,?,?,?,?,?,?,?)",
            rows,
        )
        db.execute(
            "insert or replace into outbox_nodeclock (origin, last_seq, last_hlc) values ('S01', ?, ?)",
            (seq, (now_ms << 16) + seq),
        )
    return len(rows)


def bench_catchup(workdir: Path, sales: int, prices: int) -> tuple[float, float]:
    cloud = _pg_cloud(workdir, "catchup")
    try:
        cloud.manage("seed_demo", "--products", "500", "--members", "20", timeout=600)
        code = _enroll_code(cloud)
        cloud_ids = json.loads(
            cloud.shell(
                "import json; from retail.stores.models import Store, Terminal; from retail.catalog.models import Product\n"
                "from retail.staff.models import User; from retail.members.models import Member\n"
                "s = Store.objects.get(code='S01')\n"
                "print(json.dumps({'store': str(s.id), 'terminal': str(Terminal.objects.filter(store=s).first().id),\n"
                " 'cashier': str(User.objects.filter(store=s).first().id), 'member': str(Member.objects.first().id),\n"
                " 'products': [str(p) for p in Product.objects.values_list('id', flat=True)]}))"
            )
        )
        cloud.serve()
        store = make_node("store", workdir, "S01")
        store.manage("enroll", "--cloud", cloud.url, "--code", code)
        store.manage("sync", "--once", "--quiet", timeout=600)
        _fill_outbox(store, cloud_ids, sales)
        cloud.shell(
            "from decimal import Decimal as D; from retail.catalog.models import Product; from retail.catalog.services import price_set\n"
            f"ps = list(Product.objects.all()); [price_set(product=ps[i % len(ps)], amount=D(i % 900 + 100) / 100) for i in range({prices})]"
        )
        started = time.perf_counter()
        process = subprocess.Popen(
            [PY, "manage.py", "sync", "--once", "--quiet"],
            cwd=ROOT,
            env=store.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        _, status, usage = os.wait4(process.pid, 0)
        elapsed = time.perf_counter() - started
        out = process.stdout.read().decode() + process.stderr.read().decode()
        if os.waitstatus_to_exitcode(status) != 0:
            raise RuntimeError(f"sync --once failed: {out[-2000:]}")
        store.stop()
        return elapsed, usage.ru_maxrss / 1024
    finally:
        _pg_drop(cloud)


def _catalog_grow(cloud: Node, products: int) -> None:
    """Grow the seeded catalog to ``products`` in bulk SQL (setup, not measured): what seed_demo
    writes per product, without its minutes of Python: each new product copies the name, unit and
    tax class of a seeded one (numbered), with its own SKU, one barcode (a second for every tenth),
    a chain-wide price (a store's own for every 33rd) and a stock level at every store."""
    import psycopg

    with psycopg.connect(f"{PG}/{cloud.pg_name}", autocommit=True) as conn:
        have = conn.execute("select count(*) from catalog_product").fetchone()[0]
        conn.execute(
            "create temp table base as select row_number() over (order by sku) - 1 as n, name, unit, tax_class_id "
            "from catalog_product"
        )
        adds = products - have
        conn.execute(
            "create temp table grown as select g, md5('bench-product-' || g)::uuid as id, b.name, b.unit, "
            "b.tax_class_id from generate_series(0, %s - 1) g join base b on b.n = g %% %s",
            [adds, have],
        )
        conn.execute(
            "insert into catalog_product (id, sku, name, unit, active, updated_at, tax_class_id) "
            "select id, (5000000 + g)::text, left(name || ' ' || g, 200), unit, true, now(), tax_class_id from grown"
        )
        conn.execute(
            "insert into catalog_barcode (code, product_id) select '27' || lpad(g::text, 11, '0'), id from grown "
            "union all select '28' || lpad(g::text, 11, '0'), id from grown where g % 10 = 0"
        )
        conn.execute(
            "insert into catalog_price (id, product_id, store_id, amount, effective_from) "
            "select md5('bench-price-' || g)::uuid, id, null, (29 + g % 4970) / 100.0, '2020-01-01T00:00:00Z'::timestamptz "
            "from grown union all "
            "select md5('bench-price-store-' || g)::uuid, id, (select id from stores_store order by code "
            "offset (g % 3) limit 1), (29 + g % 4970) * 0.009, '2020-01-01T00:00:00Z'::timestamptz from grown where g % 33 = 0"
        )
        conn.execute(
            "insert into stock_stocklevel (store_id, product_id, on_hand, updated_at) "
            "select s.id, grown.id, 1 + (g + ascii(s.code)) % 48, now() from grown cross join stores_store s"
        )
        conn.execute("analyze")


def bench_catalog_load(workdir: Path, products: int, *, demo_products: int | None = None) -> float:
    """``demo_products``: seed_demo makes only these, ``_catalog_grow`` the rest (setup time)."""
    workdir = workdir / f"catalog-{products}"  # its own store files, whatever ran before
    workdir.mkdir(parents=True, exist_ok=True)
    cloud = _pg_cloud(workdir, "catalog")
    try:
        seeded = min(products, demo_products or products)
        cloud.manage("seed_demo", "--products", str(seeded), "--members", "10", timeout=1800)
        if products > seeded:
            _catalog_grow(cloud, products)
        code = _enroll_code(cloud)
        cloud.serve()
        store = make_node("store", workdir, "S01")
        store.manage("enroll", "--cloud", cloud.url, "--code", code)
        started = time.perf_counter()
        store.manage("sync", "--once", "--quiet", timeout=3600)
        elapsed = time.perf_counter() - started
        loaded = store.value("select count(*) from catalog_product")
        assert loaded >= products, loaded
        return elapsed
    finally:
        _pg_drop(cloud)


def bench_price_visible(workdir: Path, changes: int) -> float:
    cloud = _pg_cloud(workdir, "price")
    worker = None
    try:
        cloud.manage("seed_demo", "--products", "100", "--members", "5", timeout=600)
        code = _enroll_code(cloud)
        cloud.serve()
        store = make_node("store", workdir, "S01")
        store.manage("enroll", "--cloud", cloud.url, "--code", code)
        store.manage("sync", "--once", "--quiet")
        # INFO: its requests and nudge-socket troubles are in the output when a price is never seen.
        worker = store.spawn("syncworker", "--interval", "30", env={"LOG_LEVEL": "INFO"})
        # Drain the worker's output: an unread pipe fills up and blocks the worker on its next log line.
        worker_output: list[str] = []
        threading.Thread(target=lambda: worker_output.extend(worker.stdout), daemon=True).start()
        time.sleep(4)
        seen: dict[str, float] = {}
        watch_errors: list[str] = []
        stop = threading.Event()

        def watch():
            # closing(): a sqlite3 connection's own ``with`` only commits, and a connection left open
            # on this node's file broke the next bench's store made at the same path (disk I/O error).
            with contextlib.closing(sqlite3.connect(store.db, timeout=20)) as db:
                while not stop.is_set():
                    try:
                        rows = db.execute(
                            "select distinct amount from catalog_price where amount >= 5000"
                        ).fetchall()
                    except sqlite3.Error as exc:  # a busy read is retried, never the end of the watch
                        watch_errors.append(repr(exc))
                        rows = []
                    for (amount,) in rows:
                        seen.setdefault(f"{float(amount):.2f}", time.time())
                    time.sleep(0.005)

        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        changer = cloud.spawn(
            "shell",
            "-c",
            "import time; from decimal import Decimal as D; from retail.catalog.models import Product\n"
            "from retail.catalog.services import price_set\n"
            "p = Product.objects.order_by('sku').first()\n"
            f"for i in range({changes}):\n"
            "    amount = D(5000 + i)\n"
            "    price_set(product=p, amount=amount); print(f'{amount:.2f} {time.time()}', flush=True); time.sleep(1.5)\n",
        )
        committed = {}
        for line in changer.stdout:
            parts = line.split()
            if len(parts) == 2 and parts[0].startswith("5"):
                committed[parts[0]] = float(parts[1])
        changer.wait()
        deadline = time.time() + 15
        while time.time() < deadline and not all(a in seen for a in committed):
            time.sleep(0.1)
        stop.set()
        watcher.join(30)  # its connection closed before the next bench
        latencies = sorted(max(0.0, (seen.get(a, float("inf")) - t) * 1000) for a, t in committed.items())
        assert len(latencies) == changes, committed
        missing = sorted(set(committed) - set(seen))
        if missing or watch_errors:
            print(
                f"price_visible: never seen {missing}; watcher errors {watch_errors[:5]}; worker said:\n"
                + "".join(worker_output[-60:]),
                file=sys.stderr,
            )
        return latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))]
    finally:
        if worker is not None:
            worker.terminate()
            worker.wait(10)
        _pg_drop(cloud)


def _figure(figures: dict, name: str, value: float, unit: str, target: float, better: str) -> None:
    """Record a figure and print it at once: the full run takes long, and may not reach the end."""
    figures[name] = {"value": value, "unit": unit, "target": target, "better": better}
    print(f"   ({name} {value:.2f} {unit}, target {target})", flush=True)


def run(quick: bool) -> dict:
    figures: dict = {}
    try:
        return _run(quick, figures)
    except Exception as exc:
        if not figures:
            raise
        raise BenchIncomplete(figures) from exc


def _run(quick: bool, figures: dict) -> dict:
    workdir = Path(tempfile.mkdtemp(prefix="omnitill-sync-bench-"))
    sales = 2_000 if quick else 20_000
    catchup_s, rss_mb = bench_catchup(workdir, sales, 500 if quick else 5_000)
    _figure(figures, "sync.catchup_100k_s", catchup_s, "s", 10, "lower")
    _figure(figures, "sync.catchup_peak_rss_mb", rss_mb, "MB", 250, "lower")
    ingest = bench_ingest(workdir, 20_000 if quick else 100_000)
    _figure(figures, "sync.cloud_ingest_events_per_s", ingest, "events/s", 20000, "higher")
    catalog = bench_catalog_load(workdir, 10_000 if quick else 100_000)
    _figure(figures, "sync.catalog_load_100k_s", catalog, "s", 15, "lower")
    visible = bench_price_visible(workdir, 15 if quick else 40)
    _figure(figures, "sync.price_visible_p99_ms", visible, "ms", 1000, "lower")
    if not quick:  # the longest last
        million = bench_catalog_load(workdir, 1_000_000, demo_products=20_000)
        _figure(figures, "sync.catalog_load_1m_s", million, "s", 150, "lower")
    return figures


if __name__ == "__main__":
    for name, figure in run(quick="--quick" in sys.argv).items():
        print(f"{name:34s} {figure['value']:10.2f} {figure['unit']}  (target {figure['target']})")
