"""Real nodes for system tests: a cloud and store nodes as separate processes, each with its own SQLite file."""

from __future__ import annotations

import contextlib
import json
import os
import re
import select
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
PY = sys.executable


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(url)


class Node:
    def __init__(self, role: str, workdir: Path, code: str = "cloud"):
        self.role, self.code = role, code
        self.db = workdir / f"{code}.sqlite3"
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.processes: list[subprocess.Popen] = []
        self.server_log = workdir / f"{code}.daphne.log"  # tracebacks of the served process land here
        self.env = {
            k: v
            for k, v in os.environ.items()
            if k not in {"DJANGO_SETTINGS_MODULE", "DATABASE_URL", "REDIS_URL", "STORE_DB_PATH", "STORE_CODE"}
        }
        self.env.update(POS_ROLE=role, PYTHONUNBUFFERED="1", LOG_LEVEL="WARNING", DEBUG="0")
        if role == "cloud":
            self.env["DATABASE_URL"] = f"sqlite:///{self.db}"
            # Every pull publishes what pushes moved of other stores' levels and balances (production:
            # at most every 10 s), so a test's second round of syncs sees the first round's pushes.
            self.env.setdefault("SYNC_SHARED_PUBLISH_SECONDS", "0")
        else:
            self.env.update(STORE_CODE=code, STORE_DB_PATH=str(self.db))

    def manage(self, *args: str, check: bool = True, timeout: float = 120, env: dict | None = None):
        result = subprocess.run(
            [PY, "manage.py", *args],
            cwd=ROOT,
            env={**self.env, **(env or {})},
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if check and result.returncode != 0:
            raise AssertionError(
                f"{self.code} manage.py {' '.join(args)} -> {result.returncode}\n{result.stdout}\n{result.stderr}"
            )
        return result

    def shell(self, code: str) -> str:
        """Run Python in the node's Django; returns what it printed after a line ``--OUT--``."""
        out = self.manage("shell", "-c", "print('--OUT--')\n" + code).stdout
        return out.split("--OUT--\n", 1)[1].strip()

    def serve(self) -> None:
        app = "cloud.asgi:application" if self.role == "cloud" else "store_node.asgi:application"
        with self.server_log.open("a") as log:
            process = subprocess.Popen(
                [PY, "-m", "daphne", "-b", "127.0.0.1", "-p", str(self.port), app],
                cwd=ROOT,
                env=self.env,
                stdout=subprocess.DEVNULL,
                stderr=log,
            )
        self.processes.append(process)
        wait_http(f"{self.url}/api/health")

    def spawn(self, *args: str, env: dict | None = None) -> subprocess.Popen:
        process = subprocess.Popen(
            [PY, "manage.py", *args],
            cwd=ROOT,
            env={**self.env, **(env or {})},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.processes.append(process)
        return process

    def agent(self, env: dict | None = None) -> Agent:
        """A long-lived process in this node's Django that runs ``tests.system.agent`` operations."""
        agent = Agent(self, env=env)
        self.processes.append(agent.process)
        return agent

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
        for process in self.processes:
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self.processes.clear()

    def query(self, sql: str, *params):
        # The test only observes the node's database while the node writes to it. An observer's
        # read can hit a transient SQLITE_IOERR while the node's WAL index is being rebuilt: retry
        # the observation (the node's own errors still fail the test through what it does).
        for attempt in range(40):
            db = sqlite3.connect(self.db, timeout=20)
            try:
                return db.execute(sql, params).fetchall()
            except sqlite3.OperationalError as exc:
                if "disk I/O error" not in str(exc) or attempt == 39:
                    raise
            finally:
                db.close()
            time.sleep(0.05)
        raise AssertionError("unreachable")

    def value(self, sql: str, *params):
        rows = self.query(sql, *params)
        return rows[0][0] if rows else None


@contextlib.contextmanager
def handheld_client(node: Node, *, username: str, pin: str = "1111") -> Iterator[httpx.Client]:
    """An HTTP client signed in on the node's handheld pages as ``username`` (every /h/ page asks)."""
    with httpx.Client(base_url=node.url, timeout=30) as client:
        login = client.get("/h/login")
        token = re.search(r'name="csrf-token" content="([^"]+)"', login.text).group(1)
        signed_in = client.post(
            "/h/login", data={"username": username, "pin": pin, "next": "/h/"}, headers={"X-CSRFToken": token}
        )
        assert signed_in.status_code == 302, signed_in.text
        yield client


class AgentRefused(AssertionError):
    """An agent operation was refused by the node (a ``DomainError``): ``code`` says which."""

    def __init__(self, op: str, answer: dict):
        super().__init__(f"{op}: {answer.get('code')}: {answer.get('error')}\n{answer.get('tb', '')}")
        self.code = answer.get("code")


class Agent:
    def __init__(self, node: Node, *, env: dict | None = None, timeout: float = 60):
        self.node, self.timeout = node, timeout
        self.log = node.db.with_name(node.db.name + ".agent.log").open("a")
        self.process = subprocess.Popen(
            [PY, "-m", "tests.system.agent"],
            cwd=ROOT,
            env={**node.env, **(env or {})},
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.log,
            text=True,
            bufsize=1,
        )
        assert self._answer("start") == "ready"

    def _answer(self, op: str):
        ready, _, _ = select.select([self.process.stdout], [], [], self.timeout)
        line = self.process.stdout.readline() if ready else ""
        if not line:
            raise AssertionError(f"agent of {self.node.code} gave no answer to {op} (see {self.log.name})")
        answer = json.loads(line)
        if not answer["ok"]:
            raise AgentRefused(op, answer)
        return answer["result"]

    def __call__(self, op: str, **args):
        self.process.stdin.write(json.dumps({"op": op, "args": args}) + "\n")
        self.process.stdin.flush()
        return self._answer(op)


def migrated_template(role: str, workdir: Path) -> Path:
    """Migrate one database per role once; nodes start from a copy (migrations are the slow part)."""
    template = workdir / f"template-{role}.sqlite3"
    if not template.exists():
        node = Node(role, workdir, code="template-" + role)
        node.manage("migrate", "--no-input", "-v", "0")
    return template


def seeded_cloud_template(workdir: Path, *, products: int, members: int) -> Path:
    """A migrated cloud database with ``seed_demo``'s chain in it, seeded once per session: a test's
    cloud starts from a copy (``make_node(..., template=)``), as if it had just been seeded."""
    template = workdir / f"template-cloud-seeded-{products}-{members}.sqlite3"
    if not template.exists():
        staging = workdir / f"staging-cloud-seeded-{products}-{members}.sqlite3"
        shutil.copy(migrated_template("cloud", workdir), staging)
        node = Node("cloud", workdir, code=staging.stem)
        node.manage("seed_demo", "--products", str(products), "--members", str(members))
        with contextlib.closing(sqlite3.connect(staging)) as db:  # all of it in the file, no -wal
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        staging.rename(template)
    return template


def make_node(role: str, workdir: Path, code: str = "cloud", *, template: Path | None = None) -> Node:
    node = Node(role, workdir, code)
    for stale in (node.db.with_name(node.db.name + "-wal"), node.db.with_name(node.db.name + "-shm")):
        stale.unlink(missing_ok=True)
    shutil.copy(template or migrated_template(role, workdir), node.db)
    return node
