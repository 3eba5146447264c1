"""WebSocket routes of the chat.

The agent socket is same-origin (it joins madoguchi.routing.websocket_urlpatterns, behind
AllowedHostsOriginValidator and the login session). The widget socket runs on the SHOP's
pages, a foreign origin, so it is routed before that validator with its own allowed-origins
check (MADOGUCHI_CHAT_ALLOWED_ORIGINS) and no cookie authority at all: the visitor's token is
the only key it accepts.
"""

from __future__ import annotations

from typing import Any

from channels.routing import URLRouter
from channels.security.websocket import OriginValidator
from django.conf import settings
from django.urls import path

from madoguchi.chat.consumers import AgentConsumer, WidgetConsumer

WIDGET_PATH = "/ws/chat/widget/"

agent_websocket_urlpatterns = [path("ws/chat/agent/", AgentConsumer.as_asgi())]


def widget_origins() -> list[str]:
    return [*settings.MADOGUCHI_CHAT_ALLOWED_ORIGINS, settings.SITE_URL]


class _WidgetOriginValidator(OriginValidator):  # type: ignore[misc]
    """Channels' origin check, with the allowed origins read from the settings at each
    connection rather than once when the application is built (a test that built it first
    fixed the origins for every later test)."""

    @property
    def allowed_origins(self) -> list[str]:
        return widget_origins()

    @allowed_origins.setter
    def allowed_origins(self, value: list[str]) -> None:
        pass  # always the settings' (see the getter)


def with_widget_socket(same_origin_app: Any) -> Any:
    """An ASGI app that sends the widget's socket to its own origin check, the rest on."""
    widget = _WidgetOriginValidator(URLRouter([path("ws/chat/widget/", WidgetConsumer.as_asgi())]), widget_origins())

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> Any:
        if scope.get("path", "") == WIDGET_PATH:
            return await widget(scope, receive, send)
        return await same_origin_app(scope, receive, send)

    return app
