"""A stored file or record handed to a staff member as a download, never shown inline."""

from __future__ import annotations

from typing import TypeVar
from urllib.parse import quote

from django.http import HttpResponseBase

Response = TypeVar("Response", bound=HttpResponseBase)


def as_download(response: Response, filename: str) -> Response:
    # RFC 6266: the Japanese name survives in every current browser.
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(filename)}"
    response["X-Content-Type-Options"] = "nosniff"
    return response
