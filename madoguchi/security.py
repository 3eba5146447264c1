"""Content-Security-Policy helpers (the policy itself is CONTENT_SECURITY_POLICY in settings).

`csp_nonce` puts the response's nonce in every template's context under the name django-htmx
and our templates use (`{{ csp_nonce }}`); it stays lazy, so a page that uses no nonce sends a
header without one."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest


def csp_nonce(request: HttpRequest) -> dict[str, Any]:
    return {"csp_nonce": getattr(request, "csp_nonce", "")}
