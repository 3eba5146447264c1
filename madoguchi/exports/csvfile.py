"""CSV files Excel opens as Japanese (UTF-8 with a BOM, CRLF), streamed row by row.

A cell a spreadsheet would read as a formula (=, +, -, @, or a tab or carriage return before
one) gets a leading apostrophe: a customer who writes 「=HYPERLINK(…)」 in a complaint must not
run it on the desk's computer when the file is opened (CSV injection, OWASP).

Under ASGI (`madoguchi serve`) Django reads a synchronous streaming body into memory before
sending it, so there the rows are pulled in batches through `sync_to_async` on the request's
thread (the database connection that holds the cursor); under WSGI and the test client the
plain iterator is streamed.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import AsyncIterator, Iterable, Iterator
from typing import Any

from asgiref.sync import sync_to_async
from django.core.handlers.asgi import ASGIRequest
from django.http import HttpRequest, StreamingHttpResponse
from django.utils import timezone

from madoguchi.downloads import as_download

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
BATCH_LINES = 500  # lines handed to the ASGI server at a time


def safe_cell(value: Any) -> Any:
    """The value as a spreadsheet should show it: text that would start a formula is quoted."""
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def stamp(moment: dt.datetime | None) -> str:
    """A time as the shop reads it (JST by default): 2026/12/07 12:05."""
    return timezone.localtime(moment).strftime("%Y/%m/%d %H:%M") if moment else ""


class _Echo:
    def write(self, value: str) -> str:
        return value


def csv_lines(header: list[str], rows: Iterable[Iterable[Any]]) -> Iterator[bytes]:
    """The file's bytes, a line at a time: the BOM and the header first."""
    writer = csv.writer(_Echo())
    yield ("\ufeff" + writer.writerow(header)).encode("utf-8")
    for row in rows:
        yield writer.writerow([safe_cell(value) for value in row]).encode("utf-8")


def _batches(lines: Iterator[bytes]) -> list[bytes]:
    batch = []
    for line in lines:
        batch.append(line)
        if len(batch) >= BATCH_LINES:
            break
    return batch


async def _async_lines(lines: Iterator[bytes]) -> AsyncIterator[bytes]:
    pull = sync_to_async(_batches, thread_sensitive=True)
    while True:
        batch = await pull(lines)
        if not batch:
            return
        yield b"".join(batch)


def dated_name(stem: str, suffix: str = "csv") -> str:
    """「cases-20261207.csv」: the day (shop time) the file was made is in its name."""
    return f"{stem}-{timezone.localdate():%Y%m%d}.{suffix}"


def csv_response(request: HttpRequest | None, file_name: str, header: list[str],
                 rows: Iterable[Iterable[Any]]) -> StreamingHttpResponse:
    lines = csv_lines(header, rows)
    content: Any = _async_lines(lines) if isinstance(request, ASGIRequest) else lines
    response = StreamingHttpResponse(content, content_type="text/csv; charset=utf-8")
    response["Cache-Control"] = "no-store"  # personal data: no copy in a shared cache
    return as_download(response, file_name)
