import threading

import pytest
from django.db import connection, transaction

from retail.outbox.models import Event
from retail.outbox.services import OutboxError, event_append

pytestmark = pytest.mark.django_db


class Boom(Exception):
    pass


def test_a_committed_change_leaves_exactly_one_event():
    with transaction.atomic():
        event_append(type="stock.moved", payload={"n": 1})

    assert list(Event.objects.values_list("type", "seq", "payload")) == [("stock.moved", 1, {"n": 1})]


def test_a_rolled_back_change_leaves_no_event():
    with pytest.raises(Boom), transaction.atomic():
        event_append(type="stock.moved", payload={"n": 1})
        raise Boom

    assert Event.objects.count() == 0


def test_a_rolled_back_event_does_not_burn_its_seq():
    with transaction.atomic():
        event_append(type="stock.moved", payload={"n": 1})
    with pytest.raises(Boom), transaction.atomic():
        event_append(type="stock.moved", payload={"n": 2})
        raise Boom
    with transaction.atomic():
        event_append(type="stock.moved", payload={"n": 3})

    assert list(Event.objects.order_by("seq").values_list("seq", "payload")) == [(1, {"n": 1}), (2, {"n": 3})]


@pytest.mark.django_db(transaction=True)
def test_events_outside_a_transaction_are_refused():
    with pytest.raises(OutboxError, match="inside the transaction"):
        event_append(type="stock.moved", payload={})
    assert Event.objects.count() == 0


def test_unknown_event_types_are_refused():
    with pytest.raises(OutboxError, match="unknown event type"), transaction.atomic():
        event_append(type="sale.exploded", payload={})


def test_seq_is_per_origin_and_hlc_increases():
    with transaction.atomic():
        a1 = event_append(type="stock.moved", payload={}, origin="A")
        b1 = event_append(type="stock.moved", payload={}, origin="B")
        a2 = event_append(type="stock.moved", payload={}, origin="A")

    assert (a1.seq, b1.seq, a2.seq) == (1, 1, 2)
    assert a1.hlc < a2.hlc
    assert a1.id != a2.id and a1.id.version == 7


def test_decimals_in_payloads_are_strings_not_floats():
    from decimal import Decimal

    with transaction.atomic():
        event = event_append(type="stock.moved", payload={"quantity": Decimal("1.250")})

    event.refresh_from_db()
    assert event.payload == {"quantity": "1.250"}


@pytest.mark.django_db(transaction=True)
def test_seq_is_gapless_under_two_concurrent_writers():
    per_thread = 40
    errors: list[BaseException] = []

    def writer(name: str) -> None:
        try:
            for i in range(per_thread):
                with transaction.atomic():
                    event_append(type="stock.moved", payload={"writer": name, "i": i})
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=writer, args=(n,)) for n in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert errors == []
    seqs = sorted(Event.objects.values_list("seq", flat=True))
    assert seqs == list(range(1, 2 * per_thread + 1))
    hlcs = list(Event.objects.order_by("seq").values_list("hlc", flat=True))
    assert hlcs == sorted(hlcs) and len(set(hlcs)) == len(hlcs)
    for name in ("a", "b"):
        mine = Event.objects.filter(payload__writer=name).order_by("seq").values_list("payload__i", flat=True)
        assert list(mine) == list(range(per_thread))


def test_many_events_take_consecutive_seqs_in_order_after_single_ones():
    from retail.outbox.services import event_append_many

    with transaction.atomic():
        first = event_append(type="stock.moved", payload={"n": 0})
        many = event_append_many(
            events=[("stock.moved", {"n": n}) for n in (1, 2, 3)] + [("sale.cancelled", {})]
        )
        last = event_append(type="stock.moved", payload={"n": 5})

    rows = list(Event.objects.order_by("seq").values_list("seq", "type", "payload", "hlc"))
    assert [r[:3] for r in rows] == [
        (1, "stock.moved", {"n": 0}),
        (2, "stock.moved", {"n": 1}),
        (3, "stock.moved", {"n": 2}),
        (4, "stock.moved", {"n": 3}),
        (5, "sale.cancelled", {}),
        (6, "stock.moved", {"n": 5}),
    ]
    hlcs = [r[3] for r in rows]
    assert hlcs == sorted(set(hlcs))
    assert [e.seq for e in many] == [2, 3, 4, 5] and (first.seq, last.seq) == (1, 6)


def test_many_events_roll_back_with_the_change_and_give_their_seqs_back():
    from retail.outbox.services import event_append_many

    with pytest.raises(Boom), transaction.atomic():
        event_append_many(events=[("stock.moved", {"n": 1}), ("stock.moved", {"n": 2})])
        raise Boom
    with transaction.atomic():
        event_append_many(events=[("stock.moved", {"n": 3})])

    assert list(Event.objects.values_list("seq", "payload")) == [(1, {"n": 3})]


@pytest.mark.django_db(transaction=True)
def test_many_events_outside_a_transaction_are_refused():
    from retail.outbox.services import event_append_many

    with pytest.raises(OutboxError, match="inside the transaction"):
        event_append_many(events=[("stock.moved", {})])
    assert Event.objects.count() == 0


def test_a_batch_with_an_unknown_event_type_is_refused_whole():
    from retail.outbox.services import event_append_many

    with pytest.raises(OutboxError, match="unknown event type"), transaction.atomic():
        event_append_many(events=[("stock.moved", {}), ("sale.exploded", {})])
    assert Event.objects.count() == 0


def test_many_events_hlc_is_never_behind_the_wall_clock():
    from retail.outbox import hlc
    from retail.outbox.services import event_append_many

    before = hlc.pack(hlc.now_millis())
    with transaction.atomic():
        events = event_append_many(events=[("stock.moved", {"n": n}) for n in range(3)])

    assert all(e.hlc >= before for e in events)


def test_times_in_payloads_keep_their_microseconds():
    from datetime import UTC, datetime

    moment = datetime(2026, 3, 1, 9, 30, 0, 123456, tzinfo=UTC)
    with transaction.atomic():
        event = event_append(type="price.set", payload={"effective_from": moment})

    event.refresh_from_db()
    assert event.payload == {"effective_from": "2026-03-01T09:30:00.123456Z"}
    assert datetime.fromisoformat(event.payload["effective_from"]) == moment
