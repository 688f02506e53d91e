"""Handheld (phone-sized) pages: look-up and stock count."""

from __future__ import annotations

import uuid
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from pos_ui.selectors import handheld_lookup, this_store
from pos_ui.views.common import screen_context
from retail.catalog.models import Product
from retail.stock.models import StockLevel
from retail.stock.services import stock_count

COUNT_KEY = "handheld_count"  # {product_id: counted quantity as a string}, in the staff member's session


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


def count_review(request):
    store = this_store()
    return render(
        request,
        "pos_ui/handheld/count_review.html",
        screen_context(request, rows=_count_rows(store, _sheet(request)), page="count"),
    )


@require_POST
def count_post(request):
    """Post the sheet: one ``stock.counted`` event per line, each its difference from the book now."""
    store = this_store()
    sheet = _sheet(request)
    reference = f"COUNT-{timezone.now():%Y%m%d-%H%M%S}"
    posted = []
    with transaction.atomic():
        for product_id, counted in sheet.items():
            movement = stock_count(
                store_id=store.id,
                product_id=uuid.UUID(product_id),
                counted=Decimal(counted),
                reference=reference,
            )
            posted.append(movement)
    request.session[COUNT_KEY] = {}
    moved = sum(1 for m in posted if m is not None)
    ctx = screen_context(request, rows=[], reference=reference, posted=len(posted), moved=moved, page="count")
    return render(request, "pos_ui/handheld/count_posted.html", ctx)
