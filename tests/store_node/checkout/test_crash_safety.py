"""Point 7 of the issue: ring sales in a real store-node process, SIGKILL it at random moments (50+
times), restart, and prove nothing is half-written and every ledger equals its projection.

Checked straight in the SQLite file with the ``sqlite3`` module, not through the code under test.
"""

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
KILLS = 50

pytestmark = pytest.mark.processes


def _env(db: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("DJANGO_SETTINGS_MODULE", "DATABASE_URL")}
    env.update(
        POS_ROLE="store",
        DJANGO_SETTINGS_MODULE="store_node.settings.dev",
        DEBUG="0",
        STORE_CODE="S01",
        STORE_DB_PATH=str(db),
        LOG_LEVEL="WARNING",
    )
    return env


def _manage(env, *args, timeout=300) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def _read_until(proc, prefix: str, deadline: float) -> str:
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            raise AssertionError(f"process ended before {prefix!r}")
        if line.startswith(prefix):
            return line
    raise AssertionError(f"no {prefix!r} in time")


def test_sigkill_at_random_moments_loses_nothing_and_breaks_nothing(tmp_path):
    # given a migrated store node with a small catalog, members with points and two open shifts
    db = tmp_path / "store.sqlite3"
    env = _env(db)
    _manage(env, "migrate", "--no-input", "-v0")
    _manage(env, "checkout_loadtest_setup", "--products=300", "--terminals=2", "--members=20")
    with sqlite3.connect(db) as con:
        con.execute("UPDATE members_member SET points_balance = 5000")
        con.execute(
            "INSERT INTO members_pointsentry (id, member_id, kind, points, reason, origin, created_at) "
            "SELECT lower(hex(randomblob(16))), id, 'adjust', 5000, 'opening', 'cloud', '2026-01-01 00:00:00' "
            "FROM members_member"
        )
    rng = random.Random(20261123)

    # when a freshly started process (a real exec) is killed mid-run ...
    first = subprocess.Popen(
        [sys.executable, "manage.py", "ring_sales", "--terminal=T01", "--seed=1"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    _read_until(first, "ready", time.monotonic() + 60)
    time.sleep(0.3)
    first.send_signal(signal.SIGKILL)
    first.wait(10)
    # ... and then 50 more store-node processes, forked from a warm zygote, are each SIGKILLed after a
    # random moment (some before the first sale commits, most in the middle of one)
    zygote = subprocess.Popen(
        [sys.executable, str(Path(__file__).with_name("crash_zygote.py"))],
        cwd=ROOT,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    receipts_seen = 0
    try:
        for n in range(KILLS):
            zygote.stdin.write(f"T0{1 + n % 2} {n}\n")
            zygote.stdin.flush()
            pid = int(_read_until(zygote, "pid ", time.monotonic() + 30).split()[1])
            _read_until(zygote, "ready", time.monotonic() + 30)
            time.sleep(rng.uniform(0.0, 0.25))
            os.kill(pid, signal.SIGKILL)
            while (line := zygote.stdout.readline()) and not line.startswith("reaped"):
                receipts_seen += line.startswith("S01-")
    finally:
        zygote.stdin.close()
        zygote.kill()
        zygote.wait(10)
    # and a last clean run finishes whatever sale each terminal had open
    for terminal in ("T01", "T02"):
        _manage(env, "ring_sales", f"--terminal={terminal}", "--count=2", "--seed=99")

    # then nothing is partial, numbers are gapless, and projections equal their ledgers
    con = sqlite3.connect(db)
    q = lambda sql, *a: con.execute(sql, a).fetchall()  # noqa: E731
    completed = q(
        "SELECT id, receipt_number, total, cash_rounding, terminal_id FROM sales_sale WHERE status='completed'"
    )
    assert receipts_seen >= KILLS // 2, "the processes hardly sold anything before being killed"
    assert len(completed) >= receipts_seen + 4
    events = defaultdict(int)
    for (payload_id,) in q(
        "SELECT json_extract(payload, '$.id') FROM outbox_event WHERE type='sale.completed'"
    ):
        events[payload_id.replace("-", "")] += 1
    jobs = {r for (r,) in q("SELECT json_extract(payload, '$.receipt_number') FROM devices_printjob")}
    for sale_id, receipt, total, rounding, _ in completed:
        lines = q("SELECT count(*) FROM sales_saleline WHERE sale_id=? AND NOT voided", sale_id)[0][0]
        # SQLite keeps decimals as REAL: sum them as Decimals, not in SQL
        paid = sum(
            Decimal(str(a))
            for (a,) in q("SELECT amount FROM sales_tender WHERE sale_id=? AND approved", sale_id)
        )
        moves = q("SELECT count(*) FROM stock_stockmovement WHERE reference=?", receipt)[0][0]
        assert receipt and lines >= 1
        assert paid == Decimal(str(total)) + Decimal(str(rounding)), receipt
        assert moves == lines, receipt
        assert events[sale_id] == 1, receipt
        assert receipt in jobs, receipt
    for (sale_id,) in q("SELECT id FROM sales_sale WHERE status != 'completed'"):
        assert events[sale_id] == 0
        assert q("SELECT receipt_number FROM sales_sale WHERE id=?", sale_id)[0][0] is None
    by_terminal = defaultdict(list)
    for _, receipt, _, _, _terminal in completed:
        by_terminal[receipt.rsplit("-", 1)[0]].append(int(receipt.rsplit("-", 1)[1]))
    for numbers in by_terminal.values():
        assert sorted(numbers) == list(range(1, len(numbers) + 1))
    seqs = [s for (s,) in q("SELECT seq FROM outbox_event WHERE origin='S01' ORDER BY seq")]
    assert seqs == list(range(1, len(seqs) + 1))
    assert q("SELECT last_seq FROM outbox_nodeclock WHERE origin='S01'")[0][0] == len(seqs)
    ledger = defaultdict(Decimal)
    for store_id, product_id, quantity in q("SELECT store_id, product_id, quantity FROM stock_stockmovement"):
        ledger[store_id, product_id] += Decimal(str(quantity))
    levels = {
        (s, p): Decimal(str(h)) for s, p, h in q("SELECT store_id, product_id, on_hand FROM stock_stocklevel")
    }
    assert levels == {k: v for k, v in ledger.items() if k in levels} and set(ledger) <= set(levels)
    assert q(
        "SELECT count(*) FROM members_member m WHERE m.points_balance != "
        "(SELECT coalesce(sum(p.points), 0) FROM members_pointsentry p WHERE p.member_id=m.id)"
    ) == [(0,)]
    assert q("PRAGMA integrity_check") == [("ok",)]
    con.close()
