"""A stand-in cloud for the store's client tests (the real one runs in tests/system): it keeps an
ack per store and a list of feed pages, and speaks the protocol's JSON."""

from __future__ import annotations

import gzip
import json
import threading
import time
from email.utils import formatdate

import httpx


class FakeCloud:
    def __init__(self, *, store_code="S01", store_id="00000000-0000-0000-0000-000000000001"):
        self.store_code, self.store_id = store_code, store_id
        self.ack = 0
        self.received: list[dict] = []
        self.feed: list[dict] = []
        self.snapshot_lines: list[dict] = []
        self.fail_next: list[tuple] = []  # answers to give first: (status, body) or (status, body, headers)
        self.requests: list[str] = []
        self.stores_seen: dict | None = None  # the other stores' last contact, sent with a last page
        self.clock_behind_s: float | None = None  # answers carry a Date header this far behind ours
        self._one_at_a_time = (
            threading.Lock()
        )  # a store has two pushes in flight; the real cloud serializes them
        self.on_arrival = None  # called with each request before it waits its turn (a test may hold it there)

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.answer)

    def answer(self, request: httpx.Request) -> httpx.Response:
        if self.on_arrival is not None:
            self.on_arrival(request)
        with self._one_at_a_time:
            response = self.handle(request)
        if self.clock_behind_s is not None:
            response.headers["Date"] = formatdate(time.time() - self.clock_behind_s, usegmt=True)
        return response

    def handle(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path.rsplit("/", 1)[-1]
        self.requests.append(path)
        if self.fail_next:
            status, body, *headers = self.fail_next.pop(0)  # (status, body[, headers])
            return httpx.Response(status, json=body, headers=headers[0] if headers else None)
        body = request.content
        if request.headers.get("content-encoding") == "gzip":
            body = gzip.decompress(body)
        data = json.loads(body or b"{}")
        if path == "enroll":
            return httpx.Response(
                201,
                json={
                    "store_id": self.store_id,
                    "store_code": self.store_code,
                    "credential": "k.s",
                    "protocol": 1,
                },
            )
        if path == "push":
            fresh = [e for e in data["events"] if e["seq"] > self.ack]
            if fresh and fresh[0]["seq"] != self.ack + 1:
                return httpx.Response(
                    409, json={"detail": "gap", "code": "seq_gap", "expected_seq": self.ack + 1}
                )
            self.received += fresh
            self.ack = fresh[-1]["seq"] if fresh else self.ack
            return httpx.Response(
                200, json={"ack_seq": self.ack, "applied": len(fresh), "duplicates": 0, "quarantined": []}
            )
        if path == "pull":
            cursor, limit = data["cursor"], data["limit"]
            page = [e for e in self.feed if e["fseq"] > cursor][:limit]
            more = len([e for e in self.feed if e["fseq"] > cursor]) > len(page)
            new_cursor = page[-1]["fseq"] if page else max([cursor] + [e["fseq"] for e in self.feed])
            body = {"events": page, "cursor": new_cursor, "more": more}
            if not more and self.stores_seen is not None:
                body["stores_seen"] = self.stores_seen
            return httpx.Response(200, json=body)
        if path == "snapshot":
            lines = b"".join(json.dumps(line).encode() + b"\n" for line in self.snapshot_lines)
            return httpx.Response(200, content=lines, headers={"content-type": "application/x-ndjson"})
        return httpx.Response(404, json={"detail": "no", "code": "not_found"})
