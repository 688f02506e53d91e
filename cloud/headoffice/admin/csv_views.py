"""Import and export buttons of the catalog admin pages (see cloud/headoffice/catalog_csv.py)."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import StreamingHttpResponse
from django.template.response import TemplateResponse
from django.urls import path


class CsvAdminMixin:
    """Adds ``import/`` and ``export.csv`` to a ModelAdmin; subclasses say how to import and export."""

    change_list_template = "admin/headoffice/csv_change_list.html"
    csv_columns: list[str] = []
    csv_filename = "export.csv"

    def csv_import(self, request, data):  # -> ImportReport
        raise NotImplementedError

    def csv_export(self, request):  # -> iterator of CSV text chunks
        raise NotImplementedError

    def csv_import_allowed(self, request) -> bool:
        return self.has_add_permission(request) and self.has_change_permission(request)

    def get_urls(self):
        opts = self.model._meta
        name = f"{opts.app_label}_{opts.model_name}"
        return [
            path("import/", self.admin_site.admin_view(self.import_view), name=f"{name}_import"),
            path("export.csv", self.admin_site.admin_view(self.export_view), name=f"{name}_export"),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "csv_import_allowed": self.csv_import_allowed(request)}
        return super().changelist_view(request, extra_context)

    def import_view(self, request):
        if not self.csv_import_allowed(request):
            raise PermissionDenied
        report = None
        if request.method == "POST" and request.FILES.get("file"):
            report = self.csv_import(request, request.FILES["file"].read())
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": f"Import {self.model._meta.verbose_name_plural}",
            "columns": self.csv_columns,
            "report": report,
        }
        return TemplateResponse(request, "admin/headoffice/csv_import.html", context)

    def export_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        response = StreamingHttpResponse(self.csv_export(request), content_type="text/csv")
        response["Content-Disposition"] = f'attachment; filename="{self.csv_filename}"'
        return response
