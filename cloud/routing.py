"""WebSocket routes of the cloud (the sync nudge channel and live dashboards arrive here)."""

from django.urls import path

from cloud.sync.consumers import SyncNudgeConsumer

websocket_urlpatterns: list = [
    path("ws/sync/v1/nudge", SyncNudgeConsumer.as_asgi()),
]
