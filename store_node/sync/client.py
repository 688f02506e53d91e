"""HTTP client of the sync protocol (docs/sync-protocol.md): gzip bodies, bounded batches, streaming."""

from __future__ import annotations

import contextlib
import os
import tempfile
import threading
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


def busy_wait_s(response: httpx.Response) -> float:
    """Seconds to wait before sending a request answered ``503 busy`` again: its ``Retry-After``
    (1 s when missing or not a number), at least 0.1 s and at most ``SyncClient.BUSY_WAIT_CAP_S``."""
    try:
        wait = float(response.headers.get("retry-after", "1"))
    except ValueError:
        wait = 1.0
    return min(max(wait, 0.1), SyncClient.BUSY_WAIT_CAP_S)


# How long an idle connection to the cloud is kept for the next request. A store syncs every 5 to
# 30 s and pushes after each sale; httpx's default (5 s) would open a new TCP connection and TLS
# handshake for nearly every one. Shorter than the cloud's keepalive_timeout (75 s in
# deploy/cloud/nginx.conf), so the store, not the cloud, closes an idle connection: a request never
# goes out on a connection the cloud is closing at that moment.
KEEPALIVE_S = 60.0


class SyncClient:
    def __init__(self, *, base_url: str, token: str = "", timeout: float = 30.0, transport=None):
        headers = {"User-Agent": "omnitill-store-sync/1"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self.http = httpx.Client(
            base_url=base_url.rstrip("/") + "/api/sync/v1/",
            headers=headers,
            timeout=httpx.Timeout(timeout, connect=5.0),
            limits=httpx.Limits(keepalive_expiry=KEEPALIVE_S),
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
            time.sleep(busy_wait_s(response))
        return self._json(response)

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
        """The snapshot header and its rows, streamed line by line (memory does not grow with size).

        A thread copies the body (decompressed) into a local temporary file as fast as the
        cloud sends it, and the rows are read from that file as it grows. Read straight from the
        socket, a store loading slower than the cloud sends left the rest of the answer in the
        cloud's server, whose idle timeout (Twisted's: 60 s after the answer is handed over, then
        15 s to abort) cut the connection: a million-product catalog never loaded."""
        spool = _Spool()
        thread = None
        try:
            with self.http.stream("GET", "snapshot", timeout=httpx.Timeout(600.0, connect=5.0)) as response:
                self._observe_clock(response)
                if response.status_code >= 400:
                    response.read()
                    self._json(response)
                thread = threading.Thread(
                    target=spool.fill, args=(response,), name="snapshot-download", daemon=True
                )
                thread.start()
                lines = (snapshot_row(line) for line in spool.lines() if line)
                header = next(lines)
                try:
                    yield header, lines
                finally:
                    spool.stop()
        finally:
            if thread is not None:
                # Done by now unless the load stopped early; then the closed response ends the copy
                # (a daemon thread: a read stuck on a dead socket cannot hold the store up).
                thread.join(timeout=10)
            spool.close()


class _Spool:
    """A response body copied into a temporary file by one thread while another reads it."""

    def __init__(self):
        self.file = tempfile.TemporaryFile()
        self.size = 0
        self.done = False
        self.stopped = False
        self.error: BaseException | None = None
        self._changed = threading.Condition()

    def fill(self, response: httpx.Response) -> None:
        try:
            for chunk in response.iter_bytes():  # decompressed
                if self.stopped:
                    return
                self.file.write(chunk)
                self.file.flush()
                with self._changed:
                    self.size += len(chunk)
                    self._changed.notify_all()
        except BaseException as exc:  # the reader raises it
            with self._changed:
                self.error = exc
        finally:
            with self._changed:
                self.done = True
                self._changed.notify_all()

    def lines(self) -> Iterator[bytes]:
        """The body's lines as they arrive; raises the download's error."""
        offset, pending = 0, b""
        while True:
            with self._changed:
                while self.size <= offset and not self.done:
                    self._changed.wait(5.0)
                if self.error is not None and self.size <= offset:
                    raise self.error
                end = self.size
            if end <= offset:
                if pending:
                    yield pending
                return
            data = os.pread(self.file.fileno(), min(1 << 20, end - offset), offset)
            offset += len(data)
            parts = (pending + data).split(b"\n")
            pending = parts.pop()
            yield from parts

    def stop(self) -> None:
        self.stopped = True

    def close(self) -> None:
        self.file.close()
