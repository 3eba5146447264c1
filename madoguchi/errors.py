"""The desk's error pages. A database that cannot be reached (stopped, restarting, a network
cut) is not a bug of the page: the user gets 503 with a Japanese "try again shortly" and a
Retry-After, instead of the generic 500 (issue 21, fault tests). Rendered without a request
context: the context processors read the database, which is what failed."""

from __future__ import annotations

import sys

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, HttpResponseServerError
from django.template import loader

RETRY_AFTER_SECONDS = 15


def server_error(request: HttpRequest) -> HttpResponse:
    error = sys.exc_info()[1]
    if isinstance(error, OperationalError | InterfaceError):
        response = HttpResponse(loader.get_template("503.html").render({}), status=503)
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
    return HttpResponseServerError(loader.get_template("500.html").render({}))
