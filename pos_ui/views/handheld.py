"""Handheld (phone-sized) pages: sign-in, look-up and stock count.

Every page but the sign-in needs a staff member signed in (``pos_ui.handheld_auth``); the signed-in
staff member is ``request.handheld_staff``.
"""

from __future__ import annotations

import uuid
from decimal import Decimal, InvalidOperation

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
from pos_ui.selectors import handheld_lookup, this_store
from pos_ui.views.common import screen_context
from retail.api_errors import DomainError
from retail.catalog.models import Product
from retail.stock.models import StockLevel
from store_node.checkout.services.handheld import count_post_needs_approval, handheld_login, stock_count_post

COUNT_KEY = "handheld_count"  # {product_id: counted quantity as a string}, in the staff member's session
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


def _sheet(request) -> dict[str, str]:
    return dict(request.session.get(COUNT_KEY, {}))


def _count_rows(store, sheet: dict[str, str]) -> list[dict]:
    """The sheet with the book quantity of each line (two queries, however long the sheet)."""
    ids = [uuid.UUID(k) for k in sheet]
    products = Product.objects.in_bulk(ids)
    book = dict(
        StockLevel.objects.filter(store=store, product_id__in=ids).values_list("product_id", "on_hand")
    )
    rows = []
    for product_id in ids:
        product = products.get(product_id)
        if product is None:
            continue
        counted = Decimal(sheet[str(product_id)])
        on_book = book.get(product_id, Decimal("0"))
        rows.append(
            {"product": product, "counted": counted, "book": on_book, "difference": counted - on_book}
        )
    return rows


def count(request):
    store = this_store()
    ctx = screen_context(request, rows=_count_rows(store, _sheet(request)), message=None, page="count")
    return render(request, "pos_ui/handheld/count.html", ctx)


@require_POST
def count_add(request):
    """Add (or correct) one counted line: a scan or SKU and the quantity on the shelf."""
    store = this_store()
    sheet = _sheet(request)
    message = None
    code = request.POST.get("code", "").strip()
    try:
        counted = Decimal(request.POST.get("counted", "").strip().replace(",", "."))
        if counted < 0 or counted != counted.quantize(Decimal("0.001")):
            raise InvalidOperation
    except (InvalidOperation, ValueError):
        counted = None
        message = ("error", "Enter the counted quantity (a number, at most three decimals).")
    if counted is not None:
        result = handheld_lookup(query=code, store=store)
        if result.product is None:
            message = ("error", result.error or f"{code!r} names several products: scan the barcode.")
        else:
            sheet[str(result.product.id)] = str(counted)
            request.session[COUNT_KEY] = sheet
            message = ("ok", f"{result.product.name}: {counted} counted.")
    ctx = screen_context(request, rows=_count_rows(store, sheet), message=message)
    return render(request, "pos_ui/handheld/count_sheet.html", ctx)


@require_POST
def count_remove(request, product_id):
    sheet = _sheet(request)
    sheet.pop(str(product_id), None)
    request.session[COUNT_KEY] = sheet
    return redirect("pos_ui:handheld_count_review")


def _review(request, *, message=None):
    store = this_store()
    ctx = screen_context(
        request,
        rows=_count_rows(store, _sheet(request)),
        page="count",
        message=message,
        needs_approval=count_post_needs_approval(user=request.handheld_staff),
    )
    return render(request, "pos_ui/handheld/count_review.html", ctx)


def count_review(request):
    return _review(request)


@require_POST
def count_post(request):
    """Post the sheet: one ``stock.counted`` event per line, each its difference from the book now.

    Who counted is the signed-in staff member; below a supervisor, a supervisor approves in place
    with their staff number and PIN (the service's rule). A refusal keeps the sheet.
    """
    approval = {"username": request.POST.get("username", "").strip(), "pin": request.POST.get("pin", "")}
    try:
        posted = stock_count_post(
            store=this_store(),
            counts={uuid.UUID(k): Decimal(v) for k, v in _sheet(request).items()},
            counted_by=request.handheld_staff,
            approval=approval if approval["username"] or approval["pin"] else None,
        )
    except DomainError as exc:
        return _review(request, message=("error", str(exc.detail)))
    request.session[COUNT_KEY] = {}
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
