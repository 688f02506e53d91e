"""The merge rules of docs/sync-protocol.md section 7, each as a property: any arrival order, any
duplicates, the projection equals the one computed from the set of events."""

import uuid
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from retail.catalog.models import Price
from retail.members.models import Member, PointsEntry
from retail.replication.appliers import ApplyContext, event_apply
from retail.replication.wire import Envelope
from retail.stock.models import StockLevel, StockMovement
from retail.stock.services import stock_count, stock_move
from tests.factories import make_member, make_product, make_store

_ORIGINS = ["cloud", "S01", "S02", "S03"]
_BASE = 1_900_000_000_000 << 16  # a fixed past moment, so the skew bound never interferes


def _env(origin, type_, payload, stamp=0, seq=1):
    return Envelope(uuid.uuid4(), origin, seq, stamp, type_, 1, payload)


def _trusting():
    return ApplyContext(max_skew_ms=1 << 62)


writes = st.lists(
    st.tuples(
        st.sampled_from(["first_name", "last_name", "email"]),
        st.text(alphabet="abcxyz", min_size=1, max_size=4),
        st.integers(min_value=0, max_value=50),
        st.sampled_from(_ORIGINS),
    ),
    min_size=1,
    max_size=12,
    unique_by=lambda w: (w[2], w[3]),  # an origin's clock never hands out the same stamp twice
)


@given(writes=writes, order=st.randoms(use_true_random=False))
def test_member_fields_end_at_the_greatest_hlc_origin_per_field_in_any_order(store, writes, order):
    # given a member and writes stamped (hlc, origin)
    member = make_member()
    envs = [
        _env(origin, "member.updated", {"id": str(member.id), "fields": {field: value}}, _BASE + tick)
        for field, value, tick, origin in writes
    ]
    # when they arrive in a random order, some twice
    shuffled = envs + envs[: len(envs) // 2]
    order.shuffle(shuffled)
    for env in shuffled:
        event_apply(env=env, ctx=_trusting())
    # then each field holds the value of its greatest (hlc, origin) stamp
    member.refresh_from_db()
    expected = {}
    for field, value, tick, origin in writes:
        stamp = (_BASE + tick, origin)
        if field not in expected or stamp > expected[field][0]:
            expected[field] = (stamp, value)
    for field, (_stamp, value) in expected.items():
        assert getattr(member, field) == value


movements = st.lists(
    st.tuples(st.sampled_from(["sale", "receipt", "count"]), st.integers(min_value=1, max_value=50)),
    min_size=1,
    max_size=15,
)


@given(moves=movements, order=st.randoms(use_true_random=False))
def test_stock_is_the_sum_of_movements_in_any_order_and_with_duplicates(store, moves, order):
    product = make_product()
    envs = []
    for kind, amount in moves:
        quantity = Decimal(-amount if kind == "sale" else amount)
        payload = {
            "id": str(uuid.uuid4()),
            "store_id": str(store.id),
            "product_id": str(product.id),
            "kind": kind,
            "quantity": str(quantity),
            "created_at": "2026-03-01T10:00:00Z",
        }
        envs.append(_env(order.choice(_ORIGINS[1:]), "stock.moved", payload))
    replay = envs + envs
    order.shuffle(replay)
    for env in replay:
        event_apply(env=env, ctx=_trusting())
    expected = sum(Decimal(e.payload["quantity"]) for e in envs)
    assert StockLevel.objects.get(store=store, product=product).on_hand == expected
    assert StockMovement.objects.filter(product=product).count() == len(envs)


@given(
    entries=st.lists(
        st.tuples(st.sampled_from(["earn", "redeem"]), st.integers(min_value=0, max_value=500)),
        min_size=1,
        max_size=15,
    ),
    order=st.randoms(use_true_random=False),
)
def test_points_balance_is_the_ledger_sum_and_overdraws_are_kept(store, entries, order):
    member = make_member()
    envs = [
        _env(
            order.choice(_ORIGINS),
            "points.posted",
            {
                "id": str(uuid.uuid4()),
                "member_id": str(member.id),
                "kind": kind,
                "points": points if kind == "earn" else -points,
            },
        )
        for kind, points in entries
    ]
    replay = envs + envs[:3]
    order.shuffle(replay)
    for env in replay:
        event_apply(env=env, ctx=_trusting())
    member.refresh_from_db()
    assert member.points_balance == sum(e.payload["points"] for e in envs)  # may be negative


@given(
    amounts=st.lists(st.integers(min_value=0, max_value=9999), min_size=1, max_size=8),
    overlap=st.integers(0, 8),
)
def test_head_office_prices_end_at_the_last_write_even_when_a_suffix_is_replayed(store, amounts, overlap):
    # A snapshot overlapping the feed re-applies a suffix of head office's events: harmless.
    product = make_product(price=None)
    price_id = str(uuid.uuid4())
    envs = [
        _env(
            "cloud",
            "price.set",
            {
                "id": price_id,
                "product_id": str(product.id),
                "store_id": None,
                "amount": f"{cents / 100:.2f}",
                "effective_from": "2026-03-01T00:00:00Z",
            },
            seq=i + 1,
        )
        for i, cents in enumerate(amounts)
    ]
    for env in envs + envs[len(envs) - min(overlap, len(envs)) :]:
        event_apply(env=env, ctx=_trusting())
    assert Price.objects.filter(product=product).count() == 1
    assert Price.objects.get(product=product).amount == Decimal(f"{amounts[-1] / 100:.2f}")


def test_a_count_and_an_offline_sale_both_survive(store):
    # given a book of 10 at the store
    product = make_product()
    stock_move(store_id=store.id, product_id=product.id, kind="receipt", quantity=Decimal("10"))
    # when a counter counts 8 (recorded as -2) and a till elsewhere sells 1 at the same time offline
    counted = stock_count(store_id=store.id, product_id=product.id, counted=Decimal("8"))
    sale = {
        "id": str(uuid.uuid4()),
        "store_id": str(store.id),
        "product_id": str(product.id),
        "kind": "sale",
        "quantity": "-1",
        "created_at": "2026-03-01T10:00:00Z",
    }
    event_apply(env=_env("S09", "stock.moved", sale), ctx=_trusting())
    # then the level is 10 - 2 - 1
    assert counted.quantity == Decimal("-2")
    assert StockLevel.objects.get(store=store, product=product).on_hand == Decimal("7")


def test_another_stores_count_keeps_who_counted_it(store):
    # given store S09's count of a product, recorded as -2 by its cashier c901
    product, other = make_product(), make_store("S09")
    counted = {
        "movement_id": str(uuid.uuid4()),
        "store_id": str(other.id),
        "product_id": str(product.id),
        "counted": "3",
        "book": "5.000",
        "difference": "-2.000",
        "reference": "COUNT-20260301-100000",
        "note": "counted by c901",
    }

    # when it is applied, then the movement says who counted
    event_apply(env=_env("S09", "stock.counted", counted), ctx=_trusting())

    movement = StockMovement.objects.get(pk=counted["movement_id"])
    assert (movement.kind, movement.quantity, movement.note) == (
        "count",
        Decimal("-2.000"),
        "counted by c901",
    )


def test_a_member_created_at_two_nodes_keeps_the_newer_fields_and_one_row(store):
    member_id = str(uuid.uuid4())
    fields = dict.fromkeys(("first_name", "last_name", "phone", "email"), "")
    fields.update(card_barcode=None, consent_marketing=False, consent_email=False, consent_sms=False)
    newer = _env(
        "S02",
        "member.created",
        {"id": member_id, "number": "N1", "fields": {**fields, "first_name": "B"}},
        _BASE + 2,
    )
    older = _env(
        "S01",
        "member.created",
        {"id": member_id, "number": "N1", "fields": {**fields, "first_name": "A"}},
        _BASE + 1,
    )
    event_apply(env=newer, ctx=_trusting())
    event_apply(env=older, ctx=_trusting())
    assert list(Member.objects.filter(pk=member_id).values_list("first_name", flat=True)) == ["B"]


# ---------------------------------------------------------------- merges of duplicate members

_EMPTY_PROFILE = {
    "card_barcode": None,
    "first_name": "",
    "last_name": "",
    "phone": "",
    "email": "",
    "consent_marketing": False,
    "consent_email": False,
    "consent_sms": False,
}
_MERGED_FIELDS = [f for f in Member.PROFILE_FIELDS if f != "card_barcode"]

field_values = st.one_of(
    st.tuples(
        st.sampled_from(["first_name", "last_name", "email"]),
        st.text(alphabet="abcxyz", min_size=1, max_size=4),
    ),
    st.tuples(st.sampled_from(["consent_marketing", "consent_sms"]), st.booleans()),
)


def _member_created_env(member_id, number, origin, tick, **fields):
    payload = {"id": str(member_id), "number": number, "fields": {**_EMPTY_PROFILE, **fields}}
    return _env(origin, "member.created", payload, _BASE + tick)


def _merge_env(loser_id, survivor_id, fields, tick):
    payload = {
        "id": str(loser_id),
        "number": "",
        "survivor_id": str(survivor_id),
        "survivor_number": "",
        "fields": fields,
        "merged_at": "2026-03-01T10:00:00Z",
        "by": "hedda",
    }
    return _env("cloud", "member.merged", payload, _BASE + tick)


def _lww(writes) -> dict:
    """Per field, the value of the greatest (hlc, origin) stamp among ``writes`` of (field, value, stamp)."""
    best: dict = {}
    for field, value, stamp in writes:
        if field not in best or stamp > best[field][0]:
            best[field] = (stamp, value)
    return {field: value for field, (_stamp, value) in best.items()}


def _profile_writes(env) -> list[tuple]:
    return [(f, v, (env.hlc, env.origin)) for f, v in env.payload["fields"].items()]


@given(
    writes=st.lists(
        st.tuples(
            st.sampled_from(["a", "b"]), field_values, st.integers(1, 60), st.sampled_from(_ORIGINS[1:])
        ),
        max_size=10,
        unique_by=lambda w: (w[2], w[3]),
    ),
    points=st.lists(st.tuples(st.sampled_from(["a", "b"]), st.integers(-300, 300)), max_size=10),
    merge_tick=st.integers(1, 60),
    merge_fields=st.fixed_dictionaries(
        {"first_name": st.sampled_from(["Ann", "Anna"]), "consent_marketing": st.booleans()}
    ),
    order=st.randoms(use_true_random=False),
)
def test_a_merge_with_points_and_edits_of_both_members_converges_in_any_order(
    store, writes, points, merge_tick, merge_fields, order
):
    # given two members created at two stores (creation precedes everything else in every feed)
    ids = {"a": uuid.uuid4(), "b": uuid.uuid4()}
    created = {
        "a": _member_created_env(ids["a"], f"A-{ids['a'].hex[:8]}", "S01", 0, first_name="Anna", card_barcode=f"CA{ids['a'].hex[:8]}"),
        "b": _member_created_env(ids["b"], f"B-{ids['b'].hex[:8]}", "S02", 0, first_name="Ana", card_barcode=f"CB{ids['b'].hex[:8]}"),
    }  # fmt: skip
    for env in created.values():
        event_apply(env=env, ctx=_trusting())
    # and head office's merge of b into a, edits and points addressed to either, before or after it
    merge = _merge_env(
        ids["b"], ids["a"], {**_EMPTY_PROFILE, **merge_fields, "card_barcode": None}, merge_tick
    )
    merge.payload["fields"].pop("card_barcode")
    edits = [
        _env(origin, "member.updated", {"id": str(ids[who]), "fields": {field: value}}, _BASE + tick)
        for who, (field, value), tick, origin in writes
    ]
    posted = [
        _env(
            order.choice(_ORIGINS[1:]),
            "points.posted",
            {"id": str(uuid.uuid4()), "member_id": str(ids[who]), "kind": "adjust", "points": amount},
        )
        for who, amount in points
    ]
    events = [merge, *edits, *posted]

    # when they arrive in any order, some twice (a snapshot overlapping the feed)
    replay = events + events[: len(events) // 2]
    order.shuffle(replay)
    for env in replay:
        event_apply(env=env, ctx=_trusting())

    # then b points at a, a holds both ledgers' sum and b none, and no entry moved
    a, b = Member.objects.get(pk=ids["a"]), Member.objects.get(pk=ids["b"])
    assert b.merged_into_id == a.id and a.merged_into_id is None
    assert (a.points_balance, b.points_balance) == (sum(amount for _w, amount in points), 0)
    entries = PointsEntry.objects.filter(member_id__in=ids.values())
    assert sorted(map(str, entries.values_list("member_id", flat=True))) == sorted(
        e.payload["member_id"] for e in posted
    )
    # and a's profile is the last writer per field over both members' writes and the merge
    to_a = [env for env in edits if env.payload["id"] == str(ids["a"])]
    to_b = [env for env in edits if env.payload["id"] == str(ids["b"])]
    survivor = _lww(w for env in [*created.values(), *edits, merge] for w in _profile_writes(env))
    assert {f: getattr(a, f) for f in _MERGED_FIELDS} == {f: survivor[f] for f in _MERGED_FIELDS}
    # while b's own row keeps what was written to b, and each keeps its own card
    loser = _lww(w for env in [created["b"], *to_b] for w in _profile_writes(env))
    assert {f: getattr(b, f) for f in Member.PROFILE_FIELDS} == loser
    assert (a.card_barcode, b.card_barcode) == (
        _lww(w for env in [created["a"], *to_a] for w in _profile_writes(env))["card_barcode"],
        loser["card_barcode"],
    )


@given(
    writes=st.lists(
        st.tuples(st.sampled_from("abc"), field_values, st.integers(1, 60), st.sampled_from(_ORIGINS[1:])),
        max_size=10,
        unique_by=lambda w: (w[2], w[3]),
    ),
    points=st.lists(st.tuples(st.sampled_from("abc"), st.integers(-300, 300)), max_size=8),
    ticks=st.tuples(st.integers(1, 30), st.integers(31, 60)),
    order=st.randoms(use_true_random=False),
)
def test_a_merge_into_a_member_merged_later_converges_on_the_last_survivor(
    store, writes, points, ticks, order
):
    # given three members; head office merged c into b, then b into a
    ids = {who: uuid.uuid4() for who in "abc"}
    for who in "abc":
        event_apply(
            env=_member_created_env(ids[who], f"{who}-{ids[who].hex[:8]}", "S01", 0, first_name=who),
            ctx=_trusting(),
        )
    merges = [
        _merge_env(ids["c"], ids["b"], {"last_name": "Cb"}, ticks[0]),
        _merge_env(ids["b"], ids["a"], {"last_name": "Ba"}, ticks[1]),
    ]
    edits = [
        _env(origin, "member.updated", {"id": str(ids[who]), "fields": {field: value}}, _BASE + tick)
        for who, (field, value), tick, origin in writes
    ]
    posted = [
        _env("S02", "points.posted", {"id": str(uuid.uuid4()), "member_id": str(ids[who]), "kind": "adjust", "points": n})
        for who, n in points
    ]  # fmt: skip

    # when everything arrives in any order, the merges included
    replay = [*merges, *edits, *posted, *merges[:1]]
    order.shuffle(replay)
    for env in replay:
        event_apply(env=env, ctx=_trusting())

    # then b and c point at a, which holds every point and the last write of each field of all three
    rows = Member.objects.in_bulk(list(ids.values()))
    a, b, c = (rows[ids[who]] for who in "abc")
    assert (b.merged_into_id, c.merged_into_id, a.merged_into_id) == (a.id, a.id, None)
    assert (a.points_balance, b.points_balance, c.points_balance) == (sum(n for _w, n in points), 0, 0)
    everything = [("first_name", who, (_BASE, "S01")) for who in "abc"] + [
        w for env in [*edits, *merges] for w in _profile_writes(env)
    ]
    expected = _lww(everything)
    assert {f: getattr(a, f) for f in expected} == expected
