"""The shop in the desk (issue 18 items 2 and 3): order numbers as customers write them, the
order lookup, linking an order with its lines and the misread passage (audited, another
customer's order only after a warning), the automatic link from a customer's message, tracking
links, the customer panel, the delivery watch and its settings."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from madoguchi.accounts.models import Role, SettingsChange
from madoguchi.cases.models import AuditEvent, Case
from madoguchi.cases.services import CaseError
from madoguchi.chat import services as chat_services
from madoguchi.chat import storage
from madoguchi.customers.models import IdentityKind
from madoguchi.mail.ingest import do_ingest_raw
from madoguchi.mail.tests.helpers import japanese_mail
from madoguchi.shop import delivery, desk
from madoguchi.shop.importer import do_import_file
from madoguchi.shop.models import (
    Carrier,
    CarrierSite,
    CaseShop,
    DeliveryDays,
    OrderItem,
    OrderStatus,
)
from madoguchi.shop.prefectures import prefecture_of
from madoguchi.shop.tracking import tracking_url
from madoguchi.testing.factories import (
    CaseFactory,
    CustomerFactory,
    IdentityFactory,
    OrderFactory,
    PassageFactory,
    ProductFactory,
    UserFactory,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("shop_open")]


@pytest.fixture
def yamada():
    customer = CustomerFactory(name="山田 太郎", kana="ヤマダ タロウ")
    IdentityFactory(customer=customer, kind=IdentityKind.EMAIL, value="taro@example.jp")
    IdentityFactory(customer=customer, kind=IdentityKind.PHONE, value="09012345678")
    return customer


@pytest.fixture
def mug_order(yamada):
    order = OrderFactory(customer=yamada, number="1001", tracking_number="400012345678", carrier=Carrier.YAMATO,
                         amount_yen=6560)
    mug = ProductFactory(name="有田焼 マグカップ 380ml")
    PassageFactory(product=mug, position=1, text="職人が一つずつ手描きした藍の絵付けです。")
    PassageFactory(product=mug, position=2, text="電子レンジ・食器洗い乾燥機に対応しています。")
    OrderItem.objects.create(order=order, product=mug, name="有田焼 マグカップ 380ml", sku=mug.sku, quantity=2, unit_price_yen=2980)
    OrderItem.objects.create(order=order, name="ギフト包装", quantity=1, unit_price_yen=600)
    return order


# --- numbers -------------------------------------------------------------------------------

@pytest.mark.parametrize("typed", ["1001", "#1001", "＃１００１", "１００１", "No.1001", "No. 1001", "no1001",
                                   "注文番号：1001", "ご注文番号 1001", "Order #1001"])
def test_order_numbers_as_customers_write_them_are_normalised(typed):
    assert desk.normalise_number(typed) == "1001"


def test_words_of_a_message_that_may_be_numbers():
    words, tracking = desk.numbers_in("注文番号＃１００１の件です。伝票は 4000-1234-5678 です。電話は今日3時に。")
    assert "1001" in words and "4000-1234-5678" in words
    assert "400012345678" in tracking
    assert "3" not in words  # too short to be anybody's number


# --- lookup --------------------------------------------------------------------------------

@pytest.mark.parametrize("query", ["#1001", "１００１", "No.1001", "4000-1234-5678", "４０００１２３４５６７８",
                                   "090-1234-5678", "０９０－１２３４－５６７８", "Taro@Example.jp", "山田", "山田 太郎", "ヤマダ"])
def test_lookup_finds_the_order_by_number_tracking_phone_email_or_name(yamada, mug_order, query):
    found = desk.lookup(query, yamada)
    assert [order.number for order in found.mine] == ["1001"] and found.others == []


def test_lookup_puts_another_customers_order_apart(yamada, mug_order):
    other = OrderFactory(number="2002", customer=CustomerFactory(name="中村 由美"))
    found = desk.lookup("2002", yamada)
    assert found.mine == [] and found.others == [other]
    assert [o.number for o in desk.lookup("", yamada).mine] == ["1001"]  # no query: the customer's latest


def test_lookup_page_offers_the_customers_orders_and_warns_of_others(client, yamada, mug_order):
    OrderFactory(number="2002", customer=CustomerFactory(name="中村 由美"))
    case = CaseFactory(customer=yamada)
    client.force_login(UserFactory())
    page = client.get(f"/orders/case/{case.pk}/").content.decode()
    assert "1001" in page and "2002" not in page
    page = client.get(f"/orders/case/{case.pk}/", {"q": "No.2002"}).content.decode()
    assert "別のお客様の注文" in page and 'data-testid="other-orders"' in page


# --- linking -------------------------------------------------------------------------------

def test_linking_the_order_its_line_and_the_misread_passage_is_audited(client, yamada, mug_order):
    case = CaseFactory(customer=yamada)
    agent = UserFactory(display_name="田中 健太")
    client.force_login(agent)
    mug_line = mug_order.items.get(name__startswith="有田焼")
    passage = mug_order.items.get(pk=mug_line.pk).product.passages.get(position=2)
    response = client.post(f"/orders/case/{case.pk}/link/{mug_order.pk}/", {
        "items": [mug_line.pk], "passage": passage.pk,
        "understood_as": "「食器洗い乾燥機に対応」を、金彩の部分も含めて何度洗っても落ちないと受け取った",
    })
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.order == mug_order and case.passage == passage and case.product == passage.product
    link = CaseShop.objects.get(case=case)
    assert list(link.items.all()) == [mug_line] and link.understood_as.startswith("「食器洗い乾燥機")
    event = AuditEvent.objects.filter(case=case, action="order_linked").get()
    assert event.actor == agent and event.changes["order"] == [None, mug_order.pk]
    assert event.changes["understood_as"][1].startswith("「食器洗い乾燥機")
    page = client.get(f"/cases/{case.pk}/").content.decode()
    assert "電子レンジ・食器洗い乾燥機に対応しています。" in page and "何度洗っても落ちない" in page
    assert "https://jizen.kuronekoyamato.co.jp/jizen/servlet/crjz.b.NQ0010?id=400012345678" in page
    assert "注文をリンク" in page  # the change history


def test_another_customers_order_needs_the_warning_confirmed_and_is_audited(client, yamada):
    stranger_order = OrderFactory(number="2002", customer=CustomerFactory(name="中村 由美"))
    case = CaseFactory(customer=yamada)
    client.force_login(UserFactory())
    url = f"/orders/case/{case.pk}/link/{stranger_order.pk}/"
    assert "中村 由美 様のもの" in client.get(url).content.decode()
    refused = client.post(url, {"understood_as": ""})
    assert refused.status_code == 400 and "別のお客様の注文です" in refused.content.decode()
    case.refresh_from_db()
    assert case.order is None and not AuditEvent.objects.filter(case=case, action__startswith="order_").exists()
    assert client.post(url, {"confirm_other": "on"}).status_code == 302
    case.refresh_from_db()
    assert case.order == stranger_order
    event = AuditEvent.objects.get(case=case, action="order_linked_other_customer")
    assert event.changes["other_customer"] == "中村 由美"


def test_do_link_order_refuses_another_customers_order_unconfirmed(yamada):
    case = CaseFactory(customer=yamada)
    with pytest.raises(CaseError, match="別のお客様"):
        desk.do_link_order(case, actor=UserFactory(), order=OrderFactory())


def test_unlinking_is_audited(client, yamada, mug_order):
    case = CaseFactory(customer=yamada)
    agent = UserFactory()
    desk.do_link_order(case, actor=agent, order=mug_order)
    client.force_login(agent)
    assert client.post(f"/orders/case/{case.pk}/unlink/").status_code == 302
    case.refresh_from_db()
    assert case.order is None and AuditEvent.objects.filter(case=case, action="order_unlinked").exists()


# --- the automatic link --------------------------------------------------------------------

def _mail(capture, body: str, sender: str = "taro@example.jp", subject: str = "商品が届きません") -> Case:
    with capture(execute=True):
        row, _created = do_ingest_raw(japanese_mail(subject=subject, body=body, sender=sender), "test")
    row.refresh_from_db()
    assert row.case_id is not None, row.error
    return Case.objects.get(pk=row.case_id)


def test_a_customers_mail_naming_their_order_links_it_and_the_undo_sticks(client, django_capture_on_commit_callbacks, yamada, mug_order):
    case = _mail(django_capture_on_commit_callbacks, "注文番号＃１００１のマグカップがまだ届きません。")
    assert case.customer == yamada and case.order == mug_order
    event = AuditEvent.objects.get(case=case, action="order_auto_linked")
    assert event.actor is None and event.changes["number"] == "1001"
    client.force_login(UserFactory())
    page = client.get(f"/cases/{case.pk}/").content.decode()
    assert "自動でリンクしました" in page and 'data-testid="undo-auto-link"' in page
    assert client.post(f"/orders/case/{case.pk}/unlink/").status_code == 302
    case.refresh_from_db()
    assert case.order is None and AuditEvent.objects.filter(case=case, action="order_auto_link_undone").exists()
    assert CaseShop.objects.get(case=case).refused_orders == [mug_order.pk]
    # The customer names it again: the agent said it is not this order, so it stays unlinked.
    again = _mail(django_capture_on_commit_callbacks, "ですから注文1001です。", subject=f"Re: 商品が届きません [#{case.pk}]")
    assert again.pk == case.pk
    case.refresh_from_db()
    assert case.order is None


def test_a_tracking_number_with_hyphens_links_the_order(django_capture_on_commit_callbacks, yamada, mug_order):
    case = _mail(django_capture_on_commit_callbacks, "問い合わせ番号 4000-1234-5678 で調べても「荷物受付」のままです。")
    assert case.order == mug_order


def test_another_customers_order_is_never_linked_automatically(django_capture_on_commit_callbacks, mug_order):
    case = _mail(django_capture_on_commit_callbacks, "注文番号1001の件です。", sender="someone.else@example.jp")
    assert case.customer != mug_order.customer
    assert case.order is None and not AuditEvent.objects.filter(case=case, action="order_auto_linked").exists()


def test_a_chat_message_naming_the_customers_order_links_it(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        posted = chat_services.do_customer_message(chat_services.start_session(email="yumi@example.jp", name="中村 由美"),
                                                   client_id="c1", text="こんにちは")
    case = posted.session.case
    order = OrderFactory(customer=case.customer, number="B-20260315-7")
    posted.session.refresh_from_db()
    # As the chat writer stores messages: a batch in one transaction, the link left to the worker.
    with django_capture_on_commit_callbacks(execute=True):
        results = storage.store_batch([storage.Pending(posted.session, "c2", "注文番号はB-20260315-7です"),
                                       storage.Pending(posted.session, "c3", "よろしくお願いします")])
    assert all(isinstance(result, chat_services.Posted) for result in results)
    case.refresh_from_db()
    assert case.order == order


def test_the_automatic_link_runs_after_the_commit_not_in_the_message_transaction(django_capture_on_commit_callbacks, yamada, mug_order):
    with django_capture_on_commit_callbacks(execute=False):
        row, _created = do_ingest_raw(japanese_mail(body="注文番号1001の件", sender="taro@example.jp"), "test", enqueue=False)
        from madoguchi.mail.ingest import process_raw_message

        process_raw_message(int(row.pk))
    row.refresh_from_db()
    assert Case.objects.get(pk=row.case_id).order is None  # left as deferred work for the worker
    from madoguchi.jobs.models import PendingWork

    work = PendingWork.objects.get(key=desk.AUTO_LINK_WORK)
    from madoguchi.jobs import work as jobs_work

    jobs_work.complete([work.pk])
    assert Case.objects.get(pk=row.case_id).order == mug_order


# --- tracking links ------------------------------------------------------------------------

@pytest.mark.parametrize(("carrier", "url"), [
    (Carrier.YAMATO, "https://jizen.kuronekoyamato.co.jp/jizen/servlet/crjz.b.NQ0010?id=400012345678"),
    (Carrier.SAGAWA, "https://k2k.sagawa-exp.co.jp/p/web/okurijosearch.do?okurijoNo=400012345678"),
    (Carrier.JAPANPOST, "https://trackings.post.japanpost.jp/services/srv/search/direct?reqCodeNo1=400012345678&searchKind=S002&locale=ja"),
    (Carrier.SEINO, "https://track.seino.co.jp/cgi-bin/gnpquery.pgm?GNPNO1=400012345678"),
    (Carrier.FUKUYAMA, "https://corp.fukutsu.co.jp/situation/tracking_no_hunt/400012345678"),
    (Carrier.OTHER, ""),
])
def test_tracking_url_of_each_built_in_carrier(carrier, url):
    assert tracking_url(carrier, "4000-1234-5678", {}) == url


def test_an_admin_added_carrier_links_to_its_page(client, yamada):
    admin = UserFactory(role=Role.ADMIN)
    client.force_login(admin)
    bad = client.post("/settings/orders/carriers/add/", {"site-code": "ecohai", "site-name": "エコ配",
                                                          "site-url_pattern": "https://www.ecohai.co.jp/track"})
    assert bad.status_code == 400 and "{number}" in bad.content.decode()
    assert client.post("/settings/orders/carriers/add/", {
        "site-code": "ecohai", "site-name": "エコ配", "site-url_pattern": "https://www.ecohai.co.jp/track?no={number}",
    }).status_code == 302
    assert SettingsChange.objects.filter(object_repr="エコ配").exists()
    order = OrderFactory(customer=yamada, carrier="ecohai", tracking_number="12345678")
    case = CaseFactory(customer=yamada, order=order)
    page = client.get(f"/cases/{case.pk}/").content.decode()
    assert "https://www.ecohai.co.jp/track?no=12345678" in page and "エコ配" in page
    client.force_login(UserFactory())
    assert client.get("/settings/orders/carriers/").status_code == 403


# --- the customer panel --------------------------------------------------------------------

def test_customer_panel_shows_orders_with_status_items_amounts_and_cases(client, yamada, mug_order):
    earlier = CaseFactory(customer=yamada, order=mug_order, subject="まだ届きません", received_at=timezone.now() - dt.timedelta(days=2))
    case = CaseFactory(customer=yamada, order=mug_order, subject="マグカップが割れていた")
    for n in range(12):
        OrderFactory(customer=yamada, ordered_at=timezone.now() - dt.timedelta(days=30 + n))
    client.force_login(UserFactory())
    panel = client.get(f"/cases/{case.pk}/parts/side/").content.decode()
    assert "有田焼 マグカップ 380ml × 2" in panel and "ギフト包装 × 1" in panel
    assert "支払い済み" in panel and "6,560" in panel and f"#{case.pk}" in panel
    assert f'href="/cases/{earlier.pk}/">#{earlier.pk}</a>' in panel  # the order's earlier case
    assert f"/orders/customer/{yamada.pk}/" in panel  # 13 orders: the latest 10, and a link to all
    all_orders = client.get(f"/orders/customer/{yamada.pk}/").content.decode()
    assert all_orders.count('class="order-items"') == 13


def test_case_page_queries_do_not_grow_with_the_orders_lines(client, yamada, mug_order):
    case = CaseFactory(customer=yamada)
    desk.do_link_order(case, actor=UserFactory(), order=mug_order, items=list(mug_order.items.all()))
    client.force_login(UserFactory())

    def queries(url: str) -> int:
        client.get(url)
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured)

    urls = [f"/cases/{case.pk}/", f"/cases/{case.pk}/parts/side/"]
    small = [queries(url) for url in urls]
    for n in range(30):
        OrderItem.objects.create(order=mug_order, name=f"追加の品 {n}", quantity=1, unit_price_yen=100)
        OrderFactory(customer=yamada)
        CaseFactory(customer=yamada, order=mug_order)
    assert [queries(url) for url in urls] == small


# --- the phone intake ----------------------------------------------------------------------

def _intake(client, number: str, phone: str = "090-1234-5678"):
    return client.post("/cases/new/", {
        "customer_name": "山田 太郎", "phone": phone, "email": "", "channel": "phone",
        "received_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"), "subject": "マグカップが割れていた",
        "category": Case._meta.get_field("category").related_model.objects.get(code="delivery").pk,
        "priority": 2, "complaint": "届いたマグカップが割れていました。", "fact_order_number": number,
    }, follow=True)


def test_phone_intake_links_the_callers_order_by_its_number_as_said(client, yamada, mug_order):
    client.force_login(UserFactory())
    found = client.get("/orders/find/", {"q": "０９０－１２３４－５６７８"}).content.decode()
    assert "1001" in found and f"/cases/new/?order={mug_order.pk}" in found
    form = client.get(f"/cases/new/?order={mug_order.pk}").content.decode()
    assert 'value="1001"' in form and 'value="山田 太郎"' in form
    _intake(client, "No.１００１")
    assert Case.objects.get().order == mug_order


def test_phone_intake_does_not_link_another_customers_order(client, yamada):
    OrderFactory(number="2002", customer=CustomerFactory(name="中村 由美"))
    client.force_login(UserFactory())
    page = _intake(client, "2002").content.decode()
    case = Case.objects.get()
    assert case.order is None and case.fact_order_number == "2002"
    assert "別のお客様の注文のため" in page


# --- the delivery watch --------------------------------------------------------------------

def test_delivery_watch_lists_parcels_out_longer_than_usual_and_opens_a_case(client, yamada):
    now = timezone.now()
    DeliveryDays.objects.create(carrier=Carrier.YAMATO, region="kanto", days=2)
    DeliveryDays.objects.create(carrier=Carrier.YAMATO, region="", days=4)

    def parcel(number: str, prefecture: str, days: float, **fields):
        return OrderFactory(customer=yamada, number=number, carrier=Carrier.YAMATO, shipping_prefecture=prefecture,
                            shipped_at=now - dt.timedelta(days=days), **fields)

    late_tokyo = parcel("T-LATE", "東京都", 3)
    parcel("T-OK", "東京都", 1)
    parcel("H-OK", "北海道", 3)
    late_hokkaido = parcel("H-LATE", "北海道", 5)
    parcel("T-DELIVERED", "東京都", 5, delivered_at=now - dt.timedelta(days=1))
    parcel("T-CANCELLED", "東京都", 5, status=OrderStatus.CANCELLED)
    OrderFactory(customer=yamada, number="S-UNSET", carrier=Carrier.SAGAWA, shipped_at=now - dt.timedelta(days=9))
    assert [p.order for p in delivery.late_parcels(now)] == [late_hokkaido, late_tokyo]

    agent = UserFactory()
    client.force_login(agent)
    page = client.get("/orders/delivery-watch/").content.decode()
    assert "T-LATE" in page and "H-LATE" in page and "T-OK" not in page and "S-UNSET" not in page
    response = client.post(f"/orders/delivery-watch/{late_tokyo.pk}/contact/")
    case = Case.objects.get(order=late_tokyo)
    assert response.status_code == 302 and response["Location"] == f"/cases/{case.pk}/#reply"
    assert case.customer == yamada and case.assignee == agent and case.channel == "email"
    assert client.post(f"/orders/delivery-watch/{late_tokyo.pk}/contact/")["Location"] == f"/cases/{case.pk}/#reply"
    assert Case.objects.filter(order=late_tokyo).count() == 1
    assert f"#{case.pk}" in client.get("/orders/delivery-watch/").content.decode()


def test_delivery_days_are_set_by_admins_and_audited(client):
    admin = UserFactory(role=Role.ADMIN)
    client.force_login(admin)
    assert client.post("/settings/orders/carriers/days/", {"days-carrier": "sagawa", "days-region": "okinawa", "days-days": "5"}).status_code == 302
    assert client.post("/settings/orders/carriers/days/", {"days-carrier": "sagawa", "days-region": "okinawa", "days-days": "6"}).status_code == 302
    assert DeliveryDays.objects.get().days == 6
    assert SettingsChange.objects.filter(target="通常の配送日数").count() == 2
    bad = client.post("/settings/orders/carriers/days/", {"days-carrier": "sagawa", "days-region": "", "days-days": "0"})
    assert bad.status_code == 400
    assert "佐川急便" in client.get("/settings/orders/carriers/").content.decode()


@pytest.mark.parametrize(("text", "name"), [
    ("東京都", "東京都"), ("東京", "東京都"), ("Tokyo", "東京都"), ("JP-13", "東京都"), ("13", "東京都"),
    ("北海道", "北海道"), ("Hokkaido", "北海道"), ("大阪府大阪市北区梅田1-1", "大阪府"), ("ｵｵｻｶ", ""), ("", ""),
])
def test_prefecture_of(text, name):
    assert prefecture_of(text) == name


def test_order_import_reads_the_shipping_prefecture():
    csv = ("注文番号,注文日時,お名前,メールアドレス,都道府県,配送業者,問い合わせ番号,商品名,数量,単価\n"
           "5001,2026/11/20 10:00,佐藤 花子,hanako@example.jp,福岡県,ヤマト運輸,4000-5555-6666,急須,1,4800\n")
    do_import_file(io.BytesIO(csv.encode("utf-8")), file_name="orders.csv")
    order = desk.Order.objects.get(number="5001")
    assert order.shipping_prefecture == "福岡県" and order.tracking_number == "400055556666"


def test_an_admins_carrier_is_found_by_its_code_and_an_unknown_code_has_no_link():
    from madoguchi.shop.tracking import sites_for

    assert tracking_url("nobody", "123", sites_for({"nobody"})) == ""
    CarrierSite.objects.create(code="nobody", name="誰か", url_pattern="https://example.jp/t/{number}")
    assert tracking_url("nobody", "1-23", sites_for({"nobody", "yamato"})) == "https://example.jp/t/123"


def test_an_order_file_naming_a_carrier_the_admin_added_links_to_its_page():
    CarrierSite.objects.create(code="ecohai", name="エコ配", url_pattern="https://example.jp/track?no={number}")
    csv = ("注文番号,注文日時,お名前,メールアドレス,配送業者,問い合わせ番号,商品名,数量,単価\n"
           "5101,2026/11/20 10:00,佐藤 花子,hanako@example.jp,エコ配,1234-5678,急須,1,4800\n"
           "5102,2026/11/20 11:00,佐藤 花子,hanako@example.jp,どこかの運送,99-88,急須,1,4800\n")
    do_import_file(io.BytesIO(csv.encode("utf-8")), file_name="orders.csv")
    assert desk.Order.objects.get(number="5101").carrier == "ecohai"
    assert desk.Order.objects.get(number="5102").carrier == Carrier.OTHER


def test_a_form_visitor_typing_a_customers_address_and_order_number_gets_no_order(django_capture_on_commit_callbacks):
    """A typed address is not proof: the visitor is a customer of their own (PossibleMatch) until
    staff confirm, so the order of the customer whose address they typed is not linked."""
    from madoguchi.chat.public import do_contact
    from madoguchi.customers.services import get_or_create_customer

    customer, _created = get_or_create_customer(name="加藤 恵子", kind=IdentityKind.EMAIL, value="keiko@example.jp")
    OrderFactory(customer=customer, number="3003")
    with django_capture_on_commit_callbacks(execute=True):
        case = do_contact(name="加藤 恵子", email="keiko@example.jp", category=None, order_number="＃３００３",
                          message="注文3003の箱が潰れて届きました。")
    case.refresh_from_db()
    assert case.customer_id != customer.pk and case.order is None
