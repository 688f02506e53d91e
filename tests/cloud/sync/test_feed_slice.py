"""The feed slice the nudge socket carries equals, store by store, what that store's pull returns."""

import json
import uuid

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cloud.sync.models import FeedEntry, FeedState
from cloud.sync.selectors import feed_page, feed_slice
from tests.factories import make_store

REGIONS = (None, "", "north", "south")


@pytest.fixture
def stores(db):
    return [
        make_store("S01", region="north"),
        make_store("S02", region="north"),
        make_store("S03", region=""),
    ]


def _entries(stores):
    store = st.sampled_from([None, *stores])
    return st.lists(
        st.tuples(st.sampled_from(["cloud", "S01", "S02", "S03"]), store, st.sampled_from(REGIONS), store),
        max_size=12,
    )


def _write(rows) -> None:
    FeedEntry.objects.all().delete()
    FeedEntry.objects.bulk_create(
        FeedEntry(
            seq=i,
            event_id=uuid.uuid4(),
            origin=origin,
            origin_seq=i,
            hlc=i,
            type="price.set",
            schema=1,
            payload={"n": i},
            audience=audience,
            audience_region=region,
            not_to=not_to,
        )
        for i, (origin, audience, region, not_to) in enumerate(rows, start=1)
    )
    FeedState.objects.update_or_create(pk=1, defaults={"last_seq": len(rows) + 2, "floor_seq": 0})


@settings(max_examples=60)
@given(data=st.data())
def test_any_slice_gives_each_store_exactly_its_pull(stores, data):
    # given any feed entries, each for everyone, a store, a region or not about a store
    rows = data.draw(_entries(stores))
    after = data.draw(st.integers(min_value=0, max_value=len(rows)))
    _write(rows)
    # when the socket's slice is cut from ``after``
    change = feed_slice(after=after)
    for store in stores:
        message = json.loads(change.message_for(store_id=store.id, region=store.region, code=store.code))
        page = feed_page(store=store, cursor=after)
        # then each store gets the events and the cursor its own pull from ``after`` gets
        assert (message["type"], message["after"]) == ("events", after)
        assert (message["events"], message["cursor"]) == (page.events, page.cursor)


def test_a_slice_starting_below_the_pruned_floor_says_more(stores):
    _write([("cloud", None, None, None)] * 3)
    FeedState.objects.filter(pk=1).update(floor_seq=2)
    change = feed_slice(after=1)
    assert (change.entries, change.why) == (None, "it starts below the pruned floor 2")
    assert change.message_for(store_id=stores[0].id, region="north", code="S01") == '{"type":"more"}'
    assert feed_slice(after=2).entries is not None


def test_a_slice_over_the_byte_bound_says_more(stores):
    _write([("cloud", None, None, None)] * 3)
    one = len(feed_slice(after=0).entries[0].text)
    assert feed_slice(after=0, max_bytes=3 * one).entries is not None
    over = feed_slice(after=0, max_bytes=3 * one - 1)
    assert (over.entries, over.why) == (None, f"more than {3 * one - 1} bytes by entry 3")
    assert feed_slice(after=0, max_events=2).why == "more than 2 entries"
