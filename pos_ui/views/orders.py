"""Click and collect screens: the handheld's pick list and pick screen, the terminal's collection list.

Thin views over ``store_node.orders``: each parses the form, calls one service and renders; a
refusal (``DomainError``) is shown on the same screen and changes nothing. The handheld's views
run for a signed-in staff member (``request.handheld_staff``, named in the order's status changes).
"""

from __future__ import annotations

from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from pos_ui.views.common import screen_context
from pos_ui.views.terminal import _ctx, _redirect, _refusal, till_view
from retail.api_errors import DomainError
from store_node.orders import selectors, services


def _handheld_ctx(request, **extra) -> dict:
    return screen_context(request, page="orders", **extra)


def pick_list(request):
    return render(
        request, "pos_ui/handheld/orders.html", _handheld_ctx(request, orders=selectors.orders_to_pick())
    )


def _pick_screen(request, order_id, *, message=None, status=200):
    order = selectors.order_detail(order_id=order_id)
    if order is None:
        raise Http404("No such order at this store")
    lines = list(order.lines.all())
    ctx = _handheld_ctx(
        request,
        order=order,
        lines=lines,
        picked=sum(line.picked for line in lines),
        wanted=sum(line.quantity for line in lines),
        complete=all(line.picked >= line.quantity for line in lines),
        message=message,
    )
    return render(request, "pos_ui/handheld/order_pick.html", ctx, status=status)


def pick(request, order_id):
    return _pick_screen(request, order_id)


@require_POST
def pick_scan(request, order_id):
    code = request.POST.get("code", "").strip()
    if not code:
        return _pick_screen(request, order_id)
    try:
        line = services.order_pick_line(order_id=order_id, scan=code, staff=request.handheld_staff)
    except DomainError as exc:
        return _pick_screen(request, order_id, message=("error", _refusal(exc)))
    return _pick_screen(request, order_id, message=("ok", f"Picked {line.description}"))


@require_POST
def pick_ready(request, order_id):
    try:
        order = services.order_mark_ready(order_id=order_id, staff=request.handheld_staff)
    except DomainError as exc:
        return _pick_screen(request, order_id, message=("error", _refusal(exc)))
    response = redirect("pos_ui:handheld_orders")
    response["X-Order-Ready"] = order.number
    return response


@till_view
def collect_list(request, till, message=None):
    ctx = _ctx(request, till, orders=selectors.orders_ready(), message=message)
    return render(request, "pos_ui/terminal/orders.html", ctx)


@till_view
def badge(request, till):
    """The sale screen's order badge, reloaded by the page whenever an order of the store moves."""
    ctx = _ctx(request, till, status=False, waiting=selectors.orders_waiting(store_id=till.terminal.store_id))
    return render(request, "pos_ui/terminal/orders_badge.html", ctx)


@require_POST
@till_view
def collect(request, till, order_id):
    try:
        order = services.order_collect(order_id=order_id, terminal=till.terminal, cashier=till.cashier)
    except DomainError as exc:
        ctx = _ctx(request, till, orders=selectors.orders_ready(), message=("error", _refusal(exc)))
        return render(request, "pos_ui/terminal/orders.html", ctx, status=409)
    if order.status == "ready":  # not prepaid: the customer pays the sale the order opened
        return _redirect(request, till.url("terminal_sale"))
    ctx = _ctx(
        request, till, orders=selectors.orders_ready(), message=("ok", f"Order {order.number} collected.")
    )
    return render(request, "pos_ui/terminal/orders.html", ctx)
