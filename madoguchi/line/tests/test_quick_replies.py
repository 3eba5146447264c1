"""Quick-reply buttons from templates on LINE replies: the template holds the labels, a reply
written from it on a LINE case carries them (reply token or push), and the editor keeps to
LINE's limits."""

from __future__ import annotations

from typing import Any

import pytest

from madoguchi.cases.models import Case
from madoguchi.knowledge.models import ReplyTemplate
from madoguchi.line.models import LineOutbound, OutboundState
from madoguchi.line.tests.conftest import deliver, text
from madoguchi.testing.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def template() -> ReplyTemplate:
    return ReplyTemplate.objects.create(name="返品か交換か", body="返品と交換のどちらをご希望ですか。",
                                        quick_replies="返品したい\n交換したい\n\n交換したい\nまだ決めていない")


def buttons(entry: dict[str, Any]) -> list[tuple[str, str]]:
    items = entry["json"]["messages"][0].get("quickReply", {}).get("items", [])
    return [(item["action"]["label"], item["action"]["text"]) for item in items]


def reply(client: Any, capture: Any, case: Case, template: ReplyTemplate | None) -> Any:
    data = {"re-body": "返品と交換のどちらをご希望ですか。"}
    if template is not None:
        data["re-macro"] = str(template.pk)
    with capture(execute=True):
        return client.post(f"/cases/{case.pk}/reply/", data)


@pytest.mark.parametrize("seconds_ago", [0, 600], ids=["reply token", "push"])
def test_a_reply_from_a_template_reaches_line_with_its_quick_reply_buttons(
        client, fake, django_capture_on_commit_callbacks, template, seconds_ago):
    deliver(client, django_capture_on_commit_callbacks, text("Q1", "割れていました", seconds_ago=seconds_ago))
    case = Case.objects.get()
    client.force_login(UserFactory())
    response = reply(client, django_capture_on_commit_callbacks, case, template)
    assert response.status_code == 302
    [sent] = fake.delivered
    assert sent["path"] == ("/v2/bot/message/reply" if seconds_ago == 0 else "/v2/bot/message/push")
    assert buttons(sent) == [("返品したい", "返品したい"), ("交換したい", "交換したい"), ("まだ決めていない", "まだ決めていない")]
    row = LineOutbound.objects.get()
    assert row.state == OutboundState.SENT and row.quick_replies == ["返品したい", "交換したい", "まだ決めていない"]
    page = client.get(f"/cases/{case.pk}/").content.decode()
    assert 'data-testid="line-quick-replies"' in page and "返品したい｜交換したい" in page
    assert "LINEのクイックリプライ" in page  # what the template did, told to the agent


def test_a_reply_without_a_template_has_no_buttons(client, fake, django_capture_on_commit_callbacks):
    deliver(client, django_capture_on_commit_callbacks, text("Q1", "割れていました"))
    client.force_login(UserFactory())
    reply(client, django_capture_on_commit_callbacks, Case.objects.get(), None)
    [sent] = fake.delivered
    assert "quickReply" not in sent["json"]["messages"][0]


def test_the_buttons_stay_on_a_retry(client, fake, django_capture_on_commit_callbacks, template):
    import datetime as dt

    from madoguchi.line import outbound
    from madoguchi.testing.fake_line import Answer

    deliver(client, django_capture_on_commit_callbacks, text("Q1", "割れていました", seconds_ago=600))
    fake.push_answers.append(Answer(500))
    client.force_login(UserFactory())
    reply(client, django_capture_on_commit_callbacks, Case.objects.get(), template)
    row = LineOutbound.objects.get()
    assert row.state == OutboundState.PENDING
    outbound.send(row.pk, now=row.next_attempt_at + dt.timedelta(seconds=1))
    [sent] = fake.delivered
    assert [label for label, _text in buttons(sent)] == ["返品したい", "交換したい", "まだ決めていない"]


@pytest.mark.parametrize(("labels", "message"), [
    ("\n".join(f"選択肢{n}" for n in range(14)), "13個までです"),
    ("とても長いボタンの文言はLINEでは切れてしまいます", "20文字までです"),
])
def test_the_template_editor_keeps_to_lines_limits(client, labels, message):
    client.force_login(UserFactory())
    response = client.post("/knowledge/templates/new/", {
        "name": "選んでください", "kind": "body", "body": "どれになさいますか。", "position": 0, "scope": "personal",
        "quick_replies": labels})
    assert response.status_code == 400 and message in response.content.decode()
    assert not ReplyTemplate.objects.filter(name="選んでください").exists()
    ok = client.post("/knowledge/templates/new/", {
        "name": "選んでください", "kind": "body", "body": "どれになさいますか。", "position": 0, "scope": "personal",
        "quick_replies": " 返品したい \n\n交換したい"})
    assert ok.status_code == 302
    assert ReplyTemplate.objects.get(name="選んでください").quick_replies == "返品したい\n交換したい"
