"""The printable case and its PDF: the whole timeline (messages, notes, handovers, promises,
compensations, status changes) in JST, Japanese text in the Noto CJK font, in the access log."""

from __future__ import annotations

import datetime as dt
import io

import pypdf
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from madoguchi.accounts.models import AccessEvent, AccessKind, Role
from madoguchi.cases import services
from madoguchi.cases.models import Channel, CompensationKind, InteractionKind, Status
from madoguchi.testing.factories import CaseFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def story():
    lead = UserFactory(username="sato", display_name="佐藤 花子", role=Role.LEAD)
    team = TeamFactory(name="お客様サポート課", lead=lead)
    agent = UserFactory(username="tanaka", display_name="田中 健太", team=team)
    case = CaseFactory(subject="割れたマグカップの交換", team=team, assignee=agent,
                       received_at=dt.datetime(2026, 4, 1, 1, 0, tzinfo=dt.UTC),
                       complaint="届いたマグカップの取っ手が割れていました。交換してください。")
    services.do_add_interaction(case, actor=None, kind=InteractionKind.INBOUND, channel=Channel.EMAIL,
                                body="写真を添付します。箱もへこんでいました。")
    services.do_add_interaction(case, actor=agent, kind=InteractionKind.NOTE, channel=Channel.OTHER,
                                body="配送中の破損と思われる。物流部に確認。")
    services.do_send_reply(case, actor=agent, body="山田様\nご不便をおかけし申し訳ございません。交換品をお送りします。")
    services.do_add_commitment(case, actor=agent, description="交換品を明日までに発送する",
                               due_at=dt.datetime(2099, 4, 2, 9, 0, tzinfo=dt.UTC), department="物流部")
    services.do_request_compensation(case, actor=agent, kind=CompensationKind.COUPON, amount_yen=500,
                                     reason="お詫びのクーポン")
    case.refresh_from_db()
    services.do_update_case(case, actor=agent, expected_version=case.version, changes={"status": Status.RESOLVED})
    return {"case": case, "agent": agent, "lead": lead}


def test_the_printable_page_has_the_whole_timeline(client, story):
    case = story["case"]
    client.force_login(story["agent"])
    client.get(f"/exports/cases/{case.pk}/print/")  # the session's first request reads what later ones cached
    AccessEvent.objects.all().delete()
    with CaptureQueriesContext(connection) as queries:
        response = client.get(f"/exports/cases/{case.pk}/print/")
    page = response.content.decode()
    assert response.status_code == 200
    for text in ("割れたマグカップの交換", "届いたマグカップの取っ手が割れていました", "写真を添付します。", "配送中の破損と思われる",
                 "交換品をお送りします", "交換品を明日までに発送する", "お詫びのクーポン", "500円", "状態を変更",
                 "解決済み", "2026/04/01 10:00", "2099/04/02 18:00", "田中 健太"):
        assert text in page, text
    # by time: the customer's message before the note before the reply
    assert page.index("写真を添付します。") < page.index("配送中の破損") < page.index("交換品をお送りします")
    assert AccessEvent.objects.get(kind=AccessKind.EXPORT).detail == f"案件 #{case.pk} の印刷用ページ"
    # a longer history costs no more queries
    for n in range(10):
        services.do_add_interaction(case, actor=story["agent"], kind=InteractionKind.NOTE, channel=Channel.OTHER,
                                    body=f"追記 {n}")
    with CaptureQueriesContext(connection) as more:
        client.get(f"/exports/cases/{case.pk}/print/")
    assert len(more) == len(queries)


def test_the_pdf_is_a_pdf_with_the_cases_japanese_text_in_noto_cjk(client, story):
    case = story["case"]
    client.force_login(story["lead"])
    response = client.get(f"/exports/cases/{case.pk}/pdf/")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert f"case-{case.pk}-" in response["Content-Disposition"]
    assert response.content.startswith(b"%PDF")
    reader = pypdf.PdfReader(io.BytesIO(response.content))
    text = "".join(page.extract_text() for page in reader.pages)
    flat = "".join(text.split())
    for words in ("割れたマグカップの交換", "写真を添付します。", "交換品を明日までに発送する", "お詫びのクーポン", "解決済み",
                  "2026/04/0110:00"):
        assert words in flat, words
    fonts = {str(font.get_object()["/BaseFont"]) for page in reader.pages
             for font in page["/Resources"]["/Font"].values()}
    assert any("Noto-Sans-CJK-JP" in font for font in fonts), fonts
    assert AccessEvent.objects.get(kind=AccessKind.EXPORT).detail == f"案件 #{case.pk} の PDF"


def test_a_case_that_does_not_exist_is_404_and_not_logged(client, story):
    client.force_login(story["agent"])
    assert client.get("/exports/cases/999999/pdf/").status_code == 404
    assert client.get("/exports/cases/999999/print/").status_code == 404
    assert not AccessEvent.objects.filter(kind=AccessKind.EXPORT).exists()


def test_the_case_page_links_its_print_and_pdf(client, story):
    client.force_login(story["agent"])
    page = client.get(f"/cases/{story['case'].pk}/").content.decode()
    assert f'href="/exports/cases/{story["case"].pk}/print/"' in page
    assert f'href="/exports/cases/{story["case"].pk}/pdf/"' in page


def test_nothing_is_fetched_while_rendering(story, monkeypatch):
    """Customer text cannot make the server fetch a URL (it is escaped, and the fetcher refuses)."""
    from madoguchi.exports import views

    with pytest.raises(ValueError, match="not fetched"):
        views._no_fetching("http://169.254.169.254/latest/meta-data/")
