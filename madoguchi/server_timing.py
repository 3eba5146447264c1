"""`Server-Timing` on every response when MADOGUCHI_SERVER_TIMING is on: how long the server
worked on the request (`app`), the CPU of the thread that ran it (`cpu`) and the time in
database statements (`db`, with their count).

Browsers show the header in their developer tools; bench/http_bench.py reads it to tell the
server's time from the wait before it (a busy process, the event loop, the network). Off by
default: it tells a stranger how long the server worked."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from django.db import connections
from django.http import HttpRequest, HttpResponse


class _StatementClock:
    """A database execute wrapper that adds up the statements' wall time."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.count = 0

    def __call__(self, execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.seconds += time.perf_counter() - started
            self.count += 1


class ServerTimingMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        clock = _StatementClock()
        started, cpu = time.perf_counter(), time.thread_time()
        with connections["default"].execute_wrapper(clock):
            response = self.get_response(request)
        app = (time.perf_counter() - started) * 1000
        used = (time.thread_time() - cpu) * 1000
        response["Server-Timing"] = (f"app;dur={app:.1f}, cpu;dur={used:.1f}, "
                                     f'db;dur={clock.seconds * 1000:.1f};desc="{clock.count}"')
        return response


def header_values(header: str) -> dict[str, float]:
    """{"app": ms, "cpu": ms, "db": ms, "queries": n} from a Server-Timing header."""
    found: dict[str, float] = {}
    for entry in header.split(","):
        name, *params = (part.strip() for part in entry.split(";"))
        for param in params:
            key, _eq, value = param.partition("=")
            if key == "dur":
                found[name] = float(value)
            elif key == "desc" and name == "db":
                found["queries"] = float(value.strip('"'))
    return found
