"""Per-customer figures, the fans list under the admin's RFM rule, the win-back list, their
CSV export, and the cost of their pages (issue 18 item 4; seeds 003 and 004)."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from madoguchi.accounts.models import Role
from madoguchi.cases import services
from madoguchi.cases.models import Status
from madoguchi.customers.services import do_merge_customers
from madoguchi.fans.models import CustomerFigures
from madoguchi.shop.models import OrderStatus
from madoguchi.testing.factories import (
    CaseFactory,
    CustomerFactory,
    IdentityFactory,
    OrderFactory,
    UserFactory,
    category,
)

pytestmark = pytest.mark.django_db

NOW = timezone.now()


def days_ago(days: float) -> dt.datetime:
    return NOW - dt.timedelta(days=days)


@pytest.fixture
def run_work(django_capture_on_commit_callbacks):
    """Run what the writes deferred (jobs.work) the way the worker does after the commit."""

    def run(write):
        with django_capture_on_commit_callbacks(execute=True):
            result = write()
        return result

    return run


@pytest.fixture
def lead(client):
    user = UserFactory(role=Role.LEAD)
    client.force_login(user)
    return user


def test_figures_count_refunds_and_cancellations(run_work, client, lead):
    customer = CustomerFactory(name="中村 由美")

    def shop():
        OrderFactory(customer=customer, amount_yen=5000, status=OrderStatus.PAID, ordered_at=days_ago(100))
        OrderFactory(customer=customer, amount_yen=3000, refunded_yen=1000, status=OrderStatus.FULFILLED, ordered_at=days_ago(50))
        OrderFactory(customer=customer, amount_yen=9000, status=OrderStatus.CANCELLED, ordered_at=days_ago(200))  # not a purchase
        OrderFactory(customer=customer, amount_yen=2000, refunded_yen=2000, status=OrderStatus.REFUNDED, ordered_at=days_ago(10))
        OrderFactory(customer=customer, amount_yen=4000, status=OrderStatus.PENDING, ordered_at=days_ago(1))  # unpaid yet
        CaseFactory(customer=customer, status=Status.RESOLVED, resolved_at=days_ago(40))
        CaseFactory(customer=customer, status=Status.OPEN)

    run_work(shop)
    figures = CustomerFigures.objects.get(customer=customer)
    assert figures.order_count == 2  # the cancelled, the fully refunded and the unpaid do not count
    assert figures.spent_yen == 5000 + 2000  # net of the ¥1,000 partial refund; the full refund nets 0
    assert timezone.localdate(figures.first_order_at) == timezone.localdate(days_ago(100))
    assert timezone.localdate(figures.last_order_at) == timezone.localdate(days_ago(50))
    assert (figures.case_count, figures.complaint_count, figures.open_complaint_count) == (2, 2, 1)
    assert not figures.win_back  # a complaint is still open

    page = client.get(f"/customers/{customer.pk}/").content.decode()
    assert 'data-testid="order-count">2<' in page
    assert "7,000円" in page and 'data-testid="case-count">2<' in page

    # A refund recorded later lowers the total at once.
    def refund():
        order = customer.orders.get(amount_yen=5000)
        order.refunded_yen = 500
        order.save()

    run_work(refund)
    assert CustomerFigures.objects.get(customer=customer).spent_yen == 6500


def test_a_question_category_is_not_a_complaint(run_work, client):
    admin = UserFactory(role=Role.ADMIN)
    client.force_login(admin)
    customer = CustomerFactory()
    run_work(lambda: [OrderFactory(customer=customer, ordered_at=days_ago(n)) for n in (3, 30)]
             + [CaseFactory(customer=customer, category=category("other"), status=Status.CLOSED, resolved_at=days_ago(2))])
    assert CustomerFigures.objects.get(customer=customer).complaint_count == 1
    assert customer.name not in client.get("/fans/").content.decode()
    response = run_work(lambda: client.post("/fans/rule/", {
        "recency_days": "365", "min_orders": "2", "min_spent_yen": "0", "not_complaints": [category("other").pk]}))
    assert response.status_code == 302
    figures = CustomerFigures.objects.get(customer=customer)
    assert (figures.case_count, figures.complaint_count, figures.is_fan) == (1, 0, True)
    assert customer.name in client.get("/fans/").content.decode()


def make_buyers(run_work):
    """Four customers: a big repeat buyer, a small one, a one-time buyer and a repeat buyer who complained."""
    big, small, once, complained = (CustomerFactory(name=name) for name in ("大口 常連", "小口 常連", "一度 だけ", "苦情 あり"))

    def shop():
        for n in range(4):
            OrderFactory(customer=big, amount_yen=12000, ordered_at=days_ago(20 + n))
        for n in range(2):
            OrderFactory(customer=small, amount_yen=1500, ordered_at=days_ago(3 + n))
        OrderFactory(customer=once, amount_yen=30000, ordered_at=days_ago(2))
        for n in range(3):
            OrderFactory(customer=complained, amount_yen=8000, ordered_at=days_ago(4 + n))
        CaseFactory(customer=complained)

    run_work(shop)
    return big, small, once, complained


def fan_names(client, query: str = "") -> list[str]:
    page = client.get(f"/fans/{query}")
    assert page.status_code == 200
    body = page.content.decode()
    table = body[body.index('data-testid="fans"'):]
    return sorted((name for name in ("大口 常連", "小口 常連", "一度 だけ", "苦情 あり") if name in table), key=table.index)


def test_the_rule_the_admin_sets_changes_the_fans_list(run_work, client):
    make_buyers(run_work)
    admin = UserFactory(role=Role.ADMIN)
    client.force_login(admin)
    assert fan_names(client) == ["小口 常連", "大口 常連"]  # default: twice within a year, never complained

    def rule(**values):
        data = {"recency_days": "365", "min_orders": "2", "min_spent_yen": "0", **values}
        return run_work(lambda: client.post("/fans/rule/", data))

    assert rule(min_spent_yen="10000").status_code == 302
    assert fan_names(client) == ["大口 常連"]
    rule(min_orders="1")
    assert fan_names(client) == ["一度 だけ", "小口 常連", "大口 常連"]  # newest purchase first
    rule(min_orders="1", recency_days="10")
    assert fan_names(client) == ["一度 だけ", "小口 常連"]
    assert fan_names(client, "?within_days=3") == ["一度 だけ"]
    from madoguchi.accounts.models import SettingsChange

    assert SettingsChange.objects.filter(target="ファンの条件").exists()


@pytest.mark.parametrize(("field", "value", "message"), [
    ("recency_days", "-5", "1 以上の数を入力してください。"),
    ("min_orders", "abc", "半角の数字で入力してください。"),
    ("min_spent_yen", "", "入力してください。"),
    ("recency_days", "99999", "3650 以下の数を入力してください。"),
])
def test_bad_rule_is_answered_in_japanese(client, field, value, message):
    client.force_login(UserFactory(role=Role.ADMIN))
    data = {"recency_days": "365", "min_orders": "2", "min_spent_yen": "0", field: value}
    response = client.post("/fans/rule/", data)
    assert response.status_code == 400
    assert message in response.content.decode()


def test_agents_do_not_see_the_lists(client):
    client.force_login(UserFactory(role=Role.AGENT))
    assert client.get("/fans/").status_code == 403
    assert client.get("/fans/win-back/").status_code == 403
    assert 'href="/fans/"' not in client.get("/").content.decode()
    client.force_login(UserFactory(role=Role.LEAD))
    assert client.get("/fans/rule/").status_code == 403  # the rule is the admins'
    assert 'href="/fans/"' in client.get("/").content.decode()


def test_resolved_complaint_without_a_later_order_is_in_win_back_until_a_new_order(run_work, client, lead):
    customer = CustomerFactory(name="加藤 恵子")
    agent = UserFactory()

    def complain():
        OrderFactory(customer=customer, ordered_at=days_ago(30))
        return services.do_create_case(actor=agent, customer=customer, subject="割れていた", channel="email",
                                       category=category("defect"), complaint="届いた器が割れていました。", assignee=agent)

    case = run_work(complain)
    assert "加藤 恵子" not in client.get("/fans/win-back/").content.decode()  # still being handled
    run_work(lambda: services.do_update_case(case, actor=agent, expected_version=case.version,
                                             changes={"status": Status.RESOLVED}))
    body = client.get("/fans/win-back/").content.decode()
    assert "加藤 恵子" in body and f'href="/cases/{case.pk}/"' in body
    assert 'data-testid="days">0日<' in body

    with_days = client.get("/fans/win-back/?min_days=3").content.decode()
    assert "加藤 恵子" not in with_days  # resolved today: not 3 days ago yet

    run_work(lambda: OrderFactory(customer=customer, ordered_at=timezone.now()))
    assert "加藤 恵子" not in client.get("/fans/win-back/").content.decode()


def test_win_back_bad_filter_is_answered_in_japanese(client, lead):
    response = client.get("/fans/win-back/?min_days=10&max_days=3")
    assert response.status_code == 200  # the message over the unfiltered list
    assert "「何日以上」は「何日以内」より小さい数にしてください。" in response.content.decode()
    assert "半角の数字で入力してください。" in client.get("/fans/win-back/?min_days=十").content.decode()


def test_csv_export_is_utf8_with_bom_and_japanese_headers(run_work, client, lead):
    big, *_others = make_buyers(run_work)
    IdentityFactory(customer=big, value="oguchi@example.jp")
    response = client.get("/fans/?format=csv")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    raw = b"".join(response.streaming_content)
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0][:3] == ["お客様番号", "お名前", "フリガナ"] and "購入金額（円・返金後）" in rows[0]
    assert [row[1] for row in rows[1:]] == ["小口 常連", "大口 常連"]  # newest purchase first
    assert rows[2][3] == "oguchi@example.jp" and rows[2][5:7] == ["4", "48000"]
    assert len(rows) == 3

    win_back = b"".join(client.get("/fans/win-back/?format=csv").streaming_content)
    assert win_back.startswith(b"\xef\xbb\xbf") and "解決からの日数" in win_back.decode("utf-8-sig")


def test_csv_export_walks_every_chunk(run_work, client, lead, monkeypatch):
    from madoguchi.fans import lists

    monkeypatch.setattr(lists, "EXPORT_CHUNK", 2)
    make_buyers(run_work)
    regulars = [CustomerFactory(name=f"常連 {n}") for n in range(5)]
    run_work(lambda: [OrderFactory(customer=regular, ordered_at=days_ago(n + 1))
                      for n, regular in enumerate(regulars) for _twice in range(2)])
    raw = b"".join(client.get("/fans/?format=csv").streaming_content).decode("utf-8-sig")
    assert len(list(csv.reader(io.StringIO(raw)))) == 1 + 7


def test_a_merge_moves_the_figures(run_work):
    target, source = CustomerFactory(), CustomerFactory()
    run_work(lambda: [OrderFactory(customer=target), OrderFactory(customer=source), OrderFactory(customer=source)])
    run_work(lambda: do_merge_customers(source=source, target=target, user=None, note="同じ電話番号"))
    assert CustomerFigures.objects.get(customer=target).order_count == 3
    assert CustomerFigures.objects.get(customer=source).order_count == 0


def count_queries(client, url: str) -> int:
    client.get(url)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured)


def grow(run_work, customers: int) -> None:
    def shop():
        for _n in range(customers):
            fan = CustomerFactory()
            IdentityFactory(customer=fan)
            OrderFactory(customer=fan, ordered_at=days_ago(3))
            OrderFactory(customer=fan, ordered_at=days_ago(9))
            upset = CustomerFactory()
            IdentityFactory(customer=upset)
            CaseFactory(customer=upset, status=Status.RESOLVED, resolved_at=days_ago(5))

    run_work(shop)


@pytest.mark.parametrize("url", ["/fans/", "/fans/win-back/", "/fans/?within_days=30", "/fans/win-back/?min_days=1"])
def test_list_queries_do_not_grow_with_customers(run_work, client, lead, url):
    grow(run_work, 3)
    small = count_queries(client, url)
    grow(run_work, 70)  # more than a page
    large = count_queries(client, url)
    assert large == small
    body = client.get(url).content.decode()
    assert "次の50件" in body
    cursor = body.split("cursor=")[1].split('"')[0]
    separator = "&" if "?" in url else "?"
    assert count_queries(client, f"{url}{separator}cursor={cursor}") == small


def test_customer_page_queries_do_not_grow_with_orders(run_work, client, lead):
    customer = CustomerFactory()
    run_work(lambda: [OrderFactory(customer=customer) for _n in range(2)])
    url = f"/customers/{customer.pk}/"
    small = count_queries(client, url)
    run_work(lambda: [OrderFactory(customer=customer) for _n in range(40)])
    assert count_queries(client, url) == small


def test_imported_orders_update_the_figures(run_work, tmp_path):
    """The order import writes in bulk (no model signals): it says which customers it touched
    (shop.signals.orders_written), and their figures follow, a re-import included."""
    from django.core.management import call_command

    from madoguchi.shop.tests.samples import SampleItem, SampleOrder, shopify_file

    start = timezone.now() - dt.timedelta(days=40)
    mug = [SampleItem("MUG-AI", "有田焼 マグカップ 藍", 2, 2980)]
    orders = [
        SampleOrder("2001", "山田 花子", "hanako@example.jp", "090-1234-5678", start, mug),
        SampleOrder("2002", "山田 花子", "hanako@example.jp", "090-1234-5678", start + dt.timedelta(days=10), mug,
                    financial="refunded", refunded=1000, fulfilled_at=start + dt.timedelta(days=11)),
        SampleOrder("2003", "山田 花子", "hanako@example.jp", "090-1234-5678", start + dt.timedelta(days=20), mug,
                    financial="voided", cancelled_at=start + dt.timedelta(days=20, hours=1)),
    ]
    path = tmp_path / "orders_export.csv"
    path.write_bytes(shopify_file(orders))
    run_work(lambda: call_command("import-orders", str(path), stdout=io.StringIO()))
    figures = CustomerFigures.objects.get(customer__name="山田 花子")
    total = 2 * 2980 + 600
    assert (figures.order_count, figures.spent_yen) == (2, total + total - 1000)
    assert figures.is_fan  # twice within a year, never complained

    orders[0].financial, orders[0].refunded = "refunded", total  # refunded in full a week later
    path.write_bytes(shopify_file(orders))
    run_work(lambda: call_command("import-orders", str(path), stdout=io.StringIO()))
    figures.refresh_from_db()
    assert (figures.order_count, figures.spent_yen, figures.is_fan) == (1, total - 1000, False)


def test_the_demo_shop_has_fans_and_customers_to_win_back(client, lead):
    """The demo writes with the receivers muted; its figures are recounted when it has loaded
    (`madoguchi rebuild-customer-figures`), so its fans (seed 004) are on the list."""
    from madoguchi.demo.loader import load_demo

    load_demo(cases=24)
    fans = CustomerFigures.objects.filter(is_fan=True)
    assert fans.count() >= 10
    body = client.get("/fans/").content.decode()
    assert fans.order_by("-last_order_at").first().customer.name in body
    assert CustomerFigures.objects.filter(win_back=True).exists()
