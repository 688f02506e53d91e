import sqlite3
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection, transaction

from retail.outbox.models import Event
from retail.outbox.services import event_append
from store_node.node.backup import backup_database


def database_path() -> Path:
    return Path(connection.settings_dict["NAME"])


@pytest.mark.django_db(transaction=True)
def test_a_backup_taken_while_the_till_writes_is_consistent_and_verified(tmp_path):
    for i in range(50):
        with transaction.atomic():
            event_append(type="stock.moved", payload={"i": i})
    stop = threading.Event()

    def till():
        i = 1000
        while not stop.is_set():
            with transaction.atomic():
                event_append(type="stock.moved", payload={"i": i})
            i += 1
        connection.close()

    writer = threading.Thread(target=till)
    writer.start()
    try:
        result = backup_database(source=database_path(), destination_dir=tmp_path)
    finally:
        stop.set()
        writer.join()

    copy = sqlite3.connect(result.path)
    seqs = [row[0] for row in copy.execute("SELECT seq FROM outbox_event ORDER BY seq")]
    copy.close()
    assert result.events == len(seqs) >= 50
    assert seqs == list(range(1, len(seqs) + 1))  # a snapshot: no gap, whatever the till did meanwhile
    assert Event.objects.count() >= len(seqs)


@pytest.mark.django_db(transaction=True)
def test_retention_keeps_the_newest_backups(tmp_path):
    start = datetime(2026, 11, 1, 3, 0, tzinfo=UTC)
    for day in range(5):
        result = backup_database(
            source=database_path(), destination_dir=tmp_path, keep=3, now=start + timedelta(days=day)
        )

    names = sorted(p.name for p in tmp_path.glob("*.sqlite3"))
    assert len(names) == 3
    assert names[-1] == result.path.name and "20261105T030000Z" in names[-1]
    assert all("20261101" not in n and "20261102" not in n for n in names)


@pytest.mark.django_db(transaction=True)
def test_the_backup_command_reports_what_it_verified(tmp_path, capsys):
    call_command("backup", dest=str(tmp_path), keep=2)
    out = capsys.readouterr().out
    assert "verified" in out and "0 events" in out
    assert len(list(tmp_path.glob("*.sqlite3"))) == 1
