"""Receiving a transfer at this store: count by scan or typed counts, confirm once."""

from decimal import Decimal

import pytest
from django.db.models import Sum

from retail.api_errors import DomainError, Invalid, NotFound
from retail.outbox.models import Event
from retail.replication.appliers import ApplyContext, event_apply
from retail.stock.models import StockLevel, StockMovement
from retail.stock.services import stock_move
from store_node.transfers.models import Transfer
from store_node.transfers.services import (
    transfer_receive_confirm,
    transfer_receive_scan,
    transfer_receive_set,
)
from tests.store_node.transfers.conftest import HONEY, JAM, TEA, sent_envelope

pytestmark = pytest.mark.django_db


def _arrived(shop, **kw) -> Transfer:
    event_apply(env=sent_envelope(shop, **kw), ctx=ApplyContext())
    return Transfer.objects.get()


def _counts(transfer):
    return list(transfer.lines.order_by("position").values_list("sku", "expected", "received"))


def test_each_scan_counts_one_item_in_and_nothing_is_announced_while_counting(shop):
    transfer = _arrived(shop)

    for code in (TEA, TEA, HONEY, TEA):
        line = transfer_receive_scan(transfer_id=transfer.id, scan=code)

    assert (line.sku, line.received) == ("T1", Decimal("3.000"))
    assert _counts(transfer) == [
        ("T1", Decimal("5.000"), Decimal("3.000")),
        ("H1", Decimal("2.000"), Decimal("1.000")),
    ]
    assert (Event.objects.count(), StockMovement.objects.count()) == (0, 0)


def test_an_item_that_was_not_sent_is_counted_in_as_an_extra_line(shop):
    transfer = _arrived(shop)

    line = transfer_receive_scan(transfer_id=transfer.id, scan=JAM)
    transfer_receive_scan(transfer_id=transfer.id, scan=JAM)

    assert (line.position, line.expected) == (3, Decimal("0"))
    assert _counts(transfer)[-1] == ("J1", Decimal("0.000"), Decimal("2.000"))


def test_a_weighed_label_counts_its_weight_and_a_plain_scan_of_a_weighed_item_asks_for_it(shop):
    transfer = _arrived(shop, lines=[(shop.apples, "2.5")])

    line = transfer_receive_scan(transfer_id=transfer.id, scan="2101234012505")
    with pytest.raises(DomainError) as refused:
        transfer_receive_scan(transfer_id=transfer.id, scan="A1")

    assert line.received == Decimal("1.250")
    assert (refused.value.code, refused.value.detail) == (
        "weight_required",
        "Apples is sold by weight: type the kilograms that arrived on its line.",
    )


def test_a_typed_count_replaces_the_scans_of_its_line(shop):
    transfer = _arrived(shop, lines=[(shop.tea, "5"), (shop.apples, "2.5")])
    transfer_receive_scan(transfer_id=transfer.id, scan=TEA)

    transfer_receive_set(transfer_id=transfer.id, product_id=shop.tea.id, received="4")
    transfer_receive_set(transfer_id=transfer.id, product_id=shop.apples.id, received="2,45")

    assert _counts(transfer) == [
        ("T1", Decimal("5.000"), Decimal("4.000")),
        ("A1", Decimal("2.500"), Decimal("2.450")),
    ]


@pytest.mark.parametrize(
    "product, typed, code",
    [
        ("tea", "1.5", "quantity_not_whole"),
        ("tea", "-1", "quantity_not_positive"),
        ("apples", "1.0001", "quantity_too_precise"),
    ],
)
def test_a_typed_count_that_cannot_be_is_refused_and_changes_nothing(shop, product, typed, code):
    transfer = _arrived(shop, lines=[(shop.tea, "5"), (shop.apples, "2.5")])

    with pytest.raises(Invalid) as refused:
        transfer_receive_set(transfer_id=transfer.id, product_id=getattr(shop, product).id, received=typed)

    assert refused.value.code == code
    assert [r for _, _, r in _counts(transfer)] == [Decimal("0"), Decimal("0")]


def test_an_extra_item_set_to_zero_was_a_mistake_and_its_line_goes(shop):
    transfer = _arrived(shop)
    transfer_receive_scan(transfer_id=transfer.id, scan=JAM)

    assert transfer_receive_set(transfer_id=transfer.id, product_id=shop.jam.id, received="0") is None
    assert [sku for sku, _, _ in _counts(transfer)] == ["T1", "H1"]
    with pytest.raises(NotFound):
        transfer_receive_set(transfer_id=transfer.id, product_id=shop.jam.id, received="1")


def test_confirming_moves_what_arrived_into_stock_and_tells_head_office_in_one_transaction(shop, settings):
    # given 1 tea already here, and T-0042 counted: 3 of 5 teas, no honey, 1 jam that was not sent
    stock_move(store_id=shop.here.id, product_id=shop.tea.id, kind="receipt", quantity=Decimal("1"))
    transfer = _arrived(shop)
    for code in (TEA, TEA, TEA, JAM):
        transfer_receive_scan(transfer_id=transfer.id, scan=code)
    before = Event.objects.count()

    # when the receipt is confirmed
    transfer_receive_confirm(transfer_id=transfer.id, by="Kai")

    # then the stock here went up by what arrived, as transfer_in movements naming the transfer
    transfer.refresh_from_db()
    assert (transfer.status, transfer.received_by) == ("received", "Kai")
    moved = StockMovement.objects.filter(kind="transfer_in").order_by("product__sku")
    assert [(m.product.sku, m.quantity, m.reference, m.note, m.origin) for m in moved] == [
        ("J1", Decimal("1.000"), "T-0042", "transfer from S09", settings.STORE_CODE),
        ("T1", Decimal("3.000"), "T-0042", "transfer from S09", settings.STORE_CODE),
    ]
    levels = dict(StockLevel.objects.filter(store=shop.here).values_list("product__sku", "on_hand"))
    assert levels == {"T1": Decimal("4.000"), "J1": Decimal("1.000")}
    for level in StockLevel.objects.all():
        assert (
            StockMovement.objects.filter(store=level.store, product=level.product).aggregate(
                s=Sum("quantity")
            )["s"]
            == level.on_hand
        )
    # and the movements and the receipt are events of the same transaction, the receipt last
    events = list(Event.objects.filter(seq__gt=before).order_by("seq"))
    assert [e.type for e in events] == ["stock.moved", "stock.moved", "transfer.received"]
    receipt = events[-1].payload
    assert (receipt["id"], receipt["number"], receipt["received_by"]) == (str(transfer.id), "T-0042", "Kai")
    assert (receipt["from_store_id"], receipt["to_store_id"]) == (str(shop.other.id), str(shop.here.id))
    assert [(line["sku"], line["expected"], line["received"]) for line in receipt["lines"]] == [
        ("T1", "5.000", "3.000"),
        ("H1", "2.000", "0.000"),
        ("J1", "0.000", "1.000"),
    ]


def test_a_received_transfer_is_counted_and_confirmed_once(shop):
    transfer = _arrived(shop)
    transfer_receive_scan(transfer_id=transfer.id, scan=TEA)
    transfer_receive_confirm(transfer_id=transfer.id)

    for attempt in (
        lambda: transfer_receive_confirm(transfer_id=transfer.id),
        lambda: transfer_receive_scan(transfer_id=transfer.id, scan=TEA),
        lambda: transfer_receive_set(transfer_id=transfer.id, product_id=shop.tea.id, received="5"),
    ):
        with pytest.raises(DomainError) as refused:
            attempt()
        assert refused.value.code == "already_received"

    assert StockMovement.objects.filter(kind="transfer_in").count() == 1
    assert Event.objects.filter(type="transfer.received").count() == 1


def test_the_sending_store_cannot_receive_its_own_transfer(shop):
    transfer = _arrived(shop, from_store=shop.here, to_store=shop.other)

    with pytest.raises(DomainError) as refused:
        transfer_receive_scan(transfer_id=transfer.id, scan=TEA)

    assert (refused.value.code, refused.value.detail) == (
        "not_receiving_store",
        "T-0042 goes from this store to S09: S09 receives it.",
    )


def test_a_code_that_names_no_product_is_refused(shop):
    transfer = _arrived(shop)

    with pytest.raises(DomainError) as refused:
        transfer_receive_scan(transfer_id=transfer.id, scan="NOPE-1")

    assert refused.value.code == "unknown_barcode"
