"""The cashier terminal: thin views over store_node.checkout's services.

Every view resolves the terminal and the cashier's session (a ``TerminalSession`` token kept in the
browser's Django session, one per terminal), calls one checkout service, and renders a screen or
the sale panel. A refusal (``DomainError``) is shown as a message on the same screen; the sale is
left exactly as the service left it (untouched: services change nothing when they refuse).
"""

from __future__ import annotations

import functools
from decimal import Decimal, InvalidOperation
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from pos_ui import selectors
from pos_ui.views.common import screen_context
from retail.api_errors import DomainError
from retail.barcodes import BarcodeError, parse_scan
from store_node.checkout.selectors import (
    points_redeemable,
    product_search,
    sale_detail,
    sales_suspended,
    terminal_session_get,
)
from store_node.checkout.services import members as member_services
from store_node.checkout.services import sales as sale_services
from store_node.checkout.services import shifts as shift_services
from store_node.checkout.services import tenders as tender_services
from store_node.checkout.services.returns import original_sale_for, returnable_lines, sale_return
from store_node.checkout.services.terminal_login import terminal_login, terminal_logout
from store_node.devices.print_queue import print_job_reprint, print_job_retry_now
from store_node.orders.selectors import orders_waiting


class Till:
    def __init__(self, terminal, session):
        self.terminal = terminal
        self.session = session
        self.cashier = session.user if session else None

    def url(self, name: str, **kwargs) -> str:
        return reverse(f"pos_ui:{name}", kwargs={"terminal_id": self.terminal.id, **kwargs})


def _session_key(terminal) -> str:
    return f"till-{terminal.id}"


def _till(request, terminal_id) -> Till:
    terminal = selectors.terminal_here(terminal_id=terminal_id)
    if terminal is None:
        raise Http404("No such terminal at this store")
    token = request.session.get(_session_key(terminal))
    session = terminal_session_get(token=token) if token else None
    return Till(terminal, session)


def _hx(request) -> bool:
    return request.headers.get("HX-Request") == "true"


def _redirect(request, url: str):
    if _hx(request):
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return redirect(url)


def till_view(view):
    """Resolve the terminal and its logged-in cashier; send anyone else to the PIN login."""

    @functools.wraps(view)
    def wrapper(request, terminal_id, **kwargs):
        till = _till(request, terminal_id)
        if till.session is None:
            return _redirect(request, reverse("pos_ui:terminal_login", kwargs={"terminal_id": terminal_id}))
        return view(request, till, **kwargs)

    return wrapper


def _refusal(exc) -> str:
    if isinstance(exc, ValidationError):
        return " ".join(exc.messages)
    return str(getattr(exc, "detail", exc))


def _ctx(request, till: Till, *, status: bool = True, **extra) -> dict:
    return screen_context(
        request,
        status=status,
        terminal=till.terminal,
        cashier=till.cashier,
        till=till,
        status_url=till.url("terminal_status"),
        **extra,
    )


# ---------------------------------------------------------------------------------------------
# Login, shift
# ---------------------------------------------------------------------------------------------


def screen(request, terminal_id):
    """The terminal's entry: login, then the shift, then the sale screen."""
    till = _till(request, terminal_id)
    if till.session is None:
        return redirect("pos_ui:terminal_login", terminal_id=terminal_id)
    if selectors.shift_for(terminal=till.terminal) is None:
        return redirect("pos_ui:terminal_shift_open", terminal_id=terminal_id)
    return redirect("pos_ui:terminal_sale", terminal_id=terminal_id)


def login(request, terminal_id):
    till = _till(request, terminal_id)
    message = None
    if request.method == "POST":
        try:
            session = terminal_login(
                terminal=till.terminal,
                username=request.POST.get("username", "").strip(),
                pin=request.POST.get("pin", ""),
            )
        except DomainError as exc:
            message = _refusal(exc)
        else:
            request.session[_session_key(till.terminal)] = session.token
            return redirect("pos_ui:terminal", terminal_id=terminal_id)
    return render(request, "pos_ui/terminal/login.html", _ctx(request, till, message=message))


@require_POST
@till_view
def logout(request, till):
    terminal_logout(session=till.session)
    request.session.pop(_session_key(till.terminal), None)
    return redirect("pos_ui:terminal_login", terminal_id=till.terminal.id)


@till_view
def shift_open(request, till):
    message = None
    if request.method == "POST":
        try:
            shift_services.till_shift_open(
                terminal=till.terminal,
                cashier=till.cashier,
                opening_float=_money(request.POST.get("opening_float"), "Opening float"),
            )
        except (DomainError, ValidationError) as exc:
            message = _refusal(exc)
        else:
            return redirect("pos_ui:terminal_sale", terminal_id=till.terminal.id)
    elif selectors.shift_for(terminal=till.terminal) is not None:
        return redirect("pos_ui:terminal_sale", terminal_id=till.terminal.id)
    return render(request, "pos_ui/terminal/shift_open.html", _ctx(request, till, message=message))


def _money(value, what: str) -> Decimal:
    try:
        amount = Decimal(str(value or "").strip().replace(",", "."))
    except InvalidOperation:
        raise ValidationError(f"{what}: enter an amount such as 150.00") from None
    if not amount.is_finite() or amount < 0:
        raise ValidationError(f"{what}: enter an amount such as 150.00")
    return amount


def status(request, terminal_id):
    till = _till(request, terminal_id)
    return render(request, "pos_ui/partials/statusbar.html", _ctx(request, till))


# ---------------------------------------------------------------------------------------------
# The sale screen and its panel
# ---------------------------------------------------------------------------------------------


def _panel(request, till: Till, *, message=None, level="error", matches=None, weigh=None, status=True):
    sale = selectors.sale_open_on(terminal=till.terminal)
    ctx = _ctx(request, till, status=status, message=message, level=level, matches=matches or [], weigh=weigh)
    if sale is not None:
        sale, lines, tenders = sale_detail(sale_id=sale.id)
        ctx.update(sale=sale, lines=lines, tenders=tenders)
        if sale.member_id:
            ctx["points_redeemable"] = points_redeemable(member=sale.member, sale=sale)
    return ctx


@till_view
def sale(request, till):
    if selectors.shift_for(terminal=till.terminal) is None:
        return redirect("pos_ui:terminal_shift_open", terminal_id=till.terminal.id)
    flashed = " ".join(str(m) for m in messages.get_messages(request)) or None  # a stale payment screen
    ctx = _panel(request, till, message=flashed, level="info")
    ctx["suspended"] = sales_suspended(store_id=till.terminal.store_id)
    ctx["waiting"] = orders_waiting(store_id=till.terminal.store_id)
    return render(request, "pos_ui/terminal/sale.html", ctx)


def _render_panel(request, till, **kw):
    return render(request, "pos_ui/terminal/sale_panel.html", _panel(request, till, status=False, **kw))


def _open_sale(till: Till):
    sale = selectors.sale_open_on(terminal=till.terminal)
    return sale or sale_services.sale_open(terminal=till.terminal, cashier=till.cashier)


def _amount_or_count(qty: str) -> dict:
    """The quantity field: a whole number multiplies the next scan, a decimal is a weight in kg."""
    qty = (qty or "").strip().replace(",", ".")
    if not qty:
        return {}
    return {"weight": qty} if "." in qty else {"quantity": qty}


@require_POST
@till_view
def sale_scan(request, till):
    """Whatever arrives in the scan field or from a scanner: an item, a member card, a receipt, a name."""
    code = request.POST.get("code", "").strip()
    if not code:
        return _render_panel(request, till)
    if _is_receipt(code):  # before opening a sale: a return needs none
        return _redirect(request, till.url("terminal_return") + "?" + urlencode({"receipt": code}))
    try:
        sale = _open_sale(till)
        sale_services.sale_add_line(
            sale_id=sale.id,
            terminal=till.terminal,
            cashier=till.cashier,
            scan=code,
            **_amount_or_count(request.POST.get("qty")),
        )
    except DomainError as exc:
        if exc.code == "member_scanned":
            return _attach_member(request, till, code)
        if exc.code == "receipt_scanned":
            return _redirect(request, till.url("terminal_return") + "?" + urlencode({"receipt": code}))
        if exc.code == "weight_required":
            product = _product_named(code)
            return _render_panel(request, till, message=_refusal(exc), level="info", weigh=product)
        if exc.code in ("unknown_barcode", "barcode_unknown"):
            matches = product_search(query=code, limit=12)
            if matches:
                return _render_panel(
                    request, till, message=f"Pick the product for “{code}”:", level="info", matches=matches
                )
        return _render_panel(request, till, message=_refusal(exc))
    return _render_panel(request, till)


def _scan_kind(code: str) -> str | None:
    try:
        return parse_scan(code).kind
    except BarcodeError:
        return None


def _is_receipt(code: str) -> bool:
    return _scan_kind(code) == "receipt"


def _product_named(code: str):
    try:
        return sale_services.product_for_scan(parse_scan(code))
    except (BarcodeError, DomainError):
        return None


@require_POST
@till_view
def sale_add(request, till):
    """A product picked from the search list, or a weighed product with its weight typed in."""
    try:
        sale = _open_sale(till)
        sale_services.sale_add_line(
            sale_id=sale.id,
            terminal=till.terminal,
            cashier=till.cashier,
            product_id=request.POST.get("product_id"),
            **_amount_or_count(request.POST.get("qty")),
        )
    except DomainError as exc:
        weigh = selectors.product_by_id(product_id=request.POST.get("product_id"))
        if exc.code == "weight_required" and weigh is not None:
            return _render_panel(request, till, message=_refusal(exc), level="info", weigh=weigh)
        return _render_panel(request, till, message=_refusal(exc))
    return _render_panel(request, till)


def _sale_action(request, till, action, ok: str | None = None):
    sale = selectors.sale_open_on(terminal=till.terminal)
    if sale is None:
        return _render_panel(request, till, message="There is no sale open: scan an item first.")
    try:
        action(sale)
    except (DomainError, ValidationError) as exc:
        return _render_panel(request, till, message=_refusal(exc))
    return _render_panel(request, till, message=ok, level="ok")


def _approval(request) -> dict:
    return {"username": request.POST.get("username", "").strip(), "pin": request.POST.get("pin", "")}


def _discount(request) -> dict:
    value = request.POST.get("value", "").strip().replace(",", ".").rstrip("%")
    if not value:
        return {"kind": None}
    kind = request.POST.get("kind", "percent")
    return {"kind": kind, "value": _money(value, "Discount")}


@require_POST
@till_view
def line_discount(request, till, line_id):
    return _sale_action(
        request,
        till,
        lambda sale: sale_services.sale_set_line_discount(
            sale_id=sale.id, line_id=line_id, terminal=till.terminal, **_discount(request)
        ),
    )


@require_POST
@till_view
def sale_discount(request, till):
    return _sale_action(
        request,
        till,
        lambda sale: sale_services.sale_set_discount(
            sale_id=sale.id, terminal=till.terminal, **_discount(request)
        ),
    )


@require_POST
@till_view
def line_void(request, till, line_id):
    return _sale_action(
        request,
        till,
        lambda sale: sale_services.sale_void_line(
            sale_id=sale.id,
            line_id=line_id,
            terminal=till.terminal,
            cashier=till.cashier,
            approval=_approval(request),
        ),
    )


@require_POST
@till_view
def line_price(request, till, line_id):
    return _sale_action(
        request,
        till,
        lambda sale: sale_services.sale_override_price(
            sale_id=sale.id,
            line_id=line_id,
            terminal=till.terminal,
            cashier=till.cashier,
            unit_price=_money(request.POST.get("value"), "New price"),
            approval=_approval(request),
        ),
    )


def _attach_member(request, till, query: str):
    return _sale_action(
        request,
        till,
        lambda sale: member_services.sale_attach_member(sale_id=sale.id, terminal=till.terminal, query=query),
    )


@require_POST
@till_view
def sale_member(request, till):
    query = request.POST.get("value", "").strip()
    if selectors.sale_open_on(terminal=till.terminal) is None and query:
        try:
            _open_sale(till)
        except DomainError as exc:
            return _render_panel(request, till, message=_refusal(exc))
    return _attach_member(request, till, query)


@require_POST
@till_view
def member_create(request, till):
    """Quick member creation at the till, attached to the sale at once."""
    try:
        member = member_services.member_create_at_till(
            first_name=request.POST.get("first_name", "").strip(),
            last_name=request.POST.get("last_name", "").strip(),
            phone=request.POST.get("phone", "").strip(),
            email=request.POST.get("email", "").strip(),
            consent_marketing=request.POST.get("consent_marketing") == "on",
        )
    except (DomainError, ValidationError) as exc:
        return _render_panel(request, till, message=_refusal(exc))
    if selectors.sale_open_on(terminal=till.terminal) is None:
        return _render_panel(request, till, message=f"Member {member.number} created.", level="ok")
    return _attach_member(request, till, member.number)


@require_POST
@till_view
def sale_suspend(request, till):
    return _sale_action(
        request,
        till,
        lambda sale: sale_services.sale_suspend(sale_id=sale.id, terminal=till.terminal),
        ok="Sale suspended: resume it from any till of this store.",
    )


@require_POST
@till_view
def sale_resume(request, till, sale_id):
    try:
        sale_services.sale_resume(sale_id=sale_id, terminal=till.terminal, cashier=till.cashier)
    except DomainError as exc:
        return _render_panel(request, till, message=_refusal(exc))
    return _redirect(request, till.url("terminal_sale"))


@till_view
def suspended(request, till):
    return render(
        request,
        "pos_ui/terminal/suspended.html",
        _ctx(request, till, suspended=sales_suspended(store_id=till.terminal.store_id)),
    )


@require_POST
@till_view
def sale_cancel(request, till):
    return _sale_action(
        request,
        till,
        lambda sale: sale_services.sale_cancel(
            sale_id=sale.id,
            terminal=till.terminal,
            cashier=till.cashier,
            reason=request.POST.get("value", ""),
            approval=_approval(request) if request.POST.get("pin") else None,
        ),
        ok="Sale cancelled.",
    )


# ---------------------------------------------------------------------------------------------
# Tender
# ---------------------------------------------------------------------------------------------


def _tender_ctx(request, till, sale, message=None):
    sale, lines, tenders = sale_detail(sale_id=sale.id)
    figures = selectors.tender_figures(sale=sale, tenders=tenders)
    ctx = _ctx(request, till, sale=sale, lines=lines, tenders=tenders, message=message, **figures)
    if sale.member_id:
        ctx["points_redeemable"] = points_redeemable(member=sale.member, sale=sale)
    return ctx


@till_view
def tender(request, till):
    sale = selectors.sale_open_on(terminal=till.terminal)
    if sale is None:
        return redirect("pos_ui:terminal_sale", terminal_id=till.terminal.id)
    flashed = " ".join(str(m) for m in messages.get_messages(request)) or None  # e.g. a declined card
    return render(request, "pos_ui/terminal/tender.html", _tender_ctx(request, till, sale, flashed))


@require_POST
@till_view
def tender_add(request, till):
    """Add a tender, then complete the sale as soon as the tenders settle it."""
    sale = selectors.sale_open_on(terminal=till.terminal)
    if sale is None:
        return _redirect(request, till.url("terminal_sale"))
    kind = request.POST.get("kind", "")
    try:
        if kind == "cash":
            tender_services.sale_add_tender(
                sale_id=sale.id,
                terminal=till.terminal,
                kind="cash",
                tendered=_money(request.POST.get("amount"), "Cash"),
            )
        elif kind == "card":
            tender_services.sale_add_tender(
                sale_id=sale.id,
                terminal=till.terminal,
                kind="card",
                amount=_money(request.POST.get("amount"), "Card amount"),
                reference=request.POST.get("reference", "").strip(),
                approved=request.POST.get("declined") != "1",
            )
        elif kind == "points":
            points = request.POST.get("points", "").strip()
            if not points.isdigit():
                raise ValidationError("Points: enter a whole number of points")
            tender_services.sale_add_tender(
                sale_id=sale.id, terminal=till.terminal, kind="points", points=int(points)
            )
        else:
            raise ValidationError("Choose cash, card or points")
    except (DomainError, ValidationError) as exc:
        return render(request, "pos_ui/terminal/tender.html", _tender_ctx(request, till, sale, _refusal(exc)))
    declined = kind == "card" and request.POST.get("declined") == "1"
    message = "Card declined: take another card or another tender. The sale is kept." if declined else None
    try:
        tender_services.sale_complete(sale_id=sale.id, terminal=till.terminal, cashier=till.cashier)
    except DomainError as exc:
        if exc.code != "tenders_short":  # not paid in full yet: stay on the tender screen
            message = _refusal(exc)
        # Back to the payment screen by GET: reloading it must not hand over the tender again.
        if message:
            messages.error(request, message)
        return redirect("pos_ui:terminal_tender", terminal_id=till.terminal.id)
    return redirect("pos_ui:terminal_receipt", terminal_id=till.terminal.id, sale_id=sale.id)


@require_POST
@till_view
def tender_scan(request, till):
    """A scan on the payment screen. A member card is attached to the sale (as on the sale screen)
    and the payment screen comes back, now with the member's points; anything else is not taken
    here, and the screen says so instead of dropping it."""
    sale = selectors.sale_open_on(terminal=till.terminal)
    if sale is None:
        return _redirect(request, till.url("terminal_sale"))
    code = request.POST.get("code", "").strip()
    if _scan_kind(code) != "member":
        return _message(
            request,
            "Esc to add items: on the payment screen a scan only attaches a member card.",
            level="info",
        )
    try:
        member_services.sale_attach_member(sale_id=sale.id, terminal=till.terminal, query=code)
    except (DomainError, ValidationError) as exc:
        return _message(request, _refusal(exc))
    return _redirect(request, till.url("terminal_tender"))


def _message(request, message: str, level: str = "error"):
    return render(request, "pos_ui/terminal/message.html", {"message": message, "level": level})


@require_POST
@till_view
def tender_remove(request, till, tender_id):
    """Take back a tender; a stale or second press (the sale paid meanwhile, the tender gone) says so."""
    sale = selectors.sale_open_on(terminal=till.terminal)
    if sale is None:
        messages.info(request, "No sale is open: that payment was not removed.")
        return _redirect(request, till.url("terminal_sale"))
    try:
        tender_services.sale_remove_tender(sale_id=sale.id, tender_id=tender_id, terminal=till.terminal)
    except DomainError as exc:
        message = "That payment is not on the sale any more." if exc.code == "tender_not_found" else None
        return render(
            request, "pos_ui/terminal/tender.html", _tender_ctx(request, till, sale, message or _refusal(exc))
        )
    return _redirect(request, till.url("terminal_tender"))


# ---------------------------------------------------------------------------------------------
# Receipt, returns
# ---------------------------------------------------------------------------------------------


@till_view
def receipt(request, till, sale_id):
    try:
        sale, lines, tenders = sale_detail(sale_id=sale_id)
    except sale_services.Sale.DoesNotExist:
        raise Http404("No such sale") from None
    if sale.terminal_id != till.terminal.id:
        raise Http404("No such sale on this terminal")
    ctx = _ctx(request, till, sale=sale, lines=lines, tenders=tenders, message=None)
    ctx.update(selectors.receipt_state(terminal=till.terminal, sale=sale))
    ctx["change"] = sum((t.change for t in tenders), Decimal("0.00"))
    return render(request, "pos_ui/terminal/receipt.html", ctx)


@require_POST
@till_view
def reprint(request, till, sale_id):
    """Reprint (F9): a printed receipt again as a COPY; one that never printed (out of paper) is
    printed now, as the original: the customer gets one receipt, not the original and a copy."""
    job = selectors.receipt_job(terminal=till.terminal, sale_id=sale_id)
    if job is not None:
        try:
            print_job_reprint(job_id=job.id, terminal_id=till.terminal.id)
        except DomainError as exc:
            if exc.code != "print_job_pending":
                raise
            print_job_retry_now(terminal_id=till.terminal.id)  # waiting out its backoff: now
    return redirect("pos_ui:terminal_receipt", terminal_id=till.terminal.id, sale_id=sale_id)


@till_view
def sale_return_screen(request, till):
    if request.method == "POST" and request.POST.get("code"):  # a receipt scanned on this screen
        return _redirect(
            request, till.url("terminal_return") + "?" + urlencode({"receipt": request.POST["code"]})
        )
    receipt_number = request.GET.get("receipt", "").strip() or request.POST.get("receipt", "").strip()
    ctx = _ctx(request, till, receipt=receipt_number, message=None, original=None, lines=[])
    if receipt_number:
        try:
            original = original_sale_for(receipt=receipt_number)
            ctx.update(original=original, lines=returnable_lines(sale=original))
        except DomainError as exc:
            ctx["message"] = _refusal(exc)
    if request.method == "POST" and ctx["original"] is not None:
        wanted = []
        for row in ctx["lines"]:
            qty = request.POST.get(f"qty-{row['line'].id}", "").strip().replace(",", ".")
            if qty and qty != "0":
                wanted.append({"line_id": row["line"].id, "quantity": _decimal_or_zero(qty), "restock": True})
        try:
            ret = sale_return(
                terminal=till.terminal,
                cashier=till.cashier,
                lines=wanted,
                receipt=ctx["original"].receipt_number,
                refund_to=request.POST.get("refund_to", "original"),
                reason=request.POST.get("reason", ""),
            )
        except (DomainError, ValidationError) as exc:
            ctx["message"] = _refusal(exc)
        else:
            return redirect("pos_ui:terminal_receipt", terminal_id=till.terminal.id, sale_id=ret.id)
    return render(request, "pos_ui/terminal/return.html", ctx)


def _decimal_or_zero(value: str) -> Decimal:
    try:
        return Decimal(value)
    except InvalidOperation:
        return Decimal("0")


# ---------------------------------------------------------------------------------------------
# Reports and closing the shift
# ---------------------------------------------------------------------------------------------


@till_view
def x_report(request, till):
    try:
        report = shift_services.till_x_report(terminal=till.terminal, print_it=request.method == "POST")
    except DomainError as exc:
        return render(
            request, "pos_ui/terminal/report.html", _ctx(request, till, report=None, message=_refusal(exc))
        )
    return render(
        request, "pos_ui/terminal/report.html", _ctx(request, till, report=report, kind="X", message=None)
    )


@till_view
def shift_close(request, till):
    denominations = selectors.denominations()
    message = None
    if request.method == "POST":
        counts = {}
        for d in denominations:
            raw = request.POST.get(f"d-{d}", "").strip() or "0"
            if not raw.isdigit():
                message = f"{d}: enter how many (a whole number)"
                break
            if int(raw):
                counts[d] = int(raw)
        if message is None:
            try:
                shift = shift_services.till_shift_close(terminal=till.terminal, denominations=counts)
            except DomainError as exc:
                message = _refusal(exc)
            else:
                return render(
                    request,
                    "pos_ui/terminal/report.html",
                    _ctx(request, till, report=shift.z_report, kind="Z", shift=shift, message=None),
                )
    return render(
        request,
        "pos_ui/terminal/shift_close.html",
        _ctx(request, till, denominations=denominations, message=message),
    )
