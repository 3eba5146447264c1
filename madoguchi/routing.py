"""WebSocket routes of every app; each capability adds its own list here."""

from typing import Any

from django.urls import path

from madoguchi.cases.presence import CasePresenceConsumer
from madoguchi.chat.routing import agent_websocket_urlpatterns

websocket_urlpatterns: list[Any] = []
websocket_urlpatterns += agent_websocket_urlpatterns
websocket_urlpatterns += [path("ws/cases/<int:pk>/", CasePresenceConsumer.as_asgi())]
