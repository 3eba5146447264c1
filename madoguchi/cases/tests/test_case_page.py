"""The case page's timeline and change history, which cases.page formats in Python: every
value escaped, line breaks kept, people named as everywhere else."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from madoguchi.cases import services
from madoguchi.testing.factories import (
    CaseFactory,
    CustomerFactory,
    InteractionFactory,
    TeamFactory,
    UserFactory,
    category,
)

pytestmark = pytest.mark.django_db


def page_of(client, case) -> str:
    response = client.get(f"/cases/{case.pk}/")
    assert response.status_code == 200
    return response.content.decode()


def test_timeline_escapes_what_customers_and_agents_wrote_and_keeps_line_breaks(client):
    agent = UserFactory(display_name="佐藤 花子")
    client.force_login(agent)
    case = CaseFactory(customer=CustomerFactory(name="<b>山田</b> 太郎"), assignee=agent)
    InteractionFactory(case=case, kind="inbound", author=None, body="箱が<script>alert(1)</script>潰れて\r\nいました😢")
    InteractionFactory(case=case, kind="note", author=agent, body="倉庫に確認 & 折り返し")
    html = page_of(client, case)
    assert "<script>alert(1)</script>" not in html
    assert "箱が&lt;script&gt;alert(1)&lt;/script&gt;潰れて<br>いました😢" in html
    assert "・ &lt;b&gt;山田&lt;/b&gt; 太郎</div>" in html  # the customer's name on their own message
    assert "担当: 佐藤 花子</div>" in html and "倉庫に確認 &amp; 折り返し" in html


def test_timeline_shows_a_handover_with_both_agents_in_time_order(client):
    team = TeamFactory(name="二次対応チーム")
    first = UserFactory(first_name="一郎", last_name="鈴木", display_name="")
    second = UserFactory(username="tanaka", display_name="", first_name="", last_name="")
    client.force_login(first)
    case = CaseFactory(assignee=first)
    InteractionFactory(case=case, body="最初のお問い合わせ", occurred_at=timezone.now() - dt.timedelta(hours=2))
    services.do_hand_over(case, actor=first, expected_version=case.version, note="返金の判断を\nお願いします", to_user=second)
    case.refresh_from_db()
    services.do_hand_over(case, actor=second, expected_version=case.version, note="チームへ", to_team=team)
    html = page_of(client, case)
    assert "一郎 鈴木 → tanaka</div>" in html  # user without a display name: full name, else the login name
    assert "返金の判断を<br>お願いします" in html
    assert "→ 二次対応チーム</div>" in html
    assert html.index("最初のお問い合わせ") < html.index("返金の判断を") < html.index("チームへ")


def test_change_history_names_the_agent_or_the_system(client):
    agent = UserFactory(display_name="高橋 &amp; 共同")
    client.force_login(agent)
    case = services.do_create_case(actor=None, customer=CustomerFactory(), subject="自動で作られた案件", channel="email",
                                   category=category("delivery"), complaint="メールで届いたお問い合わせ")
    services.do_hand_over(case, actor=agent, expected_version=case.version, note="引き継ぎ", to_user=UserFactory())
    html = page_of(client, case)
    history = html[html.index('<ul class="audit">'):]
    assert "システム: " in history
    assert "高橋 &amp;amp; 共同: " in history
