"""The case page shows suggestions the worker ranked when the case arrived (issue 16): no
ranking on the page's request, no request after it, and nothing stale for long."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from madoguchi.jobs.models import PendingWork
from madoguchi.knowledge import suggestions
from madoguchi.knowledge.models import Article, CaseSuggestions
from madoguchi.knowledge.seed import load_sample_articles

pytestmark = pytest.mark.django_db

SUBJECT, COMPLAINT = "荷物がまだ来ない", "先週注文した荷物がまだ届きません。追跡番号で調べても「発送準備中」のままです。"
EXPECTED = "商品が届かない・配送が遅れている場合"


def test_the_worker_ranks_a_new_case_and_the_page_shows_them_without_asking_again(
    client: Any, agent: Any, make_case: Any, django_capture_on_commit_callbacks: Any, huey_immediate: None
) -> None:
    load_sample_articles()
    with django_capture_on_commit_callbacks(execute=True):  # the commit hands the work to the worker
        case = make_case(SUBJECT, COMPLAINT)
    stored = CaseSuggestions.objects.get(case=case)
    assert Article.objects.get(pk=stored.articles[0]).title == EXPECTED
    client.force_login(agent)
    page = client.get(f"/cases/{case.pk}/").content.decode()
    assert EXPECTED in page and "data-kb-insert" in page
    assert "/suggestions/" not in page  # no htmx request after the page
    assert 'hx-trigger="load"' not in page  # nor for the side panels or the reply tools
    assert "kb-reply-data" in page and 'id="customer-panel"' in page


def test_a_case_never_ranked_is_ranked_once_by_its_fragment_then_read(client: Any, agent: Any, make_case: Any) -> None:
    load_sample_articles()
    case = make_case(SUBJECT, COMPLAINT)  # no commit: the worker never saw it (a case from before this feature)
    client.force_login(agent)
    assert f'hx-get="/knowledge/cases/{case.pk}/suggestions/"' in client.get(f"/cases/{case.pk}/").content.decode()
    assert EXPECTED in client.get(f"/knowledge/cases/{case.pk}/suggestions/").content.decode()
    page = client.get(f"/cases/{case.pk}/").content.decode()
    assert EXPECTED in page and "/suggestions/" not in page


def test_a_changed_article_set_or_complaint_is_ranked_again_by_the_worker(
    client: Any, agent: Any, make_case: Any, django_capture_on_commit_callbacks: Any
) -> None:
    load_sample_articles()
    case = make_case(SUBJECT, COMPLAINT)
    suggestions.do_refresh(case)
    PendingWork.objects.all().delete()  # what creating the case left for the worker: done above
    client.force_login(agent)
    client.get(f"/cases/{case.pk}/")
    assert not PendingWork.objects.filter(key=suggestions.SUGGEST_WORK).exists()  # fresh: nothing to do

    article = Article.objects.get(title=EXPECTED)
    article.save()  # edited: the ranking was made against an older text
    page = client.get(f"/cases/{case.pk}/").content.decode()
    assert EXPECTED in page  # shown meanwhile
    assert PendingWork.objects.filter(key=suggestions.SUGGEST_WORK).exists()  # and asked again

    case.complaint = "メルマガのクーポンコードを入れてもエラーになって使えません。"
    case.subject = "クーポンが使えない"
    case.save()
    suggestions.refresh_cases([case.pk])  # what the worker does with that work
    stored = CaseSuggestions.objects.get(case=case)
    assert Article.objects.get(pk=stored.articles[0]).title == "クーポンが使えない場合"


def test_the_case_page_costs_the_same_statements_with_stored_suggestions_for_any_complaint(
    client: Any, agent: Any, make_case: Any
) -> None:
    load_sample_articles()
    short = make_case("届かない", "荷物が届きません。")
    long = make_case("ケトルの不具合と配送と請求の件", "電気ケトルの箱が潰れていて取っ手が割れていました。" * 5
                     + "同じ注文で二回引き落とされています。クーポンコードも使えませんでした。")
    for case in (short, long):
        suggestions.do_refresh(case)
    client.force_login(agent)
    client.get(f"/cases/{short.pk}/")  # session and caches warm
    counts = []
    for case in (short, long):
        with CaptureQueriesContext(connection) as captured:
            client.get(f"/cases/{case.pk}/")
        counts.append(len(captured))
    assert counts[0] == counts[1], counts
