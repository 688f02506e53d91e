"""Buy online, pick up in store: how soon an online order is at its store.

* ``cloud.bopis_to_store_p99_ms``: a cloud (daphne on PostgreSQL) and a store running
  ``manage.py syncworker`` (nudge socket on); the web shop places 30 pickup orders through the API
  (10 with ``--quick``), one a second; from just before the ``POST /api/v1/orders`` to the order's
  row being readable in the store's database (``store_orders_pickuporder``, what the handheld and
  the till list). The order travels as ``order.placed``: commit, nudge, the store's pull, its apply.

Standalone: ``.venv/bin/python tests/benchmarks/bopis_bench.py [--quick]``.
"""

from __future__ import annotations

import sqlite3
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if __package__ in (None, ""):
    sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from tests.benchmarks.sync_bench import _enroll_code, _pg_cloud, _pg_drop  # noqa: E402
from tests.system.nodes import make_node  # noqa: E402


def bench_bopis(workdir: Path, orders: int) -> float:
    cloud = _pg_cloud(workdir, "bopis")
    worker = None
    try:
        cloud.manage("seed_demo", "--products", "100", "--members", "5", timeout=600)
        code = _enroll_code(cloud)
        key = cloud.shell(
            "from cloud.api.services import api_key_create as c\n"
            "print(c(name='Bench shop', rate_limit_per_minute=100000)[1])"
        )
        skus = cloud.shell(
            "from retail.stock.models import StockLevel\n"
            "print(' '.join(StockLevel.objects.filter(store__code='S01', on_hand__gte=1, product__unit='each')"
            ".order_by('-on_hand').values_list('product__sku', flat=True)[:50]))"
        ).split()
        assert skus, "the demo seed left S01 without stock"
        cloud.serve()
        store = make_node("store", workdir, "S01")
        store.manage("enroll", "--cloud", cloud.url, "--code", code)
        store.manage("sync", "--once", "--quiet")
        worker = store.spawn("syncworker", "--interval", "30", env={"LOG_LEVEL": "INFO"})
        worker_output: list[str] = []
        threading.Thread(target=lambda: worker_output.extend(worker.stdout), daemon=True).start()
        time.sleep(4)
        seen: dict[str, float] = {}
        stop = threading.Event()

        def watch():
            with sqlite3.connect(store.db, timeout=20) as db:
                while not stop.is_set():
                    try:
                        rows = db.execute("select number from store_orders_pickuporder").fetchall()
                    except sqlite3.Error:  # a busy read (or the table before migrate) is retried
                        rows = []
                    now = time.time()
                    for (number,) in rows:
                        seen.setdefault(number, now)
                    time.sleep(0.005)

        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        placed: dict[str, float] = {}
        with httpx.Client(base_url=f"{cloud.url}/api/v1", headers={"X-API-Key": key}, timeout=30) as api:
            for i in range(orders):
                body = {
                    "reference": f"bench-{i}",
                    "fulfilment": "pickup",
                    "store": "S01",
                    "prepaid": True,
                    "lines": [{"sku": skus[i % len(skus)], "quantity": "1"}],
                }
                started = time.time()
                response = api.post("/orders", json=body)
                assert response.status_code == 201, response.text
                placed[response.json()["number"]] = started
                time.sleep(1.0)
        deadline = time.time() + 15
        while time.time() < deadline and not all(n in seen for n in placed):
            time.sleep(0.1)
        stop.set()
        latencies = sorted(max(0.0, (seen.get(n, float("inf")) - t) * 1000) for n, t in placed.items())
        missing = sorted(set(placed) - set(seen))
        print("bopis: latencies (ms) " + " ".join(f"{v:.0f}" for v in latencies), file=sys.stderr)
        if missing:
            print(
                f"bopis: never seen {missing}; worker said:\n" + "".join(worker_output[-60:]), file=sys.stderr
            )
        return latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))]
    finally:
        if worker is not None:
            worker.terminate()
            worker.wait(10)
        _pg_drop(cloud)


def run(quick: bool) -> dict:
    workdir = Path(tempfile.mkdtemp(prefix="omnitill-bopis-bench-"))
    return {
        "cloud.bopis_to_store_p99_ms": {
            "value": bench_bopis(workdir, 10 if quick else 30),
            "unit": "ms",
            "target": 1000,
            "better": "lower",
        }
    }


if __name__ == "__main__":
    for name, figure in run(quick="--quick" in sys.argv).items():
        print(f"{name:34s} {figure['value']:10.2f} {figure['unit']}  (target {figure['target']})")
