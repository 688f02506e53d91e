from django.urls import path

from store_node.devices.api import views as v

urlpatterns = [
    path("print-jobs", v.PrintJobListApi.as_view(), name="devices-print-jobs"),
    path(
        "print-jobs/<uuid:job_id>/reprint", v.PrintJobReprintApi.as_view(), name="devices-print-job-reprint"
    ),
    path("printer", v.PrinterStateApi.as_view(), name="devices-printer"),
]
