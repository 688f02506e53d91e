"""WebSocket routes of the cloud (the sync nudge channel and live dashboards arrive here)."""

from channels.auth import AuthMiddlewareStack
from django.urls import path

from cloud.reporting.consumers import DashboardConsumer
from cloud.sync.consumers import SyncNudgeConsumer

websocket_urlpatterns: list = [
    path("ws/sync/v1/nudge", SyncNudgeConsumer.as_asgi()),
    # Signed-in admin users (session cookie) only.
    path("ws/reporting/live", AuthMiddlewareStack(DashboardConsumer.as_asgi())),
]
