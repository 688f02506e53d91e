"""Snapshot event rows at this store: the transfers still on their way reach a store that loads a
snapshot after their dispatch, through the same applier as the feed."""

import pytest

from retail.replication.snapshot import SnapshotLoader
from store_node.transfers.models import Transfer
from tests.store_node.transfers.conftest import sent_envelope

pytestmark = pytest.mark.django_db


def _load(rows, cursor=7):
    loader = SnapshotLoader(cursor=cursor)
    for row in rows:
        loader.add(row)
    return loader, loader.finish()


def test_a_transfer_in_a_snapshot_becomes_this_stores_copy_once(shop):
    env = sent_envelope(shop)
    rows = [{"t": "event", "event": env.as_wire()}]

    _, counts = _load(rows)
    Transfer.objects.update(note="counting started")
    _, again = _load(rows, cursor=9)  # a later snapshot with the same transfer still open

    assert (counts["event"], again["event"]) == (1, 1)
    transfer = Transfer.objects.get()
    assert (transfer.number, transfer.note, transfer.lines.count()) == ("T-0042", "counting started", 2)


def test_an_event_row_this_store_refuses_is_kept_aside_and_the_load_goes_on(shop):
    elsewhere = sent_envelope(shop, from_store=shop.other, to_store=shop.third)
    mine = sent_envelope(shop, number="T-0043")

    loader, counts = _load(
        [
            {"t": "event", "event": elsewhere.as_wire()},
            {"t": "event", "event": {"id": "x"}},
            {"t": "event", "event": mine.as_wire()},
        ]
    )

    assert (counts["event"], counts["event_refused"]) == (1, 2)
    assert [refused.reason for _, refused in loader.refused] == ["not_owner", "invalid_envelope"]
    assert list(Transfer.objects.values_list("number", flat=True)) == ["T-0043"]
