"""The chaos run's moving parts: the production-shaped cloud, real store nodes selling, and the faults.

Used by tests/system/test_chaos.py. Store nodes are the same processes as in production
(``manage.py runstore`` with its sync worker, or ``runstore --no-sync`` beside ``syncworker``), each
with a ``ring_sales`` loop on lane T01. S01 and S02 reach the cloud through the fault proxy
(tests/system/fault_proxy.py) on nginx's loopback plain-HTTP listener; S03 goes straight to nginx
over TLS. PostgreSQL and Redis are this machine's services: restarting them is what a real outage
does, so the run must own the machine (CI runs it in its own pytest process, last).
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

from deploy.prodlike import ProdLikeCloud
from tests.system.fault_proxy import FaultProxy
from tests.system.nodes import PY, ROOT, Node, free_port, make_node, wait_http

PG = "postgres://postgres@127.0.0.1:5432"
REDIS_START = [
    "redis-server", "--daemonize", "yes", "--bind", "127.0.0.1", "-::1", "--port", "6379", "--save", "",
    "--appendonly", "no", "--dir", "/var/lib/redis", "--logfile", "/var/log/redis/ci.log",
]  # fmt: skip

SETUP_CLOUD = (
    # ring_sales scans barcodes without weighing: the weighed products' barcodes stay out of this chain.
    "from retail.catalog.models import Barcode; Barcode.objects.filter(product__unit='kg').delete()\n"
    "from retail.staff.models import User, Role\n"
    "User.objects.create(username='cashier', first_name='Chaos', last_name='Till', role=Role.CASHIER)\n"
)
OPEN_SHIFT = (
    "from decimal import Decimal as D; from retail.stores.models import Terminal; from retail.staff.models import User\n"
    "from retail.shifts.services import shift_open\n"
    "shift_open(terminal=Terminal.objects.get(code='T01', store__code='{code}'), cashier=User.objects.get(username='cashier'), opening_float=D('100'))\n"
)


def require_services() -> None:
    """The chaos run needs PostgreSQL (as root, to restart it), Redis and nginx: fail loudly when missing."""
    problems = []
    if os.geteuid() != 0:
        problems.append("it must run as root (it restarts PostgreSQL and Redis)")
    if not shutil.which("pg_ctlcluster"):
        problems.append("pg_ctlcluster not found (PostgreSQL from the machine's packages)")
    if not shutil.which("redis-server") or not shutil.which("redis-cli"):
        problems.append("redis-server/redis-cli not found")
    try:
        psycopg.connect(f"{PG}/postgres", connect_timeout=3).close()
    except psycopg.Error as exc:
        problems.append(f"PostgreSQL at 127.0.0.1:5432 refuses: {exc}")
    if subprocess.run(["redis-cli", "ping"], capture_output=True, text=True).stdout.strip() != "PONG":
        problems.append("Redis at 127.0.0.1:6379 does not answer PING")
    if problems:
        raise AssertionError("the chaos run cannot start: " + "; ".join(problems))


def pg_version() -> str:
    return sorted(os.listdir("/etc/postgresql"), key=lambda v: int(v) if v.isdigit() else 0)[-1]


def pg_up() -> bool:
    try:
        psycopg.connect(f"{PG}/postgres", connect_timeout=2).close()
        return True
    except psycopg.Error:
        return False


def pg_restart() -> None:
    subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", pg_version(), "main", "restart"],
        check=True,
        capture_output=True,
        timeout=120,
    )


def pg_ensure_up() -> None:
    if not pg_up():
        subprocess.run(
            ["pg_ctlcluster", "--skip-systemctl-redirect", pg_version(), "main", "start"],
            capture_output=True,
            timeout=120,
        )


def redis_up() -> bool:
    return subprocess.run(["redis-cli", "ping"], capture_output=True, text=True).stdout.strip() == "PONG"


def redis_restart() -> None:
    subprocess.run(["redis-cli", "shutdown", "nosave"], capture_output=True, timeout=30)
    redis_ensure_up()


def redis_ensure_up() -> None:
    deadline = time.monotonic() + 30
    while not redis_up():
        if time.monotonic() > deadline:
            raise RuntimeError("Redis did not come back")
        Path("/var/log/redis").mkdir(parents=True, exist_ok=True)
        Path("/var/lib/redis").mkdir(parents=True, exist_ok=True)
        subprocess.run(REDIS_START, capture_output=True, timeout=30)
        time.sleep(0.5)


def pg_query(db: str, sql: str, *params):
    with psycopg.connect(f"{PG}/{db}", connect_timeout=10) as conn:
        return conn.execute(sql, params).fetchall()


@dataclass
class StoreRig:
    node: Node
    via_proxy: bool
    separate_sync: bool
    port: int = field(default_factory=free_port)
    store: subprocess.Popen | None = None
    sync: subprocess.Popen | None = None
    till: subprocess.Popen | None = None

    def _spawn(self, *args: str) -> subprocess.Popen:
        # Output to a log file: nobody reads a pipe here, and a full or closed pipe would stop the node.
        with open(self.node.db.with_suffix(".log"), "ab") as log:
            process = subprocess.Popen(
                [PY, "manage.py", *args], cwd=ROOT, env=self.node.env, stdout=log, stderr=subprocess.STDOUT
            )
        self.node.processes.append(process)
        return process

    def start_store(self) -> None:
        args = ["runstore", "--port", str(self.port), "--no-devices"]
        if self.separate_sync:
            args.append("--no-sync")
        self.store = self._spawn(*args)

    def start_sync(self) -> None:
        if self.separate_sync:
            self.sync = self._spawn("syncworker")

    def start_till(self) -> None:
        self.till = self._spawn("ring_sales", "--terminal", "T01")

    def start(self) -> None:
        self.start_store()
        self.start_sync()
        self.start_till()


@dataclass
class ChaosReport:
    seconds: float = 0.0
    faults: dict[str, int] = field(default_factory=dict)
    proxy: dict[str, int] = field(default_factory=dict)
    sales: dict[str, int] = field(default_factory=dict)
    events: dict[str, int] = field(default_factory=dict)
    cloud_sales: dict[str, int] = field(default_factory=dict)
    quarantined_cloud: int = 0
    quarantined_stores: int = 0
    security: dict[str, dict[str, int]] = field(default_factory=dict)

    def count(self, what: str) -> None:
        self.faults[what] = self.faults.get(what, 0) + 1

    def render(self) -> str:
        lines = [f"chaos run: {self.seconds:.0f} s of faults"]
        lines.append("  faults injected: " + ", ".join(f"{k} {v}" for k, v in sorted(self.faults.items())))
        lines.append("  fault proxy: " + ", ".join(f"{k} {v}" for k, v in sorted(self.proxy.items())))
        for code in sorted(self.sales):
            lines.append(
                f"  {code}: {self.sales[code]} sales completed, {self.events[code]} events; "
                f"at the cloud {self.cloud_sales.get(code, 0)} (each once)"
            )
        lines.append(f"  quarantined: cloud {self.quarantined_cloud}, stores {self.quarantined_stores}")
        for name, counts in self.security.items():
            lines.append(f"  security {name}: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
        return "\n".join(lines)


class ChaosRig:
    """The cloud, the proxy and three selling stores; ``stop()`` leaves the machine as it found it."""

    STORES = ("S01", "S02", "S03")

    def __init__(self, workdir: Path, *, seed: int, shared_services: bool = False):
        # shared_services: a developer machine whose PostgreSQL and Redis serve other people's runs;
        # the restarts are then left out, said so in the report, and the test fails unless asked.
        self.shared_services = shared_services
        self.rng = random.Random(seed)
        self.workdir = workdir
        self.cloud = ProdLikeCloud(
            workers=2,
            first_port=8801,
            http_port=8880,
            https_port=8843,
            plain_port=8890,
            database=f"omnitill_chaos_{os.getpid()}",
            fresh=True,
            redis_url="redis://127.0.0.1:6379/7",
            workdir=ROOT / "var" / "prodlike-chaos",
            extra_env={"SECURE_SSL_REDIRECT": "False"},  # the proxied stores speak plain HTTP on loopback
        )
        self.proxy: FaultProxy | None = None
        self.rigs: dict[str, StoreRig] = {}
        self.report = ChaosReport()

    def cloud_manage(self, *args: str, timeout: float = 600) -> str:
        result = subprocess.run(
            [PY, "manage.py", *args],
            cwd=ROOT,
            env=self.cloud.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if result.returncode != 0:
            raise AssertionError(f"cloud manage.py {' '.join(args)}: {result.stdout}\n{result.stderr}")
        return result.stdout

    def start(self) -> None:
        self.cloud.prepare()
        self.cloud_manage("seed_demo", "--products", "60", "--members", "10")
        self.cloud_manage("shell", "-c", SETUP_CLOUD)
        codes = (
            self.cloud_manage(
                "shell",
                "-c",
                "print('--OUT--')\nfrom cloud.sync.services import enrollment_code_create as c; from retail.stores.models import Store as S\n"
                f"print(' '.join(c(store=S.objects.get(code=k))[1] for k in {self.STORES!r}))",
            )
            .split("--OUT--", 1)[1]
            .split()
        )
        self.cloud.fresh = False
        self.cloud.start()
        self.proxy = FaultProxy(
            self.cloud.plain_port, seed=self.rng.randrange(1 << 30), fault_rate=0.3
        ).start()
        for code, enrollment in zip(self.STORES, codes, strict=True):
            node = make_node("store", self.workdir, code)
            direct = code == "S03"
            node.env["SSL_CERT_FILE"] = str(self.cloud.workdir / "cert.pem")
            # Enroll and load the snapshot over TLS; then the proxied stores switch to the proxy
            # (a dropped enrollment answer would burn the one-time code: not what this run tests).
            node.manage("enroll", "--cloud", self.cloud.url, "--code", enrollment)
            node.manage("sync", "--once", "--quiet", timeout=300)
            if not direct:
                node.manage(
                    "shell",
                    "-c",
                    "from store_node.sync.models import SyncCredential as C\n"
                    f"C.objects.update(cloud_url='{self.proxy.url}')",
                )
            node.manage("shell", "-c", OPEN_SHIFT.format(code=code))
            self.rigs[code] = StoreRig(node=node, via_proxy=not direct, separate_sync=direct)
        for rig in self.rigs.values():
            rig.start()

    # ------------------------------------------------------------ faults

    def kill(self, process: subprocess.Popen | None) -> None:
        if process is not None and process.poll() is None:
            os.kill(process.pid, signal.SIGKILL)
            process.wait()

    def fault_store(self) -> None:
        rig = self.rigs[self.rng.choice(self.STORES)]
        self.kill(rig.store)
        self.report.count("SIGKILL store node")
        time.sleep(self.rng.uniform(0.2, 1.5))
        rig.start_store()

    def fault_till(self) -> None:
        rig = self.rigs[self.rng.choice(self.STORES)]
        self.kill(rig.till)
        self.report.count("SIGKILL ring_sales")
        rig.start_till()

    def fault_sync_worker(self) -> None:
        rig = self.rigs["S03"]
        self.kill(rig.sync)
        self.report.count("SIGKILL sync worker")
        time.sleep(self.rng.uniform(0.2, 1.5))
        rig.start_sync()

    def fault_cloud_worker(self) -> None:
        port = self.cloud.first_port + self.rng.randrange(self.cloud.workers)
        self.kill(self.cloud.processes.get(f"daphne:{port}"))
        self.report.count("SIGKILL daphne worker")
        time.sleep(self.rng.uniform(0.5, 2.0))
        self.cloud.start_worker(port)

    def fault_postgres(self) -> None:
        if self.shared_services:
            self.report.count("PostgreSQL restart NOT DONE (OMNITILL_CHAOS_SHARED_SERVICES=1)")
            return
        pg_restart()
        self.report.count("PostgreSQL restart")

    def fault_redis(self) -> None:
        if self.shared_services:
            self.report.count("Redis restart NOT DONE (OMNITILL_CHAOS_SHARED_SERVICES=1)")
            return
        redis_restart()
        self.report.count("Redis restart")

    def run_faults(self, seconds: float) -> None:
        """Random process kills for ``seconds``; PostgreSQL restarted at a third, Redis at two thirds."""
        started = time.monotonic()
        pg_at, redis_at = started + seconds / 3, started + 2 * seconds / 3
        kinds = [self.fault_store, self.fault_till, self.fault_sync_worker, self.fault_cloud_worker]
        while time.monotonic() - started < seconds:
            time.sleep(self.rng.uniform(1.0, 4.0))
            now = time.monotonic()
            if pg_at and now >= pg_at:
                pg_at = 0
                self.fault_postgres()
            elif redis_at and now >= redis_at:
                redis_at = 0
                self.fault_redis()
            else:
                self.rng.choice(kinds)()
            for rig in self.rigs.values():  # what systemd's Restart= does for a till that stopped
                if rig.till is not None and rig.till.poll() is not None:
                    self.report.count("ring_sales exited by itself (restarted)")
                    rig.start_till()
        if pg_at:
            self.fault_postgres()
        if redis_at:
            self.fault_redis()
        self.report.seconds = time.monotonic() - started

    # ------------------------------------------------------------ settling

    def settle(self) -> None:
        """Faults off: stop the tills and nodes, then sync every store until all agree (twice around)."""
        self.proxy.clean()
        self.report.proxy = dict(self.proxy.counts)
        for rig in self.rigs.values():
            self.kill(rig.till)
            for process in (rig.store, rig.sync):
                if process is not None and process.poll() is None:
                    process.terminate()
                    try:
                        process.wait(15)
                    except subprocess.TimeoutExpired:
                        self.kill(process)
        for name, process in list(self.cloud.processes.items()):
            if name.startswith("daphne:") and process.poll() is not None:
                self.cloud.start_worker(int(name.split(":")[1]))
        wait_http(f"http://127.0.0.1:{self.cloud.plain_port}/api/health", timeout=60)
        for _round in range(2):
            if _round:
                # Production's publication interval (cloud.sync.shared_state): the second round's pulls
                # then bring every store's levels and balances as the first round left them.
                time.sleep(float(self.cloud.env.get("SYNC_SHARED_PUBLISH_SECONDS", "10")) + 1)
            for code, rig in self.rigs.items():
                for _attempt in range(5):
                    result = rig.node.manage("sync", "--once", "--quiet", check=False, timeout=300)
                    if result.returncode == 0:
                        break
                    time.sleep(2)
                else:
                    raise AssertionError(
                        f"{code} could not sync after the faults:\n{result.stdout}\n{result.stderr}"
                    )

    def stop(self) -> None:
        for rig in self.rigs.values():
            rig.node.stop()
        if self.proxy is not None:
            self.proxy.stop()
        try:
            pg_ensure_up()
        finally:
            try:
                redis_ensure_up()
            finally:
                self.cloud.stop()
                if pg_up():
                    pg_query("postgres", "select 1")
                    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
                        conn.execute(f'DROP DATABASE IF EXISTS "{self.cloud.database}" WITH (FORCE)')
