"""Run the Omnitill demo on one machine: the cloud on :8000 and store S01 on :8001 (cloud under daphne,
the store under `manage.py runstore`).

Started by ``bin/demo``. Each role gets its own SQLite database under var/. The cloud is migrated and
seeded on first run; the store is not seeded: it enrolls with the cloud (a one-time code the
launcher makes, as head office would in admin) and loads its snapshot with ``manage.py sync
--once``, as a new store does (docs/sync-protocol.md); then the sync worker inside ``runstore``
keeps it reconciled. If enrolling fails, the store is seeded separately as before.
Devices are the simulators (virtual:// addresses). Ctrl-C stops everything.
"""

from __future__ import annotations

import argparse
import os
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable


def role_env(role: str, **extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DJANGO_SETTINGS_MODULE", "DATABASE_URL", "REDIS_URL"}
    }
    env.update(POS_ROLE=role, PYTHONUNBUFFERED="1", **extra)
    return env


def manage(role: str, *args: str, **extra: str) -> None:
    subprocess.run([PY, "manage.py", *args], cwd=ROOT, env=role_env(role, **extra), check=True)


def manage_output(role: str, *args: str, **extra: str) -> str:
    done = subprocess.run(
        [PY, "manage.py", *args], cwd=ROOT, env=role_env(role, **extra), capture_output=True, text=True
    )
    return done.stdout if done.returncode == 0 else ""


def store_enrolled(store_db: Path) -> bool:
    try:
        with sqlite3.connect(store_db) as db:
            return bool(db.execute("select count(*) from store_sync_synccredential").fetchone()[0])
    except sqlite3.Error:
        return False


def store_enroll(store: str, cloud_url: str, store_env: dict[str, str]) -> bool:
    """Enroll the store with the running cloud and load its snapshot."""
    out = manage_output(
        "cloud",
        "shell",
        "-c",
        "from cloud.sync.services import enrollment_code_create as c; from retail.stores.models import Store\n"
        f"print('CODE', c(store=Store.objects.get(code='{store}'))[1])",
    )
    codes = [line.split()[1] for line in out.splitlines() if line.startswith("CODE ")]
    if not codes:
        return False
    enrolled = subprocess.run(
        [PY, "manage.py", "enroll", "--cloud", cloud_url, "--code", codes[0]],
        cwd=ROOT,
        env=role_env("store", **store_env),
    )
    if enrolled.returncode:
        return False
    synced = subprocess.run(
        [PY, "manage.py", "sync", "--once", "--quiet"], cwd=ROOT, env=role_env("store", **store_env)
    )
    return synced.returncode == 0


def wait_ready(url: str, timeout: float = 30) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                if response.status == 200:
                    return True
        except OSError:
            time.sleep(0.2)
    return False


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (0.0.0.0 for the store LAN)"
    )
    parser.add_argument("--cloud-port", type=int, default=8000)
    parser.add_argument("--store-port", type=int, default=8001)
    parser.add_argument("--store", default="S01")
    parser.add_argument("--reset", action="store_true", help="delete the demo databases and seed again")
    args = parser.parse_args()

    (ROOT / "var").mkdir(exist_ok=True)
    store_env = {
        "STORE_CODE": args.store,
        "CLOUD_URL": f"http://127.0.0.1:{args.cloud_port}",
        # Lanes without a scanner of their own get a simulated one: `manage.py hw scan CODE` types on it.
        "SCANNER_ADDRESS": os.environ.get("SCANNER_ADDRESS", "virtual://"),
    }
    if args.reset:
        for path in (ROOT / "var").glob("*.sqlite3*"):
            if not path.name.startswith("test-"):
                path.unlink()

    print("== preparing the cloud database (var/cloud.sqlite3)", flush=True)
    manage("cloud", "migrate", "--no-input", "-v", "0")
    manage("cloud", "seed_demo", "--if-empty")
    manage("cloud", "collectstatic", "--no-input", "-v", "0")
    processes: list[subprocess.Popen] = []

    def stop(*_):
        for process in processes:
            if process.poll() is None:
                process.terminate()
        for process in processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()

    signal.signal(signal.SIGTERM, lambda *_: (stop(), sys.exit(0)))
    daphne = [PY, "-m", "daphne", "-b", args.host]
    processes.append(
        subprocess.Popen(
            [*daphne, "-p", str(args.cloud_port), "cloud.asgi:application"], cwd=ROOT, env=role_env("cloud")
        )
    )
    try:
        print(f"== preparing store {args.store}'s database (var/store-{args.store}.sqlite3)", flush=True)
        manage("store", "migrate", "--no-input", "-v", "0", **store_env)
        loopback_cloud = f"http://127.0.0.1:{args.cloud_port}"
        if not store_enrolled(ROOT / "var" / f"store-{args.store}.sqlite3"):
            print(f"== store {args.store} enrolls with the cloud and loads its snapshot", flush=True)
            if not (
                wait_ready(f"{loopback_cloud}/api/health")
                and store_enroll(args.store, loopback_cloud, store_env)
            ):
                print(f"== enrollment did not work: seeding store {args.store} separately", flush=True)
                manage("store", "seed_demo", "--if-empty", **store_env)
        manage("store", "collectstatic", "--no-input", "-v", "0", **store_env)
    except BaseException:
        stop()  # never leave the cloud running behind a failed start
        raise

    processes.append(
        subprocess.Popen(
            # runstore: daphne plus the sync worker, print/drawer workers and scanners, one process.
            [PY, "manage.py", "runstore", "--host", args.host, "--port", str(args.store_port)],
            cwd=ROOT,
            env=role_env("store", **store_env),
        ),
    )
    shown = args.host if args.host != "0.0.0.0" else "127.0.0.1"
    cloud_url, store_url = f"http://{shown}:{args.cloud_port}", f"http://{shown}:{args.store_port}"
    ready = wait_ready(f"{cloud_url}/api/health") and wait_ready(f"{store_url}/api/health")
    print(
        f"""
Omnitill demo is {"running" if ready else "NOT ready (see the log above)"}.

  Cloud (head office)   {cloud_url}/admin/        login admin / omnitill
  Cloud API docs        {cloud_url}/api/docs/
  Store {args.store} node        {store_url}/              terminals {args.store}-T01, {args.store}-T02
  Store API docs        {store_url}/api/docs/
  Handheld (phone)      {store_url}/h/            sign in with a staff number and PIN
  Till/handheld PINs    cashier c101 / 1111, cashier k101 / 1111, supervisor s101 / 2222, manager m101 / 3333
  Devices               simulated: virtual printer, drawer and scanner (receipts in var/devices/)
  Scan on a lane        POS_ROLE=store STORE_CODE={args.store} .venv/bin/python manage.py hw scan 4006381333931 --terminal {args.store}-T01

Ctrl-C stops the demo.""",
        flush=True,
    )
    try:
        while all(p.poll() is None for p in processes):
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        stop()
    return 0 if ready else 1


if __name__ == "__main__":
    sys.exit(main())
