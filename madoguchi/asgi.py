"""ASGI entry point: HTTP through Django, WebSockets through Channels (chat and live updates)."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "madoguchi.settings")

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402
from django.core.asgi import get_asgi_application  # noqa: E402

django_asgi_app = get_asgi_application()

from madoguchi.busy import limited  # noqa: E402
from madoguchi.chat.routing import with_widget_socket  # noqa: E402
from madoguchi.line.asgi import with_line_webhook  # noqa: E402
from madoguchi.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        # LINE's webhook is stored in batches before Django's middleware (line/asgi.py).
        # Page requests take turns (busy.py); LINE's webhook batches are not held up by them.
        "http": with_line_webhook(limited(django_asgi_app)),
        # The chat widget's socket comes from shops' pages (foreign origins): it has its own check.
        "websocket": with_widget_socket(AllowedHostsOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns)))),
    }
)
