"""retail.asgi_http: the store's HTTP runs on long-lived threads that keep their SQLite connection."""

import asyncio
import threading

import httpx
import pytest
from django.core.signals import request_finished, request_started
from django.db.backends.sqlite3.base import DatabaseWrapper

from retail.asgi_http import ThreadedHttpHandler

pytestmark = pytest.mark.django_db(transaction=True)


def _serve(handler, requests: int) -> list[int]:
    async def go():
        transport = httpx.ASGITransport(app=handler)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
            # A wrong token: the authentication looks the session up in the database, then says 401.
            return [
                (
                    await client.get(
                        "/api/checkout/sales/suspended", headers={"Authorization": "Terminal nope"}
                    )
                ).status_code
                for _ in range(requests)
            ]

    return asyncio.run(go())


def test_requests_share_one_worker_thread_and_one_database_connection(monkeypatch):
    # given a handler with one worker thread, and a count of the SQLite connections opened and where
    opened: list[str] = []
    real_connect = DatabaseWrapper.get_new_connection

    def counting_connect(self, params):
        opened.append(threading.current_thread().name)
        return real_connect(self, params)

    monkeypatch.setattr(DatabaseWrapper, "get_new_connection", counting_connect)
    signalled: list[tuple[str, str]] = []

    def started(**kwargs):
        signalled.append(("started", threading.current_thread().name))

    def finished(**kwargs):
        signalled.append(("finished", threading.current_thread().name))

    request_started.connect(started)
    request_finished.connect(finished)
    handler = ThreadedHttpHandler(threads=1)
    try:
        # when ten requests that each query the database are served
        statuses = _serve(handler, 10)
    finally:
        request_started.disconnect(started)
        request_finished.disconnect(finished)
    # then each was answered, all on the one worker thread over one connection
    assert statuses == [401] * 10
    assert len(opened) == 1
    assert opened[0].startswith("http-0")
    # and each request started and finished once, on that thread (closing old connections there)
    assert [what for what, _ in signalled] == ["started", "finished"] * 10
    assert {thread for _, thread in signalled} == {opened[0]}


def test_a_request_goes_to_the_least_busy_of_several_threads():
    # given two worker threads, the first busy with a request
    handler = ThreadedHttpHandler(threads=2)
    handler._queued[0] = 1
    seen: list[str] = []

    async def go():
        from asgiref.sync import sync_to_async

        async def app_under_context(scope, receive, send):
            seen.append(await sync_to_async(lambda: threading.current_thread().name)())

        handler.handle = app_under_context
        await handler({"type": "http"}, None, None)

    # when a request comes in
    asyncio.run(go())
    # then it runs on the second thread, and the first's count is untouched
    assert seen[0].startswith("http-1")
    assert handler._queued == [1, 0]
