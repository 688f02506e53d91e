"""Cloud speed through the real HTTP stack: daphne on loopback, a fresh SQLite database.

Setup (not measured): ``manage.py migrate``, then 50 stores, 500 products with chain prices (every
tenth store with its own price for a fifth of them), stock of every product in every store, and the
daily rollups of 1,000,000 sales over 365 days (100,000 with ``--quick``) written in bulk straight
into the reporting tables: ``DailyStoreSales`` (store and online channels), ``DailyTender``,
``DailyProductSales`` (60 products per store and day), ``DailyChainProductSales`` and
``MonthlyChainProductSales``; then ``ANALYZE``. That is a fair
stand-in for applying the sales one by one because the dashboard reads only these tables. Stores'
last contact (cloud.sync) is set, a fifth of them stale. daphne serves ``cloud.asgi`` with
``DEBUG=0``; an httpx keep-alive client logs into the admin as head office.

* ``cloud.dashboard_p99_ms``: p99 of ``GET /admin/reporting/dailystoresales/`` -- the dashboard
  page rendered by the real admin view with every figure -- cycling through the last 30 days, the
  last 365 days and one store's last 90 days (200 requests; 60 quick).
* ``cloud.availability_p99_ms``: p99 of the web shop's ``GET /api/v1/products/{sku}/availability``
  for a random product across the 50 stores, authenticated by API key and rate limited (500
  requests; 150 quick).

Standalone: ``.venv/bin/python tests/benchmarks/cloud_bench.py [--quick]``.
"""

from __future__ import annotations

import os
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if __package__ in (None, ""):
    sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from tests.benchmarks.servers import daphne_start  # noqa: E402

STORES = 50
PRODUCTS = 500
DAYS = 365
PASSWORD = "bench-password-1"


def _p99(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(0.99 * (len(ordered) - 1))))]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def load(sales: int) -> str:
    """Run inside the cloud's Django (see ``Cloud.start``): writes the data set, returns an API key."""
    from datetime import timedelta
    from decimal import Decimal

    from django.db import connection, transaction
    from django.utils import timezone

    from cloud.api.services import api_key_create
    from cloud.headoffice.roles import roles_setup
    from retail.catalog.models import Price, Product, TaxClass
    from retail.staff.models import Role, User
    from retail.stock.models import StockLevel
    from retail.stores.models import Store

    rng = random.Random(7)
    now = timezone.now()
    today = timezone.localdate()
    roles_setup()
    with transaction.atomic():
        tax = TaxClass.objects.create(code="STD", name="Standard")
        stores = Store.objects.bulk_create(
            [Store(code=f"S{n:02d}", name=f"Store {n}", time_zone="UTC") for n in range(1, STORES + 1)]
        )
        products = Product.objects.bulk_create(
            [Product(sku=f"{100000 + n}", name=f"Product {n}", tax_class=tax) for n in range(PRODUCTS)]
        )
        epoch = now - timedelta(days=400)
        prices = [
            Price(product=p, amount=Decimal(rng.randint(50, 2000)) / 100, effective_from=epoch)
            for p in products
        ]
        prices += [
            Price(product=p, store=s, amount=Decimal(rng.randint(50, 2000)) / 100, effective_from=epoch)
            for s in stores[::10]
            for p in products[::5]
        ]
        Price.objects.bulk_create(prices, batch_size=2000)
        StockLevel.objects.bulk_create(
            [
                StockLevel(store=s, product=p, on_hand=Decimal(rng.randint(0, 40)))
                for s in stores
                for p in products
            ],
            batch_size=5000,
        )
        admin = User(username="hq", role=Role.HEAD_OFFICE, is_staff=True, is_superuser=False)
        admin.set_password(PASSWORD)
        admin.save()
        try:
            from cloud.sync.models import StoreSyncState

            StoreSyncState.objects.bulk_create(
                [
                    StoreSyncState(
                        store=s, last_contact_at=now - timedelta(hours=3 if i % 5 == 0 else 0, seconds=20)
                    )
                    for i, s in enumerate(stores)
                ]
            )
        except ImportError:
            pass
        per_store_day = sales / (STORES * DAYS)
        store_rows, tender_rows, product_rows, chain = [], [], [], {}
        for d in range(DAYS):
            day = (today - timedelta(days=d)).isoformat()
            for s in stores:
                count = max(1, int(rng.gauss(per_store_day, per_store_day / 5)))
                total = Decimal(count) * Decimal(rng.randint(800, 3000)) / 100
                members = count * rng.randint(20, 60) // 100
                store_rows.append(
                    (
                        day,
                        s.id.hex,
                        "store",
                        count,
                        count // 40,
                        total,
                        total * Decimal("0.16"),
                        total / 20,
                        count * 4,
                        count * 5,
                        members,
                        total * members / count,
                        count * 12,
                        now,
                    )
                )
                if rng.random() < 0.2:
                    store_rows.append(
                        (
                            day,
                            s.id.hex,
                            "online",
                            count // 10 + 1,
                            0,
                            total / 10,
                            total / 60,
                            0,
                            count // 2,
                            count // 2,
                            1,
                            total / 20,
                            count,
                            now,
                        )
                    )
                for kind, share in (
                    ("cash", Decimal("0.35")),
                    ("card", Decimal("0.6")),
                    ("points", Decimal("0.05")),
                ):
                    tender_rows.append((day, s.id.hex, kind, int(count * share) + 1, total * share))
                for p in rng.sample(products, 60):
                    q = rng.randint(1, 12)
                    amount = Decimal(q) * Decimal(rng.randint(50, 2000)) / 100
                    product_rows.append((day, s.id.hex, p.id.hex, q, amount))
                    key = (day, p.id.hex)
                    old = chain.get(key, (0, Decimal(0)))
                    chain[key] = (old[0] + q, old[1] + amount)
        q = lambda v: str(Decimal(v).quantize(Decimal("0.01")))  # noqa: E731
        with connection.cursor() as cursor:
            cursor.executemany(
                "INSERT INTO reporting_dailystoresales (day, store_id, channel, sales_count, returns_count, total,"
                " tax_total, discount_total, lines_count, units, member_sales_count, member_total, points_earned,"
                " updated_at) VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s)",
                [
                    (*r[:5], q(r[5]), q(r[6]), q(r[7]), r[8], r[9], r[10], q(r[11]), r[12], r[13])
                    for r in store_rows
                ],
            )
            cursor.executemany(
                "INSERT INTO reporting_dailytender (day, store_id, kind, count, amount) VALUES (%s,%s,%s,%s,%s)",
                [(*r[:4], q(r[4])) for r in tender_rows],
            )
            cursor.executemany(
                "INSERT INTO reporting_dailyproductsales (day, store_id, product_id, quantity, total)"
                " VALUES (%s,%s,%s,%s,%s)",
                [(*r[:4], q(r[4])) for r in product_rows],
            )
            months: dict = {}
            for (day, pid), (qty, amount) in chain.items():
                key = (day[:8] + "01", pid)
                old = months.get(key, (0, Decimal(0)))
                months[key] = (old[0] + qty, old[1] + amount)
            cursor.executemany(
                "INSERT INTO reporting_monthlychainproductsales (month, product_id, quantity, total)"
                " VALUES (%s,%s,%s,%s)",
                [(month, pid, qty, q(amount)) for (month, pid), (qty, amount) in months.items()],
            )
            cursor.executemany(
                "INSERT INTO reporting_dailychainproductsales (day, product_id, quantity, total) VALUES (%s,%s,%s,%s)",
                [(day, pid, qty, q(amount)) for (day, pid), (qty, amount) in chain.items()],
            )
        _, plain = api_key_create(name="bench", rate_limit_per_minute=10_000_000)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return plain


class Cloud:
    """A cloud in a temp directory: migrated, loaded, served by daphne until ``stop()``."""

    def __init__(self, sales: int):
        self.dir = Path(tempfile.mkdtemp(prefix="omnitill-cloud-bench-"))
        self.env = {
            **{k: v for k, v in os.environ.items() if k not in ("DJANGO_SETTINGS_MODULE", "REDIS_URL")},
            "POS_ROLE": "cloud",
            "DJANGO_SETTINGS_MODULE": "cloud.settings.dev",
            "DEBUG": "0",
            "DATABASE_URL": f"sqlite:///{self.dir / 'cloud.sqlite3'}",
            "LOG_LEVEL": "WARNING",
        }
        self.sales = sales
        self.port = _free_port()
        self.proc: subprocess.Popen | None = None
        self.api_key = ""

    def start(self) -> None:
        run = {
            "cwd": ROOT,
            "env": self.env,
            "check": True,
            "capture_output": True,
            "text": True,
            "timeout": 900,
        }
        subprocess.run([sys.executable, "manage.py", "migrate", "--no-input", "-v0"], **run)
        script = (
            "import django; django.setup(); from tests.benchmarks.cloud_bench import load; "
            f"print('KEY=' + load({self.sales}))"
        )
        out = subprocess.run([sys.executable, "-c", script], **run).stdout
        self.api_key = re.search(r"KEY=(\S+)", out).group(1)
        self.proc = daphne_start("cloud.asgi:application", port=self.port, env=self.env)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def admin_client(self) -> httpx.Client:
        client = httpx.Client(base_url=self.url, timeout=30, follow_redirects=False)
        page = client.get("/admin/login/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
        r = client.post(
            "/admin/login/?next=/admin/",
            data={"csrfmiddlewaretoken": token, "username": "hq", "password": PASSWORD},
            headers={"Referer": f"{self.url}/admin/login/"},
        )
        if r.status_code != 302:
            raise RuntimeError(f"admin login failed: {r.status_code}")
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


def _timed(client: httpx.Client, url: str, samples: list[float], **kw) -> httpx.Response:
    started = time.perf_counter()
    response = client.get(url, **kw)
    samples.append((time.perf_counter() - started) * 1000)
    if response.status_code != 200:
        raise RuntimeError(f"GET {url}: {response.status_code} {response.text[:300]}")
    return response


def run(quick: bool) -> dict:
    cloud = Cloud(sales=100_000 if quick else 1_000_000)
    try:
        cloud.start()
        rng = random.Random(11)
        dashboard, availability = [], []
        client = cloud.admin_client()
        try:
            today = time.strftime("%Y-%m-%d", time.gmtime())
            year_ago = time.strftime("%Y-%m-%d", time.gmtime(time.time() - 364 * 86400))
            quarter = time.strftime("%Y-%m-%d", time.gmtime(time.time() - 89 * 86400))
            views = [
                "/admin/reporting/dailystoresales/",
                f"/admin/reporting/dailystoresales/?from={year_ago}&to={today}",
                f"/admin/reporting/dailystoresales/?from={quarter}&to={today}&store=S07",
            ]
            first = client.get(views[0]).text
            if "Sales dashboard" not in first or "provisional" not in first:
                raise RuntimeError("the dashboard did not render its figures")
            for i in range(3):  # warm-up
                client.get(views[i])
            for i in range(60 if quick else 200):
                _timed(client, views[i % len(views)], dashboard)
        finally:
            client.close()
        with httpx.Client(base_url=cloud.url, timeout=30, headers={"X-Api-Key": cloud.api_key}) as shop:
            shop.get("/api/v1/products/100000/availability")
            for _ in range(150 if quick else 500):
                body = _timed(
                    shop, f"/api/v1/products/{100000 + rng.randrange(PRODUCTS)}/availability", availability
                )
                if len(body.json()["stores"]) != STORES:
                    raise RuntimeError("availability did not cover every store")
    finally:
        cloud.stop()
    return {
        "cloud.dashboard_p99_ms": {"value": _p99(dashboard), "unit": "ms", "target": 500, "better": "lower"},
        "cloud.availability_p99_ms": {
            "value": _p99(availability),
            "unit": "ms",
            "target": 20,
            "better": "lower",
        },
    }


if __name__ == "__main__":
    for name, figure in run(quick="--quick" in sys.argv).items():
        print(f"{name}: {figure['value']:.2f} {figure['unit']} (target {figure['target']})")
