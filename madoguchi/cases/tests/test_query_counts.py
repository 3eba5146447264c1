"""Pages cost the same number of SQL queries whatever the amount of data behind them."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from madoguchi.cases import services
from madoguchi.cases.models import Status
from madoguchi.testing.factories import (
    CaseFactory,
    CommitmentFactory,
    CustomerFactory,
    InteractionFactory,
    OrderFactory,
    TeamFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def count_queries(client, url: str) -> int:
    """Queries of a request in the steady state: after one request that fills the per-process
    lists (filter dropdowns) that a new user or category would have emptied."""
    client.get(url)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured)


def grow_desk(agent, team, cases: int) -> None:
    for n in range(cases):
        case = CaseFactory(assignee=agent if n % 2 else None, team=team, status=Status.OPEN,
                           received_at=timezone.now() - dt.timedelta(minutes=n))
        CommitmentFactory(case=case, due_at=timezone.now() + dt.timedelta(hours=1))


@pytest.mark.parametrize("queue", ["mine", "unassigned", "team", "promises", "waiting_dept", "resolved", "all"])
def test_inbox_queries_do_not_grow_with_cases(client, queue):
    team = TeamFactory()
    agent = UserFactory(team=team)
    client.force_login(agent)
    grow_desk(agent, team, 3)
    small = count_queries(client, f"/?queue={queue}")
    grow_desk(agent, team, 60)
    large = count_queries(client, f"/?queue={queue}")
    assert large == small


def test_case_page_queries_do_not_grow_with_history(client):
    agent = UserFactory()
    client.force_login(agent)
    customer = CustomerFactory()
    case = CaseFactory(customer=customer, assignee=agent)
    # The baseline has one of everything, so only the amount differs between the two pages.
    InteractionFactory(case=case)
    OrderFactory(customer=customer)
    CaseFactory(customer=customer)
    small = count_queries(client, f"/cases/{case.pk}/")
    for n in range(50):
        InteractionFactory(case=case, body=f"{n}回目のやりとりです。")
    for _ in range(5):
        OrderFactory(customer=customer)
        CaseFactory(customer=customer)
    other = UserFactory()
    services.do_hand_over(case, actor=agent, expected_version=case.version, note="引き継ぎます", to_user=other)
    services.do_add_commitment(case, actor=agent, description="折り返し", due_at=timezone.now() + dt.timedelta(days=1))
    services.do_request_compensation(case, actor=agent, kind="coupon", amount_yen=500, reason="お詫び")
    large = count_queries(client, f"/cases/{case.pk}/")
    assert large == small


def test_case_page_queries_do_not_grow_with_merges_and_links(client):
    """Issue 22 item 4: the merged cases (with their undo) and the linked cases are one query
    each, however many there are."""
    agent = UserFactory()
    client.force_login(agent)
    customer = CustomerFactory()
    case = CaseFactory(customer=customer, assignee=agent, status=Status.OPEN)

    def merge_one(n: int) -> None:
        source = CaseFactory(customer=customer, status=Status.OPEN, subject=f"{n}件目の問い合わせ")
        InteractionFactory(case=source, body=f"{n}件目: まだ届きません。")
        services.do_merge_cases(source, case, actor=agent)

    def link_one(n: int) -> None:
        services.do_link_cases(case, CaseFactory(subject=f"配送遅延 {n}"), actor=agent, note=f"関東の配送遅延 {n}")

    merge_one(0)
    link_one(0)
    small = count_queries(client, f"/cases/{case.pk}/")
    for n in range(1, 8):
        merge_one(n)
        link_one(n)
    large = count_queries(client, f"/cases/{case.pk}/")
    assert large == small


PARTS = ["side", "edit", "interaction", "commitment", "compensation", "handover", "merge", "link"]


def test_case_page_and_its_fragments_cost_the_same_queries_at_any_history(client):
    """The first response and every piece htmx loads after it (side panels, forms on demand)
    issue as many queries for a case with 1 interaction as for one with 50, and for a customer
    with 1 past case as for one with 25."""
    agent = UserFactory()
    client.force_login(agent)
    customer = CustomerFactory()
    case = CaseFactory(customer=customer, assignee=agent)
    InteractionFactory(case=case)
    InteractionFactory(case=case, kind="note")
    OrderFactory(customer=customer)
    CaseFactory(customer=customer)
    urls = [f"/cases/{case.pk}/", *(f"/cases/{case.pk}/parts/{part}/" for part in PARTS),
            f"/knowledge/cases/{case.pk}/reply-tools/"]
    small = {url: count_queries(client, url) for url in urls}
    for n in range(48):
        InteractionFactory(case=case, kind=("inbound", "outbound", "note")[n % 3], body=f"{n}回目のやりとりです。")
    for _ in range(24):
        OrderFactory(customer=customer)
        CaseFactory(customer=customer)
    large = {url: count_queries(client, url) for url in urls}
    assert case.interactions.count() == 50
    assert large == small
    # The page carries its side panels, stored suggestions and reply tools (issue 16: one
    # request, not four); the forms still come when opened. Its other apps' parts read nothing
    # twice and ask their usually empty lists with the case (cases.page.CASE_PAGE_EXISTS): 23
    # queries where it was 33.
    assert small[f"/cases/{case.pk}/"] <= 23


def test_case_page_reads_another_apps_list_only_when_the_case_has_rows_in_it(client):
    """Issue 16: the status link, SLA breaches and the same-person warning are asked in the case's
    own query; each costs its query only once the case has such a row, and is then shown."""
    from madoguchi.customers.models import PossibleMatch
    from madoguchi.metrics.models import SlaBreach
    from madoguchi.progress.models import StatusLink
    from madoguchi.progress.services import url_for

    agent = UserFactory()
    client.force_login(agent)
    customer = CustomerFactory()
    case = CaseFactory(customer=customer, assignee=agent)
    InteractionFactory(case=case)
    url = f"/cases/{case.pk}/"
    empty = count_queries(client, url)
    link = StatusLink.objects.create(case=case, expires_at=timezone.now() + dt.timedelta(days=7))
    SlaBreach.objects.create(case=case, target="first", due_at=timezone.now() - dt.timedelta(hours=2))
    owner = CustomerFactory(name="既存の山田")
    PossibleMatch.objects.create(customer=customer, existing=owner, value="yamada@example.jp", channel="chat")
    assert count_queries(client, url) == empty + 3
    page = client.get(url).content.decode()
    assert url_for(link) in page
    assert "SLA超過" in page
    assert 'data-testid="same-person-warning"' in page and "yamada@example.jp" in page


def test_unknown_case_part_is_a_404(client):
    agent = UserFactory()
    client.force_login(agent)
    case = CaseFactory(assignee=agent)
    assert client.get(f"/cases/{case.pk}/parts/nope/").status_code == 404
    assert client.get("/cases/999999/parts/edit/").status_code == 404
