"""Reads of this store's transfers (one query per list, two for a transfer with its lines)."""

from __future__ import annotations

from django.conf import settings
from django.db.models import Count, Prefetch, Q

from store_node.transfers.models import Transfer, TransferLine, TransferStatus


def _ours():
    here = settings.STORE_CODE
    return (
        Transfer.objects.filter(Q(to_store__code=here) | Q(from_store__code=here))
        .select_related("from_store", "to_store")
        .annotate(line_count=Count("lines"))
    )


def transfers_in_transit() -> tuple[list[Transfer], list[Transfer]]:
    """(on their way here, on their way from here), oldest first: one query."""
    here = settings.STORE_CODE
    open_ = list(_ours().filter(status=TransferStatus.SENT).order_by("sent_at", "number"))
    return (
        [t for t in open_ if t.to_store.code == here],
        [t for t in open_ if t.from_store.code == here],
    )


def transfers_received_lately(*, limit: int = 10) -> list[Transfer]:
    return list(_ours().filter(status=TransferStatus.RECEIVED).order_by("-received_at", "-number")[:limit])


def transfer_detail(*, transfer_id) -> Transfer | None:
    lines = Prefetch("lines", queryset=TransferLine.objects.order_by("position"))
    return (
        Transfer.objects.filter(pk=transfer_id)
        .select_related("from_store", "to_store")
        .prefetch_related(lines)
        .first()
    )
