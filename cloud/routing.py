"""WebSocket routes of the cloud (the sync nudge channel and live dashboards arrive here)."""

websocket_urlpatterns: list = []
