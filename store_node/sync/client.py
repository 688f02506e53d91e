"""HTTP client of the sync protocol (docs/sync-protocol.md): gzip bodies, bounded batches, streaming."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from email.utils import parsedate_to_datetime

import httpx

from retail.replication.wire import PROTOCOL_VERSION, gzip_dumps, snapshot_row


class SyncHttpError(RuntimeError):
    """The cloud answered with an error ``{"detail", "code", ...}``."""

    def __init__(self, status: int, body: dict):
        super().__init__(f"{status} {body.get('code')}: {body.get('detail')}")
        self.status = status
        self.code = body.get("code", "")
        self.body = body


class SyncClient:
    def __init__(self, *, base_url: str, token: str = "", timeout: float = 30.0, transport=None):
        headers = {"User-Agent": "omnitill-store-sync/1"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self.http = httpx.Client(
            base_url=base_url.rstrip("/") + "/api/sync/v1/",
            headers=headers,
            timeout=httpx.Timeout(timeout, connect=5.0),
            transport=transport,
        )
        # Seconds this node's wall clock is ahead of the cloud's (negative: behind), from the
        # ``Date`` header of the latest answer (one-second resolution), or None before any answer.
        self.clock_offset_s: int | None = None

    def _observe_clock(self, response: httpx.Response) -> None:
        try:
            cloud = parsedate_to_datetime(response.headers["date"]).timestamp()
        except (KeyError, TypeError, ValueError):
            return
        self.clock_offset_s = round(time.time() - cloud)

    def close(self) -> None:
        self.http.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # A 503 (the cloud's database was busy, or a worker is restarting behind the proxy) changed
    # nothing: the same request is sent again after the ``Retry-After`` the cloud named, a few times.
    BUSY_RETRIES = 4
    BUSY_WAIT_CAP_S = 10.0

    def _post(self, path: str, body: dict) -> dict:
        content = gzip_dumps({"protocol": PROTOCOL_VERSION, **body})
        headers = {"Content-Type": "application/json", "Content-Encoding": "gzip", "Accept-Encoding": "gzip"}
        for attempt in range(self.BUSY_RETRIES + 1):
            response = self.http.post(path, content=content, headers=headers)
            if response.status_code != 503 or attempt == self.BUSY_RETRIES:
                break
            time.sleep(self._retry_after(response))
        return self._json(response)

    def _retry_after(self, response: httpx.Response) -> float:
        try:
            wait = float(response.headers.get("retry-after", "1"))
        except ValueError:
            wait = 1.0
        return min(max(wait, 0.1), self.BUSY_WAIT_CAP_S)

    def _json(self, response: httpx.Response) -> dict:
        self._observe_clock(response)
        try:
            body = response.json()
        except ValueError:
            body = {"detail": response.text[:200], "code": "bad_response"}
        if response.status_code >= 400:
            raise SyncHttpError(response.status_code, body if isinstance(body, dict) else {})
        return body

    def enroll(self, *, code: str) -> dict:
        return self._post("enroll", {"code": code})

    def push(self, *, events: list[dict], head_seq: int, oldest_unsynced_at=None) -> dict:
        return self._post(
            "push", {"events": events, "head_seq": head_seq, "oldest_unsynced_at": oldest_unsynced_at}
        )

    def pull(self, *, cursor: int, limit: int, max_bytes: int) -> dict:
        return self._post("pull", {"cursor": cursor, "limit": limit, "max_bytes": max_bytes})

    @contextlib.contextmanager
    def snapshot(self) -> Iterator[tuple[dict, Iterator[dict]]]:
        """The snapshot header and its rows, streamed line by line (memory does not grow with size)."""
        with self.http.stream("GET", "snapshot", timeout=httpx.Timeout(600.0, connect=5.0)) as response:
            self._observe_clock(response)
            if response.status_code >= 400:
                response.read()
                self._json(response)
            lines = (snapshot_row(line) for line in response.iter_lines() if line)
            header = next(lines)
            yield header, lines
