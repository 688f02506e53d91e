"""Head office's stock transfers: draft, send, cancel a draft, resolve a discrepancy.

Who moves which stock (docs/head-office.md, "Transfers"): head office records the goods leaving
the sending store when it sends the transfer (``transfer_out`` movements at that store, origin
``cloud``, a head-office stock decision like any other); the receiving store records what it
counted in (``transfer_in``, origin that store) when it confirms the receipt on its handheld. A
draft changes no stock and no store hears of it. Every status change is kept in the history.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from cloud.transfers.models import Transfer, TransferLine, TransferStatus, TransferStatusChange
from retail.api_errors import DomainError, Invalid
from retail.catalog.models import Product
from retail.outbox.services import event_append
from retail.stock.models import MovementKind
from retail.stock.quantities import stock_quantity_parse
from retail.stock.services import Move, stock_move_many
from retail.stores.models import Store


@dataclass(frozen=True)
class TransferItem:
    """One line of a draft: a product and how much of it to send (Decimal, or text as typed)."""

    product: Product
    quantity: Decimal | str


def transfer_stores_check(*, from_store: Store | None, to_store: Store | None) -> None:
    """Refuse (``Invalid``) a transfer that does not go from one open store to another."""
    if from_store is None or to_store is None:
        raise Invalid("Choose the store that sends and the store that receives.", code="store_required")
    if from_store.pk == to_store.pk:
        raise Invalid(
            f"{from_store.code} cannot send a transfer to itself: choose two different stores.",
            code="same_store",
        )
    for store in (from_store, to_store):
        if not store.active:
            raise Invalid(
                f"{store.code} is closed (inactive): transfers go between open stores.", code="store_inactive"
            )


def transfer_items_check(items: Iterable[TransferItem]) -> list[TransferItem]:
    """The items with their quantities parsed, or ``Invalid``: at least one line, each product once,
    more than zero, whole units for products sold each, grams at most for products sold by weight."""
    checked, seen = [], set()
    for item in items:
        if item.product.pk in seen:
            raise Invalid(
                f"{item.product.name} is on the transfer twice: put it on one line.", code="product_twice"
            )
        seen.add(item.product.pk)
        quantity = stock_quantity_parse(name=item.product.name, unit=item.product.unit, raw=item.quantity)
        checked.append(TransferItem(product=item.product, quantity=quantity))
    if not checked:
        raise Invalid("A transfer needs at least one line.", code="transfer_empty")
    return checked


def _by(user) -> str:
    return getattr(user, "username", "") or ""


def _history(transfer: Transfer, status: str, *, by: str, note: str = "", at=None) -> None:
    TransferStatusChange.objects.create(
        transfer=transfer, status=status, at=at or timezone.now(), by=by[:160], note=note[:300]
    )


def _refuse_unless(transfer: Transfer, status: str, doing: str) -> None:
    if transfer.status != status:
        raise DomainError(
            f"{transfer.number} is {transfer.get_status_display().lower()}: "
            f"only a {TransferStatus(status).label.lower()} transfer can be {doing}.",
            code="status_refused",
        )


def _create(*, from_store: Store, to_store: Store, note: str, by, now) -> Transfer:
    # The next serial; two heads of office saving at the same moment collide on the unique key and
    # the loser takes the one after.
    for attempt in range(5):
        serial = (Transfer.objects.aggregate(m=Max("serial"))["m"] or 0) + 1
        try:
            with transaction.atomic():
                return Transfer.objects.create(
                    serial=serial,
                    number=f"T-{serial:04d}",
                    from_store=from_store,
                    to_store=to_store,
                    note=note,
                    created_by=by,
                    created_at=now,
                    updated_at=now,
                )
        except IntegrityError:
            if attempt == 4:
                raise
    raise AssertionError("unreachable")


def transfer_draft_save(
    *,
    transfer: Transfer | None = None,
    from_store: Store | None,
    to_store: Store | None,
    items: Iterable[TransferItem],
    note: str = "",
    by=None,
) -> Transfer:
    """Create a draft (``transfer`` None) or replace a draft's stores, note and lines.

    Refused (``Invalid``) for the reasons of ``transfer_stores_check`` and ``transfer_items_check``,
    and (409 ``status_refused``) once the transfer is no longer a draft. Nothing moves yet.
    """
    transfer_stores_check(from_store=from_store, to_store=to_store)
    items = transfer_items_check(items)
    with transaction.atomic():
        now = timezone.now()
        if transfer is None:
            transfer = _create(from_store=from_store, to_store=to_store, note=note, by=by, now=now)
            _history(transfer, TransferStatus.DRAFT, by=_by(by), note="drafted", at=now)
        else:
            transfer = Transfer.objects.select_for_update().get(pk=transfer.pk)
            _refuse_unless(transfer, TransferStatus.DRAFT, "changed")
            transfer.from_store, transfer.to_store, transfer.note, transfer.updated_at = (
                from_store,
                to_store,
                note,
                now,
            )
            transfer.save(update_fields=["from_store", "to_store", "note", "updated_at"])
            TransferLine.objects.filter(transfer=transfer).delete()
        TransferLine.objects.bulk_create(
            [
                TransferLine(transfer=transfer, position=n, product=item.product, quantity=item.quantity)
                for n, item in enumerate(items, start=1)
            ]
        )
    return transfer


def transfer_sent_payload(transfer: Transfer, lines: list[TransferLine]) -> dict:
    return {
        "id": transfer.id,
        "number": transfer.number,
        "from_store_id": transfer.from_store_id,
        "to_store_id": transfer.to_store_id,
        "sent_at": transfer.sent_at,
        "note": transfer.note,
        "lines": [
            {
                "position": line.position,
                "product_id": line.product_id,
                "sku": line.product.sku,
                "description": line.product.name,
                "unit": line.product.unit,
                "quantity": line.quantity,
            }
            for line in lines
        ],
    }


def transfer_send(*, transfer: Transfer, by=None) -> Transfer:
    """Send a draft: the goods leave the sending store, and both stores hear of it.

    In one transaction: a ``transfer_out`` movement per line at the sending store (with its
    ``stock.moved``, origin ``cloud``), the status ``sent``, the history entry and ``transfer.sent``
    (sync gives it to the two stores alone). Refused (409 ``status_refused``) unless a draft; the
    stores and lines are checked again, as an edit of a product or a store may have come since.
    """
    with transaction.atomic():
        transfer = (
            Transfer.objects.select_for_update().select_related("from_store", "to_store").get(pk=transfer.pk)
        )
        _refuse_unless(transfer, TransferStatus.DRAFT, "sent")
        lines = list(transfer.lines.select_related("product").order_by("position"))
        transfer_stores_check(from_store=transfer.from_store, to_store=transfer.to_store)
        transfer_items_check(TransferItem(product=line.product, quantity=line.quantity) for line in lines)
        now = timezone.now()
        stock_move_many(
            store_id=transfer.from_store_id,
            moves=[
                Move(
                    product_id=line.product_id,
                    kind=MovementKind.TRANSFER_OUT,
                    quantity=-line.quantity,
                    reference=transfer.number,
                    note=f"transfer to {transfer.to_store.code}",
                )
                for line in lines
            ],
        )
        transfer.status, transfer.sent_at, transfer.updated_at = TransferStatus.SENT, now, now
        transfer.sent_event = event_append(
            type="transfer.sent", payload=transfer_sent_payload(transfer, lines)
        )
        transfer.save(update_fields=["status", "sent_at", "updated_at", "sent_event"])
        _history(transfer, TransferStatus.SENT, by=_by(by), note=f"left {transfer.from_store.code}", at=now)
        transaction.on_commit(_nudge_stores)
    return transfer


def transfer_cancel(*, transfer: Transfer, by=None, note: str = "") -> Transfer:
    """Cancel a draft (409 ``status_refused`` once sent: goods on their way are received, even as zero)."""
    with transaction.atomic():
        transfer = Transfer.objects.select_for_update().get(pk=transfer.pk)
        _refuse_unless(transfer, TransferStatus.DRAFT, "cancelled")
        now = timezone.now()
        transfer.status, transfer.updated_at = TransferStatus.CANCELLED, now
        transfer.save(update_fields=["status", "updated_at"])
        _history(
            transfer, TransferStatus.CANCELLED, by=_by(by), note=note or "cancelled before sending", at=now
        )
    return transfer


def transfer_discrepancy_resolve(*, transfer: Transfer, by=None, note: str = "") -> Transfer:
    """Mark a received transfer's discrepancy as dealt with (a count, a write-off, a claim).

    It moves no stock: whatever head office decided is its own movement. Refused (409
    ``no_discrepancy``) for a transfer without an open discrepancy.
    """
    with transaction.atomic():
        transfer = Transfer.objects.select_for_update().get(pk=transfer.pk)
        if not transfer.has_discrepancy or transfer.discrepancy_resolved_at is not None:
            raise DomainError(f"{transfer.number} has no open discrepancy.", code="no_discrepancy")
        now = timezone.now()
        transfer.discrepancy_resolved_at, transfer.updated_at = now, now
        transfer.save(update_fields=["discrepancy_resolved_at", "updated_at"])
        _history(
            transfer,
            transfer.status,
            by=_by(by),
            note=f"discrepancy resolved{': ' + note if note else ''}",
            at=now,
        )
    return transfer


def _nudge_stores() -> None:
    from cloud.sync.services import stores_nudge  # the sync app's nudge; imported late (app loading)

    stores_nudge()
