"""Store checkout speed through the real HTTP stack: daphne on loopback, a fresh SQLite (WAL) database.

Setup (not measured): ``manage.py migrate`` and ``checkout_loadtest_setup`` load 100,000 products
(10,000 with ``--quick``) with barcodes, prices and the FTS5 name index, 4 terminals with open
shifts; daphne serves ``store_node.asgi`` with ``DEBUG=0``; httpx keep-alive clients log in with
the cashier's PIN. Then:

* ``store.add_line_p99_ms``: p99 of ``POST sales/{id}/lines`` (scan an EAN-13) into sales grown to
  50 lines, one terminal at a time (1,000 scans; 200 quick).
* ``store.complete_sale_p99_ms``: p99 of ``POST sales/{id}/complete`` of 5-line sales paid in cash
  (tender in the same request): sale, lines, tax lines, tender, receipt number, 5 stock movements,
  6 events, print job and drawer kick (200 sales; 40 quick).
* ``store.search_p99_ms``: p99 of ``GET products/search?q=`` with one or two word prefixes
  (500 searches; 200 quick).
* ``store.sales_per_s``: completed sales per second sustained for 10 s (5 s quick) by 4 terminals
  in parallel (one thread and connection each), each sale being the whole cashier flow: open,
  5 scans, complete with cash -- 7 requests per sale, all against the one store process.

Beside each figure the run prints the median and the store process's CPU time per request (from
``/proc``): on a shared machine the tail latencies mostly measure the other processes, the CPU time
per request does not.

Standalone: ``.venv/bin/python tests/benchmarks/store_bench.py [--quick]``.
"""

from __future__ import annotations

import os
import random
import shutil
import socket
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

from tests.benchmarks.servers import daphne_start  # noqa: E402

TERMINALS = 4


def _pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def _p99(samples: list[float], what: str = "") -> float:
    if what:  # the median too, for context: on a shared machine the tail is mostly other processes
        print(
            f"   ({what}: p50 {_pct(samples, 0.5):.1f} ms, p99 {_pct(samples, 0.99):.1f} ms, n={len(samples)})"
        )
    return _pct(samples, 0.99)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _ean13(first12: str) -> str:
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(first12))
    return first12 + str((10 - total % 10) % 10)


def _barcode(i: int) -> str:
    # Same as store_node.checkout.management.commands.checkout_loadtest_setup.barcode_of
    return _ean13(f"29{i:010d}")


class StoreNode:
    """A store node in a temp directory: migrated, loaded, served by daphne until ``stop()``."""

    def __init__(self, products: int, terminals: int = TERMINALS):
        self.dir = Path(tempfile.mkdtemp(prefix="omnitill-bench-"))
        self.env = {
            **{k: v for k, v in os.environ.items() if k not in ("DJANGO_SETTINGS_MODULE", "DATABASE_URL")},
            "POS_ROLE": "store",
            "DJANGO_SETTINGS_MODULE": "store_node.settings.dev",
            "DEBUG": "0",
            "STORE_CODE": "S01",
            "STORE_DB_PATH": str(self.dir / "store.sqlite3"),
            "LOG_LEVEL": "WARNING",
        }
        self.products, self.terminals = products, terminals
        self.proc: subprocess.Popen | None = None
        self.port = _free_port()

    def manage(self, *args: str) -> None:
        subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            check=True,
            capture_output=True,
            timeout=600,
        )

    def start(self) -> None:
        self.manage("migrate", "--no-input", "-v0")
        self.manage("checkout_loadtest_setup", f"--products={self.products}", f"--terminals={self.terminals}")
        self.proc = daphne_start("store_node.asgi:application", port=self.port, env=self.env)

    def cpu_ms(self) -> float:
        """CPU time (user + system) the server process has used so far, in ms."""
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) * 1000 / os.sysconf("SC_CLK_TCK")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def client(self, terminal: int) -> httpx.Client:
        client = httpx.Client(base_url=f"{self.url}/api/checkout/", timeout=30)
        r = client.post(
            "terminal/login", json={"terminal": f"T{terminal:02d}", "username": "cashier", "pin": "1111"}
        )
        r.raise_for_status()
        client.headers["Authorization"] = f"Terminal {r.json()['token']}"
        return client

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


def _ok(response: httpx.Response) -> dict:
    if response.status_code >= 400:
        raise RuntimeError(
            f"{response.request.method} {response.request.url}: {response.status_code} {response.text}"
        )
    return response.json()


def _timed(fn, samples: list[float]):
    started = time.perf_counter()
    result = fn()
    samples.append((time.perf_counter() - started) * 1000)
    return result


def bench_add_line(client: httpx.Client, rng: random.Random, products: int, scans: int) -> float:
    samples: list[float] = []
    while len(samples) < scans:
        sale = _ok(client.post("sales"))
        for _ in range(min(50, scans - len(samples))):
            code = _barcode(rng.randrange(products))
            _ok(
                _timed(
                    lambda c=code, s=sale["id"]: client.post(f"sales/{s}/lines", json={"scan": c}), samples
                )
            )
        _ok(
            client.post(
                f"sales/{sale['id']}/complete", json={"tenders": [{"kind": "cash", "tendered": "9999.00"}]}
            )
        )
    return _p99(samples, "add line")


def _five_line_sale(client: httpx.Client, rng: random.Random, products: int) -> str:
    sale = _ok(client.post("sales"))
    for _ in range(5):
        _ok(client.post(f"sales/{sale['id']}/lines", json={"scan": _barcode(rng.randrange(products))}))
    return sale["id"]


def bench_complete(client: httpx.Client, rng: random.Random, products: int, sales: int) -> float:
    samples: list[float] = []
    for _ in range(sales):
        sale_id = _five_line_sale(client, rng, products)
        body = {"tenders": [{"kind": "cash", "tendered": "500.00"}]}
        _ok(_timed(lambda s=sale_id, b=body: client.post(f"sales/{s}/complete", json=b), samples))
    return _p99(samples, "complete sale")


def bench_search(client: httpx.Client, rng: random.Random, searches: int) -> float:
    words = [
        "gou",
        "milk",
        "esp",
        "olive oil",
        "dark choc",
        "alpen",
        "crème",
        "tea",
        "past fus",
        "hon",
        "sham",
        "bergq",
        "wat",
        "nord butter",
        "rye",
    ]
    samples: list[float] = []
    for _ in range(searches):
        q = rng.choice(words)
        _ok(_timed(lambda q=q: client.get("products/search", params={"q": q}), samples))
    return _p99(samples, "search")


def bench_throughput(node: StoreNode, products: int, seconds: float) -> float:
    clients = [node.client(t) for t in range(1, node.terminals + 1)]
    done = [0] * len(clients)
    stop = threading.Event()
    errors: list[BaseException] = []

    def ring(i: int) -> None:
        rng = random.Random(100 + i)
        client = clients[i]
        try:
            while not stop.is_set():
                sale_id = _five_line_sale(client, rng, products)
                _ok(
                    client.post(
                        f"sales/{sale_id}/complete",
                        json={"tenders": [{"kind": "cash", "tendered": "500.00"}]},
                    )
                )
                done[i] += 1
        except BaseException as e:  # report, don't hang
            errors.append(e)

    threads = [threading.Thread(target=ring, args=(i,)) for i in range(len(clients))]
    for t in threads:
        t.start()
    time.sleep(1.0)  # warm up
    before, started, cpu = sum(done), time.perf_counter(), node.cpu_ms()
    time.sleep(seconds)
    completed, elapsed = sum(done) - before, time.perf_counter() - started
    cpu = node.cpu_ms() - cpu
    stop.set()
    for t in threads:
        t.join(30)
    for c in clients:
        c.close()
    if errors:
        raise RuntimeError(f"throughput run failed: {errors[0]!r}")
    print(
        f"   (sales/s: {completed} sales of 7 requests each in {elapsed:.1f} s by {len(clients)} terminals; "
        f"store process CPU {cpu / max(completed, 1):.1f} ms per sale, {cpu / 1000 / elapsed:.2f} cores busy)"
    )
    return completed / elapsed


def _cpu_note(node: StoreNode, since: float, what: str, requests: int) -> float:
    now = node.cpu_ms()
    print(f"   ({what}: store process CPU {(now - since) / requests:.1f} ms per request, n={requests})")
    return now


def run(quick: bool) -> dict:
    products = 10_000 if quick else 100_000
    node = StoreNode(products)
    try:
        node.start()
        rng = random.Random(42)
        client = node.client(1)
        for _ in range(20):  # warm up the process and SQLite's page cache
            client.get("products/search", params={"q": "milk"})
        scans, sales, searches = (200, 40, 200) if quick else (1000, 200, 500)
        cpu = node.cpu_ms()
        add_line = bench_add_line(client, rng, products, scans)
        cpu = _cpu_note(node, cpu, "add line phase", scans + 2 * -(-scans // 50))
        complete = bench_complete(client, rng, products, sales)
        cpu = _cpu_note(node, cpu, "complete phase", 7 * sales)
        search = bench_search(client, rng, searches)
        _cpu_note(node, cpu, "search phase", searches)
        client.close()
        per_s = bench_throughput(node, products, 5 if quick else 10)
    finally:
        node.stop()
    return {
        "store.add_line_p99_ms": {"value": add_line, "unit": "ms", "target": 15, "better": "lower"},
        "store.complete_sale_p99_ms": {"value": complete, "unit": "ms", "target": 40, "better": "lower"},
        "store.sales_per_s": {"value": per_s, "unit": "sales/s", "target": 150, "better": "higher"},
        "store.search_p99_ms": {"value": search, "unit": "ms", "target": 30, "better": "lower"},
    }


if __name__ == "__main__":
    for name, figure in run(quick="--quick" in sys.argv).items():
        print(f"{name:30s} {figure['value']:8.2f} {figure['unit']}  (target {figure['target']})")
