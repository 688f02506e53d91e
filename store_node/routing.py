"""WebSocket routes of a store node (each terminal's live channel)."""

from django.urls import path

from pos_ui.consumers import TerminalConsumer

websocket_urlpatterns: list = [
    path("ws/terminal/<uuid:terminal_id>/", TerminalConsumer.as_asgi()),
]
