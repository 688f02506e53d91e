"""The sync API (docs/sync-protocol.md): enroll, push, pull, snapshot. One view per operation."""

from __future__ import annotations

import asyncio

from django.http import StreamingHttpResponse
from django.utils.decorators import method_decorator
from django.views.decorators.gzip import gzip_page
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from cloud.sync.auth import IsEnrolledStore, StoreCredentialAuthentication
from cloud.sync.parsers import GzipJSONParser
from cloud.sync.selectors import feed_page, peers_last_contact
from cloud.sync.services import (
    feed_publish_cloud,
    snapshot_start,
    store_enroll,
    sync_pull_record,
    sync_push_ingest,
)
from cloud.sync.shared_state import shared_state_publish
from retail.api_errors import DomainError
from retail.replication.wire import MAX_BATCH_BYTES, MAX_PULL_EVENTS, MAX_PUSH_EVENTS, PROTOCOL_VERSION


class _SyncApi(APIView):
    authentication_classes = [StoreCredentialAuthentication]
    permission_classes = [IsEnrolledStore]
    parser_classes = [GzipJSONParser]

    def check_protocol(self, data) -> None:
        version = data.get("protocol", PROTOCOL_VERSION)
        if version != PROTOCOL_VERSION:
            raise DomainError(
                f"protocol {version} is not spoken here (this cloud speaks {PROTOCOL_VERSION})",
                code="protocol_unsupported",
                status_code=400,
                protocol=PROTOCOL_VERSION,
            )


class SyncEnrollApi(APIView):
    authentication_classes: list = []
    permission_classes: list = []
    parser_classes = [GzipJSONParser]

    class InputSerializer(serializers.Serializer):
        code = serializers.CharField(max_length=40)

    class OutputSerializer(serializers.Serializer):
        store_id = serializers.UUIDField()
        store_code = serializers.CharField()
        credential = serializers.CharField()
        protocol = serializers.IntegerField()

    @extend_schema(request=InputSerializer, responses=OutputSerializer, operation_id="sync_enroll")
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        store, credential = store_enroll(code=data.validated_data["code"])
        out = {
            "store_id": store.id,
            "store_code": store.code,
            "credential": credential,
            "protocol": PROTOCOL_VERSION,
        }
        return Response(self.OutputSerializer(out).data, status=201)


@method_decorator(gzip_page, name="dispatch")
class SyncPushApi(_SyncApi):
    class InputSerializer(serializers.Serializer):
        protocol = serializers.IntegerField(default=PROTOCOL_VERSION)
        head_seq = serializers.IntegerField(required=False, min_value=0)
        oldest_unsynced_at = serializers.DateTimeField(required=False, allow_null=True)
        # Envelopes are checked by the service, not field by field here (bulk path).
        events = serializers.ListField(child=serializers.DictField(), max_length=MAX_PUSH_EVENTS)

    class OutputSerializer(serializers.Serializer):
        ack_seq = serializers.IntegerField()
        applied = serializers.IntegerField()
        duplicates = serializers.IntegerField()
        quarantined = serializers.ListField(child=serializers.DictField())

    @extend_schema(request=InputSerializer, responses=OutputSerializer, operation_id="sync_push")
    def post(self, request):
        self.check_protocol(request.data)
        events = request.data.get("events")
        if not isinstance(events, list):
            raise DomainError("events must be a list", code="invalid", status_code=400)
        if len(events) > MAX_PUSH_EVENTS:
            raise DomainError(
                f"at most {MAX_PUSH_EVENTS} events per batch",
                code="batch_too_large",
                status_code=413,
                max_events=MAX_PUSH_EVENTS,
            )
        head = request.data.get("head_seq")
        oldest = (
            serializers.DateTimeField(allow_null=True).to_internal_value(request.data["oldest_unsynced_at"])
            if request.data.get("oldest_unsynced_at")
            else None
        )
        result = sync_push_ingest(
            store=request.user.store,
            raw_events=events,
            head_seq=head if isinstance(head, int) else None,
            oldest_unsynced_at=oldest,
        )
        return Response(self.OutputSerializer(result).data)


@method_decorator(gzip_page, name="dispatch")
class SyncPullApi(_SyncApi):
    class InputSerializer(serializers.Serializer):
        protocol = serializers.IntegerField(default=PROTOCOL_VERSION)
        cursor = serializers.IntegerField(min_value=0, max_value=2**63 - 1)  # a feed position is a bigint
        limit = serializers.IntegerField(min_value=1, max_value=MAX_PULL_EVENTS, default=MAX_PULL_EVENTS)
        max_bytes = serializers.IntegerField(
            min_value=1024, max_value=MAX_BATCH_BYTES, default=MAX_BATCH_BYTES
        )

    class OutputSerializer(serializers.Serializer):
        events = serializers.ListField(child=serializers.DictField())
        cursor = serializers.IntegerField()
        more = serializers.BooleanField()
        stores_seen = serializers.DictField(
            child=serializers.CharField(),
            required=False,
            help_text="On the last page only: every other store's last contact with head office (ISO 8601).",
        )

    @extend_schema(request=InputSerializer, responses=OutputSerializer, operation_id="sync_pull")
    def post(self, request):
        self.check_protocol(request.data)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        store, cursor = request.user.store, data.validated_data["cursor"]
        shared_state_publish()  # when due: other stores' levels and balances into head office's outbox
        feed_publish_cloud()
        page = feed_page(  # refuses a cursor below the pruned floor (410 cursor_expired)
            store=store,
            cursor=cursor,
            limit=data.validated_data["limit"],
            max_bytes=data.validated_data["max_bytes"],
        )
        sync_pull_record(store=store, cursor=cursor)
        # The events are already wire dicts: DRF's field-by-field representation of thousands of
        # them would cost more than reading them (the serializer above documents the shape).
        body = {"events": page.events, "cursor": page.cursor, "more": page.more}
        if not page.more:
            body["stores_seen"] = peers_last_contact(store=store)
        return Response(body)


async def _snapshot_chunks(snap):
    """The snapshot's bytes as they are written (``SnapshotFile.read`` waits in a worker thread)."""
    offset = 0
    try:
        while chunk := await asyncio.to_thread(snap.read, offset):
            offset += len(chunk)
            yield chunk
    finally:
        snap.close()


class SyncSnapshotApi(_SyncApi):
    @extend_schema(responses={(200, "application/x-ndjson"): bytes}, operation_id="sync_snapshot")
    def get(self, request):
        snap = snapshot_start(store=request.user.store)
        response = StreamingHttpResponse(_snapshot_chunks(snap), content_type="application/x-ndjson")
        response["Content-Encoding"] = "gzip"
        response["X-Sync-Cursor"] = str(snap.cursor)
        return response
