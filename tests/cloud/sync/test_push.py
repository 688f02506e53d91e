import contextlib
import gzip
import sqlite3
import threading
import time
import uuid
from decimal import Decimal

import pytest

from cloud.reporting.models import DailyProductSales, DailyStoreSales, DailyTender, RolledUpSale
from cloud.sync.models import QuarantinedEvent, StoreSyncState
from retail.members.models import Member
from retail.replication.wire import MAX_PUSH_EVENTS
from retail.stock.models import StockLevel, StockMovement
from tests.cloud.sync.conftest import envelope, moved, push
from tests.factories import make_terminal, make_user


def _moves(enrolled, seqs, quantity="-1"):
    s01, product = enrolled["stores"]["S01"], enrolled["product"]
    return [envelope("S01", seq, "stock.moved", moved(s01, product, quantity)) for seq in seqs]


def test_a_batch_is_applied_once_and_acknowledged(enrolled):
    # given three sale movements of S01
    events = _moves(enrolled, [1, 2, 3])
    # when S01 pushes them
    response = push(enrolled["clients"]["S01"], events, head_seq=3)
    # then all three are applied and the ack is 3
    assert response.status_code == 200, response.json()
    assert response.json() == {"ack_seq": 3, "applied": 3, "duplicates": 0, "quarantined": []}
    level = StockLevel.objects.get(store=enrolled["stores"]["S01"], product=enrolled["product"])
    assert level.on_hand == Decimal("-3.000")
    assert StoreSyncState.objects.get(store=enrolled["stores"]["S01"]).ack_seq == 3


def test_a_resent_batch_changes_nothing_and_returns_the_current_ack(enrolled):
    events = _moves(enrolled, [1, 2])
    push(enrolled["clients"]["S01"], events)
    # when the same batch arrives again (the first acknowledgement was lost)
    again = push(enrolled["clients"]["S01"], events)
    # then it is all duplicates
    assert again.json() == {"ack_seq": 2, "applied": 0, "duplicates": 2, "quarantined": []}
    assert StockMovement.objects.count() == 2


def test_an_overlapping_batch_applies_only_the_new_tail(enrolled):
    events = _moves(enrolled, [1, 2, 3])
    push(enrolled["clients"]["S01"], events[:2])
    answer = push(enrolled["clients"]["S01"], events).json()
    assert (answer["ack_seq"], answer["applied"], answer["duplicates"]) == (3, 1, 2)
    assert StockMovement.objects.count() == 3


def test_a_gap_is_refused_naming_the_expected_seq(enrolled):
    push(enrolled["clients"]["S01"], _moves(enrolled, [1]))
    # when seq 3 arrives without 2
    response = push(enrolled["clients"]["S01"], _moves(enrolled, [3]))
    # then nothing is applied and the answer says where to resume
    assert response.status_code == 409
    assert response.json()["code"] == "seq_gap"
    assert response.json()["expected_seq"] == 2
    assert StockMovement.objects.count() == 1


def test_a_push_of_the_full_bound_is_taken_and_one_more_event_is_refused_naming_the_bound(enrolled):
    # given a backlog one event longer than a push may carry
    events = _moves(enrolled, range(1, MAX_PUSH_EVENTS + 2))
    # when S01 pushes all of it at once, then it is refused whole, naming how many a push may carry
    response = push(enrolled["clients"]["S01"], events)
    assert response.status_code == 413
    assert (response.json()["code"], response.json()["max_events"]) == ("batch_too_large", MAX_PUSH_EVENTS)
    assert StockMovement.objects.count() == 0
    # and a batch of exactly that many is applied whole
    answer = push(enrolled["clients"]["S01"], events[:MAX_PUSH_EVENTS]).json()
    assert (answer["ack_seq"], answer["applied"]) == (MAX_PUSH_EVENTS, MAX_PUSH_EVENTS)
    assert StockMovement.objects.count() == MAX_PUSH_EVENTS


def test_a_batch_with_a_hole_inside_is_refused(enrolled):
    response = push(enrolled["clients"]["S01"], _moves(enrolled, [1, 3]))
    assert response.status_code == 400
    assert response.json()["code"] == "batch_not_contiguous"


def test_a_store_cannot_push_events_of_another_origin(enrolled):
    s02_event = envelope("S02", 1, "stock.moved", moved(enrolled["stores"]["S02"], enrolled["product"], "-1"))
    response = push(enrolled["clients"]["S01"], [s02_event])
    assert response.status_code == 403
    assert response.json()["code"] == "origin_mismatch"
    assert StockMovement.objects.count() == 0


def test_a_store_cannot_record_stock_of_another_store_under_its_own_origin(enrolled):
    forged = envelope("S01", 1, "stock.moved", moved(enrolled["stores"]["S02"], enrolled["product"], "-1"))
    answer = push(enrolled["clients"]["S01"], [forged]).json()
    assert answer["quarantined"][0]["reason"] == "not_owner"
    assert StockMovement.objects.count() == 0


def test_a_store_cannot_write_head_office_data(enrolled):
    price = {
        "id": "0190a0a0-0000-7000-8000-000000000001",
        "product_id": str(enrolled["product"].id),
        "store_id": None,
        "amount": "0.01",
        "effective_from": "2026-03-01T00:00:00Z",
    }
    answer = push(enrolled["clients"]["S01"], [envelope("S01", 1, "price.set", price)]).json()
    assert answer["quarantined"][0]["reason"] == "not_owner"


def test_a_poison_event_is_quarantined_and_later_events_still_apply(enrolled):
    s01, product = enrolled["stores"]["S01"], enrolled["product"]
    poison = moved(s01, product, "-1")
    poison["quantity"] = 7  # a JSON number, not a decimal string
    events = [
        envelope("S01", 1, "stock.moved", moved(s01, product, "-1")),
        envelope("S01", 2, "stock.moved", poison),
        envelope("S01", 3, "stock.moved", moved(s01, product, "-2")),
    ]
    answer = push(enrolled["clients"]["S01"], events).json()
    assert answer["ack_seq"] == 3 and answer["applied"] == 2
    assert [(q["seq"], q["reason"]) for q in answer["quarantined"]] == [(2, "invalid_payload")]
    item = QuarantinedEvent.objects.get()
    assert (item.origin, item.seq, item.payload["quantity"]) == ("S01", 2, 7)
    assert StockLevel.objects.get(store=s01, product=product).on_hand == Decimal("-3.000")


def test_an_event_of_a_newer_schema_is_quarantined_not_dropped(enrolled):
    event = envelope(
        "S01", 1, "stock.moved", moved(enrolled["stores"]["S01"], enrolled["product"], "-1"), schema=9
    )
    answer = push(enrolled["clients"]["S01"], [event]).json()
    assert answer["quarantined"][0]["reason"] == "unknown_schema"
    assert QuarantinedEvent.objects.get().schema == 9


def test_an_unknown_event_type_is_quarantined(enrolled):
    answer = push(enrolled["clients"]["S01"], [envelope("S01", 1, "coffee.brewed", {"cups": 2})]).json()
    assert answer["quarantined"][0]["reason"] == "unknown_type"


def test_a_retry_applies_a_quarantined_event_once_its_reference_exists(enrolled):
    from cloud.sync.services import quarantine_retry
    from tests.factories import make_member

    member_id = "0190a0a0-0000-7000-8000-0000000000aa"
    points = {
        "id": "0190a0a0-0000-7000-8000-0000000000bb",
        "member_id": member_id,
        "kind": "earn",
        "points": 5,
    }
    push(enrolled["clients"]["S01"], [envelope("S01", 1, "points.posted", points)])
    item = QuarantinedEvent.objects.get()
    assert item.reason == "missing_reference"
    make_member(id=member_id)
    assert quarantine_retry(item=item) is True
    item.refresh_from_db()
    assert item.resolved_at is not None


def test_malformed_envelopes_refuse_the_whole_batch(enrolled):
    response = push(enrolled["clients"]["S01"], [{"origin": "S01", "seq": 1}])
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_envelope"


def test_a_newer_protocol_is_refused_with_the_version_we_speak(enrolled):
    response = enrolled["clients"]["S01"].post(
        "/api/sync/v1/push", {"protocol": 2, "events": []}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["code"] == "protocol_unsupported"
    assert response.json()["protocol"] == 1


def test_a_run_of_movements_is_applied_set_based_with_odd_ones_judged_one_by_one(enrolled):
    import uuid

    s01, product = enrolled["stores"]["S01"], enrolled["product"]
    unknown = moved(s01, product, "-1")
    unknown["product_id"] = str(uuid.uuid4())
    same_id = moved(s01, product, "-1")
    events = [
        envelope("S01", 1, "stock.moved", moved(s01, product, "-2")),
        envelope("S01", 2, "stock.moved", unknown),
        envelope("S01", 3, "stock.moved", same_id),
        envelope("S01", 4, "stock.moved", same_id),  # the same movement sent twice within one batch
        envelope("S01", 5, "stock.moved", moved(s01, product, "4", kind="receipt")),
    ]
    answer = push(enrolled["clients"]["S01"], events).json()
    assert (answer["ack_seq"], answer["applied"]) == (5, 4)
    assert [(q["seq"], q["reason"]) for q in answer["quarantined"]] == [(2, "missing_reference")]
    assert StockMovement.objects.count() == 3
    assert StockLevel.objects.get(store=s01, product=product).on_hand == Decimal("1.000")


def _sale(store, terminal, cashier, product, total):
    return {
        "id": str(uuid.uuid4()), "kind": "sale", "store_id": str(store.id), "terminal_id": str(terminal.id),
        "shift_id": None, "cashier_id": str(cashier.id), "member_id": None, "original_sale_id": None,
        "receipt_number": f"S01-T01-{total}", "created_at": "2026-03-01T10:00:00Z", "completed_at": "2026-03-01T10:01:00Z",
        "subtotal": total, "discount_total": "0.00", "tax_total": "0.00", "total": total, "cash_rounding": "0.00",
        "points_earned": 0, "discounts": [], "tax_lines": [],
        "lines": [{"id": str(uuid.uuid4()), "position": 1, "product_id": str(product.id), "quantity": "1.000",
                   "unit_price": total, "line_discount": "0.00", "sale_discount_share": "0.00", "line_total": total,
                   "tax_class": "STD", "tax_rate": "0.0000"}],
        "tenders": [{"id": str(uuid.uuid4()), "kind": "cash", "amount": total, "change": "0.00"}],
    }  # fmt: skip


def test_the_sales_of_a_batch_are_rolled_up_together_once_and_a_quarantined_one_not_at_all(enrolled):
    # given a batch of three sales of S01, the middle one naming an unknown terminal
    s01, product = enrolled["stores"]["S01"], enrolled["product"]
    terminal, cashier = make_terminal(s01), make_user(store=s01)
    sales = [_sale(s01, terminal, cashier, product, total) for total in ("2.50", "7.00", "5.00")]
    sales[1]["terminal_id"] = str(uuid.uuid4())
    events = [envelope("S01", seq, "sale.completed", sale) for seq, sale in enumerate(sales, start=1)]

    # when S01 pushes it, then pushes it again
    first = push(enrolled["clients"]["S01"], events).json()
    push(enrolled["clients"]["S01"], events)

    # then the day holds the two applied sales, once
    assert (first["applied"], [q["seq"] for q in first["quarantined"]]) == (2, [2])
    day = DailyStoreSales.objects.get(store=s01)
    assert (day.sales_count, day.total, day.units) == (2, Decimal("7.50"), Decimal("2"))
    assert DailyProductSales.objects.get().total == Decimal("7.50")
    assert list(DailyTender.objects.values_list("kind", "count", "amount")) == [("cash", 2, Decimal("7.50"))]
    assert RolledUpSale.objects.count() == 2


@pytest.mark.parametrize(
    "body, detail",
    [
        (b"this is not gzip", "not valid gzip"),
        (gzip.compress(b'{"protocol": 1, "events": []}', mtime=0)[:-6], "truncated"),
        (gzip.compress(b"{not json", mtime=0), "JSON body"),
    ],
    ids=["not-gzip", "truncated", "not-json"],  # the same in every process (pytest-xdist compares)
)
def test_a_bad_gzip_body_is_a_400_that_names_the_problem(enrolled, body, detail):
    client = enrolled["clients"]["S01"]

    response = client.generic(
        "POST", "/api/sync/v1/push", body, content_type="application/json", HTTP_CONTENT_ENCODING="gzip"
    )

    assert response.status_code == 400
    assert response.json()["code"] == "parse_error" and detail in response.json()["detail"]


@contextlib.contextmanager
def _database_held_by_another_writer(store):
    """Another connection holds what a push must write, and this one waits only a moment for it:
    SQLite's write lock (busy timeout 200 ms), or PostgreSQL's row lock on the store's sync state
    (lock timeout 200 ms)."""
    from django.db import connection

    if connection.vendor == "sqlite":
        other = sqlite3.connect(connection.settings_dict["NAME"], timeout=1)
        other.execute("BEGIN IMMEDIATE")
        wait = "PRAGMA busy_timeout=200"
    else:
        import psycopg

        params = connection.get_connection_params()
        other = psycopg.connect(**{k: v for k, v in params.items() if k != "cursor_factory"})
        other.execute("SELECT 1 FROM cloud_sync_storesyncstate WHERE store_id = %s FOR UPDATE", [store.id])
        wait = "SET lock_timeout = '200ms'"
    with connection.cursor() as cursor:
        cursor.execute(wait)
    try:
        yield
    finally:
        other.rollback()
        other.close()


@pytest.mark.django_db(transaction=True)
def test_a_push_that_finds_the_database_busy_is_told_to_retry_and_changes_nothing(enrolled):
    s01 = enrolled["stores"]["S01"]
    events = _moves(enrolled, [1, 2])
    # given another writer holding the database past this request's wait
    with _database_held_by_another_writer(s01):
        response = push(enrolled["clients"]["S01"], events, head_seq=2)
    # then the store is told to come back, in the error shape, and nothing was applied
    assert response.status_code == 503, response.content
    assert response.json()["code"] == "busy"
    assert int(response["Retry-After"]) >= 1
    assert StockMovement.objects.count() == 0
    assert StoreSyncState.objects.get(store=s01).ack_seq == 0
    # and the same batch, sent again once the writer is gone, lands once
    again = push(enrolled["clients"]["S01"], events, head_seq=2)
    assert again.json()["ack_seq"] == 2
    assert StockMovement.objects.count() == 2


def test_a_worker_whose_connection_pool_stays_taken_answers_busy_not_a_server_error():
    import psycopg_pool
    from django.db import OperationalError

    from retail.api_errors import exception_handler

    # given the error Django raises (its DatabaseErrorWrapper keeps the args) when psycopg_pool
    # hands out no connection within its timeout
    timeout = psycopg_pool.PoolTimeout("couldn't get a connection after 30.00 sec")
    error = OperationalError(*timeout.args)
    # then the store is told to come back shortly (nothing reached the database)
    response = exception_handler(error, {})
    assert (response.status_code, response.data["code"], response["Retry-After"]) == (503, "busy", "2")


def _earn(member, n=5):
    return {"id": str(uuid.uuid4()), "member_id": str(member.id), "kind": "earn", "points": n}


def _pg_other_connection():
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("row locks: SQLite has one writer at a time, so batches never interleave there")
    import psycopg

    params = {k: v for k, v in connection.get_connection_params().items() if k != "cursor_factory"}
    return psycopg.connect(**params)


def _pushing(client, batch, answers: list) -> threading.Thread:
    """A push on its own thread (its answer appended to ``answers``); the thread's database
    connection is closed after, so the test database can be dropped."""
    from django.db import connection

    def run():
        try:
            answers.append(push(client, batch))
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def _waiting(other, pid_not) -> tuple[int | None, str]:
    """The pid and query of the backend (not ``pid_not``) waiting for a row lock, once it waits."""
    for _ in range(100):
        other.execute("SELECT pg_stat_clear_snapshot()")  # the view is read once per transaction
        rows = other.execute(
            "SELECT pid, query FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND pid <> %s", [pid_not]
        ).fetchall()
        if rows:
            return rows[0]
        time.sleep(0.05)
    return None, ""


def _waiting_query(other, pid_not) -> str:
    return _waiting(other, pid_not)[1]


def _tables_written(other, pid) -> set[str]:
    """The tables backend ``pid`` has inserted into or updated in its open transaction."""
    rows = other.execute(
        "SELECT relation::regclass::text FROM pg_locks WHERE pid = %s AND locktype = 'relation' "
        "AND mode = 'RowExclusiveLock'",
        [pid],
    ).fetchall()
    return {name for (name,) in rows}


@pytest.mark.django_db(transaction=True)
def test_a_batch_that_edits_members_locks_them_in_id_order_before_applying_any(enrolled):
    """The order that keeps two stores' concurrent pushes from deadlocking on shared members."""
    from tests.factories import make_member

    low, high = sorted([make_member(), make_member()], key=lambda m: m.id)
    with _pg_other_connection() as other:
        # given another transaction holding the member that sorts first
        other.execute("SELECT 1 FROM members_member WHERE id = %s FOR UPDATE", [low.id])
        # when S01 pushes a batch that edits the other member, then posts to that one
        batch = [
            envelope("S01", 1, "member.updated", {"id": str(high.id), "fields": {"email": "h@x.de"}}),
            envelope("S01", 2, "points.posted", _earn(low)),
        ]
        pushing = _pushing(enrolled["clients"]["S01"], batch, [])
        try:
            time.sleep(1.0)
            # then the push waits for the first member without having touched the second: taking
            # the second without waiting still works (in batch order it would already be held)
            taken = other.execute(
                "SELECT 1 FROM members_member WHERE id = %s FOR UPDATE NOWAIT", [high.id]
            ).fetchall()
            assert taken == [(1,)]
        finally:
            other.rollback()
            pushing.join(timeout=30)
    assert Member.objects.get(pk=low.pk).points_balance == 5
    assert Member.objects.get(pk=high.pk).email == "h@x.de"


@pytest.mark.django_db(transaction=True)
def test_a_batch_of_facts_writes_everything_else_before_it_waits_for_a_member_another_push_holds(enrolled):
    """Balances wait for the end of the push: the rows every store shares stay locked only briefly."""
    from tests.factories import make_member

    low, high = sorted([make_member(), make_member()], key=lambda m: m.id)
    s01, product = enrolled["stores"]["S01"], enrolled["product"]
    with _pg_other_connection() as other:
        # given another transaction that moved the balance of the member that sorts last
        pid = other.execute("SELECT pg_backend_pid()").fetchone()[0]
        other.execute(
            "UPDATE members_member SET points_balance = points_balance + 1 WHERE id = %s", [high.id]
        )
        # when S01 pushes points for both members and a stock movement
        batch = [
            envelope("S01", 1, "points.posted", _earn(high)),
            envelope("S01", 2, "points.posted", _earn(low)),
            envelope("S01", 3, "stock.moved", moved(s01, product, "-1")),
        ]
        answers = []
        pushing = _pushing(enrolled["clients"]["S01"], batch, answers)
        try:
            # then the push waits only when it locks the members for their balances, in id order,
            # at the end: its ledger entries, which name the held member, are written by then
            pusher, waiting = _waiting(other, pid)
            assert "FOR NO KEY UPDATE" in waiting and '"members_member"."id" IN' in waiting, waiting
            written = _tables_written(other, pusher)
            assert {"members_pointsentry", "stock_stockmovement", "stock_stocklevel"} <= written, written
            assert "members_member" not in written  # its balances are not moved yet
        finally:
            other.rollback()
            pushing.join(timeout=30)
    assert answers and answers[0].status_code == 200, answers
    assert answers[0].json()["ack_seq"] == 3
    balances = dict(Member.objects.values_list("pk", "points_balance"))
    assert (balances[low.pk], balances[high.pk]) == (5, 5)


@pytest.mark.django_db(transaction=True)
def test_a_push_waits_for_the_chain_wide_rollups_another_push_holds_only_after_its_own_figures(enrolled):
    """The chain's product rows are every store's: a push takes them last, just before it commits."""
    from datetime import date

    from cloud.reporting.models import DailyChainProductSales

    s01, product = enrolled["stores"]["S01"], enrolled["product"]
    terminal, cashier = make_terminal(s01), make_user(store=s01)
    DailyChainProductSales.objects.create(day=date(2026, 3, 1), product=product, quantity=1, total=1)
    with _pg_other_connection() as other:
        # given another transaction (another store's push) that moved the chain's row of the day
        pid = other.execute("SELECT pg_backend_pid()").fetchone()[0]
        other.execute("UPDATE reporting_dailychainproductsales SET quantity = quantity + 1")
        # when S01 pushes a sale of that product on that day
        events = [envelope("S01", 1, "sale.completed", _sale(s01, terminal, cashier, product, "2.50"))]
        answers = []
        pushing = _pushing(enrolled["clients"]["S01"], events, answers)
        try:
            # then it waits in the statement of the chain's rows alone: its store's figures, its
            # members and its marks were written before
            waiting = _waiting_query(other, pid)
            assert "reporting_dailychainproductsales" in waiting, waiting
            assert "reporting_dailystoresales" not in waiting and "members_member" not in waiting, waiting
        finally:
            other.rollback()
            pushing.join(timeout=30)
    assert answers and answers[0].status_code == 200, answers
    chain = DailyChainProductSales.objects.get()
    assert (chain.quantity, chain.total) == (Decimal("2"), Decimal("3.50"))
    assert DailyStoreSales.objects.get(store=s01).total == Decimal("2.50")


def test_a_push_on_a_cloud_whose_feed_and_sync_state_never_moved_creates_both(enrolled):
    from cloud.sync.models import FeedEntry, FeedState
    from tests.cloud.sync.test_pull import _member

    FeedState.objects.all().delete()  # a new cloud
    StoreSyncState.objects.filter(store=enrolled["stores"]["S01"]).delete()  # enrolled before the row existed
    s01, product = enrolled["stores"]["S01"], enrolled["product"]
    member_id = "0190a0a0-0000-7000-8000-0000000000c2"
    response = push(
        enrolled["clients"]["S01"],
        [
            envelope("S01", 1, "member.created", _member(member_id, "S01-0002")),
            envelope("S01", 2, "stock.moved", moved(s01, product, "-1")),
        ],
    )
    assert response.status_code == 200, response.json()
    assert response.json()["ack_seq"] == 2
    assert StoreSyncState.objects.get(store=s01).ack_seq == 2
    state = FeedState.objects.get(pk=1)
    assert list(FeedEntry.objects.order_by("seq").values_list("seq", "type")) == [(1, "member.created")]
    assert (state.last_seq, state.nudge_seq) == (1, 0)  # another store's member waits for the poll


def test_taking_feed_positions_moves_the_head_and_the_nudge_position_as_asked(db):
    from cloud.sync.models import FeedState
    from cloud.sync.services import _feed_advance

    assert _feed_advance(3, None) is None  # no state row yet: the caller creates it
    FeedState.objects.create(pk=1, last_seq=10, nudge_seq=3)
    assert _feed_advance(5, None) == 15  # nothing of the five wakes the stores
    assert FeedState.objects.values_list("last_seq", "nudge_seq").get() == (15, 3)
    assert _feed_advance(4, 1) == 19  # the last waking entry is one below the new head
    assert FeedState.objects.values_list("last_seq", "nudge_seq").get() == (19, 18)
    assert _feed_advance(2, 0) == 21
    assert FeedState.objects.values_list("last_seq", "nudge_seq").get() == (21, 21)
