"""Every API error is JSON: `{"code": "<stable code>", "message": "<Japanese, or English with
Accept-Language: en>"}` (plus `errors` for invalid input). The codes are part of the API."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils import translation
from django.utils.translation import trans_real


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, errors: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.errors = errors

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.errors is not None:
            body["errors"] = self.errors
        return body


def api_language(request: HttpRequest) -> str:
    """The API answers in English only when the client asks for it (Accept-Language: en…);
    the desk's own language cookie does not apply to a program."""
    for code, _quality in trans_real.parse_accept_lang_header(request.META.get("HTTP_ACCEPT_LANGUAGE", "")):
        if code.lower().startswith("en"):
            return "en"
        if code.lower().startswith("ja"):
            return "ja"
    return "ja"


class ApiLanguageMiddleware:
    """For /api/ only: the language from Accept-Language (Japanese unless English is asked)."""

    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> Any:
        if request.path.startswith("/api/"):
            translation.activate(api_language(request))
            request.LANGUAGE_CODE = translation.get_language()
        return self.get_response(request)
