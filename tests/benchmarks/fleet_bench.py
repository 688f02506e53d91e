"""The fleet on the production-shaped cloud: ``manage.py fleet`` against ``deploy/prodlike.py``.

Cloud: nginx (TLS) in front of 2 daphne workers on ``cloud.settings.prod``, PostgreSQL (a database
of this bench's own, dropped after) and Redis. Fleet: simulated stores speaking the sync protocol
(store_node/fleet/simulator.py), one process, on the same 2-core machine. Head office changes a
price every 5 s during the steady phase, so the stores also receive catalog changes.

* ``fleet.stores``: nudge sockets held at once during the steady phase (every store connected).
* ``fleet.sync_p99_ms``: from a sale rung at a store to the cloud's acknowledgement of its last
  event, p99 over the steady phase (each store rings a sale every 10 s on average): the sales rung
  once every store is connected (synced once, holding its nudge socket). All stores start in the
  same second; until the last is connected is the connect phase, printed on its own line.
* ``fleet.sync_p99_with_connect_ms``: the same p99 over the sales of both phases (the figure
  ``fleet.sync_p99_ms`` was before the connect phase was told apart, 2026-12-04).
* ``fleet.reconnect_storm_s``: every store offline, each with an outage's backlog of sales in its
  outbox (360 sales = an hour at one per 10 s), all back at once: until every store has pushed
  its backlog and pulled to the feed's head. When the fleet is not caught up within the timeout
  the figure is the timeout (a lower bound) and the report says so.

Full: 500 stores, 120 s steady after the connect phase, 360 sales each offline over an hour, 600 s timeout.
Quick: 50 stores, 60 s steady, 36 sales each over 6 minutes, 180 s timeout.

Standalone: ``.venv/bin/python tests/benchmarks/fleet_bench.py [--quick]``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if __package__ in (None, ""):
    sys.path.insert(0, str(ROOT))

from deploy.prodlike import ProdLikeCloud  # noqa: E402

PY = sys.executable

PRICE_LOOP = (
    "import random, time\n"
    "from decimal import Decimal as D\n"
    "from retail.catalog.models import Product\n"
    "from retail.catalog.services import price_set\n"
    "ps = list(Product.objects.filter(unit='each').order_by('sku')[:200]); rng = random.Random(5)\n"
    "for i in range({n}):\n"
    "    price_set(product=rng.choice(ps), amount=D(rng.randint(100, 999)) / 100)\n"
    "    time.sleep(5)\n"
)


def fleet_figures(*, stores: int, steady_s: float, backlog: int, offline_s: float, timeout_s: float) -> dict:
    workdir = Path(tempfile.mkdtemp(prefix="omnitill-fleet-bench-"))
    cloud = ProdLikeCloud(
        workers=2,
        first_port=8701,
        http_port=8780,
        https_port=8743,
        database=f"omnitill_fleet_bench_{os.getpid()}",
        fresh=True,
        redis_url="redis://127.0.0.1:6379/6",
        workdir=ROOT / "var" / "prodlike-fleet-bench",
    )
    try:
        cloud.prepare()
        run = {"cwd": ROOT, "env": cloud.env, "check": True, "capture_output": True, "text": True}
        subprocess.run(
            [PY, "manage.py", "seed_demo", "--products", "300", "--members", "1000"], timeout=900, **run
        )
        setup = subprocess.run(
            [PY, "manage.py", "fleet_stores", "--count", str(stores), "--members", "1000"], timeout=900, **run
        ).stdout
        (workdir / "fleet.json").write_text(setup)
        cloud.fresh = False  # start() prepares again: keep the seeded database
        cloud.start()
        prices = subprocess.Popen(
            [PY, "manage.py", "shell", "-c", PRICE_LOOP.format(n=int(steady_s // 5) + 6)],
            cwd=ROOT,
            env=cloud.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            report_path = workdir / "report.json"
            env = {k: v for k, v in os.environ.items() if k not in ("DJANGO_SETTINGS_MODULE", "DATABASE_URL")}
            env.update(POS_ROLE="store", STORE_DB_PATH=str(workdir / "fleet-store.sqlite3"))
            fleet = subprocess.run(
                [
                    PY, "manage.py", "fleet", "--setup", str(workdir / "fleet.json"), "--url", cloud.url,
                    "--cafile", str(cloud.workdir / "cert.pem"), "--duration", str(steady_s),
                    "--sale-every", "10", "--storm-backlog", str(backlog), "--storm-offline", str(offline_s),
                    "--storm-timeout", str(timeout_s), "--quiet", "--json", str(report_path),
                    "--cloud-pids", ",".join(str(p.pid) for k, p in cloud.processes.items() if k.startswith("daphne")),
                ],
                cwd=ROOT, env=env, capture_output=True, text=True, timeout=steady_s + timeout_s + 1800,
            )  # fmt: skip
        finally:
            prices.kill()
            prices.wait()
        if fleet.returncode != 0:
            raise RuntimeError(f"manage.py fleet failed:\n{fleet.stdout[-3000:]}\n{fleet.stderr[-3000:]}")
        print(fleet.stdout.strip(), flush=True)
        return json.loads(report_path.read_text())
    finally:
        cloud.stop()
        subprocess.run(
            ["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", "postgres", "-qc",
             f'DROP DATABASE IF EXISTS "{cloud.database}" WITH (FORCE)'],
            capture_output=True,
        )  # fmt: skip


def run(quick: bool) -> dict:
    if quick:
        report = fleet_figures(stores=50, steady_s=60, backlog=36, offline_s=360, timeout_s=180)
    else:
        report = fleet_figures(stores=500, steady_s=120, backlog=360, offline_s=3600, timeout_s=600)
    steady, storm = report["steady"], report["storm"]
    storm_s = storm["caught_up_s"] if storm["caught_up"] else storm["seconds"]
    return {
        "fleet.stores": {
            "value": steady["sockets_peak"],
            "unit": "stores",
            "target": 500,
            "better": "higher",
        },
        "fleet.sync_p99_ms": {
            "value": steady["sync_p99_ms"],
            "unit": "ms",
            "target": 1000,
            "better": "lower",
        },
        "fleet.sync_p99_with_connect_ms": {
            "value": steady["sync_p99_ms_with_connect"],
            "unit": "ms",
            "target": 1000,
            "better": "lower",
        },
        "fleet.reconnect_storm_s": {"value": storm_s, "unit": "s", "target": 60, "better": "lower"},
    }


if __name__ == "__main__":
    for name, figure in run(quick="--quick" in sys.argv).items():
        print(f"{name:34s} {figure['value']} {figure['unit']}  (target {figure['target']})")
