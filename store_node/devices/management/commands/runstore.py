"""``manage.py runstore``: the whole store node in one process.

daphne serves HTTP and WebSocket (store_node.asgi); beside it, on threads of the same process, run
the sync worker (store_node.sync.worker.SyncWorker), the print worker, the drawer worker, the
printer status poller and one reader per serial scanner. One process means the in-memory channel
layer reaches every till's WebSocket with no Redis. SIGTERM or SIGINT stops daphne, then the
workers, then exits. docs/hardware.md says how a larger store splits this up.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading

from django.conf import settings
from django.core.management.base import BaseCommand

log = logging.getLogger("store_node.runstore")


class Command(BaseCommand):
    help = "Run the store node: daphne (HTTP + WebSocket), sync worker, print/drawer workers, scanners."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1", help="address to listen on (0.0.0.0 for the LAN)")
        parser.add_argument("--port", type=int, default=8001)
        parser.add_argument("--no-sync", action="store_true", help="do not start the sync worker")
        parser.add_argument("--no-devices", action="store_true", help="no print/drawer workers, no scanners")

    def handle(self, *args, host, port, no_sync, no_devices, **options):
        # Importing daphne.server installs Twisted's asyncio reactor: do it before anything else
        # imports twisted.internet.reactor.
        from channels.routing import get_default_application
        from daphne.endpoints import build_endpoint_description_strings
        from daphne.server import Server

        state: dict = {"runtime": None, "sync": None, "started": False}
        ready_lock = threading.Lock()

        def start_workers(loop: asyncio.AbstractEventLoop) -> None:
            # On a thread: the event loop's thread must not run database queries.
            if not no_devices:
                from store_node.devices.runtime import DeviceRuntime

                runtime = DeviceRuntime(loop=loop)
                runtime.start()
                state["runtime"] = runtime
            if not no_sync:
                state["sync"] = _start_sync_worker()
            log.info(
                "store node %s ready on http://%s:%d (pid %d)", settings.STORE_CODE, host, port, os.getpid()
            )

        def ready() -> None:
            with ready_lock:
                if state["started"]:
                    return
                state["started"] = True
            loop = asyncio.get_event_loop()
            starter = threading.Thread(target=start_workers, args=(loop,), name="runstore start", daemon=True)
            state["starter"] = starter
            starter.start()

        server = Server(
            application=get_default_application(),
            endpoints=build_endpoint_description_strings(host=host, port=port),
            signal_handlers=True,
            ready_callable=ready,
            verbosity=options.get("verbosity", 1),
            action_logger=None,
        )
        self.stdout.write(f"runstore: store {settings.STORE_CODE} starting on http://{host}:{port}")
        try:
            server.run()
        finally:
            log.info("stopping")
            if state.get("starter") is not None:
                state["starter"].join(30)  # a signal during start-up: stop what it started
            if state["runtime"] is not None:
                state["runtime"].stop()
            if state["sync"] is not None:
                state["sync"].stop()
            self.stdout.write("runstore: stopped")


def _start_sync_worker():
    try:
        from store_node.sync.worker import SyncWorker
    except ImportError as exc:
        log.warning("sync worker not available (%s): running without sync", exc)
        return None
    worker = SyncWorker().start()
    log.info("sync worker started")
    return worker
