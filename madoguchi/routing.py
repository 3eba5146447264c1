"""WebSocket routes of every app; each capability adds its own list here."""

from typing import Any

from madoguchi.chat.routing import agent_websocket_urlpatterns

websocket_urlpatterns: list[Any] = []
websocket_urlpatterns += agent_websocket_urlpatterns
