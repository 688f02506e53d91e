"""ASGI entry point of a store node: the tills' HTTP, and their WebSockets (scans, printer state)."""

import os

from retail.roles import resolve_settings_module

os.environ.setdefault("POS_ROLE", "store")
os.environ["DJANGO_SETTINGS_MODULE"] = resolve_settings_module()

import django
from channels.routing import ProtocolTypeRouter, URLRouter
from django.conf import settings

django.setup(set_prefix=False)

from retail.asgi_http import ThreadedHttpHandler  # noqa: E402

# HTTP on long-lived worker threads that keep their SQLite connection (retail/asgi_http.py).
django_asgi_app = ThreadedHttpHandler(threads=settings.STORE_HTTP_THREADS)

from store_node.node.checkpoint import wal_checkpointer_start  # noqa: E402
from store_node.routing import websocket_urlpatterns  # noqa: E402

# WAL checkpoints on a thread of their own, not inside a till's commit (store_node/node/checkpoint.py).
wal_checkpointer_start()

application = ProtocolTypeRouter({"http": django_asgi_app, "websocket": URLRouter(websocket_urlpatterns)})

from retail.runtime import startup_objects_freeze  # noqa: E402
from retail.serving import serving_tune  # noqa: E402

serving_tune()  # daphne serves only once this module is loaded: costs of Twisted and autobahn we skip

startup_objects_freeze()  # after loading everything: a long-lived process
