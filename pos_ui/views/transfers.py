"""Handheld screens of transfers: the list, receiving by scan or typed counts, review, the result.

Thin views over ``store_node.transfers``: each parses the form, calls one service and renders; a
refusal (``DomainError``) is shown on the same screen and changes nothing. Counting posts are htmx
requests that redraw the lines (plain form posts redraw the whole screen).
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from pos_ui.views.common import screen_context
from pos_ui.views.terminal import _refusal
from retail.api_errors import DomainError
from store_node.transfers import selectors, services
from store_node.transfers.models import TransferStatus


def _ctx(request, **extra) -> dict:
    return screen_context(request, page="transfers", **extra)


def transfer_list(request):
    arriving, leaving = selectors.transfers_in_transit()
    ctx = _ctx(request, arriving=arriving, leaving=leaving, received=selectors.transfers_received_lately())
    return render(request, "pos_ui/handheld/transfers.html", ctx)


def _transfer(transfer_id):
    transfer = selectors.transfer_detail(transfer_id=transfer_id)
    if transfer is None:
        raise Http404("No such transfer at this store")
    return transfer


def _figures(lines) -> dict:
    short = [line for line in lines if line.received < line.expected]
    over = [line for line in lines if line.received > line.expected]
    # Lines, not units: a transfer mixes pieces and kilograms.
    return {
        "lines": lines,
        "sent_lines": sum(1 for line in lines if line.expected > 0),
        "complete": sum(1 for line in lines if line.expected > 0 and line.received == line.expected),
        "booked": sum(1 for line in lines if line.received > 0),
        "short": short,
        "over": over,
        "differ": len(short) + len(over),
    }


def _receiving(transfer) -> bool:
    return transfer.status == TransferStatus.SENT and transfer.to_store.code == settings.STORE_CODE


def _receive_screen(request, transfer_id, *, message=None):
    transfer = _transfer(transfer_id)
    if not _receiving(transfer):
        return redirect("pos_ui:handheld_transfer", transfer_id=transfer.id)
    ctx = _ctx(request, transfer=transfer, message=message, **_figures(list(transfer.lines.all())))
    template = (
        "pos_ui/handheld/transfer_lines.html"
        if request.headers.get("HX-Request")
        else "pos_ui/handheld/transfer_receive.html"
    )
    return render(request, template, ctx)


def transfer_show(request, transfer_id):
    """The receive screen of a transfer on its way here; anything else is shown as it stands."""
    transfer = _transfer(transfer_id)
    if _receiving(transfer):
        return _receive_screen(request, transfer_id)
    ctx = _ctx(
        request,
        transfer=transfer,
        just_received=request.GET.get("received") == "1",
        **_figures(list(transfer.lines.all())),
    )
    return render(request, "pos_ui/handheld/transfer_detail.html", ctx)


@require_POST
def transfer_scan(request, transfer_id):
    code = request.POST.get("code", "").strip()
    if not code:
        return _receive_screen(request, transfer_id)
    try:
        line = services.transfer_receive_scan(transfer_id=transfer_id, scan=code)
    except DomainError as exc:
        return _receive_screen(request, transfer_id, message=("error", _refusal(exc)))
    if line.expected == 0:
        message = ("info", f"{line.description} was not sent: counted in as extra ({_count(line)}).")
    else:
        message = ("ok", f"{line.description}: {_count(line)} of {_amount(line.expected)}")
    return _receive_screen(request, transfer_id, message=message)


@require_POST
def transfer_set(request, transfer_id):
    try:
        product_id = uuid.UUID(request.POST.get("product", ""))
    except ValueError:
        return _receive_screen(request, transfer_id, message=("error", "Choose the line to set."))
    try:
        line = services.transfer_receive_set(
            transfer_id=transfer_id, product_id=product_id, received=request.POST.get("received", "")
        )
    except DomainError as exc:
        return _receive_screen(request, transfer_id, message=("error", _refusal(exc)))
    if line is None:
        return _receive_screen(request, transfer_id, message=("ok", "Extra item removed."))
    return _receive_screen(
        request, transfer_id, message=("ok", f"{line.description}: {_count(line)} received.")
    )


def transfer_review(request, transfer_id):
    transfer = _transfer(transfer_id)
    if not _receiving(transfer):
        return redirect("pos_ui:handheld_transfer", transfer_id=transfer.id)
    ctx = _ctx(request, transfer=transfer, **_figures(list(transfer.lines.all())))
    return render(request, "pos_ui/handheld/transfer_review.html", ctx)


@require_POST
def transfer_confirm(request, transfer_id):
    try:
        transfer = services.transfer_receive_confirm(
            transfer_id=transfer_id, by=request.handheld_staff.username
        )
    except DomainError as exc:
        if exc.code == "already_received":  # a second tap, or another handheld confirmed first
            return redirect("pos_ui:handheld_transfer", transfer_id=transfer_id)
        return _receive_screen(request, transfer_id, message=("error", _refusal(exc)))
    response = redirect(reverse("pos_ui:handheld_transfer", args=[transfer.id]) + "?received=1")
    response["X-Transfer-Received"] = transfer.number
    return response


def _amount(value) -> str:
    return format(value.normalize(), "f")


def _count(line) -> str:
    return _amount(line.received) + (" kg" if line.unit == "kg" else "")
