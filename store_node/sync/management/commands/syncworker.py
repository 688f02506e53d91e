import signal
import threading

from django.core.management.base import BaseCommand

from store_node.sync.worker import SyncWorker


class Command(BaseCommand):
    help = "Run the store's sync worker alone (runstore starts the same worker inside the node)."

    def add_arguments(self, parser):
        parser.add_argument("--interval", type=float, default=5.0, help="seconds between cycles when healthy")
        parser.add_argument("--no-websocket", action="store_true", help="poll only")

    def handle(self, *args, interval, no_websocket, **options):
        done = threading.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: done.set())
        worker = SyncWorker(interval=interval, websocket=not no_websocket).start()
        self.stdout.write(
            f"sync worker running (every {interval:g} s, websocket {'off' if no_websocket else 'on'})"
        )
        done.wait()
        worker.stop()
