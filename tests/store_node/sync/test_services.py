import gzip
import json
import random
import threading
import time
import uuid
from decimal import Decimal

import httpx
import pytest
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from retail.catalog.models import Price
from retail.outbox.models import Event
from retail.stock.services import stock_move
from store_node.sync.models import SyncCredential, SyncState
from store_node.sync.selectors import sync_status
from store_node.sync.services import sync_enroll, sync_once, sync_pull, sync_push
from store_node.sync.worker import backoff_delay
from tests.factories import make_product
from tests.store_node.sync.fake_cloud import FakeCloud


@pytest.fixture
def cloud(store):
    fake = FakeCloud(store_id=str(store.id))
    sync_enroll(cloud_url="http://cloud.test", code="CODE", transport=fake.transport())
    fake.snapshot_lines = [{"t": "header", "format": 1, "cursor": 0, "store": "S01"}, {"t": "end", "rows": 0}]
    return fake


def _client(cloud):
    from store_node.sync.services import sync_client

    return sync_client(transport=cloud.transport())


def _sell(store, product, n):
    for _ in range(n):
        stock_move(store_id=store.id, product_id=product.id, kind="sale", quantity=Decimal("-1"))


def test_enrolling_keeps_the_credential_and_refuses_another_stores_code(store):
    fake = FakeCloud(store_code="S01")
    sync_enroll(cloud_url="http://cloud.test/", code="x", transport=fake.transport())
    assert SyncCredential.objects.get().cloud_url == "http://cloud.test"
    other = FakeCloud(store_code="S09")
    with pytest.raises(Exception, match="S09"):
        sync_enroll(cloud_url="http://cloud.test", code="x", transport=other.transport())


def test_push_sends_every_own_event_once_in_order(store, cloud):
    product = make_product()
    _sell(store, product, 5)
    assert sync_push(client=_client(cloud)) == 5
    assert [e["seq"] for e in cloud.received] == [1, 2, 3, 4, 5]
    assert SyncState.objects.get().pushed_seq == 5
    # and a second push sends nothing
    assert sync_push(client=_client(cloud)) == 0


def test_push_resumes_where_the_cloud_says_after_a_lost_acknowledgement(store, cloud):
    product = make_product()
    _sell(store, product, 3)
    sync_push(client=_client(cloud))
    # given the store lost the acknowledgement of 2 and 3 (it thinks only 1 is acked) and sells more
    SyncState.objects.update(pushed_seq=1)
    _sell(store, product, 2)
    # when it pushes, the cloud treats 2..3 as duplicates and applies 4..5
    sync_push(client=_client(cloud))
    assert [e["seq"] for e in cloud.received] == [1, 2, 3, 4, 5]
    # and when the store believes more was acked than the cloud has, the seq_gap answer brings it back
    cloud.ack = 3
    cloud.received = cloud.received[:3]
    sync_push(client=_client(cloud))
    assert [e["seq"] for e in cloud.received] == [1, 2, 3, 4, 5]


def test_a_backlog_goes_in_bounded_batches_and_a_batch_taken_in_part_is_resent_from_the_ack(
    store, cloud, monkeypatch
):
    # given batches of 2 events and 7 own events, and a cloud that takes only the first event of
    # the batch from 3 (its acknowledgement says 3 while 3 and 4 were sent)
    import store_node.sync.services as services

    monkeypatch.setattr(services, "PUSH_BATCH_EVENTS", 2)
    _sell(store, make_product(), 7)
    handle, sent, taken_in_part = cloud.handle, [], []

    def partly(request):
        if request.url.path.endswith("/push"):
            events = json.loads(gzip.decompress(request.content))["events"]
            sent.append([e["seq"] for e in events])
            if events and events[0]["seq"] == 3 and cloud.ack == 2 and not taken_in_part:
                taken_in_part.append(events[0]["seq"])
                cloud.received.append(events[0])
                cloud.ack = 3
                return httpx.Response(
                    200, json={"ack_seq": 3, "applied": 1, "duplicates": 0, "quarantined": []}
                )
        return handle(request)

    cloud.handle = partly
    # when the store pushes (two batches in flight, each the one after the other), and again
    first = sync_push(client=_client(cloud))
    second = sync_push(client=_client(cloud))
    # then the push stopped at the partial acknowledgement (the batch behind it, refused with seq_gap,
    # applied nothing), and the next push resumed at 4: every event reached the cloud once, in order
    assert (first, second) == (3, 4)
    assert taken_in_part == [3]
    assert [e["seq"] for e in cloud.received] == [1, 2, 3, 4, 5, 6, 7]
    assert all(0 < len(batch) <= 2 for batch in sent)
    assert [4, 5] in sent
    assert SyncState.objects.get().pushed_seq == 7


def test_a_cloud_that_takes_fewer_events_per_batch_gets_fewer(store, cloud, monkeypatch):
    # given a store that sends up to 5 events per batch, 7 own events, and a cloud (an older release)
    # that takes at most 3 and says so the way the protocol does (413 batch_too_large, max_events)
    import store_node.sync.services as services

    monkeypatch.setattr(services, "PUSH_BATCH_EVENTS", 5)
    _sell(store, make_product(), 7)
    handle, sent = cloud.handle, []

    def at_most_three(request):
        if request.url.path.endswith("/push"):
            events = json.loads(gzip.decompress(request.content))["events"]
            sent.append([e["seq"] for e in events])
            if len(events) > 3:
                body = {"detail": "at most 3 events per batch", "code": "batch_too_large", "max_events": 3}
                return httpx.Response(413, json=body)
        return handle(request)

    cloud.handle = at_most_three
    # when it pushes
    pushed = sync_push(client=_client(cloud))
    # then the refused batch changed nothing, the store sent batches of at most 3 after it, and the
    # cloud holds every event once, in order
    assert pushed == 7
    assert sent.count([1, 2, 3, 4, 5]) == 1  # refused once (the batch behind it, [6, 7], may arrive first)
    assert all(len(batch) <= 3 for batch in sent if batch != [1, 2, 3, 4, 5])
    assert [1, 2, 3] in sent and [4, 5, 6] in sent and [7] in sent
    assert [e["seq"] for e in cloud.received] == [1, 2, 3, 4, 5, 6, 7]
    assert SyncState.objects.get().pushed_seq == 7


def test_two_batches_are_in_flight_and_one_that_overtakes_the_batch_ahead_is_sent_again(
    store, cloud, monkeypatch
):
    # given batches of 2 events, 6 own events, and a cloud that holds the first batch until the
    # second has arrived (so the second reaches it first, as it may over a network)
    import store_node.sync.services as services

    monkeypatch.setattr(services, "PUSH_BATCH_EVENTS", 2)
    _sell(store, make_product(), 6)
    handle, answered = cloud.handle, []
    second_answered = threading.Event()

    def first_seq(request):
        return json.loads(gzip.decompress(request.content))["events"][0]["seq"]

    def hold_the_first(request):
        if request.url.path.endswith("/push") and first_seq(request) == 1 and not answered:
            assert second_answered.wait(5), "the second batch was not in flight with the first"

    def record(request):
        response = handle(request)
        if request.url.path.endswith("/push"):
            answered.append((first_seq(request), response.status_code))
            if first_seq(request) == 3:
                second_answered.set()
        return response

    cloud.on_arrival, cloud.handle = hold_the_first, record
    # when the store pushes
    pushed = sync_push(client=_client(cloud))
    # then the batch from 3, in flight while the first was unanswered, was answered first with
    # seq_gap, and was sent again: every event reached the cloud once, in order, and the store
    # believed nothing was lost (it never rewound below what the cloud acknowledged)
    assert answered[:2] == [(3, 409), (1, 200)]
    assert (3, 200) in answered
    assert [seq for seq, _status in answered].count(1) == 1  # not rewound: 1 and 2 were never resent
    assert pushed == 6
    assert [e["seq"] for e in cloud.received] == [1, 2, 3, 4, 5, 6]
    assert SyncState.objects.get().pushed_seq == 6


def _price_event(fseq, product, amount):
    return {
        "id": str(uuid.uuid4()),
        "origin": "cloud",
        "seq": fseq,
        "hlc": 1,
        "type": "price.set",
        "schema": 1,
        "fseq": fseq,
        "payload": {
            "id": str(uuid.uuid4()),
            "product_id": str(product.id),
            "store_id": None,
            "amount": amount,
            "effective_from": f"2026-03-0{fseq}T00:00:00Z",
        },
    }


def test_pull_applies_pages_and_moves_the_cursor_with_them(store, cloud):
    product = make_product(price=None)
    cloud.feed = [_price_event(i, product, f"1.0{i}") for i in range(1, 6)]
    outcome = sync_pull(client=_client(cloud))
    assert (outcome.applied, outcome.up_to_date) == (5, True)
    assert SyncState.objects.get().pull_cursor == 5
    assert Price.objects.filter(product=product).count() == 5


def _synced_to(cursor):
    SyncState.objects.update_or_create(
        pk=1, defaults={"pull_cursor": cursor, "snapshot_loaded_at": timezone.now()}
    )


def test_a_slice_the_socket_carried_applies_as_the_pull_from_the_stores_cursor_would(store):
    from store_node.sync.services import sync_socket_apply

    product = make_product(price=None)
    # given a store that pulled up to position 3
    _synced_to(3)
    # when the socket brings the slice (2, 6]: positions 3 (already here) and 5
    slice_ = [_price_event(3, product, "3.00"), _price_event(5, product, "5.00")]
    assert sync_socket_apply(after=2, cursor=6, events=slice_) is True
    # then only what is after its cursor applies, and the cursor is the slice's
    assert list(Price.objects.filter(product=product).values_list("amount", flat=True)) == [Decimal("5.00")]
    assert SyncState.objects.get().pull_cursor == 6
    # and the same slice again changes nothing
    assert sync_socket_apply(after=2, cursor=6, events=slice_) is None
    assert Price.objects.filter(product=product).count() == 1


def test_a_slice_after_entries_the_store_lacks_changes_nothing_and_asks_for_a_pull(store):
    from store_node.sync.services import sync_socket_apply

    product = make_product(price=None)
    _synced_to(3)
    # the slice starts after 4: position 4 may hold something for this store
    assert sync_socket_apply(after=4, cursor=6, events=[_price_event(5, product, "5.00")]) is False
    assert SyncState.objects.get().pull_cursor == 3
    assert not Price.objects.filter(product=product).exists()
    # and a store that never synced loads its snapshot first, whatever the slice
    SyncState.objects.filter(pk=1).update(pull_cursor=0, snapshot_loaded_at=None)
    assert sync_socket_apply(after=0, cursor=6, events=[_price_event(5, product, "5.00")]) is False
    assert not Price.objects.filter(product=product).exists()


def test_a_malformed_slice_changes_nothing(store):
    from store_node.sync.services import sync_socket_apply

    product = make_product(price=None)
    _synced_to(3)
    broken = _price_event(5, product, "5.00")
    broken["seq"] = 0
    with pytest.raises(Exception, match="seq"):
        sync_socket_apply(after=3, cursor=6, events=[_price_event(4, product, "4.00"), broken])
    assert SyncState.objects.get().pull_cursor == 3
    assert not Price.objects.filter(product=product).exists()


def test_the_worker_applies_what_the_socket_carried_without_a_cycle_and_pulls_after_a_gap(store):
    from store_node.sync.worker import SyncWorker

    product = make_product(price=None)
    _synced_to(3)
    worker = SyncWorker(websocket=False, interval=60.0, interval_with_socket=60.0)
    worker.socket_open = True
    worker.pull_wanted = False

    # given a slice the socket carried that follows the store's cursor
    worker.carry({"type": "events", "after": 3, "cursor": 4, "events": [_price_event(4, product, "4.00")]})
    worker.wake.clear()
    worker._apply_carried()
    # then it is applied and no cycle is wanted
    assert Price.objects.filter(product=product).count() == 1 and SyncState.objects.get().pull_cursor == 4
    assert not (worker.pull_wanted or worker.push_wanted) and worker.carried_applied == 1
    # when the next slice starts past the store's cursor (an entry it never got)
    worker.carry({"type": "events", "after": 5, "cursor": 7, "events": []})
    worker._apply_carried()
    # then the worker wants a whole cycle, which pulls
    assert worker.pull_wanted and SyncState.objects.get().pull_cursor == 4
    assert worker.cycle_pulls()


def test_a_page_that_fails_to_apply_leaves_the_cursor_where_it_was(store, cloud):
    product = make_product(price=None)
    broken = _price_event(2, product, "2.00")
    broken["seq"] = 0  # malformed envelope: the whole page is refused
    cloud.feed = [_price_event(1, product, "1.00"), broken]
    with pytest.raises(Exception, match="seq"):
        sync_pull(client=_client(cloud))
    assert SyncState.objects.get().pull_cursor == 0
    assert Price.objects.filter(product=product).count() == 0


def test_a_feed_event_of_a_newer_schema_is_kept_aside_and_the_rest_applies(store, cloud):
    from store_node.sync.models import PulledQuarantine

    product = make_product(price=None)
    newer = _price_event(1, product, "1.00")
    newer["schema"] = 7
    cloud.feed = [newer, _price_event(2, product, "2.00")]
    outcome = sync_pull(client=_client(cloud))
    assert (outcome.applied, outcome.quarantined) == (1, 1)
    assert PulledQuarantine.objects.get().schema == 7


def test_sync_once_is_up_to_date_only_when_nothing_waits(store, cloud):
    product = make_product()
    _sell(store, product, 2)
    summary = sync_once(transport=cloud.transport())
    assert (summary.pushed, summary.up_to_date, summary.error) == (2, True, "")
    status = sync_status()
    assert (status.enrolled, status.online, status.events_waiting) == (True, True, 0)


def test_an_unreachable_cloud_is_reported_and_not_up_to_date(store, cloud):
    product = make_product()
    _sell(store, product, 1)
    cloud.fail_next = [(503, {"detail": "down", "code": "unavailable"}, {"Retry-After": "0"})] * 5
    summary = sync_once(transport=cloud.transport())
    assert summary.up_to_date is False
    assert summary.waiting == 1
    assert "unavailable" in summary.error
    assert sync_status().online is False


def test_a_busy_cloud_is_asked_again_after_its_retry_after_and_nothing_is_sent_twice(store, cloud):
    sync_once(transport=cloud.transport())  # the (empty) snapshot
    product = make_product()
    _sell(store, product, 3)
    cloud.requests.clear()
    # given a cloud whose database is busy for its first two answers
    busy = (503, {"detail": "busy", "code": "busy"}, {"Retry-After": "0"})
    cloud.fail_next = [busy, busy]
    # when the store syncs once
    summary = sync_once(transport=cloud.transport())
    # then the push is retried and lands, once
    assert (summary.pushed, summary.up_to_date, summary.error) == (3, True, "")
    assert cloud.requests[:3] == ["push", "push", "push"]  # two busy answers, then the one that took it
    assert [e["seq"] for e in cloud.received] == [1, 2, 3]


@pytest.mark.parametrize("header, wait", [("3", 3.0), ("0", 0.1), ("3600", 10.0), ("soon", 1.0), (None, 1.0)])
def test_a_busy_answer_is_waited_for_as_long_as_it_asks_within_bounds(header, wait):
    from store_node.sync.client import busy_wait_s

    headers = {"Retry-After": header} if header is not None else {}
    assert busy_wait_s(httpx.Response(503, headers=headers)) == wait


def test_the_first_cycle_loads_the_snapshot_and_continues_from_its_cursor(store, cloud):
    cloud.snapshot_lines = [
        {"t": "header", "format": 1, "cursor": 40, "store": "S01"},
        {"t": "tax_class", "code": "RED", "name": "Reduced"},
        {"t": "end", "rows": 1},
    ]
    summary = sync_once(transport=cloud.transport())
    assert summary.snapshot_rows == 1
    assert SyncState.objects.get().pull_cursor == 40
    assert cloud.requests[1:4] == ["snapshot", "push", "pull"]


@given(failures=st.integers(min_value=0, max_value=30), seed=st.randoms(use_true_random=False))
def test_backoff_grows_but_stays_within_its_cap(failures, seed):
    delay = backoff_delay(failures, base=5.0, cap=300.0, rng=seed)
    assert 2.5 <= delay <= 300.0
    if failures == 0:
        assert delay == 5.0


def test_the_worker_polls_less_often_while_its_nudge_socket_is_open_and_backs_off_after_failures():
    from store_node.sync.worker import SyncWorker

    worker = SyncWorker(interval=5.0, interval_with_socket=30.0)
    assert 4.0 <= worker.next_delay() <= 5.0  # no socket: it polls
    worker.socket_open = True
    assert 24.0 <= worker.next_delay() <= 30.0  # head office's changes come through the socket
    worker.failures = 3
    assert 2.5 <= worker.next_delay() <= 40.0  # failing: the backoff decides, socket or not


def test_stores_that_start_together_drift_apart_instead_of_polling_in_step():
    from store_node.sync.worker import poll_delay

    # given 500 stores whose first cycles ended in the same second
    rng = random.Random(7)
    # when each waits for its poll, ten times over
    due = [sum(poll_delay(30.0, rng=rng) for _ in range(10)) for _ in range(500)]
    # then by their tenth poll they are spread over more than 20 s, and none polled late
    assert max(due) - min(due) > 20.0
    assert max(due) <= 300.0


def test_a_local_sale_alone_makes_a_push_while_a_nudge_or_the_poll_makes_a_whole_cycle():
    from store_node.sync.worker import SyncWorker

    worker = SyncWorker()
    assert worker.cycle_pulls()  # the first cycle is a whole one
    worker.want(pull=False)  # a sale
    assert worker.wake.is_set() and not worker.cycle_pulls()
    worker.want(pull=False)
    worker.want(pull=True)  # a sale, then a nudge before the cycle starts
    assert worker.cycle_pulls()
    assert worker.cycle_pulls()  # nothing asked: the poll's whole cycle
    # and a till selling faster than the poll interval still pulls once the interval is over
    worker.want(pull=False)
    assert not worker.cycle_pulls()
    worker.last_pull -= worker.interval_with_socket
    worker.want(pull=False)
    assert worker.cycle_pulls()


def test_a_push_only_cycle_pushes_and_does_not_pull(store, cloud):
    _sell(store, make_product(), 2)
    state = SyncState.objects.get_or_create(pk=1)[0]
    SyncState.objects.filter(pk=1).update(
        snapshot_loaded_at=timezone.now(), pull_cursor=state.pull_cursor or 1
    )
    summary = sync_once(transport=cloud.transport(), pull=False)
    assert (summary.pushed, summary.up_to_date) == (2, False)
    assert "pull" not in cloud.requests


def test_with_nothing_to_send_a_push_reports_the_head_only_when_asked(store, cloud):
    assert sync_push(client=_client(cloud), report_head=False) == 0
    assert cloud.requests == ["enroll"]  # nothing waits and no report is due: no request at all
    assert sync_push(client=_client(cloud)) == 0
    assert cloud.requests == ["enroll", "push"]  # the report: an empty batch with the head
    _sell(store, make_product(), 2)
    assert sync_push(client=_client(cloud), report_head=False) == 2  # events always go


def test_the_worker_reports_its_head_every_few_minutes_not_every_cycle():
    from store_node.sync.worker import SyncWorker

    worker = SyncWorker(report_every=300.0)
    assert worker.reports_head()  # the first cycle reports
    worker.last_report = time.monotonic()
    assert not worker.reports_head()  # a nudge a moment later pulls without an empty push
    worker.last_report -= 300.0
    assert worker.reports_head()


def test_events_waiting_counts_own_unacknowledged_events(store, cloud):
    _sell(store, make_product(), 3)
    assert sync_status().events_waiting == Event.objects.filter(origin="S01").count() == 3


def test_a_snapshot_member_whose_card_a_local_member_holds_arrives_without_the_card(store, cloud):
    from retail.members.models import Member
    from tests.factories import make_member

    make_member(number="LOCAL-1", card_barcode="CARD-1")
    remote_id = "0190a0a0-0000-7000-8000-0000000000d1"
    fields = {"card_barcode": "CARD-1", "first_name": "Remote", "last_name": "", "phone": "", "email": ""}
    cloud.snapshot_lines = [
        {"t": "header", "format": 1, "cursor": 3, "store": "S01"},
        {"t": "member", "id": remote_id, "number": "R-1", **fields, "consent_marketing": False,
         "consent_email": False, "consent_sms": False, "field_clocks": {}, "origin": "S02"},
        {"t": "end", "rows": 1},
    ]  # fmt: skip
    summary = sync_once(transport=cloud.transport())
    assert summary.error == ""
    assert Member.objects.get(pk=remote_id).card_barcode is None
    assert Member.objects.get(number="LOCAL-1").card_barcode == "CARD-1"


def _snapshot_member(member, **changes):
    row = {
        "t": "member",
        "id": str(member.id),
        "number": member.number,
        "card_barcode": member.card_barcode,
        "first_name": member.first_name,
        "last_name": member.last_name,
        "phone": member.phone,
        "email": member.email,
        "consent_marketing": member.consent_marketing,
        "consent_email": member.consent_email,
        "consent_sms": member.consent_sms,
        "field_clocks": member.field_clocks,
        "origin": member.origin,
        "merged_into_id": None,
        "merged_at": None,
    }
    return {**row, **changes}


def test_a_snapshot_member_held_here_takes_the_newer_fields_and_keeps_a_newer_local_edit(store, cloud):
    from retail.members.models import Member
    from tests.factories import make_member

    # given a member here whose first name was edited locally at t=9 (not pushed) and last name at t=1
    local = make_member(
        number="N1",
        first_name="Local",
        last_name="Old",
        field_clocks={"first_name": [9, "S01"], "last_name": [1, "S01"]},
    )
    # when the snapshot has head office's older first name and newer last name
    cloud.snapshot_lines = [
        {"t": "header", "format": 1, "cursor": 3, "store": "S01"},
        _snapshot_member(local, first_name="Cloud", last_name="New", field_clocks={"first_name": [5, "cloud"], "last_name": [5, "cloud"]}),
        {"t": "end", "rows": 1},
    ]  # fmt: skip
    assert sync_once(transport=cloud.transport()).error == ""
    # then each field is the newer of the two
    assert Member.objects.values_list("first_name", "last_name").get() == ("Local", "New")


def test_a_snapshot_shows_a_merge_this_store_missed_and_the_store_merges_too(store, cloud):
    from retail.members.models import Member
    from retail.members.services import member_update, points_post
    from tests.factories import make_member

    # given two members here, points on both and an unpushed local edit of the duplicate's e-mail
    anna = make_member(number="S01-1", first_name="Anna", field_clocks={"first_name": [1, "S01"]})
    dup = make_member(number="S02-1", first_name="Anna")
    points_post(member_id=anna.id, kind="earn", points=70)
    points_post(member_id=dup.id, kind="earn", points=30)
    member_update(member=dup, email="anna@example.com")
    dup.refresh_from_db()
    entries = [
        {"t": "points_entry", "id": str(e.id), "member_id": str(e.member_id), "kind": e.kind, "points": e.points,
         "sale_id": None, "reason": "", "origin": "S01", "created_at": e.created_at.isoformat()}
        for e in anna.points_entries.all() | dup.points_entries.all()
    ]  # fmt: skip
    # when the store loads head office's snapshot, taken after it merged the duplicate into anna
    cloud.snapshot_lines = [
        {"t": "header", "format": 1, "cursor": 8, "store": "S01"},
        _snapshot_member(dup, email="", field_clocks={}, merged_into_id=str(anna.id), merged_at="2026-03-01T10:00:00Z"),
        _snapshot_member(anna),
        *entries,
        {"t": "end", "rows": 2 + len(entries)},
    ]  # fmt: skip
    assert sync_once(transport=cloud.transport()).error == ""

    # then the duplicate points at anna, who holds both ledgers and the e-mail written here
    anna.refresh_from_db()
    dup.refresh_from_db()
    assert (dup.merged_into_id, dup.points_balance, anna.points_balance) == (anna.id, 0, 100)
    assert (anna.email, dup.email) == ("anna@example.com", "anna@example.com")
    assert Member.objects.count() == 2


def test_a_clock_a_day_ahead_of_head_offices_is_shown_to_staff(store, cloud):
    # given head office's answers say its clock is a day behind this store's
    cloud.clock_behind_s = 86400

    # when the store syncs
    sync_once(transport=cloud.transport())

    # then its status says by how much, and which way
    status = sync_status()
    assert abs(status.clock_offset_s - 86400) <= 2
    assert status.clock_warning == "Clock 1 day ahead of head office: set the time"


@pytest.mark.parametrize(
    ("behind", "warning"),
    [(0, ""), (45, ""), (-3 * 3600, "Clock 3 h behind head office: set the time")],
)
def test_the_clock_warning_needs_more_than_a_minute_either_way(store, cloud, behind, warning):
    cloud.clock_behind_s = behind

    sync_once(transport=cloud.transport())

    assert sync_status().clock_warning == warning


def test_no_answer_from_head_office_keeps_the_last_clock_reading(store, cloud):
    cloud.clock_behind_s = -7200
    sync_once(transport=cloud.transport())
    cloud.fail_next = [(503, {"detail": "down", "code": "unavailable"})]
    cloud.clock_behind_s = None

    sync_once(transport=cloud.transport())

    assert sync_status().clock_warning == "Clock 2 h behind head office: set the time"


def _stamped(fseq, origin, hlc, type_, payload):
    return {
        "id": str(uuid.uuid4()),
        "origin": origin,
        "seq": fseq,
        "hlc": hlc,
        "type": type_,
        "schema": 1,
        "fseq": fseq,
        "payload": payload,
    }


def test_another_tills_unchecked_stamp_does_not_drag_this_stores_clock(store, cloud):
    # given another store whose clock is a day fast sold something, and head office set a price now
    from retail.outbox import hlc
    from retail.outbox.services import event_append
    from tests.factories import make_store

    other = make_store("S09")
    product = make_product(price=None)
    now = hlc.pack(hlc.now_millis())
    day_fast = hlc.pack(hlc.now_millis() + 86_400_000)
    moved = {
        "id": str(uuid.uuid4()),
        "store_id": str(other.id),
        "product_id": str(product.id),
        "kind": "sale",
        "quantity": "-1.000",
        "reference": "",
        "note": "",
        "created_at": "2026-12-02T10:00:00Z",
    }
    price = _price_event(2, product, "1.00")
    price["hlc"] = now
    cloud.feed = [_stamped(1, "S09", day_fast, "stock.moved", moved), price]

    # when this store pulls both
    sync_pull(client=_client(cloud))

    # then its next event is stamped after head office's price, not a day ahead
    stamp = event_append(type="stock.counted", payload={}).hlc
    assert now < stamp < day_fast - hlc.pack(3_600_000)


@pytest.mark.parametrize(
    ("behind", "warning"),
    [
        (3599, "Clock 1 h ahead of head office: set the time"),
        (86399, "Clock 1 day ahead of head office: set the time"),
        (-125, "Clock 2 min behind head office: set the time"),
    ],
)
def test_the_clock_warning_rounds_to_the_largest_unit(store, cloud, behind, warning):
    # the Date header has one-second resolution: an hour off reads as 3,599 s or 3,600 s
    cloud.clock_behind_s = behind

    sync_once(transport=cloud.transport())

    assert sync_status().clock_warning == warning


def test_after_a_cycle_every_till_hears_the_sync_state(store, cloud):
    from asgiref.sync import async_to_sync
    from channels.layers import get_channel_layer

    from store_node.sync.worker import tills_tell_sync_state
    from tests.factories import make_terminal

    # given a till listening on its group, and two sales waiting for a cloud that is down
    terminal = make_terminal(store, "T07")
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(f"terminal-{terminal.id.hex}", channel)
    _sell(store, make_product(), 2)
    cloud.fail_next = [(503, {"detail": "down", "code": "unavailable"}, {"Retry-After": "0"})] * 5
    sync_once(transport=cloud.transport())
    # when the worker tells the tills
    tills_tell_sync_state()
    # then the till hears: offline, two events waiting, never synced
    message = async_to_sync(layer.receive)(channel)
    assert message == {"type": "terminal.sync", "online": False, "pending": 2, "last_sync": None}
    # and once the cloud answers, online with nothing waiting and the time of the sync
    cloud.fail_next = []
    sync_once(transport=cloud.transport())
    tills_tell_sync_state()
    message = async_to_sync(layer.receive)(channel)
    assert (message["online"], message["pending"]) == (True, 0) and message["last_sync"]


def test_the_other_stores_last_sync_is_kept_from_the_last_page_of_a_pull(store, cloud):
    from store_node.sync.models import PeerLastSync

    # given head office saying when S02 and S03 last reached it (and something that is no time)
    cloud.stores_seen = {"S02": "2026-12-01T09:00:00+00:00", "S03": "2026-12-01T08:00:00+00:00", "S04": 12}
    sync_once(transport=cloud.transport())
    # then both are kept, the nonsense is not
    seen = dict(PeerLastSync.objects.values_list("store_code", "last_contact_at"))
    assert {code: at.isoformat() for code, at in seen.items()} == {
        "S02": "2026-12-01T09:00:00+00:00",
        "S03": "2026-12-01T08:00:00+00:00",
    }
    # and a later pull moves a time forward only
    cloud.stores_seen = {"S02": "2026-12-01T10:00:00+00:00", "S03": "2026-12-01T07:00:00+00:00"}
    sync_once(transport=cloud.transport())
    seen = dict(PeerLastSync.objects.values_list("store_code", "last_contact_at"))
    assert (seen["S02"].hour, seen["S03"].hour) == (10, 8)


def test_a_snapshot_cut_short_of_its_end_row_is_not_loaded(store, cloud):
    # given a cloud whose snapshot stream stops before its end row (it failed while writing it)
    cloud.snapshot_lines = [
        {"t": "header", "format": 1, "cursor": 40, "store": "S01"},
        {"t": "tax_class", "code": "RED", "name": "Reduced"},
    ]
    # when the store syncs for the first time
    summary = sync_once(transport=cloud.transport())
    # then nothing of it is kept and the next cycle loads a snapshot again
    from retail.catalog.models import TaxClass

    assert "without its end" in summary.error
    assert not summary.up_to_date
    assert not TaxClass.objects.filter(code="RED").exists()
    assert SyncState.objects.get().snapshot_loaded_at is None


def test_a_snapshot_is_read_from_a_local_copy_of_the_answer_as_it_arrives(store, cloud):
    # given a snapshot of over a megabyte (more than one read of the local copy: lines span reads)
    from retail.catalog.models import TaxClass

    names = [f"Class {n} " + "x" * 3000 for n in range(400)]
    cloud.snapshot_lines = [
        {"t": "header", "format": 1, "cursor": 7, "store": "S01"},
        *({"t": "tax_class", "code": f"C{n}", "name": name} for n, name in enumerate(names)),
        {"t": "end", "rows": len(names)},
    ]
    # when the store loads it
    summary = sync_once(transport=cloud.transport())
    # then every row arrived whole, once (SQLite keeps the long names as they came)
    assert (summary.snapshot_rows, summary.error) == (400, "")
    assert dict(TaxClass.objects.filter(code__startswith="C").values_list("code", "name")) == {
        f"C{n}": name for n, name in enumerate(names)
    }


def test_stores_that_start_together_poll_spread_over_the_interval_from_their_first_cycle_on():
    from store_node.sync.worker import SyncWorker

    # given 500 stores whose first whole cycles ended in the same second (each pulled)
    workers = [SyncWorker() for _ in range(500)]
    for w in workers:
        assert w.cycle_pulls()
    waits = [w.wait_after(pulled=True) for w in workers]
    # then their first polls fall all over the socket's interval, not in a wave at its end
    assert min(waits) < 3.0 and max(waits) > 27.0 and max(waits) <= 30.0
    assert sum(1 for wait in waits if wait < 15.0) > 150
    # and a sale's push cycle agrees: before the wait is over it only pushes, after it it pulls
    # (the poll is due then, not 30 s after the first cycle)
    early = next(w for w, wait in zip(workers, waits, strict=True) if 0.3 < wait < 1.5)
    early.want(pull=False)
    assert not early.cycle_pulls()
    time.sleep(1.6)
    early.want(pull=False)
    assert early.cycle_pulls()
    # and after that first one, the poll interval with its jitter (the socket open by then)
    early.socket_open = True
    assert 24.0 <= early.wait_after(pulled=True) <= 30.0


def test_the_workers_cycles_share_one_client_until_a_cycle_fails_or_the_credential_changes(store, cloud):
    from store_node.sync import services

    transport = cloud.transport()
    # given the worker's first cycle (it keeps its connection)
    assert sync_once(transport=transport, keep_connection=True).error == ""
    kept = services._kept[1]
    # then the next cycle goes out on the same client, still open
    assert sync_once(transport=transport, keep_connection=True, pull=False).error == ""
    assert services._kept[1] is kept and not kept.http.is_closed
    # and a cycle of `sync --once` (not kept) leaves it alone
    assert sync_once(transport=transport).error == ""
    assert services._kept[1] is kept
    # when a cycle fails, its client is closed and the next cycle opens another
    cloud.fail_next.append((500, {"detail": "boom", "code": "boom"}))
    assert sync_once(transport=transport, keep_connection=True).error
    assert services._kept is None and kept.http.is_closed
    assert sync_once(transport=transport, keep_connection=True).error == ""
    second = services._kept[1]
    assert second is not kept
    # and a new credential gets a client of its own
    SyncCredential.objects.filter(pk=1).update(token="k.t")
    assert sync_once(transport=transport, keep_connection=True).error == ""
    assert services._kept[1] is not second and second.http.is_closed
    services.sync_client_release()
    assert services._kept is None
