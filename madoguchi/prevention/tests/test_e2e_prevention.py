"""End to end in Chromium: a cluster of delivery complaints about one carrier; on its page
(patterns) the lead records the cluster's root cause, opens one of its cases and records the
case's root cause, records a countermeasure from that case (the cluster, the category, the
carrier and the cause come with it), and reads its report with the before/after chart and the
effect statement; the cluster's page lists it. No CSP violation or console error."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from madoguchi.conftest import login, screenshot
from madoguchi.prevention.models import CaseRootCause, Countermeasure
from madoguchi.prevention.tests.conftest import FIX_DAYS_AGO, cluster_of, generate
from madoguchi.shop.models import Carrier

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_cluster_of_carrier_complaints_a_countermeasure_and_its_report_with_the_chart(new_page: Any, people: dict[str, Any]) -> None:
    fix = timezone.localdate() - dt.timedelta(days=FIX_DAYS_AGO)
    generate(fix, before=36, after=9)
    cluster = cluster_of(Carrier.SAGAWA)
    case = cluster.members.order_by("-received_at").first().case  # on the cluster page's first page
    case.assignee = people["agent"]
    case.team = people["team"]
    case.save()

    page = new_page()
    problems: list[str] = []
    # (The test server speaks no WebSocket: the presence and chat sockets' failures are not ours.)
    page.on("console", lambda message: problems.append(message.text)
            if message.type == "error" and "WebSocket" not in message.text else None)
    login(page, "lead")
    # The cluster's page (patterns): the lead records the cluster's root cause there.
    page.goto(f"/patterns/{cluster.pk}/")
    assert "置き配・濡れる・雨" in page.locator("[data-testid=cluster-title]").inner_text()
    on_cluster = page.locator("[data-testid=cluster-prevention]")
    on_cluster.locator("select[name=cause]").select_option("carrier")
    on_cluster.locator("textarea[name=note]").fill("佐川急便が雨の日も置き配にしている")
    on_cluster.locator("[data-testid=save-cluster-root-cause]").click()
    page.wait_for_url(f"**/patterns/{cluster.pk}/")
    assert "配送業者" in page.locator("[data-testid=cluster-root-cause]").inner_text()
    # One of its cases: the case's own root cause, and a countermeasure from it.
    page.click(f"[data-testid=cluster-cases] a[href='/cases/{case.pk}/']")
    page.wait_for_url(f"**/cases/{case.pk}/")
    panel = page.locator("[data-testid=root-cause-panel]")
    panel.locator("summary").click()  # closed on the case page: the reply stays its one open composer
    panel.locator("select[name=cause]").select_option("carrier")
    panel.locator("textarea[name=note]").fill("雨の日も玄関前に置き配されていた")
    panel.locator("[data-testid=save-root-cause]").click()
    page.wait_for_url(f"**/cases/{case.pk}/#root-cause")
    assert "配送業者" in page.locator("[data-testid=root-cause]").inner_text()
    assert CaseRootCause.objects.get(case=case).cause == "carrier"
    panel.screenshot(path=screenshot(page, "prevention-case-page").replace("case-page", "case-panel"))

    page.click("[data-testid=new-countermeasure-from-case]")
    form = page.locator("[data-testid=countermeasure-form]")
    assert form.locator("select[name=cluster]").input_value() == str(cluster.pk)
    assert form.locator("select[name=carrier]").input_value() == Carrier.SAGAWA
    assert form.locator("select[name=cause]").input_value() == "carrier"
    form.locator("input[name=title]").fill("佐川急便の置き配をやめ、対面受け取りに変更")
    form.locator("textarea[name=detail]").fill("配送設定で置き配を不可にし、担当営業所に雨天時の扱いを確認した。")
    form.locator("input[name=done_on]").fill(fix.isoformat())
    form.locator("select[name=done_by]").select_option(str(people["lead"].pk))
    screenshot(page, "prevention-countermeasure-form")
    form.locator("[data-testid=save-countermeasure]").click()
    countermeasure = Countermeasure.objects.get()
    page.wait_for_url(f"**/prevention/{countermeasure.pk}/")

    report = page.locator("[data-testid=prevention-report]")
    assert "佐川急便の置き配をやめ" in report.locator("[data-testid=report-title]").inner_text()
    statement = page.locator("[data-testid=effect-statement]").inner_text()
    assert "対策前 36件、対策後 9件" in statement and "偶然では説明しにくい減少" in statement
    chart = page.locator("[data-testid=before-after-chart]")
    assert chart.is_visible() and chart.bounding_box()["width"] > 500
    assert chart.locator("rect").count() >= 8  # a bar a week each side, and the legend
    assert page.locator("[data-testid=report-cases] tbody tr").count() == 36
    screenshot(page, "prevention-report")

    page.click("[data-testid=report-cluster]")
    page.wait_for_url(f"**/patterns/{cluster.pk}/")
    assert "佐川急便の置き配をやめ" in page.locator("[data-testid=cluster-prevention]").inner_text()
    assert not problems, problems
