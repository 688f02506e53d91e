"""WAL checkpoints run on their own thread; the tills' connections only checkpoint as a safety net."""

import sqlite3
import time

from store_node.node.checkpoint import WalCheckpointer


def _rows_in_the_database_file(path: str) -> int:
    # immutable=1 reads the database file alone, not the WAL: only checkpointed rows are there
    with sqlite3.connect(f"file:{path}?immutable=1", uri=True) as db:
        return db.execute("SELECT count(*) FROM t").fetchone()[0]


def test_the_checkpointer_moves_committed_pages_into_the_database_on_its_own_thread(tmp_path):
    # given a WAL database whose writer never checkpoints, with 500 rows committed to the WAL
    path = str(tmp_path / "store.sqlite3")
    writer = sqlite3.connect(path, isolation_level=None)
    writer.execute("PRAGMA journal_mode=WAL")
    writer.execute("PRAGMA wal_autocheckpoint=0")
    writer.execute("CREATE TABLE t (x TEXT)")
    writer.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # the empty table is in the file
    writer.executemany("INSERT INTO t VALUES (?)", [("x" * 2000,) for _ in range(500)])
    assert _rows_in_the_database_file(path) == 0
    # when the checkpointer runs every 50 ms
    checkpointer = WalCheckpointer(path, interval=0.05).start()
    deadline = time.monotonic() + 10
    while checkpointer.checkpoints < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    checkpointer.stop()
    # then the committed rows are in the database file, and the writer's connection still works
    assert checkpointer.checkpoints >= 2
    assert _rows_in_the_database_file(path) == 500
    writer.execute("INSERT INTO t VALUES ('after')")
    assert writer.execute("SELECT count(*) FROM t").fetchone() == (501,)
    writer.close()


def test_the_tills_connections_checkpoint_only_past_the_safety_net(db, settings):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("PRAGMA wal_autocheckpoint")
        assert cursor.fetchone() == (settings.STORE_WAL_AUTOCHECKPOINT_PAGES,) == (10_000,)
