"""Appliers of transfers at this store (registered in ``StoreTransfersConfig.ready``).

``transfer.sent`` (head office's) makes this store's copy once, at either end: the receiving store
counts it in, the sending store follows it. ``transfer.received`` (the receiving store's) tells the
sending store what arrived. Both are idempotent: a copy is made once by id, a received copy stays
as it is. The stock moves through the ``stock.moved`` events that travel with them.
"""

from __future__ import annotations

import uuid
from decimal import Decimal

from django.conf import settings
from django.utils.dateparse import parse_datetime

from retail.catalog.models import Product
from retail.replication.errors import INVALID_PAYLOAD, MISSING_REFERENCE, NOT_OWNER, ApplyRefused
from retail.replication.wire import CLOUD_ORIGIN, Envelope
from retail.stores.models import Store
from store_node.transfers.models import Transfer, TransferLine, TransferStatus


def _dec(raw) -> Decimal:
    if not isinstance(raw, str):
        raise ApplyRefused(INVALID_PAYLOAD, f"expected a decimal string, got {raw!r}")
    value = Decimal(raw)
    if not value.is_finite() or value < 0:
        raise ApplyRefused(INVALID_PAYLOAD, f"a transfer quantity is at least 0, got {raw!r}")
    return value


def _time(p: dict, key: str):
    value = parse_datetime(p[key]) if isinstance(p.get(key), str) else None
    if value is None:
        raise ApplyRefused(INVALID_PAYLOAD, f"{key} must be an ISO 8601 time")
    return value


def _products(product_ids: set) -> dict[str, str]:
    """The names of the products, by id as text; refused if this node lacks any of them."""
    names = {
        str(pk): name for pk, name in Product.objects.filter(pk__in=product_ids).values_list("pk", "name")
    }
    if missing := {str(pid) for pid in product_ids} - set(names):
        raise ApplyRefused(MISSING_REFERENCE, f"products {sorted(missing)} do not exist here")
    return names


def transfer_sent_apply(env: Envelope, ctx) -> None:
    if env.origin != CLOUD_ORIGIN:
        raise ApplyRefused(NOT_OWNER, f"transfer.sent is head office's; {env.origin} may not write it")
    p = env.payload
    if Transfer.objects.filter(pk=p["id"]).exists():
        return
    from_id, to_id = uuid.UUID(str(p["from_store_id"])), uuid.UUID(str(p["to_store_id"]))
    stores = Store.objects.in_bulk([from_id, to_id])
    from_store, to_store = stores.get(from_id), stores.get(to_id)
    if from_store is None or to_store is None:
        raise ApplyRefused(MISSING_REFERENCE, "a store of the transfer does not exist here")
    if settings.STORE_CODE not in (from_store.code, to_store.code):
        raise ApplyRefused(
            NOT_OWNER,
            f"transfer {p['number']} is between {from_store.code} and {to_store.code}, not this store's",
        )
    lines = p["lines"]
    _products({line["product_id"] for line in lines})
    sent_at = _time(p, "sent_at")
    transfer = Transfer.objects.create(
        id=p["id"],
        number=p["number"],
        from_store=from_store,
        to_store=to_store,
        note=p.get("note") or "",
        sent_at=sent_at,
        updated_at=sent_at,
    )
    TransferLine.objects.bulk_create(
        [
            TransferLine(
                transfer=transfer,
                position=int(line["position"]),
                product_id=line["product_id"],
                sku=line["sku"],
                description=line["description"],
                unit=line.get("unit") or "each",
                expected=_dec(line["quantity"]),
            )
            for line in lines
        ]
    )


def transfer_received_apply(env: Envelope, ctx) -> None:
    """The receiving store counted our transfer in: show the sending store what arrived."""
    p = env.payload
    transfer = Transfer.objects.select_related("to_store").filter(pk=p["id"]).first()
    if transfer is None:
        return  # a transfer this store never held (it enrolled after the dispatch was received)
    if env.origin != transfer.to_store.code:
        raise ApplyRefused(
            NOT_OWNER, f"only {transfer.to_store.code} receives {transfer.number}, not {env.origin}"
        )
    if transfer.status == TransferStatus.RECEIVED:
        return
    reported = {str(line["product_id"]): line for line in p["lines"]}
    lines = list(transfer.lines.all())
    for line in lines:
        raw = reported.pop(str(line.product_id), None)
        line.received = _dec(raw["received"]) if raw else Decimal("0")
    TransferLine.objects.bulk_update(lines, ["received"])
    names = _products(set(reported))
    position = max((line.position for line in lines), default=0)
    TransferLine.objects.bulk_create(
        [
            TransferLine(
                transfer=transfer,
                position=position + n,
                product_id=raw["product_id"],
                sku=raw.get("sku") or "",
                description=names[str(raw["product_id"])],
                expected=Decimal("0"),
                received=_dec(raw["received"]),
            )
            for n, raw in enumerate(reported.values(), start=1)
        ]
    )
    received_at = _time(p, "received_at")
    Transfer.objects.filter(pk=transfer.pk).update(
        status=TransferStatus.RECEIVED,
        received_at=received_at,
        received_by=str(p.get("received_by") or "")[:160],
        updated_at=received_at,
    )
