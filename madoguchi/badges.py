"""Badge counts (inbox queues, the navigation bar): several capped counts in ONE statement.

`SELECT (SELECT COUNT(*) FROM (… LIMIT cap) badge_0), (…), …` is one round trip instead of one
per badge, each subquery still reads its own index, and the cap keeps a count cheap at a
million rows: a badge says "1000+" rather than counting every row."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import QuerySet

CAP = 1000


def capped_counts(rows: Mapping[str, QuerySet[Any]], cap: int = CAP) -> dict[str, int]:
    """How many rows each queryset has, up to `cap`, read in one statement."""
    parts: list[str] = []
    params: list[Any] = []
    using = "default"
    for number, queryset in enumerate(rows.values()):
        using = queryset.db
        try:
            sql, sql_params = queryset.order_by().values("pk")[:cap].query.sql_with_params()
        except EmptyResultSet:  # e.g. the team queue of a user without a team
            parts.append("0")
            continue
        parts.append(f"(SELECT COUNT(*) FROM ({sql}) badge_{number})")
        params.extend(sql_params)
    if not parts:
        return {}
    with connections[using].cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(parts), params)
        row = cursor.fetchone()
    return dict(zip(rows, row, strict=True))


def label(count: int, cap: int = CAP) -> str:
    """What a badge shows: "" for none (no badge), "1000+" at the cap."""
    if not count:
        return ""
    return f"{cap}+" if count >= cap else str(count)
