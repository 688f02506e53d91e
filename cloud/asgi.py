"""ASGI entry point of the cloud: HTTP through Django, WebSocket through Channels."""

import os

from retail.roles import resolve_settings_module

os.environ.setdefault("POS_ROLE", "cloud")
os.environ["DJANGO_SETTINGS_MODULE"] = resolve_settings_module()

import django
from channels.routing import ProtocolTypeRouter, URLRouter
from django.conf import settings

django.setup(set_prefix=False)

from retail.asgi_http import ThreadedHttpHandler  # noqa: E402

# HTTP on a few long-lived threads, one switch from the event loop per request (retail/asgi_http.py).
django_asgi_app = ThreadedHttpHandler(threads=settings.CLOUD_HTTP_THREADS)

from cloud.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter({"http": django_asgi_app, "websocket": URLRouter(websocket_urlpatterns)})

from retail.runtime import startup_objects_freeze  # noqa: E402
from retail.serving import serving_tune  # noqa: E402

serving_tune()  # daphne serves only once this module is loaded: costs of Twisted and autobahn we skip

startup_objects_freeze()  # after loading everything: a long-lived process
