"""A cluster's weekly counts and its rate per 1,000 orders of its carrier or product, in the
same weeks; none where its orders are not known."""

from __future__ import annotations

import datetime as dt

import pytest

from madoguchi.customers.models import Customer
from madoguchi.patterns import services
from madoguchi.patterns.models import Member
from madoguchi.patterns.tests.helpers import complaint_case, weeks_ago
from madoguchi.shop.models import Order, OrderItem
from madoguchi.testing.factories import ProductFactory

pytestmark = pytest.mark.django_db


def orders(count: int, *, carrier: str = "yamato", at: dt.datetime, product=None, start: int = 0) -> None:  # type: ignore[no-untyped-def]
    customer = Customer.objects.create(name="注文 太郎")
    made = Order.objects.bulk_create([
        Order(number=f"R-{carrier}-{start + i}", customer=customer, ordered_at=at + dt.timedelta(minutes=i), carrier=carrier)
        for i in range(count)])
    if product is not None:  # two lines of the product on each order: still one order
        OrderItem.objects.bulk_create([OrderItem(order=o, product=product, quantity=1) for o in made for _line in (1, 2)])


def test_a_carrier_cluster_counts_its_weeks_and_its_rate_per_1000_orders() -> None:
    ids = [complaint_case("置き配で雨に濡れていました。", carrier="yamato", received_at=weeks_ago(1, hours=h)).pk for h in (1, 2, 3)]
    ids.append(complaint_case("置き配で雨に濡れていました。", carrier="yamato", received_at=weeks_ago(0)).pk)
    services.assign_cases(ids)
    cluster = Member.objects.get(case_id=ids[0]).cluster
    orders(200, at=weeks_ago(1, hours=5))
    orders(300, at=weeks_ago(0, hours=2), start=1000)
    orders(100, carrier="sagawa", at=weeks_ago(1, hours=5))  # another carrier's
    orders(50, at=weeks_ago(5), start=5000)  # outside the weeks asked
    last, this = services.this_week() - dt.timedelta(weeks=1), services.this_week()
    assert services.cluster_weekly_counts(cluster, last - dt.timedelta(weeks=1), this + dt.timedelta(days=6)) == [
        (last - dt.timedelta(weeks=1), 0), (last, 3), (this, 1)]
    assert services.cluster_weekly_orders(cluster, last, this) == [(last, 200), (this, 300)]
    rate = services.cluster_rate_per_1000_orders(cluster, last, last)
    assert (rate.cases, rate.orders, rate.per_1000) == (3, 200, 15.0)
    both = services.cluster_rate_per_1000_orders(cluster, last, this)
    assert (both.cases, both.orders, both.per_1000) == (4, 500, 8.0)
    window = services.cluster_counts_between(cluster, weeks_ago(1, hours=0), weeks_ago(1, hours=4))
    assert (window.cases, window.orders) == (3, 0) and window.per_1000 is None


def test_a_product_cluster_counts_orders_of_the_product_once_each() -> None:
    mug = ProductFactory(name="有田焼 マグカップ")
    other = ProductFactory(name="南部鉄器 急須")
    ids = [complaint_case("マグカップにヒビが入っていました。", category="defect", product=mug,
                          received_at=weeks_ago(0, hours=h)).pk for h in (1, 2)]
    services.assign_cases(ids)
    cluster = Member.objects.get(case_id=ids[0]).cluster
    assert cluster.product == mug
    orders(400, at=weeks_ago(0, hours=3), product=mug)
    orders(100, at=weeks_ago(0, hours=3), product=other, start=9000)
    rate = services.cluster_rate_per_1000_orders(cluster, services.this_week(), services.this_week())
    assert (rate.cases, rate.orders, rate.per_1000) == (2, 400, 5.0)


def test_without_product_or_carrier_there_is_no_rate() -> None:
    case = complaint_case("到着予定日を過ぎても届きません。")
    services.assign_cases([case.pk])
    cluster = Member.objects.get(case=case).cluster
    assert services.cluster_weekly_orders(cluster, services.this_week(), services.this_week()) is None
    rate = services.cluster_rate_per_1000_orders(cluster, services.this_week(), services.this_week())
    assert (rate.cases, rate.orders, rate.per_1000) == (1, None, None)
