"""Dashboards as admin pages: the 'Daily store sales' entry of the admin opens the dashboard."""

from __future__ import annotations

from datetime import date, timedelta

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import JsonResponse
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.dateparse import parse_date

from cloud.headoffice.admin.scoping import StoreScopedMixin
from cloud.headoffice.selectors import ALL_STORES, NO_STORE
from cloud.reporting.models import DailyStoreSales
from cloud.reporting.selectors import dashboard_figures, default_span
from retail.stores.models import Store

MAX_SPAN_DAYS = 731

# The admin index shows today's sales and each store's sync freshness above the app list.
admin.site.index_template = "admin/reporting/index.html"


@admin.register(DailyStoreSales)
class DashboardAdmin(StoreScopedMixin, admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_urls(self):
        return [
            path("data.json", self.admin_site.admin_view(self.data_view), name="reporting_dashboard_data"),
            *super().get_urls(),
        ]

    def _figures(self, request) -> dict:
        if not self.has_view_permission(request):
            raise PermissionDenied
        start, end = default_span()
        start = parse_date(request.GET.get("from", "") or "") or start
        end = parse_date(request.GET.get("to", "") or "") or end
        if end < start:
            start, end = end, start
        start = max(start, end - timedelta(days=MAX_SPAN_DAYS))
        scope = self.store_scope(request)
        store_ids = None
        if scope == NO_STORE:
            store_ids = []
        elif scope != ALL_STORES:
            store_ids = [scope]
        elif request.GET.get("store"):
            store_ids = list(Store.objects.filter(code=request.GET["store"]).values_list("id", flat=True))
        return dashboard_figures(date_from=start, date_to=end, store_ids=store_ids)

    def changelist_view(self, request, extra_context=None):
        figures = self._figures(request)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Sales dashboard",
            "figures": figures,
            "store_choice": request.GET.get("store", ""),
            "stores": Store.objects.values_list("code", flat=True)
            if self.store_scope(request) == ALL_STORES
            else [],
            "today": date.today().isoformat(),
        }
        return TemplateResponse(request, "admin/reporting/dashboard.html", context)

    def data_view(self, request):
        return JsonResponse(self._figures(request))
