"""Click and collect at the store: pick an online order, mark it ready, hand it over at the till.

Every change appends ``order.status_changed`` in its own transaction, so head office (and through
its API the web shop) learns it at the next push. Statuses move ``routed`` -> ``picking`` ->
``ready`` -> ``collected``; head office may cancel an open order at any time.

Stock leaves the store once per order, when the goods are handed over: a prepaid order's
collection records a ``sale`` movement per line (its ``stock.moved`` events just before the
``collected`` status change, same transaction); a not prepaid order's goods leave with the till
sale that pays it, so its collection moves nothing more.
"""

from __future__ import annotations

from decimal import Decimal

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from retail.api_errors import DomainError, NotFound
from retail.barcodes import BarcodeError, parse_scan
from retail.catalog.models import Unit
from retail.outbox.services import event_append, node_origin
from retail.sales.models import Sale, SaleStatus
from retail.stock.models import MovementKind
from retail.stock.services import Move, stock_move_many
from retail.stores.models import Terminal
from store_node.checkout.services import sales as sale_services
from store_node.orders.models import OPEN_FOR_PICKING, PickupOrder, PickupStatus
from store_node.sync.worker import sync_wake


def order_status_record(*, order: PickupOrder, status: str, note: str = "") -> PickupOrder:
    """Set the status and append its ``order.status_changed``; call inside ``transaction.atomic()``."""
    now = timezone.now()
    order.status, order.updated_at = status, now
    PickupOrder.objects.filter(pk=order.pk).update(status=status, updated_at=now)
    event_append(
        type="order.status_changed",
        payload={
            "id": order.id,
            "number": order.number,
            "store_id": order.store_id,
            "status": status,
            "at": now,
            "by": node_origin(),
            "note": note,
        },
    )
    # The web shop waits for this status: push it now rather than at the worker's next poll.
    transaction.on_commit(sync_wake)
    order_announce(order=order)
    return order


def order_announce(*, order: PickupOrder) -> None:
    """After commit, tell every terminal of the store that one of its orders moved (arrived, picked,
    ready, collected, cancelled): their order badge reloads the counts of orders waiting."""
    store_id = order.store_id
    message = {"type": "terminal.order", "order": order.number, "status": order.status}

    def push() -> None:
        layer = get_channel_layer()
        if layer is None:
            return
        terminals = Terminal.objects.filter(store_id=store_id, active=True).values_list("id", flat=True)
        for terminal_id in list(terminals):
            async_to_sync(layer.group_send)(f"terminal-{terminal_id.hex}", message)

    transaction.on_commit(push)


def _order_for_update(order_id) -> PickupOrder:
    order = PickupOrder.objects.filter(pk=order_id).first()
    if order is None:
        raise NotFound(f"no order {order_id}", code="order_not_found")
    return order


def _refuse_unless(order: PickupOrder, allowed: tuple, doing: str) -> None:
    if order.status not in allowed:
        raise DomainError(
            f"order {order.number} is {order.get_status_display().lower()}: it cannot be {doing}",
            code="status_refused",
        )


def _by(staff) -> str:
    """Who did it, for the status change's ``note`` (head office keeps it in the order's history)."""
    return f"by {staff.username}" if staff is not None else ""


def order_pick_start(*, order_id, staff=None) -> PickupOrder:
    """Start picking a routed order (starting again while picking changes nothing); ``staff``, the
    picker signed in on the handheld, is named in the ``picking`` status change."""
    with transaction.atomic():
        order = _order_for_update(order_id)
        _refuse_unless(order, OPEN_FOR_PICKING, "picked")
        if order.status == PickupStatus.ROUTED:
            order_status_record(order=order, status=PickupStatus.PICKING, note=_by(staff))
    return order


def order_pick_line(*, order_id, scan: str, quantity: Decimal | int = 1, staff=None):
    """Record one scanned item as picked; returns the line.

    Refuses a product that is not in the order (``not_in_order``) and picking more than ordered
    (``over_pick``). A weighed item's label gives its weight; otherwise each scan is ``quantity``.
    Starts picking if it had not started (naming ``staff``).
    """
    try:
        parsed = parse_scan(scan)
    except BarcodeError as exc:
        raise DomainError(str(exc), code="barcode_invalid") from exc
    with transaction.atomic():
        order = order_pick_start(order_id=order_id, staff=staff)
        product = sale_services.product_for_scan(parsed, store_id=order.store_id)
        lines = [line for line in order.lines.all() if line.product_id == product.id]
        if not lines:
            raise DomainError(f"{product.name} is not in order {order.number}", code="not_in_order")
        amount = Decimal(parsed.weight if (product.unit == Unit.KG and parsed.weight) else quantity)
        line = next((line for line in lines if line.picked + amount <= line.quantity), None)
        if line is None:
            raise DomainError(
                f"{product.name}: order {order.number} needs only {sum(x.quantity for x in lines)}",
                code="over_pick",
            )
        type(line).objects.filter(pk=line.pk).update(picked=F("picked") + amount)
        line.picked += amount
    return line


def order_mark_ready(*, order_id, staff=None) -> PickupOrder:
    """Mark a picked order ready for collection; refused (``not_picked``) while a line is short.
    ``staff`` (who marked it) is named in the ``ready`` status change."""
    with transaction.atomic():
        order = _order_for_update(order_id)
        _refuse_unless(order, (PickupStatus.PICKING,), "marked ready")
        short = [line.sku for line in order.lines.all() if line.picked < line.quantity]
        if short:
            raise DomainError(f"still to pick: {', '.join(short)}", code="not_picked", skus=short)
        order_status_record(order=order, status=PickupStatus.READY, note=_by(staff))
    return order


def order_collect(*, order_id, terminal, cashier) -> PickupOrder:
    """Hand a ready order over at the till; the order's goods leave the store's stock once.

    A prepaid order is collected at once: one ``sale`` stock movement per line (``reference`` the
    order's number) in the same transaction as the ``collected`` status change, their
    ``stock.moved`` events appended just before it. Head office stops holding the order's
    quantities when ``collected`` reaches it; the movements are ahead of it in this store's log, so
    head office never shows the goods as neither held nor gone (docs/sync-protocol.md §7).

    A not prepaid one is paid through the normal checkout: the first collect opens a sale on the
    terminal with the order's lines at the order's unit prices (the price the customer was quoted
    online, not today's till price: each line that differs is set with ``sale_line_price_agreed``,
    audited, no PIN); once that sale is completed, collecting again marks the order collected. A
    cancelled sale releases the order so it can be collected again. Its goods leave the stock with
    that sale (``sale_complete`` moves its lines), so marking it collected moves nothing.
    """
    with transaction.atomic():
        order = _order_for_update(order_id)
        _refuse_unless(order, (PickupStatus.READY,), "collected")
        if order.prepaid:
            _stock_hand_over(order)
        else:
            sale = Sale.objects.filter(pk=order.sale_id).first() if order.sale_id else None
            if sale is None or sale.status == SaleStatus.CANCELLED:
                sale = sale_services.sale_open(terminal=terminal, cashier=cashier)
                for line in order.lines.select_related("product"):
                    by_weight = line.product.unit == Unit.KG
                    added = sale_services.sale_add_line(
                        sale_id=sale.id,
                        terminal=terminal,
                        cashier=cashier,
                        product_id=line.product_id,
                        **({"weight": line.quantity} if by_weight else {"quantity": int(line.quantity)}),
                    )
                    sale_services.sale_line_price_agreed(
                        sale_id=sale.id,
                        line_id=added.id,
                        terminal=terminal,
                        cashier=cashier,
                        unit_price=line.unit_price,
                        reason="price of the online order",
                        reference=order.number,
                    )
                PickupOrder.objects.filter(pk=order.pk).update(sale=sale)
                order.sale = sale
                return order
            if sale.status != SaleStatus.COMPLETED:
                raise DomainError(
                    f"order {order.number} is waiting for its sale to be paid", code="payment_pending"
                )
        order_status_record(
            order=order, status=PickupStatus.COLLECTED, note=f"at {terminal.code} by {cashier.username}"
        )
    return order


def _stock_hand_over(order: PickupOrder) -> None:
    """The goods of a prepaid order leave the store: a ``sale`` movement per line, with its event."""
    stock_move_many(
        store_id=order.store_id,
        moves=[
            Move(
                product_id=line.product_id,
                kind=MovementKind.SALE,
                quantity=-line.quantity,
                reference=order.number,
                note="online order collected",
            )
            for line in order.lines.order_by("position")
        ],
    )
