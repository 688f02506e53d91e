"""Both roles' HTTP handler: Django's ASGI handler, with sync views on long-lived threads.

Django's ``ASGIHandler`` wraps every request in asgiref's ``ThreadSensitiveContext``, which (asgiref
3.x) gives each request a *new* single-thread executor: every request runs its sync code on a fresh
thread. Database connections are per thread, so each request also opened a new SQLite connection
(running the WAL pragmas, with a cold page cache) and ``CONN_MAX_AGE`` never applied. Its async
middleware path also hops between the event loop and a worker thread for every middleware, and even
with ``retail.middleware_mode.OneThreadMiddleware`` keeping the chain on one thread, the view is
reached through ``async_to_sync`` back to the loop and ``sync_to_async`` again: four switches per
request, each a turn of the loop that also reads and writes every socket.

``ThreadedHttpHandler`` keeps the ASGI request handling (``ASGIRequest``, disconnect handling,
``request_started``/``request_finished``) but

* runs ``request_started``, the whole sync middleware chain and view and (for a response that is
  not streamed) ``response.close()``/``request_finished`` in one call on the worker thread: one
  round trip between the event loop and the thread per request instead of one per step, and
* sends every request to one of ``threads`` long-lived single-thread executors (the least busy), so
  each worker thread keeps its connection and SQLite page cache between requests.

The store runs one thread (``STORE_HTTP_THREADS``): its views are CPU-bound Python under the GIL
and every write takes SQLite's one write lock, so a second thread mostly adds lock waits (SQLite's
busy handler sleeps in steps of milliseconds) rather than throughput. A cloud worker runs several
(``CLOUD_HTTP_THREADS``): its requests wait on PostgreSQL, and one store's push waiting for that
store's lock must not hold up the others. Keep them at most the worker's connection pool.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from asgiref.sync import ThreadSensitiveContext, sync_to_async
from django.core import signals
from django.core.exceptions import RequestAborted
from django.core.handlers import base
from django.core.handlers.asgi import ASGIHandler, get_script_prefix
from django.http import FileResponse
from django.urls import set_script_prefix


class ThreadedHttpHandler(ASGIHandler):
    def __init__(self, *, threads: int = 1):
        base.BaseHandler.__init__(self)
        self.load_middleware(
            is_async=False
        )  # the sync chain: one thread hop per request, not one per middleware
        self._executors = [
            ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"http-{i}") for i in range(max(1, threads))
        ]
        self._queued = [0] * len(self._executors)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            raise ValueError(f"ThreadedHttpHandler serves HTTP only, not {scope['type']}")
        i = min(range(len(self._queued)), key=self._queued.__getitem__)
        self._queued[i] += 1
        try:
            # The outermost context decides the executor: every thread-sensitive call of this request
            # (request_started, the view, response.close) runs on this long-lived thread.
            async with ThreadSensitiveContext(executor=self._executors[i]):
                await self.handle(scope, receive, send)
        finally:
            self._queued[i] -= 1

    async def handle(self, scope, receive, send):
        try:
            body_file = await self.read_body(receive)
        except RequestAborted:
            return
        set_script_prefix(get_script_prefix(scope))
        try:
            response = await sync_to_async(self._respond, thread_sensitive=True)(scope, body_file)
            try:
                await self.send_response(response, send)
            finally:
                if response.streaming:  # its body was produced while sending: close it only now
                    await sync_to_async(response.close, thread_sensitive=True)()
        finally:
            body_file.close()

    def _respond(self, scope, body_file):
        """On the worker thread: the request's whole sync life, the response ready to send."""
        signals.request_started.send(sender=self.__class__, scope=scope)
        request, response = self.create_request(scope, body_file)
        if request is not None:
            response = self.get_response(request)
            response._handler_class = self.__class__
            if isinstance(response, FileResponse):
                response.block_size = self.chunk_size
        if not response.streaming:
            # The content is bytes already; closing now (request_finished, which also returns
            # the connection if it is too old) saves a second trip to this thread.
            response.close()
        return response
