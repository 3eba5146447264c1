"""End to end in Chromium (issue 22, item 10): an agent filters the inbox and downloads those
cases as CSV; a lead opens the compensation ledger from the approvals page and downloads it; the
case page's PDF link gives a PDF of the case."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pypdf
import pytest

from madoguchi.accounts.models import AccessEvent, AccessKind, Role
from madoguchi.cases.models import Compensation, CompensationKind, CompensationState, Status
from madoguchi.conftest import login, screenshot
from madoguchi.testing.factories import CaseFactory, TeamFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("shop_open")]


@pytest.fixture
def staff():
    lead = UserFactory(username="sato", display_name="佐藤 花子", role=Role.LEAD)
    team = TeamFactory(name="お客様サポート課", lead=lead)
    agent = UserFactory(username="tanaka", display_name="田中 健太", team=team)
    return {"lead": lead, "team": team, "agent": agent}


def _rows(path: str) -> list[list[str]]:
    raw = Path(path).read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline="")))


def test_an_agent_downloads_the_filtered_inbox_and_a_case_pdf(new_page, staff):
    case = CaseFactory(subject="=割れたマグカップ", status=Status.OPEN, assignee=staff["agent"], team=staff["team"])
    CaseFactory(subject="解決した問い合わせ", status=Status.RESOLVED, assignee=staff["agent"], team=staff["team"])
    page = new_page()
    login(page, "tanaka")
    page.goto("/?queue=mine")
    page.select_option("select[name=status]", "open")
    page.click("form.filters button")
    page.wait_for_url("**status=open**")
    with page.expect_download() as info:
        page.click("[data-testid=inbox-csv]")
    download = info.value
    assert download.suggested_filename.startswith("cases-") and download.suggested_filename.endswith(".csv")
    rows = _rows(download.path())
    assert rows[0][:2] == ["案件番号", "件名"]
    assert [row[1] for row in rows[1:]] == ["'=割れたマグカップ"]
    screenshot(page, "e2e-exports-inbox")

    page.goto(f"/cases/{case.pk}/")
    with page.expect_download() as info:
        page.click(".print-links [data-testid=case-pdf]")
    pdf = Path(info.value.path()).read_bytes()
    assert pdf.startswith(b"%PDF")
    text = "".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(pdf)).pages)
    assert "割れたマグカップ" in text
    page.click("[data-testid=case-print]")
    page.wait_for_url(f"**/exports/cases/{case.pk}/print/")
    assert "割れたマグカップ" in page.locator("h1").inner_text()
    screenshot(page, "e2e-exports-case-print")
    assert AccessEvent.objects.filter(kind=AccessKind.EXPORT, actor=staff["agent"]).count() == 3


def test_a_lead_downloads_the_compensation_ledger_from_the_approvals_page(new_page, staff):
    case = CaseFactory(subject="配送遅延のお詫び", team=staff["team"])
    Compensation.objects.create(case=case, kind=CompensationKind.COUPON, amount_yen=800, reason="お詫びのクーポン",
                                state=CompensationState.GRANTED, requested_by=staff["agent"], approved_by=staff["lead"])
    page = new_page()
    login(page, "sato")
    page.goto("/approvals/")
    page.click("[data-testid=ledger]")
    page.wait_for_url("**/exports/compensations/")
    assert "お詫びのクーポン" in page.locator("[data-testid=export-rows]").inner_text()
    page.select_option("#id_state", "granted")
    page.click("[data-testid=export-filters] button")
    page.wait_for_url("**state=granted**")
    with page.expect_download() as info:
        page.click("[data-testid=csv]")
    rows = _rows(info.value.path())
    row = dict(zip(rows[0], rows[1], strict=True))
    assert row["件名"] == "配送遅延のお詫び" and row["金額（円）"] == "800" and row["承認"] == "承認済み"
    assert row["判断した人"] == "佐藤 花子"
    screenshot(page, "e2e-exports-ledger")
