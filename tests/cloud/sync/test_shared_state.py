"""Head office publishes the levels and balances stores' pushes moved (cloud.sync.shared_state)."""

import uuid
from datetime import timedelta

from django.utils import timezone

from cloud.sync.models import SharedStatePublication, SharedStockChange
from cloud.sync.services import enrollment_code_create, store_enroll
from cloud.sync.shared_state import _read, _write, shared_state_publish
from tests.cloud.sync.conftest import envelope, moved, pull, push
from tests.factories import make_member, make_store


def _points(member, points, kind="earn"):
    return {
        "id": str(uuid.uuid4()),
        "member_id": str(member.id),
        "kind": kind,
        "points": points,
        "sale_id": None,
        "reason": "",
        "created_at": "2026-03-01T10:00:00Z",
    }


def _shared(client, cursor=0):
    events = pull(client, cursor).json()["events"]
    return [e for e in events if e["type"] in ("stock.levels", "points.balances")]


def test_a_push_reaches_the_other_stores_as_levels_and_balances_with_every_stores_ack(enrolled):
    s01, product = enrolled["stores"]["S01"], enrolled["product"]
    member = make_member()
    # given S01 sells two, takes one back, and its member earns 40 and redeems 15
    push(
        enrolled["clients"]["S01"],
        [
            envelope("S01", 1, "stock.moved", moved(s01, product, "-2")),
            envelope("S01", 2, "stock.moved", moved(s01, product, "1", kind="return")),
            envelope("S01", 3, "points.posted", _points(member, 40)),
            envelope("S01", 4, "points.posted", _points(member, -15, kind="redeem")),
        ],
    )
    # when S02 pulls
    levels, balances = _shared(enrolled["clients"]["S02"])
    # then it learns S01's level and the member's balance once each, not four events
    assert levels["payload"] == {
        "store_id": str(s01.id),
        "region": "",
        "levels": [[str(product.id), "-1.000"]],
    }
    assert balances["payload"] == {"balances": [[str(member.id), 25]], "acks": {"S01": 4, "S02": 0}}
    # and nothing is left to publish: the next pull brings nothing new
    assert SharedStockChange.objects.count() == 0
    assert _shared(enrolled["clients"]["S02"], cursor=balances["fseq"]) == []


def test_levels_are_published_at_most_once_per_interval(enrolled, settings):
    settings.SYNC_SHARED_PUBLISH_SECONDS = 60
    s01, product = enrolled["stores"]["S01"], enrolled["product"]
    push(enrolled["clients"]["S01"], [envelope("S01", 1, "stock.moved", moved(s01, product, "-1"))])
    assert len(_shared(enrolled["clients"]["S02"])) == 1
    # a second sale within the minute waits
    push(enrolled["clients"]["S01"], [envelope("S01", 2, "stock.moved", moved(s01, product, "-1"))])
    assert len(_shared(enrolled["clients"]["S02"])) == 1
    # and goes out once the minute is over, with the level after both
    SharedStatePublication.objects.update(published_at=timezone.now() - timedelta(seconds=61))
    latest = _shared(enrolled["clients"]["S02"])[-1]
    assert latest["payload"]["levels"] == [[str(product.id), "-2.000"]]


def test_a_push_landing_between_the_snapshot_and_its_write_is_published_next_time(enrolled):
    s01, product = enrolled["stores"]["S01"], enrolled["product"]
    push(enrolled["clients"]["S01"], [envelope("S01", 1, "stock.moved", moved(s01, product, "-1"))])
    # given a publication that read its snapshot
    snapshot = _read()
    # when S01's next sale lands before that publication writes
    push(enrolled["clients"]["S01"], [envelope("S01", 2, "stock.moved", moved(s01, product, "-4"))])
    assert _write(snapshot, now=timezone.now()) == 1
    # then the publication said -1, as of its snapshot, and kept the newer mark
    assert SharedStockChange.objects.count() == 1
    # and the next publication sends the level after both
    assert shared_state_publish() == 1
    latest = _shared(enrolled["clients"]["S02"])[-1]
    assert latest["payload"]["levels"] == [[str(product.id), "-5.000"]]


def test_a_publication_that_lost_the_race_to_another_writes_nothing(enrolled):
    s01, product = enrolled["stores"]["S01"], enrolled["product"]
    push(enrolled["clients"]["S01"], [envelope("S01", 1, "stock.moved", moved(s01, product, "-1"))])
    late, early = _read(), _read()
    assert _write(early, now=timezone.now()) == 1
    assert _write(late, now=timezone.now()) == 0  # its snapshot is older than the publication before it
    assert len(_shared(enrolled["clients"]["S02"])) == 1


def test_levels_go_to_the_stores_of_the_same_region_only(enrolled):
    s01, product = enrolled["stores"]["S01"], enrolled["product"]
    north = make_store("S03", region="north")
    _, code = enrollment_code_create(store=north)
    _, token = store_enroll(code=code)
    from rest_framework.test import APIClient

    s03 = APIClient()
    s03.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    member = make_member()
    push(
        enrolled["clients"]["S01"],
        [
            envelope("S01", 1, "stock.moved", moved(s01, product, "-1")),
            envelope("S01", 2, "points.posted", _points(member, 10)),
        ],
    )
    # S02 shares S01's (blank) region: its level and the balance; S03 in the north: the balance only
    assert [e["type"] for e in _shared(enrolled["clients"]["S02"])] == ["stock.levels", "points.balances"]
    assert [e["type"] for e in _shared(s03)] == ["points.balances"]


def test_each_stores_levels_are_published_with_its_own_figures_and_a_full_publication_says_more(
    enrolled, monkeypatch
):
    from cloud.sync import shared_state
    from retail.stock.models import StockLevel
    from tests.factories import make_product

    s01, s02 = enrolled["stores"]["S01"], enrolled["stores"]["S02"]
    products = [enrolled["product"], make_product("1.00"), make_product("3.00")]
    # given both stores move different amounts of the same products
    for store, client, sign, kind in (
        (s01, enrolled["clients"]["S01"], "-", "sale"),
        (s02, enrolled["clients"]["S02"], "", "receipt"),
    ):
        batch = [
            envelope(store.code, n + 1, "stock.moved", moved(store, p, f"{sign}{n + 2}", kind=kind))
            for n, p in enumerate(products)
        ]
        assert push(client, batch).status_code == 200
    # when a publication reads at most four marks (six are waiting)
    monkeypatch.setattr(shared_state, "PER_PUBLICATION", 4)
    snap = _read()
    # then it takes the first four in key order, each with its own store's level, and says more
    assert snap.more is True
    expected = sorted(
        (level.store_id, level.product_id, level.on_hand) for level in StockLevel.objects.all()
    )[:4]
    assert [(s, p, v) for s, p, _t, v in snap.stock] == expected
    # and the next reads the other two
    _write(snap, now=timezone.now())
    rest = _read()
    assert rest.more is False and len(rest.stock) == 2
