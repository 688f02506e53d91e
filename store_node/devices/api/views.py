"""The till's view of its printer: recent print jobs, reprint, and the printer's last known state."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from store_node.checkout.api.auth import TerminalApi
from store_node.devices.print_queue import print_job_reprint
from store_node.devices.selectors import print_jobs_recent, printer_state


class PrintJobOutput(serializers.Serializer):
    id = serializers.UUIDField()
    kind = serializers.CharField()
    status = serializers.CharField()
    attempts = serializers.IntegerField()
    last_error = serializers.CharField()
    created_at = serializers.DateTimeField()
    printed_at = serializers.DateTimeField(allow_null=True)


class PrintJobListApi(TerminalApi):
    @extend_schema(responses=PrintJobOutput(many=True))
    def get(self, request):
        return Response(PrintJobOutput(print_jobs_recent(terminal_id=self.terminal.id), many=True).data)


class PrintJobReprintApi(TerminalApi):
    @extend_schema(request=None, responses={201: PrintJobOutput})
    def post(self, request, job_id):
        job = print_job_reprint(job_id=job_id, terminal_id=self.terminal.id)
        return Response(PrintJobOutput(job).data, status=status.HTTP_201_CREATED)


class PrinterStateApi(TerminalApi):
    class OutputSerializer(serializers.Serializer):
        status = serializers.CharField()
        detail = serializers.CharField()

    @extend_schema(responses=OutputSerializer)
    def get(self, request):
        state = printer_state(terminal_id=self.terminal.id)
        data = (
            {"status": state.status, "detail": state.detail} if state else {"status": "unknown", "detail": ""}
        )
        return Response(self.OutputSerializer(data).data)
