"""WebSocket routes of the chat.

The agent socket is same-origin (it joins madoguchi.routing.websocket_urlpatterns, behind
AllowedHostsOriginValidator and the login session). The widget socket runs on the SHOP's
pages, a foreign origin, so it is routed before that validator with its own allowed-origins
check (the sites set on /settings/chat/, else MADOGUCHI_CHAT_ALLOWED_ORIGINS) and no cookie authority at all: the visitor's token is
the only key it accepts.
"""

from __future__ import annotations

from typing import Any

from channels.db import database_sync_to_async
from channels.routing import URLRouter
from channels.security.websocket import OriginValidator
from django.conf import settings
from django.urls import path

from madoguchi.chat import widget_settings
from madoguchi.chat.consumers import AgentConsumer, WidgetConsumer

WIDGET_PATH = "/ws/chat/widget/"

agent_websocket_urlpatterns = [path("ws/chat/agent/", AgentConsumer.as_asgi())]


def widget_origins() -> list[str]:
    """The shop's sites set on the desk (else MADOGUCHI_CHAT_ALLOWED_ORIGINS) and the desk's own."""
    return [*widget_settings.current().allowed_origins, settings.SITE_URL]


class _WidgetOriginValidator(OriginValidator):  # type: ignore[misc]
    """Channels' origin check, with the allowed origins read at each connection (the desk's
    settings page changes them; a test that built the application first fixed them for every
    later test) rather than once when the application is built."""

    _origins: list[str] = []

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        origins = await database_sync_to_async(widget_origins)()
        # The parent checks the origin before its first await: no other connection can change
        # `_origins` in between (one event loop).
        self._origins = origins
        return await super().__call__(scope, receive, send)

    @property
    def allowed_origins(self) -> list[str]:
        return self._origins

    @allowed_origins.setter
    def allowed_origins(self, value: list[str]) -> None:
        pass  # always the current settings' (see __call__)


def with_widget_socket(same_origin_app: Any) -> Any:
    """An ASGI app that sends the widget's socket to its own origin check, the rest on."""
    widget = _WidgetOriginValidator(URLRouter([path("ws/chat/widget/", WidgetConsumer.as_asgi())]), widget_origins())

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> Any:
        if scope.get("path", "") == WIDGET_PATH:
            return await widget(scope, receive, send)
        return await same_origin_app(scope, receive, send)

    return app
