"""Receiving a transfer at this store: count what arrived (scan by scan, or a typed count), then
confirm it.

Counting writes only this store's copy (nothing is announced while counting, and a count can be
continued on another handheld). Confirming is the one change that matters: the store's stock goes
up by what arrived (``transfer_in`` movements, origin this store) and ``transfer.received`` tells
head office and the sending store what arrived of each line, in one transaction.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from retail.api_errors import DomainError, NotFound
from retail.barcodes import BarcodeError, parse_scan
from retail.catalog.models import Unit
from retail.outbox.services import event_append
from retail.stock.models import MovementKind
from retail.stock.quantities import stock_quantity_parse
from retail.stock.services import Move, stock_move_many
from store_node.checkout.services.sales import product_for_scan
from store_node.sync.worker import sync_wake
from store_node.transfers.models import Transfer, TransferLine, TransferStatus


def _receivable(transfer_id) -> Transfer:
    """The transfer, if this store is to receive it now; else a refusal naming why."""
    transfer = Transfer.objects.select_related("from_store", "to_store").filter(pk=transfer_id).first()
    if transfer is None:
        raise NotFound(f"No transfer {transfer_id} at this store.", code="transfer_not_found")
    if transfer.to_store.code != settings.STORE_CODE:
        raise DomainError(
            f"{transfer.number} goes from this store to {transfer.to_store.code}: "
            f"{transfer.to_store.code} receives it.",
            code="not_receiving_store",
        )
    if transfer.status != TransferStatus.SENT:
        raise DomainError(
            f"{transfer.number} was received on {timezone.localtime(transfer.received_at):%d %b %H:%M}: "
            "it cannot be counted again.",
            code="already_received",
        )
    return transfer


def _line_of(transfer: Transfer, product) -> TransferLine:
    line = TransferLine.objects.filter(transfer=transfer, product=product).first()
    if line is not None:
        return line
    # An item that was not sent but is in the delivery: count it in too, so nothing arrives unrecorded.
    position = (TransferLine.objects.filter(transfer=transfer).aggregate(m=Max("position"))["m"] or 0) + 1
    return TransferLine.objects.create(
        transfer=transfer,
        position=position,
        product=product,
        sku=product.sku,
        description=product.name,
        unit=product.unit,
        expected=Decimal("0"),
        received=Decimal("0"),
    )


def transfer_receive_scan(*, transfer_id, scan: str, quantity: int = 1) -> TransferLine:
    """Count one scanned item in; returns its line (``line.expected == 0``: it was not sent).

    A weighed item's label gives its weight; an item sold by weight scanned without one is refused
    (``weight_required``: type its kilograms on its line). Refuses a code that names no product.
    """
    try:
        parsed = parse_scan(scan)
    except BarcodeError as exc:
        raise DomainError(str(exc), code="barcode_invalid") from exc
    with transaction.atomic():
        transfer = _receivable(transfer_id)
        product = product_for_scan(parsed, store_id=transfer.to_store_id)
        if product.unit == Unit.KG:
            if parsed.weight is None:
                raise DomainError(
                    f"{product.name} is sold by weight: type the kilograms that arrived on its line.",
                    code="weight_required",
                )
            amount = parsed.weight
        else:
            amount = Decimal(quantity)
        line = _line_of(transfer, product)
        line.received += amount
        TransferLine.objects.filter(pk=line.pk).update(received=line.received)
        Transfer.objects.filter(pk=transfer.pk).update(updated_at=timezone.now())
    return line


def transfer_receive_set(*, transfer_id, product_id, received) -> TransferLine | None:
    """Set what arrived of one line, as typed (replaces its scans); returns the line.

    Zero is allowed (nothing of it arrived). An item that was not sent and is set to zero was
    scanned by mistake: its line goes (returns None).
    """
    with transaction.atomic():
        transfer = _receivable(transfer_id)
        line = TransferLine.objects.filter(transfer=transfer, product_id=product_id).first()
        if line is None:
            raise NotFound(
                f"That product is not on {transfer.number}: scan it to count it in.", code="not_on_transfer"
            )
        line.received = stock_quantity_parse(
            name=line.description, unit=line.unit, raw=received, allow_zero=True
        )
        if line.expected == 0 and line.received == 0:
            line.delete()
            return None
        TransferLine.objects.filter(pk=line.pk).update(received=line.received)
        Transfer.objects.filter(pk=transfer.pk).update(updated_at=timezone.now())
    return line


def transfer_received_payload(transfer: Transfer, lines: list[TransferLine]) -> dict:
    return {
        "id": transfer.id,
        "number": transfer.number,
        "from_store_id": transfer.from_store_id,
        "to_store_id": transfer.to_store_id,
        "received_at": transfer.received_at,
        "received_by": transfer.received_by,
        "lines": [
            {
                "position": line.position,
                "product_id": line.product_id,
                "sku": line.sku,
                "expected": line.expected,
                "received": line.received,
            }
            for line in lines
        ],
    }


def transfer_receive_confirm(*, transfer_id, by: str = "") -> Transfer:
    """Confirm the count: what arrived is in this store's stock, and head office learns it.

    One transaction: a ``transfer_in`` movement per item that arrived (with its ``stock.moved``),
    the status ``received`` and ``transfer.received`` with every line's sent and received quantity
    (a line not counted arrived as nothing: a shortfall head office sees). Refused once received.
    """
    with transaction.atomic():
        transfer = _receivable(transfer_id)
        lines = list(transfer.lines.order_by("position"))
        moves = [
            Move(
                product_id=line.product_id,
                kind=MovementKind.TRANSFER_IN,
                quantity=line.received,
                reference=transfer.number,
                note=f"transfer from {transfer.from_store.code}",
            )
            for line in lines
            if line.received > 0
        ]
        stock_move_many(store_id=transfer.to_store_id, moves=moves)
        now = timezone.now()
        transfer.status, transfer.received_at, transfer.received_by, transfer.updated_at = (
            TransferStatus.RECEIVED,
            now,
            by[:160],
            now,
        )
        transfer.save(update_fields=["status", "received_at", "received_by", "updated_at"])
        event_append(type="transfer.received", payload=transfer_received_payload(transfer, lines))
        # Head office and the sending store are waiting for this: push it now, not at the next poll.
        transaction.on_commit(sync_wake)
    return transfer
