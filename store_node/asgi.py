"""ASGI entry point of a store node: the tills' HTTP, and their WebSockets (scans, printer state)."""

import os

from retail.roles import resolve_settings_module

os.environ.setdefault("POS_ROLE", "store")
os.environ["DJANGO_SETTINGS_MODULE"] = resolve_settings_module()

from channels.routing import ProtocolTypeRouter, URLRouter
from django.core.asgi import get_asgi_application

django_asgi_app = get_asgi_application()

from store_node.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter({"http": django_asgi_app, "websocket": URLRouter(websocket_urlpatterns)})
