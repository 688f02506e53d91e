"""Reads of head office's transfers."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from decimal import Decimal

from django.db.models import Q

from cloud.transfers.models import Transfer, TransferStatus
from retail.replication.wire import Envelope, envelope_of_event
from retail.stock.models import StockLevel


def transfers_open_envelopes(store_id: uuid.UUID) -> Iterator[Envelope]:
    """The ``transfer.sent`` events of transfers in transit to or from the store (its snapshot's
    ``event`` rows: a store that loads a snapshot after the dispatch still gets them)."""
    transfers = (
        Transfer.objects.filter(status=TransferStatus.SENT, sent_event__isnull=False)
        .filter(Q(from_store_id=store_id) | Q(to_store_id=store_id))
        .select_related("sent_event")
        .order_by("serial")
    )
    for transfer in transfers.iterator(chunk_size=500):
        yield envelope_of_event(transfer.sent_event)


def transfer_books_below_zero(*, transfer: Transfer) -> list[tuple[str, Decimal]]:
    """The sending store's products of this transfer that its book (as head office knows it) now
    shows below zero: (product name, on hand). Head office is told; the transfer is not refused,
    since the store may hold goods its book does not know of yet."""
    rows = (
        StockLevel.objects.filter(
            store_id=transfer.from_store_id,
            product_id__in=transfer.lines.values("product_id"),
            on_hand__lt=0,
        )
        .order_by("product__name")
        .values_list("product__name", "on_hand")
    )
    return list(rows)
