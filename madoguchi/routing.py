"""WebSocket routes of every app; each capability adds its own list here."""

from typing import Any

websocket_urlpatterns: list[Any] = []
