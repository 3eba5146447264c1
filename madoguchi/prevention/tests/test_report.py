"""Countermeasures and their report on generated data: a cluster of delivery complaints about
one carrier with a known drop after the fix is reported as a drop more than chance, with none
it says so; the window not yet full is recomputed; the report page, its chart and its PDF
(page 1 rendered to PNG with pdftoppm and looked at); leads and admins record countermeasures,
settings-audited."""

from __future__ import annotations

import datetime as dt
import io
import os
import subprocess
from typing import Any

import pypdf
import pytest
from django.utils import timezone

from madoguchi.accounts.models import AccessEvent, AccessKind, SettingsChange
from madoguchi.cases.services import CaseError
from madoguchi.conftest import ARTIFACTS
from madoguchi.prevention import services
from madoguchi.prevention.effect import Verdict
from madoguchi.prevention.models import CaseRootCause, Countermeasure
from madoguchi.prevention.tests.conftest import FIX_DAYS_AGO, generate
from madoguchi.shop.models import Carrier
from madoguchi.testing.factories import category

pytestmark = pytest.mark.django_db


def measure(people: dict[str, Any], fix: dt.date, **fields: Any) -> Countermeasure:
    return Countermeasure.objects.create(
        title="佐川急便の置き配をやめ、対面受け取りに変更", cause="carrier", cause_note="雨の日も置き配にされていた",
        detail="配送設定で置き配を不可にし、佐川急便の担当営業所に連絡した。", done_by=people["lead"], done_on=fix,
        category=category("delivery"), carrier=Carrier.SAGAWA, **fields)


def test_a_known_drop_in_generated_cases_is_reported_per_thousand_orders(people: dict[str, Any]) -> None:
    fix = timezone.localdate() - dt.timedelta(days=FIX_DAYS_AGO)
    generate(fix, before=36, after=9)
    generate(fix, before=5, after=5, carrier=Carrier.YAMATO, seed=2)  # another carrier: not in scope
    countermeasure = measure(people, fix)
    effect = services.effect_of(countermeasure)
    assert (effect.before.cases, effect.after.cases) == (36, 9)
    assert effect.per_orders and effect.before.orders == effect.after.orders == 28 * 40
    assert effect.before.rate == pytest.approx(36 / 1120 * 1000)
    assert effect.full and effect.verdict == Verdict.DROP and effect.high is not None and effect.high < 1
    assert "偶然では説明しにくい減少" in effect.statement()


def test_no_drop_in_generated_cases_says_it_cannot_be_told_from_chance(people: dict[str, Any]) -> None:
    fix = timezone.localdate() - dt.timedelta(days=FIX_DAYS_AGO)
    generate(fix, before=20, after=18)
    effect = services.effect_of(measure(people, fix))
    assert effect.verdict == Verdict.NO_CHANGE
    assert "減ったとは言えません" in effect.statement()


def test_a_fix_ten_days_ago_compares_ten_days_each_side_until_the_window_is_full(people: dict[str, Any]) -> None:
    fix = timezone.localdate() - dt.timedelta(days=10)
    generate(fix, before=40, after=4, days=28)
    countermeasure = measure(people, fix)
    effect = services.effect_of(countermeasure)
    assert not effect.full and effect.before.days == effect.after.days == 10
    assert effect.before.start == fix - dt.timedelta(days=10)
    assert "28日のうち10日" in effect.statement()
    later = services.effect_of(countermeasure, today=fix + dt.timedelta(days=40))
    assert later.full and later.before.days == 28


def test_the_report_page_shows_the_cases_the_cause_the_fix_and_the_chart(client: Any, people: dict[str, Any]) -> None:
    fix = timezone.localdate() - dt.timedelta(days=FIX_DAYS_AGO)
    generate(fix, before=36, after=9)
    countermeasure = measure(people, fix)
    behind = services.scope_cases(countermeasure).filter(received_at__lt=services.day_start(fix)).order_by("pk")
    CaseRootCause.objects.create(case=behind[0], cause="carrier")
    client.force_login(people["agent"])  # every staff member reads reports
    page = client.get(f"/prevention/{countermeasure.pk}/").content.decode()
    assert "再発防止報告書" in page and "佐川急便の置き配をやめ" in page and "配送業者" in page
    assert "雨の日も置き配にされていた" in page and "佐藤 リーダー" in page
    assert "偶然では説明しにくい減少" in page
    assert 'data-testid="before-after-chart"' in page and page.count("<rect") >= 8 and "対策日" in page
    assert "記録された根本原因" in page and "（36件）" in page
    assert "style=" not in page.split('data-testid="before-after-chart"')[1].split("</svg>")[0]  # CSP: no inline style
    assert 'data-testid="new-countermeasure"' not in client.get("/prevention/").content.decode()
    assert client.get("/prevention/new/").status_code == 403


def test_the_pdf_is_produced_with_japanese_text_and_looks_right(client: Any, people: dict[str, Any]) -> None:
    fix = timezone.localdate() - dt.timedelta(days=FIX_DAYS_AGO)
    generate(fix, before=36, after=9)
    countermeasure = measure(people, fix)
    client.force_login(people["lead"])
    response = client.get(f"/prevention/{countermeasure.pk}/pdf/")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert f"prevention-{countermeasure.pk}-" in response["Content-Disposition"]
    reader = pypdf.PdfReader(io.BytesIO(response.content))
    flat = "".join("".join(page.extract_text() for page in reader.pages).split())
    for words in ("再発防止報告書", "佐川急便の置き配をやめ", "根本原因", "配送業者", "偶然では説明しにくい減少", "対策前", "対策後"):
        assert words in flat, words
    fonts = {str(font.get_object()["/BaseFont"]) for page in reader.pages for font in page["/Resources"]["/Font"].values()}
    assert any("Noto-Sans-CJK-JP" in font for font in fonts), fonts
    assert AccessEvent.objects.get(kind=AccessKind.EXPORT).detail == f"再発防止報告書 #{countermeasure.pk} の PDF"
    # Page 1 as an image, kept for a person to look at (test-artifacts/prevention-report-page1.png).
    os.makedirs(ARTIFACTS, exist_ok=True)
    pdf_path = os.path.join(ARTIFACTS, "prevention-report.pdf")
    with open(pdf_path, "wb") as out:
        out.write(response.content)
    subprocess.run(["pdftoppm", "-png", "-r", "80", "-f", "1", "-l", "1", "-singlefile", pdf_path,
                    os.path.join(ARTIFACTS, "prevention-report-page1")], check=True)
    assert os.path.getsize(os.path.join(ARTIFACTS, "prevention-report-page1.png")) > 20_000


def test_leads_record_countermeasures_settings_audited_and_agents_may_not(client: Any, people: dict[str, Any]) -> None:
    fix = timezone.localdate() - dt.timedelta(days=3)
    with pytest.raises(CaseError, match="リーダーと管理者"):
        services.do_save_countermeasure(Countermeasure(title="x", cause="shop", done_on=fix), actor=people["agent"], before=None)
    client.force_login(people["lead"])
    form = {"title": "佐川急便の置き配をやめる", "cause": "carrier", "done_on": fix.isoformat(), "window_days": "28",
            "category": category("delivery").pk, "carrier": Carrier.SAGAWA, "done_by": people["lead"].pk}
    bad = client.post("/prevention/new/", {**form, "done_on": "来週"})
    assert bad.status_code == 400 and "実施日は 2026-12-01 のように入力してください。" in bad.content.decode()
    assert "佐川急便の置き配をやめる" in bad.content.decode()  # nothing typed is lost
    response = client.post("/prevention/new/", form)
    countermeasure = Countermeasure.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/prevention/{countermeasure.pk}/"
    change = SettingsChange.objects.get(object_id=str(countermeasure.pk))
    assert change.actor == people["lead"] and {c["field"] for c in change.changes} >= {"title", "cause", "done_on", "carrier"}
    client.post(f"/prevention/{countermeasure.pk}/edit/", {**form, "title": "佐川急便の置き配を全面的にやめる"})
    latest = SettingsChange.objects.filter(object_id=str(countermeasure.pk)).latest("id")
    assert latest.changes == [{"field": "title", "label": "変えたこと", "old": "佐川急便の置き配をやめる", "new": "佐川急便の置き配を全面的にやめる"}]
    page = client.get(f"/prevention/{countermeasure.pk}/").content.decode()
    assert "対策から7日たっていないため、まだ判断できません。" in page
