"""Import and export buttons of the catalog admin pages (see cloud/headoffice/catalog_csv.py)."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect, JsonResponse, StreamingHttpResponse
from django.template.response import TemplateResponse
from django.urls import path

from cloud.headoffice.import_jobs import import_job_start, import_job_status, report_dict

# Files up to this many lines are imported within the request; larger ones in the background,
# with a progress bar (a 100,000-row file takes longer than a proxy waits for an answer).
CSV_IMPORT_INLINE_LINES = 5000


class CsvAdminMixin:
    """Adds ``import/`` and ``export.csv`` to a ModelAdmin; subclasses say how to import and export."""

    change_list_template = "admin/headoffice/csv_change_list.html"
    csv_columns: list[str] = []
    csv_filename = "export.csv"

    def csv_import(self, request, data, progress=None):  # -> ImportReport
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
            path(
                "import/<str:job_id>/",
                self.admin_site.admin_view(self.import_job_view),
                name=f"{name}_import_job",
            ),
            path(
                "import/<str:job_id>/status.json",
                self.admin_site.admin_view(self.import_job_status_view),
                name=f"{name}_import_job_status",
            ),
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
            upload = request.FILES["file"]
            data = upload.read()
            inline = getattr(settings, "CSV_IMPORT_INLINE_LINES", CSV_IMPORT_INLINE_LINES)
            if data.count(b"\n") > inline:
                job_id = import_job_start(
                    run=lambda progress: self.csv_import(request, data, progress=progress),
                    owner_id=request.user.pk,
                    filename=upload.name,
                )
                return HttpResponseRedirect(f"{job_id}/")
            report = report_dict(self.csv_import(request, data))
        return self._import_page(request, report=report)

    def _import_page(self, request, *, report=None, job=None):
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": f"Import {self.model._meta.verbose_name_plural}",
            "columns": self.csv_columns,
            "report": report,
            "job": job,
        }
        return TemplateResponse(request, "admin/headoffice/csv_import.html", context)

    def _job(self, request, job_id: str) -> dict:
        if not self.csv_import_allowed(request):
            raise PermissionDenied
        job = import_job_status(job_id=job_id, owner_id=request.user.pk)
        if job is None:
            raise Http404("No such import (they are kept for a day, for the one who started them).")
        return job

    def import_job_view(self, request, job_id: str):
        job = self._job(request, job_id)
        return self._import_page(request, report=job.get("report"), job=job)

    def import_job_status_view(self, request, job_id: str):
        job = self._job(request, job_id)
        return JsonResponse({k: job.get(k) for k in ("state", "phase", "done", "total", "error")})

    def export_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        response = StreamingHttpResponse(self.csv_export(request), content_type="text/csv")
        response["Content-Disposition"] = f'attachment; filename="{self.csv_filename}"'
        return response
