"""The hook for live sources (the X search API, registered by the app that holds the shop's
credentials): the periodic job calls each source with the newest post the desk holds and writes
what it returns as a file import would; a failing source does not stop the others."""

from __future__ import annotations

import pytest

from madoguchi.listening import sources
from madoguchi.listening.models import ListeningPost
from madoguchi.listening.tasks import poll_sources_job
from madoguchi.listening.tests import samples

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("starter_model")]


def test_registered_sources_are_polled_and_their_posts_written_once() -> None:
    rows = list(samples.posts(4))
    asked: list[object] = []

    def x_search(since):  # what the X channel would return from the recent search endpoint
        asked.append(since)
        return [samples.x_api_page(rows[:3]), samples.x_api_page(rows[2:])]

    def broken(since):
        raise ConnectionError("the platform is down")

    sources.register("x-search", x_search)
    sources.register("broken", broken, platform="instagram")
    try:
        assert poll_sources_job.call_local() == {"x-search": 4}
        assert poll_sources_job.call_local() == {"x-search": 0}
    finally:
        sources.unregister("x-search")
        sources.unregister("broken")
    assert asked[0] is None and asked[1][:2] == ("x", rows[3]["id"])
    assert ListeningPost.objects.count() == 4 and not ListeningPost.objects.filter(kind="").exists()
