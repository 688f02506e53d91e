"""Head office's dispatch and the receiving store's receipt, applied at this store."""

import uuid
from decimal import Decimal

import pytest

from retail.outbox.models import Event
from retail.replication.appliers import ApplyContext, event_apply
from retail.replication.errors import ApplyRefused
from retail.replication.wire import Envelope
from store_node.sync.models import PulledQuarantine, SyncState
from store_node.sync.services import _apply_page
from store_node.transfers.models import Transfer
from tests.store_node.transfers.conftest import sent_envelope

pytestmark = pytest.mark.django_db


def _lines(transfer):
    return list(transfer.lines.order_by("position").values_list("sku", "unit", "expected", "received"))


def test_a_transfer_on_its_way_here_becomes_this_stores_copy_to_receive(shop):
    env = sent_envelope(shop, lines=[(shop.tea, "5"), (shop.apples, "1.5")])

    event_apply(env=env, ctx=ApplyContext())

    transfer = Transfer.objects.get()
    assert (str(transfer.id), transfer.number, transfer.status, transfer.note) == (
        env.payload["id"],
        "T-0042",
        "sent",
        "for the weekend",
    )
    assert (transfer.from_store, transfer.to_store) == (shop.other, shop.here)
    assert _lines(transfer) == [
        ("T1", "each", Decimal("5.000"), Decimal("0.000")),
        ("A1", "kg", Decimal("1.500"), Decimal("0.000")),
    ]
    assert Event.objects.count() == 0  # a copy is recorded, nothing is announced


def test_a_transfer_sent_from_here_is_kept_to_follow(shop):
    event_apply(env=sent_envelope(shop, from_store=shop.here, to_store=shop.other), ctx=ApplyContext())

    assert Transfer.objects.get().from_store == shop.here


def test_applying_the_dispatch_again_changes_nothing(shop):
    env = sent_envelope(shop)
    event_apply(env=env, ctx=ApplyContext())
    Transfer.objects.update(note="as it was")

    event_apply(env=env, ctx=ApplyContext())

    assert (Transfer.objects.count(), Transfer.objects.get().note) == (1, "as it was")


def test_a_dispatch_written_by_a_store_or_between_other_stores_is_refused(shop):
    env = sent_envelope(shop)
    forged = Envelope(env.id, "S09", 1, 1, env.type, 1, env.payload)
    elsewhere = sent_envelope(shop, from_store=shop.other, to_store=shop.third)

    reasons = []
    for attempt in (forged, elsewhere):
        with pytest.raises(ApplyRefused) as refused:
            event_apply(env=attempt, ctx=ApplyContext())
        reasons.append(refused.value.reason)

    assert reasons == ["not_owner", "not_owner"]
    assert Transfer.objects.count() == 0


def test_a_dispatch_naming_a_product_this_store_lacks_is_quarantined_by_the_pull(shop):
    SyncState.objects.create(pk=1)
    env = sent_envelope(shop)
    env.payload["lines"][0]["product_id"] = str(uuid.uuid4())

    applied, quarantined = _apply_page([env.as_wire()], cursor=1)

    assert (applied, quarantined) == (0, 1)
    assert PulledQuarantine.objects.get().reason == "missing_reference"
    assert Transfer.objects.count() == 0


def _receipt(shop, transfer, lines, *, origin="S09", seq=2):
    payload = {
        "id": str(transfer.id),
        "number": transfer.number,
        "from_store_id": str(transfer.from_store_id),
        "to_store_id": str(transfer.to_store_id),
        "received_at": "2026-12-01T12:00:00+00:00",
        "received_by": "Kai",
        "lines": [
            {"position": n, "product_id": str(p.id), "sku": p.sku, "expected": e, "received": r}
            for n, (p, e, r) in enumerate(lines, start=1)
        ],
    }
    return Envelope(uuid.uuid4(), origin, seq, seq, "transfer.received", 1, payload)


def test_the_sending_store_learns_what_arrived(shop):
    # given a transfer sent from here to S09
    event_apply(env=sent_envelope(shop, from_store=shop.here, to_store=shop.other), ctx=ApplyContext())
    transfer = Transfer.objects.get()

    # when S09's receipt arrives: 3 of 5 teas, both honeys, and a jam nobody sent
    receipt = _receipt(shop, transfer, [(shop.tea, "5", "3"), (shop.honey, "2", "2"), (shop.jam, "0", "1")])
    event_apply(env=receipt, ctx=ApplyContext())
    event_apply(env=receipt, ctx=ApplyContext())  # twice: idempotent

    # then this store's copy shows it received, with what arrived of each line
    transfer.refresh_from_db()
    assert (transfer.status, transfer.received_by) == ("received", "Kai")
    assert _lines(transfer) == [
        ("T1", "each", Decimal("5.000"), Decimal("3.000")),
        ("H1", "each", Decimal("2.000"), Decimal("2.000")),
        ("J1", "each", Decimal("0.000"), Decimal("1.000")),
    ]


def test_only_the_receiving_store_can_tell_us_it_received(shop):
    event_apply(env=sent_envelope(shop, from_store=shop.here, to_store=shop.other), ctx=ApplyContext())
    transfer = Transfer.objects.get()

    with pytest.raises(ApplyRefused) as refused:
        event_apply(env=_receipt(shop, transfer, [(shop.tea, "5", "5")], origin="S07"), ctx=ApplyContext())

    assert refused.value.reason == "not_owner"
    assert Transfer.objects.get().status == "sent"


def test_a_receipt_of_a_transfer_this_store_never_held_changes_nothing(shop):
    env = sent_envelope(shop, from_store=shop.here, to_store=shop.other)
    unknown = Transfer(id=env.payload["id"], number="T-0042", from_store=shop.here, to_store=shop.other)

    event_apply(env=_receipt(shop, unknown, [(shop.tea, "5", "5")]), ctx=ApplyContext())

    assert Transfer.objects.count() == 0
