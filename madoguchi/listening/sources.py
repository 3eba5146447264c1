"""Posts that come from a live source rather than a file: the hook for the X search API.

This app calls no platform. An app that can search a platform (the X channel, with the shop's
credentials and access tier) registers a source in its AppConfig.ready():

    from madoguchi.listening import sources
    sources.register("x-search", fetch)

`fetch(since)` gets the newest post the desk holds from that source's platform as
`(platform, post id, posted_at)` or None, and returns posts: dicts of the generic shape
(platform, id, author, author_name, text, posted_at, url) or X API v2 search pages
({"data": [...], "includes": {"users": [...]}}), the same shapes a file may hold. The periodic
job (`tasks.poll_sources_job`, every 15 minutes) calls each source and writes what it returned
through the one writer the file import uses (read by the reader 1,000 at a time, idempotent by
platform and id), then looks for spikes. A source that fails is logged and tried next time."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from madoguchi.listening.importer import ImportSummary, write_posts
from madoguchi.listening.models import ListeningPost
from madoguchi.listening.posts import ParsedPost, Problem, read_json

log = logging.getLogger(__name__)


@dataclass
class Source:
    name: str
    platform: str
    fetch: Callable[[tuple[str, str, Any] | None], Iterable[dict[str, Any]]]


SOURCES: dict[str, Source] = {}


def register(name: str, fetch: Callable[[tuple[str, str, Any] | None], Iterable[dict[str, Any]]], platform: str = "x") -> None:
    SOURCES[name] = Source(name, platform, fetch)


def unregister(name: str) -> None:
    SOURCES.pop(name, None)


def newest(platform: str) -> tuple[str, str, Any] | None:
    row = ListeningPost.objects.filter(platform=platform).order_by("-posted_at", "-pk").values_list(
        "platform", "post_id", "posted_at").first()
    return tuple(row) if row else None  # type: ignore[return-value]


def take(items: Iterable[dict[str, Any]]) -> ImportSummary:
    """Write posts (generic dicts or X API v2 pages) as an import of a JSON file would."""
    text = "\n".join(json.dumps(item, ensure_ascii=False) for item in items)
    summary = ImportSummary(file_format="json")
    parsed: list[ParsedPost] = []
    for item in read_json(text):
        if isinstance(item, Problem):
            summary.problems.append(item)
        else:
            parsed.append(item)
    return write_posts(parsed, summary)


def poll() -> dict[str, int]:
    """Call every registered source once; {source: posts new to the desk}."""
    from madoguchi.listening.spikes import check_spikes

    done: dict[str, int] = {}
    for source in list(SOURCES.values()):
        try:
            summary = take(source.fetch(newest(source.platform)))
        except Exception:  # noqa: BLE001 - one source down must not stop the others
            log.exception("listening: source %s failed", source.name)
            continue
        done[source.name] = summary.created
        if summary.problems:
            log.warning("listening: source %s gave %d posts that could not be read", source.name, len(summary.problems))
    if done:
        check_spikes()
    return done
