"""X feeds social listening: the recent search for the admin's query, registered with the listening
app's source hook when the X credentials are set, against the fake X API v2 through tweepy."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.apps import apps
from django.utils import timezone

from madoguchi.listening import sources
from madoguchi.listening.models import ListeningPost
from madoguchi.listening.tasks import poll_sources_job
from madoguchi.testing.fake_x import CREDENTIALS, FakeX, rate_limited, user
from madoguchi.x_account.listening import SOURCE
from madoguchi.x_account.models import Stream, XCursor

pytestmark = pytest.mark.django_db
HANAKO = user("1111111111111111111", "hanako_tea", "山田 花子")
KENTA = user("2222222222222222222", "kenta_s", "鈴木 健太")


@pytest.fixture
def fake(settings: Any) -> Any:
    """The fake X API and the desk's X keys, the source registered as the app's ready() does."""
    with FakeX() as server:
        for name, value in CREDENTIALS.items():
            setattr(settings, name.removeprefix("MADOGUCHI_"), value)
        settings.X_BEARER_TOKEN = ""
        settings.X_API_BASE = server.url
        settings.X_LISTENING_QUERY = "うつわ屋"
        apps.get_app_config("x_account").ready()
        yield server
    sources.unregister(SOURCE)


def poll() -> dict[str, int]:
    return poll_sources_job.call_local()


def test_without_x_keys_no_source_is_registered(settings):
    sources.unregister(SOURCE)
    settings.X_CONSUMER_KEY = settings.X_BEARER_TOKEN = ""
    apps.get_app_config("x_account").ready()
    assert SOURCE not in sources.SOURCES


def test_posts_found_by_the_search_arrive_in_the_listening_queue(fake):
    fake.post(HANAKO, "うつわ屋で買ったマグカップ、届いたら割れてた…")
    fake.post(KENTA, "今日の晩ごはん、カレーにした")  # not about the shop
    fake.post(KENTA, "うつわ屋さんの湯呑み、とても使いやすい！")
    assert poll() == {SOURCE: 2}
    posts = {p.author_handle: p for p in ListeningPost.objects.all()}
    assert set(posts) == {"hanako_tea", "kenta_s"}
    assert posts["hanako_tea"].platform == "x" and posts["hanako_tea"].author_name == "山田 花子"
    assert posts["hanako_tea"].url.startswith("https://x.com/hanako_tea/status/")
    [call] = fake.calls("/2/tweets/search/recent")
    assert call["query"]["query"] == "うつわ屋" and call["query"]["expansions"] == "author_id"
    assert call["headers"]["Authorization"].startswith("OAuth ")  # signed, checked by the fake
    assert "since_id" not in call["query"] and "start_time" in call["query"]  # a first walk reads back a day


def test_the_next_run_asks_with_since_id_and_adds_only_new_posts(fake):
    first = fake.post(HANAKO, "うつわ屋の配送、今回も早かった")
    poll()
    later = fake.post(KENTA, "うつわ屋から届いた箱が潰れてた")
    assert poll() == {SOURCE: 1}
    second = fake.calls("/2/tweets/search/recent")[-1]
    assert second["query"]["since_id"] == first["id"] and "start_time" not in second["query"]
    assert ListeningPost.objects.count() == 2
    poll()
    assert fake.calls("/2/tweets/search/recent")[-1]["query"]["since_id"] == later["id"]
    assert ListeningPost.objects.count() == 2


def test_a_walk_over_pages_reads_them_all_and_keeps_its_newest_id(fake):
    fake.page_size = 2
    made = [fake.post(HANAKO, f"うつわ屋 の話 その{n}") for n in range(5)]
    assert poll() == {SOURCE: 5}
    tokens = [c["query"].get("next_token") for c in fake.calls("/2/tweets/search/recent")]
    assert tokens == [None, "p2", "p4"]
    poll()
    assert fake.calls("/2/tweets/search/recent")[-1]["query"]["since_id"] == made[-1]["id"]


def test_a_rate_limit_waits_for_the_reset_and_keeps_the_pages_read(fake):
    fake.page_size = 2
    for n in range(4):
        fake.post(HANAKO, f"うつわ屋 投稿{n}")
    fake.answers["search"] = [None, rate_limited(seconds=600)]
    assert poll() == {SOURCE: 2}  # the first page is kept
    cursor = XCursor.objects.get(stream=Stream.SEARCH)
    assert cursor.wait_until is not None and cursor.wait_until > timezone.now() + dt.timedelta(minutes=9)
    assert cursor.next_token == "p2"
    asked = len(fake.calls("/2/tweets/search/recent"))
    assert poll() == {SOURCE: 0}  # skipped until the reset: X is not asked
    assert len(fake.calls("/2/tweets/search/recent")) == asked
    XCursor.objects.filter(pk=cursor.pk).update(wait_until=timezone.now() - dt.timedelta(seconds=1))
    assert poll() == {SOURCE: 2}  # the walk resumes at its next page
    assert fake.calls("/2/tweets/search/recent")[-1]["query"]["next_token"] == "p2"
    assert ListeningPost.objects.count() == 4


def test_an_empty_query_turns_the_search_off(fake, settings):
    settings.X_LISTENING_QUERY = ""
    fake.post(HANAKO, "うつわ屋")
    assert poll() == {SOURCE: 0}
    assert fake.calls("/2/tweets/search/recent") == []
