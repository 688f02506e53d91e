"""WebSocket routes of a store node (each terminal's live channel)."""

websocket_urlpatterns: list = []
