"""The receiving store's ``transfer.received`` at the cloud (registered in ``TransfersConfig.ready``).

Only the transfer's receiving store may receive it (``not_owner`` otherwise); a transfer already
received is left as it is, so applying the event again changes nothing. What arrived is recorded per
line; a line short or over, or an item that was not sent at all, makes the transfer's discrepancy.
The stock itself moved with the store's own ``transfer_in`` movements (``stock.moved``).
"""

from __future__ import annotations

import uuid
from decimal import Decimal, InvalidOperation

from django.utils.dateparse import parse_datetime

from cloud.transfers.models import Transfer, TransferLine, TransferStatus, TransferStatusChange
from retail.catalog.models import Product
from retail.replication.errors import INVALID_PAYLOAD, MISSING_REFERENCE, NOT_OWNER, ApplyRefused
from retail.replication.wire import Envelope


def _uuid(raw, what: str) -> uuid.UUID:
    try:
        return uuid.UUID(str(raw))
    except ValueError as exc:
        raise ApplyRefused(INVALID_PAYLOAD, f"{what} must be a UUID, got {raw!r}") from exc


def _quantity(raw, what: str) -> Decimal:
    if not isinstance(raw, str):
        raise ApplyRefused(INVALID_PAYLOAD, f"{what} must be a decimal string, got {raw!r}")
    try:
        value = Decimal(raw)
    except InvalidOperation as exc:
        raise ApplyRefused(INVALID_PAYLOAD, f"{what} is not a decimal: {raw!r}") from exc
    if not value.is_finite() or value < 0 or value != value.quantize(Decimal("0.001")):
        raise ApplyRefused(INVALID_PAYLOAD, f"{what} must be at least 0 with at most 3 decimals, got {raw!r}")
    return value


def _signed(value: Decimal) -> str:
    text = format(value.normalize(), "f")
    return text if value < 0 else f"+{text}"


def _summary(lines: list[TransferLine], names: dict) -> str:
    parts = [
        f"{names.get(line.product_id, line.product_id)} {_signed(line.received - line.quantity)}"
        for line in lines
        if line.received != line.quantity
    ]
    return "as sent" if not parts else "discrepancy: " + ", ".join(parts)


def transfer_received_apply(env: Envelope, ctx) -> None:
    p = env.payload
    transfer_id = _uuid(p.get("id"), "id")
    transfer = (
        Transfer.objects.select_for_update()
        .select_related("from_store", "to_store")
        .filter(pk=transfer_id)
        .first()
    )
    if transfer is None:
        raise ApplyRefused(MISSING_REFERENCE, f"transfer {transfer_id} does not exist here")
    receiver = transfer.to_store
    if env.origin != receiver.code or (
        ctx.origin_store_id is not None and ctx.origin_store_id != receiver.pk
    ):
        raise ApplyRefused(
            NOT_OWNER, f"transfer {transfer.number} goes to {receiver.code}; only that store receives it"
        )
    if (_uuid(p.get("from_store_id"), "from_store_id"), _uuid(p.get("to_store_id"), "to_store_id")) != (
        transfer.from_store_id,
        transfer.to_store_id,
    ):
        raise ApplyRefused(INVALID_PAYLOAD, f"the event names other stores than transfer {transfer.number}")
    if transfer.status == TransferStatus.RECEIVED:
        return
    if transfer.status != TransferStatus.SENT:
        raise ApplyRefused(
            INVALID_PAYLOAD,
            f"status_refused: transfer {transfer.number} is {transfer.status}; only one in transit is received",
        )
    received_at = parse_datetime(p["received_at"]) if isinstance(p.get("received_at"), str) else None
    if received_at is None:
        raise ApplyRefused(INVALID_PAYLOAD, "received_at must be an ISO 8601 time")
    reported: dict[uuid.UUID, Decimal] = {}
    for raw in p.get("lines") or []:
        product_id = _uuid(raw.get("product_id"), "product_id")
        if product_id in reported:
            raise ApplyRefused(INVALID_PAYLOAD, f"product {product_id} is reported twice")
        reported[product_id] = _quantity(raw.get("received"), "received")

    lines = list(transfer.lines.order_by("position"))
    for line in lines:
        # A line the store did not report arrived as nothing: a shortfall, recorded as such.
        line.received = reported.pop(line.product_id, Decimal("0"))
    TransferLine.objects.bulk_update(lines, ["received"])
    extra_ids = [pid for pid, quantity in reported.items() if quantity > 0]
    known = set(Product.objects.filter(pk__in=extra_ids).values_list("pk", flat=True))
    if missing := [str(pid) for pid in extra_ids if pid not in known]:
        raise ApplyRefused(MISSING_REFERENCE, f"products {missing} do not exist here")
    position = max((line.position for line in lines), default=0)
    extras = [
        TransferLine(
            transfer=transfer, position=position + n, product_id=pid, quantity=0, received=reported[pid]
        )
        for n, pid in enumerate(extra_ids, start=1)
    ]
    TransferLine.objects.bulk_create(extras)
    lines += extras

    transfer.status, transfer.received_at, transfer.updated_at = (
        TransferStatus.RECEIVED,
        received_at,
        received_at,
    )
    transfer.received_by = str(p.get("received_by") or "")[:160]
    transfer.has_discrepancy = any(line.received != line.quantity for line in lines)
    transfer.save(update_fields=["status", "received_at", "updated_at", "received_by", "has_discrepancy"])
    names = dict(Product.objects.filter(pk__in=[line.product_id for line in lines]).values_list("pk", "name"))
    by = receiver.code + (f" ({transfer.received_by})" if transfer.received_by else "")
    TransferStatusChange.objects.create(
        transfer=transfer,
        status=TransferStatus.RECEIVED,
        at=received_at,
        by=by,
        note=_summary(lines, names)[:300],
    )
