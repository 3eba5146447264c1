"""The cluster list and a cluster's page (leads, admins and staff given the patterns
permission; other agents get 403), their queries constant at any size, the dashboard's
breakdowns by product, passage and carrier, and this week's spikes on the list and the
dashboard."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext

from madoguchi.accounts.models import Role
from madoguchi.customers.models import Customer
from madoguchi.patterns import services
from madoguchi.patterns.models import Cluster, Member
from madoguchi.patterns.tests.helpers import complaint_case, weeks_ago
from madoguchi.shop.models import Order, OrderItem
from madoguchi.testing.factories import PassageFactory, ProductFactory, UserFactory

pytestmark = pytest.mark.django_db

WET = "置き配で雨に濡れていました。箱もびしょ濡れです。"


@pytest.fixture
def lead(client: Any) -> Any:
    user = UserFactory(username="lead", role=Role.LEAD, email="lead@example.jp")
    client.force_login(user)
    return user


def carrier_cluster(count: int, carrier: str = "yamato", ago: int = 0) -> Cluster:
    ids = [complaint_case(WET, carrier=carrier, received_at=weeks_ago(ago, hours=1 + i % 100)
                          + dt.timedelta(seconds=i)).pk for i in range(count)]
    services.assign_cases(ids)
    services.refresh_clusters()
    return Member.objects.get(case_id=ids[0]).cluster


def test_agents_get_403_and_staff_with_the_permission_get_the_pages(client: Any) -> None:
    cluster = carrier_cluster(2)
    agent = UserFactory(username="agent")
    client.force_login(agent)
    for url in ("/patterns/", f"/patterns/{cluster.pk}/", "/patterns/breakdown/carrier/"):
        response = client.get(url)
        assert response.status_code == 403, url
        assert "権限がありません" in response.content.decode()
    logistics = UserFactory(username="logistics")
    logistics.user_permissions.add(Permission.objects.get(codename="view_patterns"))
    client.force_login(logistics)
    assert client.get("/patterns/").status_code == 200
    assert client.get(f"/patterns/{cluster.pk}/").status_code == 200
    client.logout()
    assert client.get("/patterns/").status_code == 302  # to the login page


def test_the_list_shows_clusters_and_this_weeks_spikes(client: Any, lead: Any) -> None:
    quiet = carrier_cluster(2, carrier="sagawa")
    spiking = carrier_cluster(9, carrier="yamato")
    page = client.get("/patterns/").content.decode()
    assert f"/patterns/{spiking.pk}/" in page and f"/patterns/{quiet.pk}/" in page
    assert 'data-testid="spikes"' in page and "急増" in page
    assert "ヤマト運輸" in page and "佐川急便" in page
    only = client.get("/patterns/?spikes=1").content.decode()
    assert f"/patterns/{spiking.pk}/" in only and f"/patterns/{quiet.pk}/" not in only
    filtered = client.get("/patterns/?carrier=sagawa&category=abc&cursor=nonsense").content.decode()
    assert f"/patterns/{quiet.pk}/" in filtered and f"/patterns/{spiking.pk}/" not in filtered


def test_a_cluster_page_shows_its_cases_weeks_chart_and_rate(client: Any, lead: Any) -> None:
    cluster = carrier_cluster(3)
    customer = Customer.objects.create(name="注文 花子")
    Order.objects.bulk_create([Order(number=f"W-{i}", customer=customer, carrier="yamato", ordered_at=weeks_ago(0, hours=2))
                               for i in range(600)])
    page = client.get(f"/patterns/{cluster.pk}/").content.decode()
    assert "<svg" in page and 'data-testid="weekly-chart"' in page
    assert page.count("/cases/") >= 3 and "置き配" in page
    assert "ヤマト運輸" in page
    assert "（1,000注文あたり 5.0 件、注文 600 件）" in page
    assert client.get("/patterns/999999/").status_code == 404
    for cursor in ("2026-13-45T10:00:00+09:00_5", "x_y", "_", "2026-12-01T10:00:00_3"):  # bad or naive: the first page
        assert "置き配" in client.get(f"/patterns/{cluster.pk}/?cursor={cursor}").content.decode()


def count_queries(client: Any, url: str) -> int:
    client.get(url)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured)


def test_cluster_page_and_list_queries_do_not_grow(client: Any, lead: Any) -> None:
    cluster = carrier_cluster(3)
    small = count_queries(client, f"/patterns/{cluster.pk}/")
    small_list = count_queries(client, "/patterns/")
    ids = [complaint_case(WET, carrier="yamato", received_at=weeks_ago(w, hours=2) + dt.timedelta(seconds=i)).pk
           for w in range(5) for i in range(20)]
    services.assign_cases(ids)
    for n in range(8):  # other clusters for the list
        carrier_cluster(1, carrier=["sagawa", "japanpost", "seino", "fukuyama"][n % 4], ago=n)
    services.refresh_clusters()
    cluster.refresh_from_db()
    assert cluster.size == 103
    assert count_queries(client, f"/patterns/{cluster.pk}/") == small
    assert count_queries(client, "/patterns/") == small_list
    page = client.get(f"/patterns/{cluster.pk}/").content.decode()
    cursor = page.split("?cursor=")[1].split('"')[0]
    second = f"/patterns/{cluster.pk}/?cursor={cursor}"
    assert count_queries(client, second) == small
    shown = client.get(second).content.decode()
    assert shown.count('<td class="num"><a href="/cases/') == 50 and "最新の案件へ" in shown


def test_the_dashboard_shows_spikes_and_breakdowns_by_product_passage_and_carrier(client: Any, lead: Any) -> None:
    mug = ProductFactory(name="有田焼 マグカップ")
    passage = PassageFactory(product=mug, position=2, text="電子レンジ・食器洗い乾燥機に対応しています。")
    carrier_cluster(9)  # a spike this week
    for _i in range(2):
        complaint_case("マグカップにヒビが入っていました。", category="defect", product=mug)
    complaint_case("電子レンジ対応とあったのにレンジで割れました。", category="description", passage=passage)
    services.catch_up()
    customer = Customer.objects.create(name="注文 花子")
    made = Order.objects.bulk_create([Order(number=f"M-{i}", customer=customer, carrier="yamato",
                                            ordered_at=weeks_ago(0, hours=1)) for i in range(100)])
    OrderItem.objects.bulk_create([OrderItem(order=o, product=mug) for o in made[:50]])
    dashboard = client.get("/metrics/").content.decode()
    assert 'data-testid="dashboard-spikes"' in dashboard and "/patterns/breakdown/carrier/" in dashboard
    carriers = client.get("/patterns/breakdown/carrier/").content.decode()
    assert "ヤマト運輸" in carriers and ">9<" in carriers and ">100<" in carriers and "90.0" in carriers
    products = client.get("/patterns/breakdown/product/").content.decode()
    assert "有田焼 マグカップ" in products and ">3<" in products and ">50<" in products and "60.0" in products
    passages = client.get("/patterns/breakdown/passage/").content.decode()
    assert "§2" in passages and ">1<" in passages
    # Each row links to the list of its clusters.
    assert f'href="/patterns/?product={mug.pk}"' in products
    of_mug = client.get(f"/patterns/?product={mug.pk}").content.decode()
    listed = of_mug.split('data-testid="clusters"')[1]
    assert "有田焼 マグカップ" in listed and "ヤマト運輸" not in listed and "配送" not in listed
    assert 'data-testid="narrowed"' in of_mug
    of_passage = client.get(f"/patterns/?passage={passage.pk}").content.decode().split('data-testid="clusters"')[1]
    assert "有田焼 マグカップ §2" in of_passage and "不具合" not in of_passage
    defect = services.breakdown("product", dt.date.today() - dt.timedelta(days=30), dt.date.today() + dt.timedelta(days=1),
                                category=_category("defect"))
    assert [(row.cases, row.orders) for row in defect] == [(2, 50)]
    assert client.get("/patterns/breakdown/nothing/").status_code == 404
    assert client.get("/patterns/breakdown/carrier/?start=2026-13-45").status_code == 200


def _category(code: str) -> int:
    from madoguchi.cases.models import Category

    return Category.objects.get(code=code).pk


def test_agents_see_no_patterns_on_the_dashboard(client: Any) -> None:
    carrier_cluster(9)
    client.force_login(UserFactory(username="agent"))
    dashboard = client.get("/metrics/").content.decode()
    assert "patterns-panel" not in dashboard and "/patterns/" not in dashboard
