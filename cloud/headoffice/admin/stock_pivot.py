"""On hand per product and store as one table (Stock levels → "Pivot across stores")."""

from __future__ import annotations

from django import forms
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import escape
from django.utils.safestring import mark_safe

from cloud.headoffice.selectors import ALL_STORES, stock_pivot

PER_PAGE = 50


class StockPivotForm(forms.Form):
    q = forms.CharField(required=False, max_length=100, label="SKU or name")
    only = forms.ChoiceField(
        required=False,
        choices=[("", "all products"), ("negative", "negative somewhere"), ("below", "below a threshold")],
        label="Show",
    )
    threshold = forms.DecimalField(required=False, max_digits=14, decimal_places=3, label="Threshold")
    store = forms.CharField(required=False, max_length=8, label="In store")
    page = forms.IntegerField(required=False, min_value=1, max_value=100_000)

    def clean(self):
        data = super().clean()
        if data.get("only") == "below" and data.get("threshold") is None:
            self.add_error("threshold", "Give the threshold to compare on hand with.")
        return data


def _quantity(value) -> str:
    text = f"{value:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _cells_html(row, *, movements: str, with_total: bool) -> str:
    """A row's store cells as HTML. Built here rather than in the template: 50 products by 50
    stores are 2,500 cells, and the template language takes most of a second for them."""
    parts = []
    for store, quantity in row.cells:
        if quantity is None:
            parts.append('<td class="qty none">&nbsp;</td>')
            continue
        css = "qty negative" if quantity < 0 else "qty"
        href = f"{movements}?store={store.pk}&amp;product={row.product.pk}"
        parts.append(
            f'<td class="{css}"><a href="{href}" title="{escape(store.code)}: movements">'
            f"{_quantity(quantity)}</a></td>"
        )
    if with_total:
        parts.append(f'<td class="qty">{_quantity(row.total)}</td>')
    return mark_safe("".join(parts))  # ids, numbers and escaped store codes only


class StockPivotAdminMixin:
    """Adds ``pivot/`` to the stock level admin: one row per product, one column per store the user
    may see (a store manager: their own), searchable, filterable, paginated; each cell links to that
    product's movement history at that store."""

    change_list_template = "admin/headoffice/stocklevel_change_list.html"

    def get_urls(self):
        return [
            path("pivot/", self.admin_site.admin_view(self.pivot_view), name="stock_stocklevel_pivot"),
            *super().get_urls(),
        ]

    def pivot_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        scope = self.store_scope(request)
        form = StockPivotForm(request.GET or None)
        pivot, status = None, 200
        if form.is_bound and not form.is_valid():
            status = 400
        else:
            data = form.cleaned_data if form.is_bound else {}
            pivot = stock_pivot(
                scope=scope,
                search=data.get("q") or "",
                only=data.get("only") or "",
                threshold=data.get("threshold"),
                store_code=(data.get("store") or "") if scope == ALL_STORES else "",
                page=data.get("page") or 1,
                per_page=PER_PAGE,
            )
        rows = []
        if pivot is not None:
            movements = reverse("admin:stock_stockmovement_changelist")
            rows = [
                (row, _cells_html(row, movements=movements, with_total=len(pivot.stores) > 1))
                for row in pivot.rows
            ]
        query = request.GET.copy()
        query.pop("page", None)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Stock across stores",
            "form": form,
            "pivot": pivot,
            "rows": rows,
            "all_stores": scope == ALL_STORES,
            "query": query.urlencode(),
        }
        return TemplateResponse(request, "admin/headoffice/stock_pivot.html", context, status=status)
