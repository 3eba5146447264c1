"""The CSV exports (issue 22 item 10): what a Japanese shop's team opens in Excel: UTF-8 with a
BOM, Japanese headers, times in JST, formulas defused; each role gets only what its pages show;
every file is in the access log; bad filters are a Japanese message; the number of queries does
not grow with the rows."""

from __future__ import annotations

import csv
import datetime as dt
import io
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from madoguchi.accounts.models import AccessEvent, AccessKind, Role
from madoguchi.cases.models import (
    Commitment,
    CommitmentState,
    Compensation,
    CompensationKind,
    CompensationState,
    Status,
)
from madoguchi.customers.models import IdentityKind
from madoguchi.testing.factories import (
    CaseFactory,
    CommitmentFactory,
    CustomerFactory,
    IdentityFactory,
    TeamFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db
UTC = dt.UTC
JST = ZoneInfo("Asia/Tokyo")


@pytest.fixture
def staff():
    lead = UserFactory(username="sato", display_name="佐藤 花子", role=Role.LEAD)
    team = TeamFactory(name="お客様サポート課", lead=lead)
    lead.team = team
    lead.save()
    other_lead = UserFactory(username="kato", display_name="加藤 次郎", role=Role.LEAD)
    other_team = TeamFactory(name="法人窓口課", lead=other_lead)
    agent = UserFactory(username="tanaka", display_name="田中 健太", team=team)
    admin = UserFactory(username="suzuki", display_name="鈴木 一郎", role=Role.ADMIN)
    return {"lead": lead, "team": team, "other_lead": other_lead, "other_team": other_team, "agent": agent,
            "admin": admin}


def download(client, url):
    response = client.get(url)
    assert response.status_code == 200, response.content[:500]
    raw = b"".join(response.streaming_content)
    return response, raw, list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline="")))


def test_cases_csv_opens_in_excel_as_japanese_with_jst_times(client, staff):
    case = CaseFactory(subject="割れたマグカップが届きました", assignee=staff["agent"], team=staff["team"],
                       received_at=dt.datetime(2026, 4, 1, 15, 30, tzinfo=UTC))
    client.force_login(staff["agent"])
    response, raw, rows = download(client, "/exports/cases/csv/")
    assert raw.startswith(b"\xef\xbb\xbf")  # the BOM: Excel reads UTF-8
    assert b"\r\n" in raw
    assert response["Content-Type"].startswith("text/csv")
    assert response["Cache-Control"] == "no-store"
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment;") and "cases-" in disposition and disposition.endswith(".csv")
    assert rows[0][:5] == ["案件番号", "件名", "状態", "優先度", "分類"]
    assert "受付日時" in rows[0]
    row = dict(zip(rows[0], rows[1], strict=True))
    assert row["案件番号"] == str(case.pk) and row["件名"] == "割れたマグカップが届きました"
    assert row["受付日時"] == "2026/04/02 00:30"  # 15:30 UTC is half past midnight in Tokyo
    assert row["担当者"] == "田中 健太" and row["チーム"] == "お客様サポート課" and row["状態"] == "新規"
    assert "荷物受付" in row["クレームの内容"]


@pytest.mark.parametrize("text", ["=HYPERLINK(\"http://evil.example/\",\"詳細\")", "+81 90 1234 5678", "-1+2", "@SUM(A1)",
                                  "\t=1+1"])
def test_cells_that_would_be_formulas_are_quoted(client, staff, text):
    CaseFactory(subject=text, complaint=text)
    client.force_login(staff["agent"])
    _response, _raw, rows = download(client, "/exports/cases/csv/")
    row = dict(zip(rows[0], rows[1], strict=True))
    assert row["件名"] == "'" + text and row["クレームの内容"] == "'" + text


def test_the_inbox_queue_and_filters_narrow_the_file(client, staff):
    mine = CaseFactory(subject="私の案件", assignee=staff["agent"], status=Status.OPEN)
    CaseFactory(subject="他人の案件", assignee=staff["lead"], status=Status.OPEN)
    CaseFactory(subject="私の解決済み", assignee=staff["agent"], status=Status.RESOLVED)
    client.force_login(staff["agent"])
    _r, _raw, rows = download(client, "/exports/cases/csv/?queue=mine")
    assert [row[1] for row in rows[1:]] == ["私の案件"]
    _r, _raw, rows = download(client, f"/exports/cases/csv/?assignee={staff['agent'].pk}&status=resolved")
    assert [row[1] for row in rows[1:]] == ["私の解決済み"]
    # The inbox links its CSV with the queue and filters on screen.
    page = client.get("/?queue=mine&status=open").content.decode()
    assert "/exports/cases/csv/?queue=mine&amp;status=open" in page
    assert mine.subject in page


def test_the_period_is_read_in_the_shops_days(client, staff):
    CaseFactory(subject="3月31日の深夜", received_at=dt.datetime(2026, 3, 31, 23, 30, tzinfo=JST))
    CaseFactory(subject="4月1日の朝", received_at=dt.datetime(2026, 4, 1, 0, 10, tzinfo=JST))  # 3/31 15:10 UTC
    CaseFactory(subject="4月2日", received_at=dt.datetime(2026, 4, 2, 9, 0, tzinfo=JST))
    client.force_login(staff["agent"])
    _r, _raw, rows = download(client, "/exports/cases/csv/?date_from=2026-04-01&date_to=2026/04/01")
    assert [row[1] for row in rows[1:]] == ["4月1日の朝"]


@pytest.mark.parametrize("query, message", [
    ("date_from=2026-13-45", "日付は 2026-04-01 のように入力してください。"),
    ("date_from=2026-04-02&date_to=2026-04-01", "「から」の日付は「まで」の日付以前にしてください。"),
    ("status=%3Cscript%3E", "選べない値です。一覧から選んでください。"),
    ("queue=everything", "選べない値です。一覧から選んでください。"),
    ("assignee=%EF%BC%91%EF%BC%92%EF%BC%93abc", "選べない値です。一覧から選んでください。"),
    ("date_from=2026-01-01&date_to=9999-12-31", "期間は10年以内にしてください。"),
])
def test_bad_filters_are_a_japanese_message_and_no_file(client, staff, query, message):
    client.force_login(staff["agent"])
    response = client.get(f"/exports/cases/csv/?{query}")
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")
    assert message in response.content.decode()
    assert not AccessEvent.objects.filter(kind=AccessKind.EXPORT).exists()
    listed = client.get(f"/exports/cases/?{query}")
    assert listed.status_code == 200 and message in listed.content.decode()


def test_an_agent_gets_cases_and_promises_but_not_customers_or_the_ledger(client, staff):
    client.force_login(staff["agent"])
    for code in ("customers", "compensations"):
        assert client.get(f"/exports/{code}/csv/").status_code == 403
        assert client.get(f"/exports/{code}/").status_code == 403
    for code in ("cases", "promises"):
        assert client.get(f"/exports/{code}/csv/").status_code == 200
    index = client.get("/exports/").content.decode()
    assert "/exports/cases/" in index and "/exports/customers/" not in index
    assert client.get("/exports/nothing/csv/").status_code == 404


def _compensation(case, requester, approver, state, amount, reason, note=""):
    return Compensation.objects.create(
        case=case, kind=CompensationKind.COUPON, amount_yen=amount, reason=reason, state=state,
        requested_by=requester, approved_by=approver, decision_note=note,
        decided_at=None if state == CompensationState.PENDING else dt.datetime(2026, 5, 1, 1, 0, tzinfo=UTC))


def test_the_ledger_is_the_leads_team_and_everything_for_an_admin(client, staff):
    ours = CaseFactory(subject="配送遅延のお詫び", team=staff["team"])
    theirs = CaseFactory(subject="法人のお客様", team=staff["other_team"])
    _compensation(ours, staff["agent"], staff["agent"], CompensationState.GRANTED, 500, "お詫びのクーポン")
    _compensation(ours, staff["agent"], staff["lead"], CompensationState.GRANTED, 8000, "全額返金に相当", "写真で破損を確認")
    _compensation(ours, staff["agent"], None, CompensationState.PENDING, 12000, "交換と送料")
    _compensation(theirs, staff["other_lead"], staff["admin"], CompensationState.REJECTED, 30000, "過大な要求")
    client.force_login(staff["lead"])
    _r, raw, rows = download(client, "/exports/compensations/csv/")
    assert raw.startswith(b"\xef\xbb\xbf")
    header = rows[0]
    assert header[:6] == ["補償番号", "案件番号", "件名", "お客様", "種類", "金額（円）"]
    found = [dict(zip(header, row, strict=True)) for row in rows[1:]]
    assert {row["件名"] for row in found} == {"配送遅延のお詫び"}  # not the other team's
    by_amount = {row["金額（円）"]: row for row in found}
    assert by_amount["500"]["承認"] == "権限内（承認不要）" and by_amount["500"]["判断した人"] == "田中 健太"
    assert by_amount["8000"]["承認"] == "承認済み" and by_amount["8000"]["判断した人"] == "佐藤 花子"
    assert by_amount["8000"]["判断日時"] == "2026/05/01 10:00" and by_amount["8000"]["判断のメモ"] == "写真で破損を確認"
    assert by_amount["12000"]["状態"] == "承認待ち" and by_amount["12000"]["判断した人"] == ""
    client.force_login(staff["admin"])
    _r, _raw, rows = download(client, "/exports/compensations/csv/?state=rejected")
    assert [row[2] for row in rows[1:]] == ["法人のお客様"]
    assert dict(zip(rows[0], rows[1], strict=True))["承認"] == "却下"


def test_promises_with_due_time_state_and_overdue_mark(client, staff):
    case = CaseFactory(subject="返金の確認")
    CommitmentFactory(case=case, description="経理に確認し、返金日をお知らせする", owner=staff["agent"],
                      due_at=dt.datetime(2026, 1, 5, 9, 0, tzinfo=UTC), created_by=staff["lead"])
    CommitmentFactory(case=case, description="代替品を発送する", department="物流部", state=CommitmentState.KEPT,
                      due_at=dt.datetime(2099, 1, 1, 0, 0, tzinfo=UTC))
    client.force_login(staff["agent"])
    _r, _raw, rows = download(client, "/exports/promises/csv/")
    found = {row[4]: dict(zip(rows[0], row, strict=True)) for row in rows[1:]}
    late = found["経理に確認し、返金日をお知らせする"]
    assert late["期限"] == "2026/01/05 18:00" and late["状態"] == "未完了" and late["期限超過"] == "超過"
    assert late["担当者"] == "田中 健太" and late["登録した人"] == "佐藤 花子" and late["件名"] == "返金の確認"
    kept = found["代替品を発送する"]
    assert kept["状態"] == "守った" and kept["期限超過"] == "" and kept["担当部署"] == "物流部"
    _r, _raw, rows = download(client, "/exports/promises/csv/?state=kept")
    assert [row[4] for row in rows[1:]] == ["代替品を発送する"]


def test_customers_with_first_email_and_phone_and_not_merged_records(client, staff):
    yamada = CustomerFactory(name="山田 太郎", kana="ヤマダ タロウ")
    IdentityFactory(customer=yamada, kind=IdentityKind.EMAIL, value="yamada@example.jp")
    IdentityFactory(customer=yamada, kind=IdentityKind.PHONE, value="09012345678")
    CustomerFactory(name="古い記録", merged_into=yamada)
    client.force_login(staff["lead"])
    _r, _raw, rows = download(client, "/exports/customers/csv/")
    assert rows[0] == ["お客様番号", "お名前", "フリガナ", "メール", "電話", "お名前の確認", "登録日時"]
    found = [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]
    assert [row["お名前"] for row in found] == ["山田 太郎"]
    assert found[0]["メール"] == "yamada@example.jp" and found[0]["電話"] == "090-1234-5678"
    assert found[0]["お名前の確認"] == "未確認"


def test_every_file_is_in_the_access_log_with_its_filters(client, staff):
    client.force_login(staff["lead"])
    download(client, "/exports/cases/csv/?queue=team&status=open&date_from=2026-04-01")
    download(client, "/exports/customers/csv/")
    events = list(AccessEvent.objects.filter(kind=AccessKind.EXPORT).order_by("id"))
    assert [event.actor for event in events] == [staff["lead"], staff["lead"]]
    assert events[0].detail == "案件の CSV（キュー: チームの案件、状態: 対応中、から: 2026-04-01）"
    assert events[1].detail == "お客様の CSV（絞り込みなし）"
    assert events[0].username == "sato"


@pytest.mark.parametrize("code, query", [("cases", ""), ("cases", "queue=mine"), ("customers", ""),
                                         ("compensations", ""), ("promises", "state=open")])
def test_the_number_of_queries_does_not_grow_with_the_rows(client, staff, code, query):
    client.force_login(staff["admin"])

    def add_rows(n):
        for _ in range(n):
            customer = CustomerFactory()
            IdentityFactory(customer=customer)
            case = CaseFactory(customer=customer, assignee=staff["admin"], team=staff["team"])
            CommitmentFactory(case=case, owner=staff["agent"], created_by=staff["lead"])
            _compensation(case, staff["agent"], staff["lead"], CompensationState.GRANTED, 1000, "お詫び")

    def count():
        with CaptureQueriesContext(connection) as queries:
            _r, _raw, rows = download(client, f"/exports/{code}/csv/?{query}")
        return len(queries), len(rows)

    count()  # the first request of a session reads what later ones have cached
    add_rows(2)
    few, few_rows = count()
    add_rows(25)
    many, many_rows = count()
    assert many_rows == few_rows + 25
    assert many == few


def test_the_list_page_shows_the_rows_and_links_the_same_csv(client, staff):
    for n in range(55):
        CaseFactory(subject=f"問い合わせ{n:02d}", status=Status.OPEN)
    client.force_login(staff["agent"])
    response = client.get("/exports/cases/?status=open")
    page = response.content.decode()
    assert response.status_code == 200
    assert "問い合わせ54" in page and "問い合わせ04" not in page  # newest first, 50 a page
    assert 'href="/exports/cases/csv/?status=open"' in page
    cursor = page.split("cursor=")[1].split('"')[0]
    second = client.get(f"/exports/cases/?status=open&cursor={cursor}").content.decode()
    assert "問い合わせ04" in second and "問い合わせ05" not in second
    assert not Commitment.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_under_asgi_the_file_is_streamed_in_batches_not_read_whole(staff, monkeypatch):
    """Django reads a synchronous streaming body whole before sending it under ASGI (which
    `madoguchi serve` is); the export hands it an asynchronous one, a batch of lines at a time."""
    from asgiref.sync import async_to_sync
    from django.test import AsyncClient

    from madoguchi.exports import csvfile

    monkeypatch.setattr(csvfile, "BATCH_LINES", 2)
    for n in range(5):
        CaseFactory(subject=f"非同期{n}")

    async def fetch():
        client = AsyncClient()
        await client.aforce_login(staff["agent"])
        response = await client.get("/exports/cases/csv/")
        assert response.is_async
        return [chunk async for chunk in response.streaming_content]

    chunks = async_to_sync(fetch)()
    assert len(chunks) == 3  # BOM + header + 5 rows, two lines a batch
    rows = list(csv.reader(io.StringIO(b"".join(chunks).decode("utf-8-sig"), newline="")))
    assert [row[1] for row in rows[1:]] == [f"非同期{n}" for n in (4, 3, 2, 1, 0)]
