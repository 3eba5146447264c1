"""End to end in Chromium: a team lead finds this week's spike of delivery complaints about one
carrier on the cluster list, opens the cluster (its weekly chart, its rate per 1,000 of the
carrier's orders, its cases) and sees the carrier breakdown on the dashboard."""

from __future__ import annotations

import datetime as dt
import random

import pytest

from madoguchi.accounts.models import Role
from madoguchi.conftest import login, screenshot
from madoguchi.customers.models import Customer
from madoguchi.patterns import samples, services
from madoguchi.patterns.models import Cluster
from madoguchi.patterns.tests.helpers import complaint_case, weeks_ago
from madoguchi.shop.models import Order
from madoguchi.testing.factories import UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def shop_with_a_carrier_spike() -> Cluster:
    rng = random.Random(3)
    ids = []
    for ago in range(11, -1, -1):
        # Wet parcels left outside by one carrier: one or two a week, then nine this week.
        for i in range(9 if ago == 0 else 1 + ago % 2):
            text = samples.complaint("wet", rng, carrier="yamato").text
            ids.append(complaint_case(text, carrier="yamato", received_at=weeks_ago(ago, hours=2 + i)).pk)
        for i in range(1 + ago % 3):  # late parcels of the same carrier: another cluster
            ids.append(complaint_case(samples.complaint("late", rng, carrier="yamato").text, carrier="yamato",
                                      received_at=weeks_ago(ago, hours=20 + i)).pk)
        ids.append(complaint_case(samples.complaint("crushed", rng, carrier="sagawa").text, carrier="sagawa",
                                  received_at=weeks_ago(ago, hours=30)).pk)
    customer = Customer.objects.create(name="注文 花子")
    Order.objects.bulk_create([
        Order(number=f"E-{ago}-{i}", customer=customer, carrier="yamato" if i % 4 else "sagawa",
              ordered_at=weeks_ago(ago, hours=1) + dt.timedelta(minutes=i))
        for ago in range(12) for i in range(400)])
    services.assign_cases(ids)
    services.refresh_clusters()
    wet = Cluster.objects.filter(carrier="yamato", spike_week__isnull=False)
    assert wet.count() == 1
    return wet.get()


def test_a_lead_finds_the_carriers_spike_and_opens_its_cluster(new_page) -> None:
    UserFactory(username="sato", display_name="佐藤 花子", role=Role.LEAD, email="sato@example.jp")
    cluster = shop_with_a_carrier_spike()
    page = new_page()
    login(page, "sato")
    page.goto("/patterns/")
    spikes = page.locator("[data-testid=spikes]")
    assert "ヤマト運輸" in spikes.inner_text() and "今週 9 件" in spikes.inner_text()
    assert page.locator("[data-testid=clusters] tbody tr").count() >= 3
    screenshot(page, "patterns-list")
    spikes.locator(f"a[href='/patterns/{cluster.pk}/']").click()
    page.wait_for_url(f"**/patterns/{cluster.pk}/")
    assert page.inner_text("[data-testid=carrier]") == "ヤマト運輸"
    assert "今週急増" in page.inner_text("[data-testid=cluster-title]")
    chart = page.inner_text("[data-testid=weekly-chart]")
    assert services.this_week().strftime("%m/%d") in chart and "急増" in chart  # the spike's week, its own colour
    weeks = page.locator("[data-testid=weeks] tr")
    assert weeks.count() == 13
    assert weeks.last.inner_text().split("\t")[1:] == ["9", "300", "30.0"]
    assert "1,000注文あたり" in page.inner_text("[data-testid=total]")
    assert page.locator("[data-testid=cluster-cases] tbody tr").count() == cluster.size
    assert "置き配" in page.inner_text("[data-testid=cluster-cases]") or "濡れ" in page.inner_text("[data-testid=cluster-cases]")
    screenshot(page, "patterns-cluster")
    page.goto("/metrics/")
    carriers = page.locator("[data-testid=patterns-breakdown-carrier]")
    carriers.wait_for()
    assert "ヤマト運輸" in carriers.inner_text() and "佐川急便" in carriers.inner_text()
    assert "ヤマト運輸" in page.inner_text("[data-testid=dashboard-spikes]")
    screenshot(page, "patterns-dashboard")
