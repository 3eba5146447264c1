"""End to end in headless Chromium: posts imported from a file are triaged in the queue; an
agent filters the complaints, sees the spike the import flagged, and turns a post into a case
whose customer holds the author's X handle."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.utils import timezone

from madoguchi.conftest import login, screenshot
from madoguchi.customers.models import Identity, IdentityKind
from madoguchi.listening.importer import do_import_file
from madoguchi.listening.models import ListeningPost, PostState
from madoguchi.listening.tests import samples
from madoguchi.testing.factories import UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True),
              pytest.mark.usefixtures("shop_open", "starter_model")]


def test_an_agent_filters_complaints_sees_the_spike_and_turns_a_post_into_a_case(new_page) -> None:
    UserFactory(username="tanaka", display_name="田中 健太")
    start = timezone.now() - dt.timedelta(minutes=40)
    rows = list(samples.posts(60, start=start - dt.timedelta(days=1)))
    for number, row in enumerate(rows[-12:]):
        row["text"] = f"注文した急須がまだ届かない。{3 + number}日も待ってるんだけど😡 ＃窓口茶舗"
        row["posted_at"] = (start + dt.timedelta(minutes=3 * number)).isoformat()
    for row in rows[:-12]:
        row["posted_at"] = row["posted_at"] + "+09:00"
    rows[-1]["author"], rows[-1]["author_name"], rows[-1]["platform"] = "@Hanako_Tea", "はなこ🍵", "X"
    _run, summary = do_import_file(io.BytesIO(samples.csv_file(rows)), file_name="listening.csv")
    assert summary is not None and summary.created == 60

    page = new_page()
    login(page, "tanaka")
    page.goto("/listening/")
    assert "「配送」への苦情の投稿: この1時間に 12 件" in page.locator("[data-testid=spikes]").inner_text()
    page.click("[data-testid=kind-tabs] a[data-kind=complaint]")
    page.wait_for_url("**kind=complaint**")
    kinds = page.locator("[data-testid=post]").evaluate_all("rows => rows.map(r => r.dataset.kind)")
    assert kinds and set(kinds) == {"complaint"}
    assert len(kinds) == ListeningPost.objects.filter(kind="complaint", state=PostState.NEW).count()
    screenshot(page, "listening-queue-complaints")

    newest = page.locator("[data-testid=post]").first
    assert "@Hanako_Tea" in newest.inner_text()
    newest.locator("[data-testid=turn-into-case]").click()
    page.wait_for_url("**/cases/*/")
    assert "注文した急須がまだ届かない" in page.locator("body").inner_text()
    screenshot(page, "listening-post-became-case")

    post = ListeningPost.objects.get(post_id=rows[-1]["id"])
    assert post.state == PostState.CASE and post.case is not None
    assert Identity.objects.get(kind=IdentityKind.X, value="hanako_tea").customer == post.case.customer
    page.goto("/listening/?kind=complaint")
    assert page.locator(f"[data-post='{post.pk}']").count() == 0  # handled: no longer in the new queue
