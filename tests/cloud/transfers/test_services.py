"""Head office's transfers: drafts, sending (the goods leave the sending store), cancelling."""

from decimal import Decimal

import pytest
from django.db.models import Sum

from cloud.transfers.models import Transfer, TransferStatus
from cloud.transfers.services import (
    TransferItem,
    transfer_cancel,
    transfer_discrepancy_resolve,
    transfer_draft_save,
    transfer_send,
)
from retail.api_errors import DomainError, Invalid
from retail.outbox.models import Event
from retail.replication.entitlement import feed_audiences
from retail.replication.wire import envelope_of_event
from retail.stock.models import StockLevel, StockMovement
from retail.stock.services import stock_move
from tests.cloud.transfers.conftest import draft

pytestmark = pytest.mark.django_db


def test_a_draft_gets_a_number_to_say_out_loud_and_moves_nothing(chain):
    # when head office drafts two transfers
    first = draft(chain)
    second = draft(chain, (chain.apples, "1.250"), to_store=chain.s3)

    # then they are numbered in order, hold their lines, and no stock or event moved
    assert (first.number, second.number) == ("T-0001", "T-0002")
    assert first.status == TransferStatus.DRAFT
    assert list(first.lines.values_list("position", "product__sku", "quantity")) == [
        (1, "T1", Decimal("5.000")),
        (2, "H1", Decimal("2.000")),
    ]
    assert list(second.lines.values_list("quantity", flat=True)) == [Decimal("1.250")]
    assert (StockMovement.objects.count(), Event.objects.count()) == (0, 0)
    assert list(first.history.values_list("status", "by", "note")) == [("draft", "hedda", "drafted")]


@pytest.mark.parametrize(
    "items, stores, code, detail",
    [
        (
            "tea:5",
            ("s1", "s1"),
            "same_store",
            "S01 cannot send a transfer to itself: choose two different stores.",
        ),
        ("tea:0", ("s1", "s2"), "quantity_not_positive", "Tea: the quantity must be more than zero, not 0."),
        (
            "tea:-1",
            ("s1", "s2"),
            "quantity_not_positive",
            "Tea: the quantity must be more than zero, not -1.",
        ),
        (
            "tea:2.5",
            ("s1", "s2"),
            "quantity_not_whole",
            "Tea is sold by the piece: the quantity must be a whole number, not 2.5.",
        ),
        (
            "apples:1.2345",
            ("s1", "s2"),
            "quantity_too_precise",
            "Apples is sold by weight: give the kilograms with at most three decimals, not 1.2345.",
        ),
        ("tea:lots", ("s1", "s2"), "quantity_invalid", "Tea: enter the quantity as a number, not 'lots'."),
        ("tea:1 tea:2", ("s1", "s2"), "product_twice", "Tea is on the transfer twice: put it on one line."),
        ("", ("s1", "s2"), "transfer_empty", "A transfer needs at least one line."),
    ],
)
def test_a_draft_that_makes_no_sense_is_refused_with_a_message_saying_why(chain, items, stores, code, detail):
    parsed = [(getattr(chain, item.split(":")[0]), item.split(":")[1]) for item in items.split()]

    with pytest.raises(Invalid) as refused:
        transfer_draft_save(
            from_store=getattr(chain, stores[0]),
            to_store=getattr(chain, stores[1]),
            items=[TransferItem(product=p, quantity=q) for p, q in parsed],
            by=chain.hedda,
        )

    assert (refused.value.code, refused.value.detail) == (code, detail)
    assert Transfer.objects.count() == 0


def test_a_closed_store_neither_sends_nor_receives(chain):
    chain.s2.active = False
    chain.s2.save()

    with pytest.raises(Invalid) as refused:
        draft(chain)

    assert refused.value.detail == "S02 is closed (inactive): transfers go between open stores."


def test_editing_a_draft_replaces_its_stores_note_and_lines(chain):
    transfer = draft(chain)

    transfer_draft_save(
        transfer=transfer,
        from_store=chain.s1,
        to_store=chain.s3,
        items=[TransferItem(product=chain.honey, quantity="7")],
        note="for the weekend",
        by=chain.hedda,
    )

    transfer.refresh_from_db()
    assert (transfer.number, transfer.to_store, transfer.note) == ("T-0001", chain.s3, "for the weekend")
    assert list(transfer.lines.values_list("position", "product__sku", "quantity")) == [
        (1, "H1", Decimal("7.000"))
    ]


def test_sending_records_the_goods_leaving_the_sending_store_and_tells_both_stores(chain):
    # given S01 holds 10 teas and 3 honeys, and a draft of 5 teas and 2 honeys to S02
    stock_move(store_id=chain.s1.id, product_id=chain.tea.id, kind="receipt", quantity=Decimal("10"))
    stock_move(store_id=chain.s1.id, product_id=chain.honey.id, kind="receipt", quantity=Decimal("3"))
    transfer = draft(chain, note="for the market")
    before = Event.objects.count()

    # when head office sends it
    transfer_send(transfer=transfer, by=chain.hedda)

    # then S01's stock went down by what left, as transfer_out movements naming the transfer
    transfer.refresh_from_db()
    assert transfer.status == TransferStatus.SENT and transfer.sent_at is not None
    out = StockMovement.objects.filter(kind="transfer_out").order_by("product__sku")
    assert [(m.store_id, m.product.sku, m.quantity, m.reference, m.note, m.origin) for m in out] == [
        (chain.s1.id, "H1", Decimal("-2.000"), "T-0001", "transfer to S02", "cloud"),
        (chain.s1.id, "T1", Decimal("-5.000"), "T-0001", "transfer to S02", "cloud"),
    ]
    levels = dict(StockLevel.objects.filter(store=chain.s1).values_list("product__sku", "on_hand"))
    assert levels == {"T1": Decimal("5.000"), "H1": Decimal("1.000")}
    for (store, product), on_hand in {
        (lv.store_id, lv.product_id): lv.on_hand for lv in StockLevel.objects.all()
    }.items():  # every projection equals its ledger
        ledger = StockMovement.objects.filter(store_id=store, product_id=product).aggregate(s=Sum("quantity"))
        assert ledger["s"] == on_hand
    # and the movements and the dispatch are events of the same transaction, the dispatch last
    events = list(Event.objects.filter(seq__gt=before).order_by("seq"))
    assert [e.type for e in events] == ["stock.moved", "stock.moved", "transfer.sent"]
    sent = events[-1]
    assert transfer.sent_event_id == sent.id
    assert sent.payload == {
        "id": str(transfer.id),
        "number": "T-0001",
        "from_store_id": str(chain.s1.id),
        "to_store_id": str(chain.s2.id),
        "sent_at": sent.payload["sent_at"],
        "note": "for the market",
        "lines": [
            {
                "position": 1,
                "product_id": str(chain.tea.id),
                "sku": "T1",
                "description": "Tea",
                "unit": "each",
                "quantity": "5.000",
            },
            {
                "position": 2,
                "product_id": str(chain.honey.id),
                "sku": "H1",
                "description": "Honey",
                "unit": "each",
                "quantity": "2.000",
            },
        ],
    }
    # which sync gives to S01 and S02 alone
    assert [a.store_id for a in feed_audiences(envelope_of_event(sent))] == [chain.s1.id, chain.s2.id]
    assert list(transfer.history.values_list("status", "by", "note")) == [
        ("draft", "hedda", "drafted"),
        ("sent", "hedda", "left S01"),
    ]


def test_a_transfer_is_sent_once_and_then_can_be_neither_edited_nor_cancelled(chain):
    transfer = draft(chain)
    transfer_send(transfer=transfer, by=chain.hedda)

    for attempt in (
        lambda: transfer_send(transfer=transfer, by=chain.hedda),
        lambda: transfer_cancel(transfer=transfer, by=chain.hedda),
        lambda: transfer_draft_save(
            transfer=transfer,
            from_store=chain.s1,
            to_store=chain.s2,
            items=[TransferItem(product=chain.tea, quantity="1")],
        ),
    ):
        with pytest.raises(DomainError) as refused:
            attempt()
        assert refused.value.code == "status_refused"
        assert refused.value.detail.startswith("T-0001 is in transit: only a draft transfer can be")

    assert StockMovement.objects.filter(kind="transfer_out").count() == 2
    assert Event.objects.filter(type="transfer.sent").count() == 1


def test_a_cancelled_draft_is_never_sent(chain):
    transfer = draft(chain)

    transfer_cancel(transfer=transfer, by=chain.hedda)
    with pytest.raises(DomainError) as refused:
        transfer_send(transfer=transfer, by=chain.hedda)

    transfer.refresh_from_db()
    assert transfer.status == TransferStatus.CANCELLED
    assert refused.value.detail == "T-0001 is cancelled: only a draft transfer can be sent."
    assert (StockMovement.objects.count(), Event.objects.count()) == (0, 0)
    assert list(transfer.history.values_list("status", "note")) == [
        ("draft", "drafted"),
        ("cancelled", "cancelled before sending"),
    ]


def test_a_discrepancy_is_resolved_once(chain):
    transfer = draft(chain)
    Transfer.objects.filter(pk=transfer.pk).update(status="received", has_discrepancy=True)

    transfer_discrepancy_resolve(transfer=transfer, by=chain.hedda, note="lost in transit, written off")
    with pytest.raises(DomainError) as refused:
        transfer_discrepancy_resolve(transfer=transfer, by=chain.hedda)

    transfer.refresh_from_db()
    assert transfer.discrepancy_resolved_at is not None
    assert refused.value.code == "no_discrepancy"
    assert transfer.history.last().note == "discrepancy resolved: lost in transit, written off"
