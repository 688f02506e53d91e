"""The set-based ingest of sales, movements and points (retail/replication/bulk.py) against the
one-by-one appliers: for any batch drawn from a pool of good, odd and poison events, the cloud ends
with the same rows, balances, overdraws, rollups and quarantine as applying each event alone."""

import datetime
import uuid
from decimal import Decimal

from django.db import transaction
from hypothesis import given, settings
from hypothesis import strategies as st

from cloud.reporting.models import DailyChainProductSales, DailyProductSales, DailyStoreSales, DailyTender
from cloud.sync.models import (
    FeedEntry,
    Oversell,
    PointsOverdraw,
    SharedPointsChange,
    SharedStockChange,
    StoreSyncState,
)
from cloud.sync.services import CloudHooks, sync_push_ingest
from retail.members.models import Member, PointsEntry
from retail.members.selectors import member_survivor_id
from retail.outbox import hlc
from retail.replication.appliers import ApplyContext, event_apply
from retail.replication.errors import ApplyRefused
from retail.replication.wire import envelope_parse
from retail.sales.models import Sale, SaleDiscount, SaleLine, SaleTaxLine, Tender
from retail.shifts.models import Shift
from retail.stock.models import StockLevel, StockMovement
from tests.cloud.sync.conftest import moved
from tests.factories import make_member, make_product, make_terminal, make_user


class _Rollback(Exception):
    pass


def _line(product, position, total="2.00", original_line_id=None):
    return {"id": str(uuid.uuid4()), "position": position, "product_id": str(product.id), "sku": "SKU",
            "description": "thing", "barcode": "", "quantity": "1.000", "unit_price": total, "line_discount": "0.00",
            "sale_discount_share": "0.00", "line_total": total, "tax_class": "STD", "tax_rate": "0.1900",
            "voided": False, "original_line_id": original_line_id, "restock": True}  # fmt: skip


def _sale(ids, lines, *, kind="sale", member=None, original=None, shift=None, total="4.00"):
    return {"id": str(uuid.uuid4()), "kind": kind, "store_id": ids["store"], "terminal_id": ids["terminal"],
            "shift_id": shift, "cashier_id": ids["cashier"], "member_id": member, "original_sale_id": original,
            "receipt_number": f"R-{uuid.uuid4().hex[:12]}", "created_at": "2026-03-01T10:00:00Z",
            "completed_at": "2026-03-01T10:01:00Z", "subtotal": total, "discount_total": "0.50",
            "tax_total": "0.64", "total": total, "cash_rounding": "0.00", "points_earned": 4, "lines": lines,
            "discounts": [{"kind": "amount", "value": "0.50", "amount": "0.50", "reason": "loyal"}],
            "tax_lines": [{"tax_class": "STD", "rate": "0.1900", "taxable": "3.36", "tax": "0.64"}],
            "tenders": [{"id": str(uuid.uuid4()), "kind": "cash", "amount": "3.00", "tendered": "5.00",
                         "change": "2.00", "reference": "", "approved": True, "points": 0},
                        {"id": str(uuid.uuid4()), "kind": "card", "amount": "1.00", "reference": "A1",
                         "created_at": "2026-03-01T10:00:30Z"}]}  # fmt: skip


def _points(member_id, points, kind=None):
    return {"id": str(uuid.uuid4()), "member_id": str(member_id), "kind": kind or ("earn" if points >= 0 else "redeem"),
            "points": points, "sale_id": None, "reason": "", "created_at": "2026-03-01T10:01:00Z"}  # fmt: skip


def _pool(enrolled):
    """(type, payload) of every kind the ingest meets: good ones, odd ones and poison."""
    s01, product = enrolled["stores"]["S01"], enrolled["product"]
    other = make_product("1.00")
    terminal, cashier = make_terminal(s01), make_user(store=s01)
    ids = {"store": str(s01.id), "terminal": str(terminal.id), "cashier": str(cashier.id)}
    member, survivor = make_member(points_balance=10), make_member(points_balance=5)
    loser = make_member(merged_into=survivor)
    sale_lines = [_line(product, 1), _line(other, 2)]
    sale = _sale(ids, sale_lines, member=str(member.id))
    ret = _sale(ids, [_line(product, 1, "-2.00", sale_lines[0]["id"])], kind="return", original=sale["id"],
                total="-2.00")  # fmt: skip
    shift_id = str(uuid.uuid4())
    shift = {"id": shift_id, "store_id": ids["store"], "terminal_id": ids["terminal"], "cashier_id": ids["cashier"],
             "opened_at": "2026-03-01T09:00:00Z", "opening_float": "100.00"}  # fmt: skip
    unknown_terminal = {**_sale(ids, [_line(product, 1)]), "terminal_id": str(uuid.uuid4())}
    unknown_product = _sale(ids, [_line(product, 1)])
    unknown_product["lines"][0]["product_id"] = str(uuid.uuid4())
    naive = {**_sale(ids, [_line(other, 1)]), "completed_at": "2026-03-01T10:01:00"}
    other_store = {**_sale(ids, [_line(other, 1)]), "store_id": str(enrolled["stores"]["S02"].id)}
    same_position = _sale(ids, [_line(product, 1), _line(other, 1)])
    unknown_move = moved(s01, product, "-1")
    unknown_move["product_id"] = str(uuid.uuid4())
    naive_move = {**moved(s01, other, "-1"), "created_at": "2026-03-01T10:00:00"}
    return [
        ("sale.completed", sale),
        ("sale.completed", ret),
        ("shift.opened", shift),
        ("sale.completed", _sale(ids, [_line(other, 1)], shift=shift_id)),
        ("sale.completed", unknown_terminal),
        ("sale.completed", unknown_product),
        ("sale.completed", naive),
        ("sale.completed", other_store),
        ("sale.completed", same_position),
        ("sale.completed", {"id": "not-a-uuid"}),
        ("stock.moved", moved(s01, product, "-3")),
        ("stock.moved", moved(s01, other, "2", kind="receipt")),
        ("stock.moved", moved(s01, product, "1")),  # a sale that adds stock: invalid_payload
        ("stock.moved", unknown_move),
        ("stock.moved", naive_move),
        ("stock.moved", {**moved(s01, product, "-1"), "quantity": -1}),
        ("points.posted", _points(member.id, 4)),
        ("points.posted", _points(member.id, -30)),  # an overdraw
        ("points.posted", _points(loser.id, -8)),  # on a merged card: its survivor's balance moves
        ("points.posted", _points(uuid.uuid4(), 3)),  # an unknown member
        ("points.posted", _points(member.id, 5, kind="redeem")),  # a wrong sign
        ("member.updated", {"id": str(member.id), "fields": {"first_name": "Ada"}}),
    ]


def _state():
    def rows(model, exclude=("id",), order=None):
        names = [f.attname for f in model._meta.concrete_fields if f.attname not in exclude]
        return sorted(model.objects.values_list(*names), key=repr)

    return {
        "sales": rows(Sale, exclude=()),
        "lines": rows(SaleLine, exclude=()),
        "discounts": rows(SaleDiscount),
        "tax_lines": rows(SaleTaxLine),
        "tenders": rows(Tender, exclude=()),
        "shifts": rows(Shift, exclude=()),
        "movements": rows(StockMovement, exclude=()),
        "levels": rows(StockLevel, exclude=("id", "updated_at")),
        "entries": rows(PointsEntry, exclude=()),
        "balances": sorted(Member.objects.values_list("id", "points_balance", "first_name"), key=repr),
        "overdraws": rows(PointsOverdraw, exclude=("id", "created_at")),
        "day": rows(DailyStoreSales, exclude=("id", "updated_at")),
        "tenders_day": rows(DailyTender, exclude=("id", "updated_at")),
        "products_day": rows(DailyProductSales, exclude=("id", "updated_at")),
        "chain_day": rows(DailyChainProductSales, exclude=("id", "updated_at")),
    }


def _one_by_one(store, raw):
    """What the ingest did before the set-based path: each event alone, in seq order."""
    hooks = CloudHooks(defer_rollups=True)
    ctx = ApplyContext(hooks=hooks, origin_store_id=store.id)
    refused = []
    for env in map(envelope_parse, raw):
        try:
            event_apply(env=env, ctx=ctx)
        except ApplyRefused as exc:
            refused.append((env.seq, exc.reason))
    hooks.rollups_flush()
    return refused


def _envelopes(picked, ack=0):
    stamp = hlc.pack(hlc.now_millis() - 1000)
    return [
        {"id": str(uuid.uuid4()), "origin": "S01", "seq": ack + n, "hlc": stamp + n, "type": type_, "schema": 1,
         "payload": payload}
        for n, (type_, payload) in enumerate(picked, start=1)
    ]  # fmt: skip


def _both_ways(store, raw, before=()):
    outcomes = []
    for way in ("bulk", "one by one"):
        try:
            with transaction.atomic():
                if before:  # what the cloud held already: pushed the same way for both
                    sync_push_ingest(store=store, raw_events=before)
                if way == "bulk":
                    result = sync_push_ingest(store=store, raw_events=raw)
                    refused = [(q["seq"], q["reason"]) for q in result.quarantined]
                else:
                    refused = _one_by_one(store, raw)
                outcomes.append((sorted(refused), _state()))
                raise _Rollback
        except _Rollback:
            pass
    return outcomes


@settings(max_examples=40)
@given(data=st.data())
def test_any_batch_applies_set_based_exactly_as_event_by_event(enrolled, data):
    # given a pool of sales, movements and points, good, odd and poison, and a member edit between them
    with transaction.atomic():
        pool = _pool(enrolled)
        # when a batch drawn from it (an event may come twice, at two seqs) is pushed, and applied one by one
        # after an earlier batch from it (so some facts come again under new seqs)
        earlier = data.draw(st.lists(st.sampled_from(pool), max_size=10))
        picked = data.draw(st.lists(st.sampled_from(pool), min_size=1, max_size=30))
        before = _envelopes(earlier)
        bulk, careful = _both_ways(enrolled["stores"]["S01"], _envelopes(picked, ack=len(before)), before)
        transaction.set_rollback(True)
    # then both end the same: every row, balance, overdraw, rollup and quarantine reason
    assert bulk[0] == careful[0]
    for table in bulk[1]:
        assert bulk[1][table] == careful[1][table], table


def test_the_whole_pool_in_one_batch_lands_as_event_by_event_and_relays_what_stores_see(enrolled):
    # given every kind of event in one batch, twice over (the second time at later seqs)
    pool = _pool(enrolled)
    raw = _envelopes(pool + pool)
    bulk, careful = _both_ways(enrolled["stores"]["S01"], raw)
    assert bulk == careful
    # when it is pushed for real
    result = sync_push_ingest(store=enrolled["stores"]["S01"], raw_events=raw)
    # then the ack moved to the end, the poison is quarantined with its reason, the good is relayed
    assert StoreSyncState.objects.get(store=enrolled["stores"]["S01"]).ack_seq == len(raw)
    reasons = {q["reason"] for q in result.quarantined}
    assert reasons == {"invalid_payload", "missing_reference", "not_owner", "unique_conflict"}
    relayed = FeedEntry.objects.values_list("origin_seq", flat=True)
    quarantined = {q["seq"] for q in result.quarantined}
    applied = [e for e in raw if e["seq"] not in quarantined]
    expected = [e["seq"] for e in applied if e["type"] in {"member.created", "member.updated"}]
    assert sorted(relayed) == expected
    # and the levels and balances its movements and points moved wait for head office's publication
    moved = {
        (e["payload"]["store_id"], e["payload"]["product_id"]) for e in applied if e["type"] == "stock.moved"
    }
    marked = {(str(s), str(p)) for s, p in SharedStockChange.objects.values_list("store_id", "product_id")}
    assert moved and marked == moved
    posted = {  # a merged card's points move its survivor's balance
        str(member_survivor_id(member_id=e["payload"]["member_id"]))
        for e in applied
        if e["type"] == "points.posted"
    }
    assert (
        posted and {str(m) for m in SharedPointsChange.objects.values_list("member_id", flat=True)} == posted
    )
    # and a sale's lines, discount, tax line and tenders are all there
    sale = Sale.objects.get(pk=pool[0][1]["id"])
    assert (sale.lines.count(), sale.discounts.count(), sale.tax_lines.count(), sale.tenders.count()) == (
        2,
        1,
        1,
        2,
    )
    assert sale.tenders.get(kind="card").created_at.isoformat() == "2026-03-01T10:00:30+00:00"
    assert sale.returns.get().lines.get().original_line_id == uuid.UUID(pool[0][1]["lines"][0]["id"])


def test_a_level_left_negative_by_a_batch_is_flagged_once_naming_its_last_sale_movement(enrolled):
    # given S01's batch selling a product three times with nothing on hand, a receipt between
    s01, product = enrolled["stores"]["S01"], enrolled["product"]
    picked = [("stock.moved", moved(s01, product, q, kind="sale" if q.startswith("-") else "receipt"))
              for q in ("-1", "-2", "1", "-1")]  # fmt: skip
    raw = _envelopes(picked)
    # when it is pushed
    sync_push_ingest(store=s01, raw_events=raw)
    # then one oversell names the level after the batch and the batch's last sale movement
    flag = Oversell.objects.get()
    assert (flag.on_hand, flag.seq, flag.origin) == (Decimal("-3.000"), 4, "S01")


def test_points_overdrawn_inside_a_batch_are_recorded_at_the_balance_each_redemption_left(enrolled):
    # given a member with 10 points and a batch redeeming 8, earning 5, redeeming 12, redeeming 1
    member = make_member(points_balance=10)
    picked = [("points.posted", _points(member.id, n)) for n in (-8, 5, -12, -1)]
    # when S01 pushes it
    sync_push_ingest(store=enrolled["stores"]["S01"], raw_events=_envelopes(picked))
    # then the balance is the sum and each redemption that left it negative is recorded with its balance
    member.refresh_from_db()
    assert member.points_balance == -6
    assert sorted(PointsOverdraw.objects.values_list("seq", "balance")) == [(3, -5), (4, -6)]


def test_facts_the_cloud_holds_sent_again_under_new_seqs_change_nothing_and_the_rest_applies(enrolled):
    # given a batch of a sale, its movement and its points, applied
    s01, product = enrolled["stores"]["S01"], enrolled["product"]
    pool = _pool(enrolled)
    member = Member.objects.get(pk=pool[0][1]["member_id"])
    first = [pool[0], ("stock.moved", moved(s01, product, "-1")), ("points.posted", _points(member.id, 4))]
    sync_push_ingest(store=s01, raw_events=_envelopes(first))
    level = StockLevel.objects.get(store=s01, product=product).on_hand
    day = DailyStoreSales.objects.get(store=s01)
    # when the store sends the same three facts again under new seqs, with a new movement
    again = _envelopes([*first, ("stock.moved", moved(s01, product, "-2"))], ack=3)
    result = sync_push_ingest(store=s01, raw_events=again)
    # then all four are acknowledged, only the new movement moved stock, and nothing counted twice
    assert (result.ack_seq, result.applied, result.quarantined) == (7, 4, [])
    assert StockLevel.objects.get(store=s01, product=product).on_hand == level - 2
    assert (Sale.objects.count(), StockMovement.objects.count(), PointsEntry.objects.count()) == (1, 2, 1)
    member.refresh_from_db()
    assert member.points_balance == 10 + 4
    assert DailyStoreSales.objects.get(store=s01).sales_count == day.sales_count == 1


def test_a_pushed_sale_is_counted_on_its_stores_local_day(enrolled):
    # given S01 in New York, and a sale completed there at 21:01 on 28 February (02:01 UTC on 1 March)
    s01 = enrolled["stores"]["S01"]
    type(s01).objects.filter(pk=s01.pk).update(time_zone="America/New_York")
    s01.refresh_from_db()
    terminal, cashier = make_terminal(s01), make_user(store=s01)
    ids = {"store": str(s01.id), "terminal": str(terminal.id), "cashier": str(cashier.id)}
    sale = {**_sale(ids, [_line(enrolled["product"], 1)]), "completed_at": "2026-03-01T02:01:00Z"}
    # when S01 pushes it
    result = sync_push_ingest(store=s01, raw_events=_envelopes([("sale.completed", sale)]))
    # then the day's figures are New York's 28 February, not UTC's 1 March
    assert result.applied == 1
    assert list(DailyStoreSales.objects.filter(store=s01).values_list("day", "sales_count")) == [
        (datetime.date(2026, 2, 28), 1)
    ]
