"""WebSocket routes of the cloud (the sync nudge channel and live dashboards arrive here)."""

from channels.auth import AuthMiddlewareStack
from channels.security.websocket import AllowedHostsOriginValidator
from django.urls import path

from cloud.reporting.consumers import DashboardConsumer
from cloud.sync.consumers import SyncNudgeConsumer

websocket_urlpatterns: list = [
    # Stores, with their bearer credential (not a browser: no cookie to abuse, no Origin sent).
    path("ws/sync/v1/nudge", SyncNudgeConsumer.as_asgi()),
    # Signed-in admin users (session cookie) only, from a page of this site: a browser sends the
    # cookie to any page's socket, so the Origin must be one of ALLOWED_HOSTS (no cross-site hijack).
    path(
        "ws/reporting/live",
        AllowedHostsOriginValidator(AuthMiddlewareStack(DashboardConsumer.as_asgi())),
    ),
]
