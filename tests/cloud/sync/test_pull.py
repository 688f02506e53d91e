from decimal import Decimal

from cloud.sync.models import FeedEntry
from cloud.sync.selectors import feed_page
from cloud.sync.services import feed_publish_cloud
from retail.catalog.services import price_set
from retail.members.services import member_create
from tests.cloud.sync.conftest import envelope, moved, pull, push


def _member(member_id, number, phone=""):
    fields = {
        "card_barcode": None,
        "first_name": "Ada",
        "last_name": "L",
        "phone": phone,
        "email": "",
        "consent_marketing": False,
        "consent_email": False,
        "consent_sms": False,
    }
    return {"id": member_id, "number": number, "fields": fields}


def test_head_office_changes_reach_every_store_in_order(enrolled):
    # given two price changes at head office
    product = enrolled["product"]
    price_set(product=product, amount=Decimal("2.60"))
    price_set(product=product, amount=Decimal("2.70"), effective_from=None)
    # when S01 pulls from the start
    page = pull(enrolled["clients"]["S01"], 0).json()
    # then it gets both, in the cloud's order, with the original origin and seq
    prices = [e for e in page["events"] if e["type"] == "price.set"]
    assert [e["payload"]["amount"] for e in prices] == ["2.60", "2.70"]
    assert all(e["origin"] == "cloud" for e in prices)
    assert page["more"] is False
    assert page["cursor"] == max(e["fseq"] for e in page["events"])
    # and pulling again from the new cursor gives nothing
    assert pull(enrolled["clients"]["S01"], page["cursor"]).json()["events"] == []


def test_a_store_price_goes_only_to_that_store(enrolled):
    s02, product = enrolled["stores"]["S02"], enrolled["product"]
    price_set(product=product, amount=Decimal("1.11"), store=s02)
    s01_types = [e["type"] for e in pull(enrolled["clients"]["S01"], 0).json()["events"]]
    s02_types = [e["type"] for e in pull(enrolled["clients"]["S02"], 0).json()["events"]]
    assert "price.set" not in s01_types and "price.set" in s02_types


def test_other_stores_member_and_stock_events_are_relayed_but_never_echoed_or_sales(enrolled):
    s01, product = enrolled["stores"]["S01"], enrolled["product"]
    member_id = "0190a0a0-0000-7000-8000-0000000000c1"
    push(
        enrolled["clients"]["S01"],
        [
            envelope("S01", 1, "member.created", _member(member_id, "S01-0001")),
            envelope("S01", 2, "stock.moved", moved(s01, product, "-1")),
            envelope("S01", 3, "sale.cancelled", {"id": member_id, "store_id": str(s01.id)}),
        ],
    )
    events = pull(enrolled["clients"]["S02"], 0).json()["events"]
    seen_by_s01 = pull(enrolled["clients"]["S01"], 0).json()["events"]
    # the member one by one; the movement as the level head office published for S01
    assert [(e["origin"], e["type"]) for e in events] == [
        ("S01", "member.created"),
        ("cloud", "stock.levels"),
    ]
    assert events[1]["payload"] == {
        "store_id": str(s01.id),
        "region": "",
        "levels": [[str(product.id), "-1.000"]],
    }
    assert seen_by_s01 == []  # neither its own events nor its own levels come back


def test_pages_are_bounded_and_the_cursor_resumes_without_loss(enrolled):
    product = enrolled["product"]
    for cents in range(10, 15):
        price_set(product=product, amount=Decimal(f"3.{cents}"))
    seen, cursor, more = [], 0, True
    while more:
        page = pull(enrolled["clients"]["S01"], cursor, limit=2).json()
        assert len(page["events"]) <= 2
        seen += [e["payload"]["amount"] for e in page["events"] if e["type"] == "price.set"]
        cursor, more = page["cursor"], page["more"]
    assert seen == ["3.10", "3.11", "3.12", "3.13", "3.14"]


def test_feed_positions_are_gapless_and_publishing_is_idempotent(enrolled):
    member_create(number="C-1", first_name="Head", last_name="Office")
    price_set(product=enrolled["product"], amount=Decimal("9.99"))
    first = feed_publish_cloud()
    assert feed_publish_cloud() == 0
    seqs = list(FeedEntry.objects.values_list("seq", flat=True))
    assert seqs == list(range(1, first + 1))


def test_the_cursor_never_passes_an_entry_not_yet_committed(enrolled):
    # The head is read first and entries only up to it are returned: an entry allocated later
    # (a late commit) has a higher position and is read by the next pull.
    price_set(product=enrolled["product"], amount=Decimal("4.00"))
    feed_publish_cloud()
    page = feed_page(store=enrolled["stores"]["S01"], cursor=0)
    price_set(product=enrolled["product"], amount=Decimal("4.10"))
    feed_publish_cloud()
    later = feed_page(store=enrolled["stores"]["S01"], cursor=page.cursor)
    assert [e["payload"]["amount"] for e in later.events] == ["4.10"]


def test_a_cursor_below_the_pruned_floor_asks_for_a_snapshot(enrolled):
    from cloud.sync.models import FeedState

    FeedState.objects.update_or_create(pk=1, defaults={"floor_seq": 10, "last_seq": 20})
    response = pull(enrolled["clients"]["S01"], 3)
    assert response.status_code == 410
    assert response.json()["code"] == "cursor_expired"


def test_pruning_the_feed_sends_stores_behind_it_to_a_snapshot(enrolled):
    from datetime import timedelta

    from django.utils import timezone

    from cloud.sync.services import feed_prune

    price_set(product=enrolled["product"], amount=Decimal("5.00"))
    price_set(product=enrolled["product"], amount=Decimal("5.10"))
    feed_publish_cloud()
    FeedEntry.objects.filter(seq=1).update(created_at=timezone.now() - timedelta(days=40))
    assert feed_prune(older_than=timedelta(days=30)) == 1
    assert pull(enrolled["clients"]["S01"], 0).json()["code"] == "cursor_expired"
    page = pull(enrolled["clients"]["S01"], 1).json()
    assert [e["payload"]["amount"] for e in page["events"] if e["type"] == "price.set"] == ["5.10"]


def test_a_cursor_beyond_any_feed_position_is_a_400_not_a_500(enrolled):
    response = enrolled["clients"]["S01"].post(
        "/api/sync/v1/pull", {"protocol": 1, "cursor": 2**63, "limit": 10}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["code"] == "invalid" and "cursor" in response.json()["detail"]


def test_the_last_page_of_a_pull_says_when_the_other_stores_last_reached_head_office(enrolled):
    # given S02 has pushed (so head office heard from it) and S01 has not
    s02 = enrolled["stores"]["S02"]
    push(
        enrolled["clients"]["S02"], [envelope("S02", 1, "stock.moved", moved(s02, enrolled["product"], "-1"))]
    )
    # when S01 pulls to the head
    page = pull(enrolled["clients"]["S01"], 0).json()
    # then the page names S02's last contact, and not S01's own
    from cloud.sync.models import StoreSyncState

    contact = StoreSyncState.objects.get(store=s02).last_contact_at
    assert page["more"] is False
    assert page["stores_seen"] == {"S02": contact.isoformat()}


def test_the_other_stores_named_on_a_last_page_are_those_of_the_pulling_stores_region(enrolled):
    from django.utils import timezone

    from cloud.sync.models import StoreSyncState
    from retail.stores.models import Store
    from tests.factories import make_store

    # given S02 in S01's region, and S03 and S04 in another, all heard from
    Store.objects.filter(code__in=["S01", "S02"]).update(region="north")
    far, farther = make_store("S03"), make_store("S04")
    Store.objects.filter(pk__in=[far.pk, farther.pk]).update(region="south")
    for store in (enrolled["stores"]["S02"], far, farther):
        StoreSyncState.objects.update_or_create(store=store, defaults={"last_contact_at": timezone.now()})
    # when S01 pulls to the head: only S02
    assert set(pull(enrolled["clients"]["S01"], 0).json()["stores_seen"]) == {"S02"}
    # and a store never heard from is not named
    StoreSyncState.objects.filter(store=enrolled["stores"]["S02"]).update(last_contact_at=None)
    assert pull(enrolled["clients"]["S01"], 0).json()["stores_seen"] == {}


def test_a_pull_records_the_stores_cursor_and_contact_but_a_repeat_within_10_s_writes_nothing(enrolled):
    from datetime import timedelta

    from django.utils import timezone

    from cloud.sync.models import StoreSyncState

    s01 = enrolled["stores"]["S01"]
    price_set(product=enrolled["product"], amount=Decimal("2.60"))
    cursor = pull(enrolled["clients"]["S01"], 0).json()["cursor"]
    assert cursor > 0

    # when S01 pulls from its new cursor: recorded, with its contact
    StoreSyncState.objects.get_or_create(store=s01)
    assert pull(enrolled["clients"]["S01"], cursor).status_code == 200
    state = StoreSyncState.objects.get(store=s01)
    assert state.pull_cursor == cursor and state.last_pull_at is not None
    assert state.last_contact_at == state.last_pull_at

    # a repeat with the same cursor at once: nothing written
    first_at = state.last_pull_at
    pull(enrolled["clients"]["S01"], cursor)
    assert StoreSyncState.objects.get(store=s01).last_pull_at == first_at

    # the same cursor once the last write is over 10 s old: written again
    StoreSyncState.objects.filter(store=s01).update(last_pull_at=timezone.now() - timedelta(seconds=11))
    pull(enrolled["clients"]["S01"], cursor)
    assert StoreSyncState.objects.get(store=s01).last_pull_at > first_at

    # and S02's row is untouched by S01's pulls
    assert not StoreSyncState.objects.filter(store=enrolled["stores"]["S02"], pull_cursor=cursor).exists()
