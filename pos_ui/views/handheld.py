"""Handheld (phone-sized) pages: sign-in, look-up and stock count.

Every page but the sign-in needs a staff member signed in (``pos_ui.handheld_auth``); the signed-in
staff member is ``request.handheld_staff``.
"""

from __future__ import annotations

import uuid
from decimal import Decimal

from django.conf import settings
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from pos_ui.handheld_auth import (
    handheld_prefix,
    handheld_public,
    handheld_sign_in,
    handheld_sign_out,
    handheld_staff,
    idle_seconds,
    safe_next,
)
from pos_ui.selectors import (
    COUNT_LIST_STOCK,
    count_list_tax_classes,
    handheld_lookup,
    this_store,
)
from pos_ui.selectors import count_list as count_list_products
from pos_ui.views.common import screen_context
from retail.api_errors import DomainError
from retail.catalog.models import Unit
from store_node.checkout.services.handheld import (
    CountSheet,
    count_post_needs_approval,
    count_scan,
    count_sheet_post,
    count_sheet_rows,
    handheld_login,
)
from store_node.checkout.services.handheld import count_set as count_set_line

COUNT_KEY = "handheld_count"  # the count sheet (CountSheet.as_data()), in the staff member's session
COUNT_LIST_KEY = "handheld_count_list"  # the list last counted from, to go back to from the review
COUNT_OWNER_KEY = "handheld_count_by"  # who that sheet is of: it is kept for them alone


def _idle_time() -> str:
    seconds = idle_seconds()
    if seconds < 60 or seconds % 60:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    return f"{seconds // 60} minute{'s' if seconds != 60 else ''}"


def _signed_out_message(why: str) -> tuple[str, str] | None:
    return {
        "idle": ("info", f"Signed out after {_idle_time()} without use. Sign in again."),
        "expired": ("info", "Your handheld session has ended. Sign in again."),
        "gone": ("error", "Signed out: your account may not use this store's handhelds any more."),
        "signed_out": ("ok", "Signed out."),
    }.get(why)


@handheld_public
def login(request):
    """Staff number and PIN (numeric pad); the PIN is checked as at the till, with its lockout."""
    store = this_store()
    _, why = handheld_staff(request)  # an idle or expired session ends here, and says so
    next_url = safe_next(request, request.POST.get("next") or request.GET.get("next")) or handheld_prefix()
    message = _signed_out_message(why or request.GET.get("why", ""))
    if request.method == "POST":
        try:
            staff = handheld_login(
                store_id=store.id if store else None,
                username=request.POST.get("username", ""),
                pin=request.POST.get("pin", ""),
            )
        except DomainError as exc:  # shown on the page, as at the till (a 4xx page is a console error)
            message = ("error", str(exc.detail))
        else:
            if request.session.get(COUNT_OWNER_KEY) != str(staff.pk):
                request.session.pop(COUNT_KEY, None)  # someone else's count sheet is not yours
                request.session.pop(COUNT_LIST_KEY, None)
            handheld_sign_in(request, staff)
            request.session[COUNT_OWNER_KEY] = str(staff.pk)
            return redirect(next_url)
    ctx = screen_context(
        request, message=message, next=next_url, username=request.POST.get("username", "").strip()
    )
    return render(request, "pos_ui/handheld/login.html", ctx)


@require_POST
def logout(request):
    """Sign out; the count sheet goes too (a sign-out by idle time keeps it for the same person)."""
    handheld_sign_out(request)
    request.session.pop(COUNT_KEY, None)
    request.session.pop(COUNT_LIST_KEY, None)
    request.session.pop(COUNT_OWNER_KEY, None)
    return redirect(reverse("pos_ui:handheld_login") + "?why=signed_out")


def lookup(request):
    query = request.GET.get("q", "").strip()
    store = this_store()
    result = handheld_lookup(query=query, store=store) if query else None
    template = (
        "pos_ui/handheld/lookup_result.html"
        if request.headers.get("HX-Request")
        else "pos_ui/handheld/lookup.html"
    )
    return render(request, template, screen_context(request, result=result, query=query, page="lookup"))


def _sheet(request) -> CountSheet:
    return CountSheet(request.session.get(COUNT_KEY))


def _keep(request, sheet: CountSheet) -> None:
    request.session[COUNT_KEY] = sheet.as_data()


def _counting_ctx(request, **extra) -> dict:
    return screen_context(
        request, page="count", shows_book=getattr(settings, "HANDHELD_COUNT_SHOWS_BOOK", False), **extra
    )


def _amount(value: Decimal, product) -> str:
    return format(value.normalize(), "f") + (" kg" if product.unit == Unit.KG else "")


def _said(change) -> tuple[str, str]:
    """The message for one change of the sheet: the product's count now, and what a scan added."""
    if change.line is None:
        return ("ok", f"{change.product.name}: not counted.")
    added = f" (+{_amount(change.added, change.product)})" if change.added is not None else ""
    return ("ok", f"{change.product.name}: {_amount(change.line.counted, change.product)} counted{added}.")


def _sheet_screen(request, sheet: CountSheet, *, message=None, last=None):
    """The shelf count: the sheet's lines (the htmx fragment), or the whole page."""
    store = this_store()
    ctx = _counting_ctx(
        request,
        rows=count_sheet_rows(store=store, sheet=sheet),
        message=message,
        last=last,
    )
    template = (
        "pos_ui/handheld/count_sheet.html"
        if request.headers.get("HX-Request")
        else "pos_ui/handheld/count.html"
    )
    return render(request, template, ctx)


def count(request):
    """The shelf count: scan each item (each scan adds one), or type a count and scan (sets it)."""
    return _sheet_screen(request, _sheet(request))


@require_POST
def count_add(request):
    """One scan or typed code: blank ``counted`` adds one (a weighed label its weight), a typed
    ``counted`` sets the product's count."""
    sheet = _sheet(request)
    try:
        change = count_scan(
            store=this_store(),
            sheet=sheet,
            code=request.POST.get("code", ""),
            counted=request.POST.get("counted", ""),
        )
    except DomainError as exc:
        return _sheet_screen(request, sheet, message=("error", str(exc.detail)))
    _keep(request, sheet)
    if not request.headers.get("HX-Request"):
        return redirect("pos_ui:handheld_count")  # a reload must not count the scan again
    return _sheet_screen(request, sheet, message=_said(change), last=change.product.id)


def count_list(request):
    """Count from a list: choose products by name or SKU, tax class and stock here, then type each
    one's count on its row (a blank row is not counted). Each row is kept on the sheet as it is
    typed, so a long list survives a reload or an idle sign-out."""
    store = this_store()
    query = request.GET.get("q", "").strip()
    tax_class = request.GET.get("tax", "").strip()
    stock = request.GET.get("stock", "any")
    if stock not in COUNT_LIST_STOCK:
        stock = "any"
    chosen = bool(query or tax_class or stock != "any")
    found = (
        count_list_products(store=store, query=query, tax_class=tax_class, stock=stock) if chosen else None
    )
    sheet = _sheet(request)
    rows = [
        {"product": row.product, "book": row.book, "line": sheet.lines.get(row.product.id)}
        for row in (found.rows if found else [])
    ]
    ctx = _counting_ctx(
        request,
        query=query,
        tax_class=tax_class,
        stock=stock,
        stock_choices=COUNT_LIST_STOCK.items(),
        stock_label=COUNT_LIST_STOCK[stock],
        tax_classes=count_list_tax_classes(),
        found=found,
        rows=rows,
        sheet_size=len(sheet),
        back=request.get_full_path(),
    )
    if chosen:
        request.session[COUNT_LIST_KEY] = request.get_full_path()
    return render(request, "pos_ui/handheld/count_list.html", ctx)


@require_POST
def count_set(request):
    """Set one product's count as typed, from a row of a list (``part=row``: the row's count cell
    comes back) or a line of the shelf sheet (the sheet comes back); blank: not counted."""
    store = this_store()
    sheet = _sheet(request)
    product_id = request.POST.get("product", "")
    part = request.POST.get("part", "sheet")
    try:
        change = count_set_line(
            store=store, sheet=sheet, product_id=product_id, counted=request.POST.get("counted", "")
        )
    except DomainError as exc:
        change, message = None, ("error", str(exc.detail))
    else:
        _keep(request, sheet)
        message = _said(change)
    if not request.headers.get("HX-Request"):
        back = safe_next(request, request.POST.get("back")) or reverse("pos_ui:handheld_count")
        return redirect(back)
    if part != "row":
        return _sheet_screen(request, sheet, message=message, last=change.product.id if change else None)
    try:
        line = sheet.lines.get(uuid.UUID(product_id))
    except ValueError:
        line = None
    ctx = _counting_ctx(
        request, status=False, product_id=product_id, line=line, message=message, sheet_size=len(sheet)
    )
    return render(request, "pos_ui/handheld/count_cell.html", ctx)


@require_POST
def count_remove(request, product_id):
    sheet = _sheet(request)
    sheet.lines.pop(product_id, None)
    _keep(request, sheet)
    return redirect("pos_ui:handheld_count_review")


def _review(request, *, message=None):
    store = this_store()
    rows = count_sheet_rows(store=store, sheet=_sheet(request))
    ctx = _counting_ctx(
        request,
        rows=sorted(rows, key=lambda row: (row.product.name.casefold(), row.product.sku)),
        list_url=request.session.get(COUNT_LIST_KEY) or reverse("pos_ui:handheld_count_list"),
        message=message,
        needs_approval=count_post_needs_approval(user=request.handheld_staff),
    )
    return render(request, "pos_ui/handheld/count_review.html", ctx)


def count_review(request):
    return _review(request)


@require_POST
def count_post(request):
    """Post the sheet: one ``stock.counted`` event per line, each its difference from the book when
    that line was counted (a sale rung since still counts).

    Who counted is the signed-in staff member; below a supervisor, a supervisor approves in place
    with their staff number and PIN (the service's rule). A refusal keeps the sheet.
    """
    approval = {"username": request.POST.get("username", "").strip(), "pin": request.POST.get("pin", "")}
    try:
        posted = count_sheet_post(
            store=this_store(),
            sheet=_sheet(request),
            counted_by=request.handheld_staff,
            approval=approval if approval["username"] or approval["pin"] else None,
        )
    except DomainError as exc:
        return _review(request, message=("error", str(exc.detail)))
    _keep(request, CountSheet())
    ctx = screen_context(
        request,
        rows=[],
        reference=posted.reference,
        posted=posted.lines,
        moved=posted.moved,
        approver=posted.approver,
        page="count",
    )
    return render(request, "pos_ui/handheld/count_posted.html", ctx)
