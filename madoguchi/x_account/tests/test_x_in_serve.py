"""Through the process users run: `madoguchi serve` (its embedded worker running the scheduled
fetch) with the X settings pointing at a local fake X API v2. X's first answer is a 429: the
desk schedules a fetch for x-rate-limit-reset instead of waiting for its next period, files the
mention as a case of the author's customer, and the agent's public reply, posted over HTTP by a
logged-in agent, reaches the fake API; the next scheduled fetch asks with since_id and files a
DM as its own case."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from madoguchi.testing.desk_process import (
    OPEN_AROUND_THE_CLOCK,
    Browser,
    MailSink,
    ServedDesk,
    wait_for,
)
from madoguchi.testing.fake_x import ACCOUNT_ID, CREDENTIALS, FakeX, rate_limited, user

PASSWORD = "pass-窓口-2026"
HANAKO = user("1111111111111111111", "hanako_tea", "山田 花子")
KENTA = user("2222222222222222222", "kenta_s", "鈴木 健太")
CASES = """
import json
from madoguchi.cases.models import Case
print(json.dumps([[c.pk, c.customer.name, c.subject] for c in Case.objects.filter(channel="x").order_by("pk")]))
"""


@pytest.fixture
def desk_and_x(tmp_path: Path) -> Iterator[tuple[ServedDesk, FakeX]]:
    if os.environ.get("DATABASE_URL", "").startswith("postgres"):
        pytest.skip("the process layout is the same on both databases")
    with MailSink() as sink, FakeX() as fake:
        served = ServedDesk.create(
            tmp_path / "data", f"sqlite:///{tmp_path / 'data' / 'desk.sqlite3'}", sink.port, MADOGUCHI_MAIL_ACK="false",
            MADOGUCHI_X_API_BASE=fake.url, MADOGUCHI_X_FETCH_MINUTES="1", **CREDENTIALS,
        )
        served.shell(OPEN_AROUND_THE_CLOCK + "from madoguchi.accounts.models import User\n"
                     f"User.objects.create_user(username='x1', password={PASSWORD!r}, display_name='佐藤 花子')")
        try:
            yield served, fake  # started by the test, once the fake X has what it answers
        finally:
            served.stop()



@pytest.mark.own_database
def test_serve_fetches_mentions_after_a_rate_limit_and_posts_the_agents_reply(desk_and_x) -> None:
    desk, fake = desk_and_x
    mentions_path = f"/2/users/{ACCOUNT_ID}/mentions"
    post = fake.mention(HANAKO, "@utsuwaya_shop 届いたマグカップの取っ手が割れていました。交換できますか？")
    fake.answers["mentions"] = [rate_limited(8)]
    desk.start()

    # The first scheduled fetch meets the 429; the next request comes at the reset, not a period later.
    wait_for(lambda: fake.calls(mentions_path))
    limited_at = fake.calls(mentions_path)[0]["at"]
    cases = wait_for(lambda: json.loads(desk.shell(CASES)))
    [[case_id, name, subject]] = cases
    assert name == "山田 花子" and subject.startswith("X: @utsuwaya_shop 届いたマグカップ")
    second = fake.calls(mentions_path)[1]
    assert 6 <= second["at"] - limited_at < 40, second["at"] - limited_at  # the reset, not the next minute's run
    assert "since_id" not in second["query"]

    agent = Browser(desk.url, "x1", PASSWORD)
    page = agent.get(f"/cases/{case_id}/")
    assert "届いたマグカップの取っ手が割れていました" in page and 'data-testid="x-reply-options"' in page
    agent.post(f"/cases/{case_id}/reply/", {"re-body": "ご不便をおかけし申し訳ございません。詳しくはDMでお伺いします。",
                                            "re-route": "public"}, form_page=f"/cases/{case_id}/")
    wait_for(lambda: fake.posted, 60)
    [posted] = fake.posted
    assert posted["text"] == "ご不便をおかけし申し訳ございません。詳しくはDMでお伺いします。"
    assert posted["reply"]["in_reply_to_tweet_id"] == post["id"]
    wait_for(lambda: "送信済み" in agent.get(f"/cases/{case_id}/"), 30)

    # The next scheduled fetch (a period later) asks only for newer mentions and reads the DMs.
    fake.dm(KENTA, "注文した湯のみがまだ届きません。")
    cases = wait_for(lambda: len(found := json.loads(desk.shell(CASES))) == 2 and found, 150)
    assert cases[1][1] == "鈴木 健太" and cases[1][2].startswith("X DM: 注文した湯のみ")
    assert fake.calls(mentions_path)[-1]["query"]["since_id"] == post["id"]
