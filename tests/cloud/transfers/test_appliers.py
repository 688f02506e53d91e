"""The receiving store's ``transfer.received`` at the cloud, through the sync API: applied once, only
from the receiving store, discrepancies recorded, relayed to the sending store alone."""

import gzip
import json
from decimal import Decimal

import pytest
from asgiref.sync import async_to_sync
from django.db.models import Sum
from rest_framework.test import APIClient

from cloud.sync.models import QuarantinedEvent
from cloud.sync.services import enrollment_code_create, store_enroll
from cloud.transfers.models import TransferStatus
from cloud.transfers.services import transfer_send
from retail.stock.models import StockLevel, StockMovement
from retail.stock.services import stock_move
from tests.cloud.sync.conftest import envelope, moved, pull, push
from tests.cloud.transfers.conftest import draft

pytestmark = pytest.mark.django_db


@pytest.fixture
def clients(chain):
    """A sync client per store, each with its own credential."""
    out = {}
    for store in (chain.s1, chain.s2, chain.s3):
        _, code = enrollment_code_create(store=store)
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {store_enroll(code=code)[1]}")
        out[store.code] = client
    return out


@pytest.fixture
def sent(chain):
    """T-0001 sent from S01 (10 teas, 3 honeys on hand) to S02: 5 teas and 2 honeys."""
    stock_move(store_id=chain.s1.id, product_id=chain.tea.id, kind="receipt", quantity=Decimal("10"))
    stock_move(store_id=chain.s1.id, product_id=chain.honey.id, kind="receipt", quantity=Decimal("3"))
    return transfer_send(transfer=draft(chain), by=chain.hedda)


def received(transfer, lines, *, store=None, received_by="Kai"):
    """The payload of ``store``'s (S02 by default) transfer.received with ``lines`` of (product, expected, received)."""
    return {
        "id": str(transfer.id),
        "number": transfer.number,
        "from_store_id": str(transfer.from_store_id),
        "to_store_id": str(transfer.to_store_id),
        "received_at": "2026-03-02T09:30:00Z",
        "received_by": received_by,
        "lines": [
            {"position": n, "product_id": str(p.id), "sku": p.sku, "expected": e, "received": r}
            for n, (p, e, r) in enumerate(lines, start=1)
        ],
    }


def _lines(transfer):
    return list(transfer.lines.order_by("position").values_list("product__sku", "quantity", "received"))


def test_the_receiving_stores_count_is_recorded_with_its_discrepancy(chain, clients, sent):
    # given S02 counted 3 of the 5 teas, both honeys, and found a jar of apples nobody sent,
    # pushing its transfer_in movements and then its transfer.received
    events = [
        envelope("S02", 1, "stock.moved", moved(chain.s2, chain.tea, "3", kind="transfer_in")),
        envelope("S02", 2, "stock.moved", moved(chain.s2, chain.honey, "2", kind="transfer_in")),
        envelope("S02", 3, "stock.moved", moved(chain.s2, chain.apples, "0.5", kind="transfer_in")),
        envelope(
            "S02",
            4,
            "transfer.received",
            received(sent, [(chain.tea, "5", "3"), (chain.honey, "2", "2"), (chain.apples, "0", "0.5")]),
        ),
    ]

    # when it pushes them
    answer = push(clients["S02"], events).json()

    # then the transfer is received with what arrived of each line, and flagged for head office
    assert (answer["ack_seq"], answer["applied"], answer["quarantined"]) == (4, 4, [])
    sent.refresh_from_db()
    assert (sent.status, sent.received_by, sent.has_discrepancy) == (TransferStatus.RECEIVED, "Kai", True)
    assert _lines(sent) == [
        ("T1", Decimal("5.000"), Decimal("3.000")),
        ("H1", Decimal("2.000"), Decimal("2.000")),
        ("A1", Decimal("0.000"), Decimal("0.500")),
    ]
    assert list(sent.history.values_list("status", "by", "note"))[-1] == (
        "received",
        "S02 (Kai)",
        "discrepancy: Tea -2, Apples +0.5",
    )
    # and each store's stock is what left and what arrived, every level equal to its ledger
    levels = {
        (lv.store.code, lv.product.sku): lv.on_hand
        for lv in StockLevel.objects.select_related("store", "product")
    }
    assert levels == {
        ("S01", "T1"): Decimal("5.000"),
        ("S01", "H1"): Decimal("1.000"),
        ("S02", "T1"): Decimal("3.000"),
        ("S02", "H1"): Decimal("2.000"),
        ("S02", "A1"): Decimal("0.500"),
    }
    for level in StockLevel.objects.all():
        ledger = StockMovement.objects.filter(store=level.store, product=level.product).aggregate(
            s=Sum("quantity")
        )
        assert ledger["s"] == level.on_hand


def test_a_transfer_received_as_sent_has_no_discrepancy(chain, clients, sent):
    push(
        clients["S02"],
        [
            envelope(
                "S02",
                1,
                "transfer.received",
                received(sent, [(chain.tea, "5", "5"), (chain.honey, "2", "2")]),
            )
        ],
    )

    sent.refresh_from_db()
    assert (sent.status, sent.has_discrepancy) == (TransferStatus.RECEIVED, False)
    assert sent.history.last().note == "as sent"


def test_a_line_the_store_did_not_report_is_a_shortfall_not_lost(chain, clients, sent):
    push(clients["S02"], [envelope("S02", 1, "transfer.received", received(sent, [(chain.tea, "5", "5")]))])

    sent.refresh_from_db()
    assert sent.has_discrepancy
    assert _lines(sent) == [
        ("T1", Decimal("5.000"), Decimal("5.000")),
        ("H1", Decimal("2.000"), Decimal("0.000")),
    ]


def test_applying_the_receipt_again_changes_nothing(chain, clients, sent):
    # given S02's receipt applied once
    payload = received(sent, [(chain.tea, "5", "4"), (chain.honey, "2", "2")])
    push(clients["S02"], [envelope("S02", 1, "transfer.received", payload)])
    sent.refresh_from_db()
    before = (sent.received_at, sent.updated_at, _lines(sent), sent.history.count())

    # when the same receipt arrives again (resent after a lost acknowledgement, and as a new seq
    # after a restore) with other figures
    again = push(clients["S02"], [envelope("S02", 1, "transfer.received", payload)]).json()
    other = received(sent, [(chain.tea, "5", "5"), (chain.honey, "2", "2")])
    later = push(clients["S02"], [envelope("S02", 2, "transfer.received", other)]).json()

    # then the first receipt stands
    assert (again["duplicates"], later["applied"], later["quarantined"]) == (1, 1, [])
    sent.refresh_from_db()
    assert (sent.received_at, sent.updated_at, _lines(sent), sent.history.count()) == before


@pytest.mark.parametrize("who", ["S01", "S03"])
def test_only_the_receiving_store_may_receive_a_transfer(chain, clients, sent, who):
    # when the sending store, or a store not party to it, reports a receipt
    payload = received(sent, [(chain.tea, "5", "5"), (chain.honey, "2", "2")])
    answer = push(clients[who], [envelope(who, 1, "transfer.received", payload)]).json()

    # then it is quarantined as not the store's, and the transfer is still in transit
    assert [q["reason"] for q in answer["quarantined"]] == ["not_owner"]
    assert QuarantinedEvent.objects.get().detail == "transfer T-0001 goes to S02; only that store receives it"
    sent.refresh_from_db()
    assert sent.status == TransferStatus.SENT


def test_a_receipt_of_a_draft_or_an_unknown_transfer_is_quarantined(chain, clients):
    transfer = draft(chain)
    payload = received(transfer, [(chain.tea, "5", "5")])
    unknown = {**payload, "id": "0190b5d5-0000-7000-8000-000000000009"}

    answer = push(
        clients["S02"],
        [envelope("S02", 1, "transfer.received", payload), envelope("S02", 2, "transfer.received", unknown)],
    ).json()

    assert [(q["reason"], q["detail"]) for q in answer["quarantined"]] == [
        ("invalid_payload", "status_refused: transfer T-0001 is draft; only one in transit is received"),
        ("missing_reference", "transfer 0190b5d5-0000-7000-8000-000000000009 does not exist here"),
    ]


@pytest.mark.parametrize(
    "change, reason",
    [
        ({"received": 5}, "invalid_payload"),
        ({"received": "-1"}, "invalid_payload"),
        ({"received": "1.2345"}, "invalid_payload"),
        ({"product_id": "0190b5d5-0000-7000-8000-00000000000a", "received": "1"}, "missing_reference"),
    ],
)
def test_a_malformed_receipt_is_quarantined_and_changes_nothing(chain, clients, sent, change, reason):
    payload = received(sent, [(chain.tea, "5", "5")])
    payload["lines"][0].update(change)

    answer = push(clients["S02"], [envelope("S02", 1, "transfer.received", payload)]).json()

    assert [q["reason"] for q in answer["quarantined"]] == [reason]
    sent.refresh_from_db()
    assert sent.status == TransferStatus.SENT
    assert all(r is None for _, _, r in _lines(sent))


def test_a_receipt_naming_other_stores_than_the_transfer_is_quarantined(chain, clients, sent):
    # (the feed relays the receipt to the store it names as the sender: it must be the real one)
    payload = {**received(sent, [(chain.tea, "5", "5")]), "from_store_id": str(chain.s3.id)}

    answer = push(clients["S02"], [envelope("S02", 1, "transfer.received", payload)]).json()

    assert [q["reason"] for q in answer["quarantined"]] == ["invalid_payload"]


def test_the_dispatch_reaches_both_stores_and_the_receipt_only_the_sender(chain, clients, sent):
    # when the three stores pull after the dispatch and S02's receipt (S02 learnt of the transfer
    # from the feed before it could receive it, so the feed holds the dispatch first)
    pull(clients["S02"], 0)
    push(clients["S02"], [envelope("S02", 1, "transfer.received", received(sent, [(chain.tea, "5", "5")]))])
    pulled = {code: pull(client, 0).json()["events"] for code, client in clients.items()}
    types = {code: [e["type"] for e in events] for code, events in pulled.items()}

    # then S01 and S02 got the dispatch, S01 the receipt, S03 neither; every store got head
    # office's transfer_out movements (stock levels of every store are public for look-up)
    assert [t for t in types["S01"] if t.startswith("transfer.")] == ["transfer.sent", "transfer.received"]
    assert [t for t in types["S02"] if t.startswith("transfer.")] == ["transfer.sent"]
    assert [t for t in types["S03"] if t.startswith("transfer.")] == []
    for code in ("S01", "S02", "S03"):
        out = [e["payload"]["quantity"] for e in pulled[code] if e["payload"].get("kind") == "transfer_out"]
        assert sorted(out) == ["-2.000", "-5.000"]


async def _collect(chunks) -> bytes:
    return b"".join([chunk async for chunk in chunks])


def _snapshot_events(client) -> list[dict]:
    response = client.get("/api/sync/v1/snapshot")
    lines = [
        json.loads(line)
        for line in gzip.decompress(async_to_sync(_collect)(response.streaming_content)).splitlines()
    ]
    assert lines[-1] == {"t": "end", "rows": len(lines) - 2}
    return [line["event"] for line in lines if line["t"] == "event"]


def test_a_snapshot_carries_the_transfers_in_transit_to_or_from_the_store(chain, clients, sent):
    # given a draft to S03 as well (drafts are nobody's business yet)
    draft(chain, (chain.tea, "1"), to_store=chain.s3)

    # then S01's and S02's snapshots hold T-0001's dispatch as it was sent, S03's nothing
    events = {code: _snapshot_events(client) for code, client in clients.items()}
    assert [(e["type"], e["payload"]["number"], e["origin"]) for e in events["S01"]] == [
        ("transfer.sent", "T-0001", "cloud")
    ]
    assert events["S02"] == events["S01"]
    assert events["S01"][0]["id"] == str(sent.sent_event_id)
    assert events["S03"] == []

    # and once received it is in no snapshot
    push(clients["S02"], [envelope("S02", 1, "transfer.received", received(sent, [(chain.tea, "5", "5")]))])
    assert _snapshot_events(clients["S02"]) == []
