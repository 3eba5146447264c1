"""A desk filled with the text that breaks layouts: long Japanese names, long subjects, emoji,
an unbroken URL and e-mail address in a message, an SLA six days overdue, a waiting and a taken chat.

Written through the real services (mail through the mail parser, chat through the chat
services), so every page shows what it shows a shop. `build()` runs in the desk's own process
(`madoguchi shell -c`), with background jobs run at once (MADOGUCHI_TASKS_IMMEDIATE), and
returns the paths of the pages the layout test and the screenshot script visit.
"""

from __future__ import annotations

import datetime as dt
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Any

ADMIN = "layout-admin"
PASSWORD = "pass-窓口-2026"
LONG_URL = (
    "https://shop.example.jp/products/arita-yaki-mug-sakura-limited-380ml-2set?utm_source=newsletter"
    "&utm_medium=email&utm_campaign=2026_winter_sale&ref=ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcdefghijklmnopqrstuvwxyz"
)
LONG_EMAIL = "sakurako.ookouchi.ichinose.family.2026@mail.very-long-provider-name.example.co.jp"
LONG_SUBJECT = (
    "【至急・再送】11月20日に注文した有田焼マグカップ（限定色・桜 380ml 2個セット）が割れて届き、"
    "交換か返金をお願いしたいのですが、まだご連絡がありません😢"
)
MAIL_BODY = (
    "ショップご担当者様\n\n"
    "11月20日に注文した有田焼マグカップ（限定色・桜）が、持ち手の欠けた状態で届きました。箱も大きくへこんでいました。"
    "母の誕生日の贈り物にするつもりでしたので、とても残念です😢🎁\n\n"
    f"商品ページ: {LONG_URL}\n"
    f"返信はこちらのアドレスにお願いします: {LONG_EMAIL}\n\n"
    "写真も撮ってあります。交換品を12月1日までに届けていただけない場合は、返金をお願いします。\n\n"
    "大河内・一ノ瀬 さくら子"
)
CHAT_FIRST = "注文したマグカップが割れて届きました🙇‍♀️ 交換できますか？"
CHAT_LINK = f"このページの商品です → {LONG_URL}"


def _mail(subject: str, sender: str, body: str, sent: dt.datetime) -> bytes:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = "support@komorebi.example.jp"
    message["Subject"] = subject
    message["Date"] = format_datetime(sent)
    message["Message-ID"] = make_msgid(domain="mail.example.jp")
    message.set_content(body)
    return message.as_bytes()


def _mail_case(subject: str, sender: str, body: str, sent: dt.datetime) -> Any:
    """A mail filed as the mail worker files it (received now, whatever its Date says)."""
    from madoguchi.cases.models import Case
    from madoguchi.mail.ingest import do_ingest_raw, process_raw_message

    row, _created = do_ingest_raw(_mail(subject, sender, body, sent), "smtp", enqueue=False)
    process_raw_message(int(row.pk))
    row.refresh_from_db()
    assert row.case_id is not None, row.error
    return Case.objects.get(pk=row.case_id)


def _staff() -> dict[str, Any]:
    from madoguchi.accounts.models import AuthorityLimit, Role, Team, User

    def user(username: str, name: str, role: str, team: Team | None = None) -> User:
        made = User.objects.create_user(username=username, password=PASSWORD, display_name=name, role=role, team=team)
        return made

    admin = user(ADMIN, "勅使河原 万里小路 美穂子", Role.ADMIN)
    lead = user("layout-lead", "長谷川 久美子", Role.LEAD)
    team = Team.objects.create(name="お客様サポート第二課（東日本・大口取引先）", lead=lead)
    lead.team = team
    lead.save()
    admin.team = team
    admin.save()
    agent = user("layout-agent", "ジョナサン・アレクサンダー・ウィリアムズ＝山本", Role.AGENT, team)
    AuthorityLimit.objects.get_or_create(role=Role.AGENT, defaults={"max_compensation_yen": 3000})
    return {"admin": admin, "lead": lead, "agent": agent, "team": team}


def build() -> dict[str, str]:
    from django.utils import timezone

    from madoguchi.cases import services as cases
    from madoguchi.cases.models import Category, Channel, Priority
    from madoguchi.chat import public
    from madoguchi.chat import services as chat
    from madoguchi.customers.models import IdentityKind
    from madoguchi.customers.services import get_or_create_customer
    from madoguchi.knowledge.seed import install_templates_and_rules, load_sample_articles
    from madoguchi.metrics import rollup
    from madoguchi.notifications.services import do_notify
    from madoguchi.shop.models import Carrier, DeliveryDays, Order, OrderItem

    staff = _staff()
    admin, agent, lead = staff["admin"], staff["agent"], staff["lead"]
    now = timezone.now()
    install_templates_and_rules()
    load_sample_articles()

    # Mail: a new case, unanswered, and a second one taken, urgent, with a promise.
    sender = f"大河内・一ノ瀬 さくら子🌸 <{LONG_EMAIL}>"
    new_mail = _mail_case(LONG_SUBJECT, sender, MAIL_BODY, now)
    customer = new_mail.customer
    order = Order.objects.create(
        number="ORD-2026-0001234567", customer=customer, ordered_at=now - dt.timedelta(days=9),
        shipped_at=now - dt.timedelta(days=7), carrier=Carrier.YAMATO, tracking_number="4800-1234-5678", amount_yen=12800,
        shipping_prefecture="北海道",
    )
    OrderItem.objects.create(order=order, name="南部鉄器 急須 0.6L（ギフト包装・のし「御歳暮」名入れ・特急仕上げオプション付き）",
                             sku="NANBU-KYUSU-060-GIFT-NOSHI", quantity=2, unit_price_yen=6400)
    DeliveryDays.objects.create(carrier=Carrier.YAMATO, region="", days=3)
    mail = _mail_case(
        "Re: 【ご注文確認】ORD-2026-0001234567 南部鉄器 急須 0.6L（ギフト包装・のし「御歳暮」名入れ）の配送日変更について",
        "ジョナサン・アレクサンダー・ウィリアムズ＝山本 <jonathan.alexander.williams.yamamoto@example.com>",
        f"配送日を12月24日（火）午前中に変更できますか？🎄\n追跡ページ: {LONG_URL}",
        now - dt.timedelta(hours=5),
    )
    mail = cases.do_update_case(mail, actor=admin, expected_version=mail.version, changes={"priority": Priority.URGENT})
    cases.do_hand_over(mail, actor=lead, expected_version=mail.version, to_user=admin,
                       note="お客様は配送日の変更を希望。物流部の確認待ち。折り返しはメールで、と言われています。")
    mail.refresh_from_db()
    cases.do_add_commitment(mail, actor=admin, description="物流部に配送日変更の可否を確認し、本日中にメールでご連絡する",
                            due_at=now + dt.timedelta(hours=3), owner=admin)
    cases.do_send_reply(mail, actor=admin, body=f"ジョナサン様\n\nお問い合わせありがとうございます。確認いたします。\n{LONG_URL}")
    cases.do_request_compensation(mail, actor=agent, kind="refund", amount_yen=25000, reason="配送遅延のお詫びとして送料と商品代金の一部を返金")

    # A case nobody answered for six days: the longest SLA text (「…超過」).
    delivery = Category.objects.get(code="delivery")
    cases.do_create_case(
        actor=None, customer=customer, subject="Fwd: " + LONG_SUBJECT, channel=Channel.EMAIL, category=delivery,
        complaint=MAIL_BODY, received_at=now - dt.timedelta(days=6, hours=7), priority=Priority.HIGH,
    )
    # A phone call, a contact form and a resolved case: the other channels and states.
    phone_customer, _ = get_or_create_customer(name="小鳥遊 寿限無 五劫の擦り切れ", kind=IdentityKind.PHONE, value="09012345678")
    phone = cases.do_create_case(
        actor=agent, customer=phone_customer, subject="電話: 届いた今治タオルの色が注文したもの（ネイビー）と違う（グレーが届いた）",
        channel=Channel.PHONE, category=delivery, complaint="注文したのはネイビーなのにグレーが届いた。贈答用なので急いでいる。",
        assignee=agent, order=order, received_at=now - dt.timedelta(hours=30),
    )
    cases.do_update_case(phone, actor=agent, expected_version=phone.version, changes={"status": "waiting_customer"})
    public.do_contact(name="ＡＢＣＤＥＦＧＨＩＪＫＬＭＮＯＰ株式会社 総務部 購買課 御中", email="purchasing-department@abcdefghijklmnop.example.co.jp",
                      category=delivery, order_number="ORD-2026-0009999", message=f"請求書の宛名を変更したいです。{LONG_URL}")
    resolved = _mail_case("返品の送料について", "小林 誠 <makoto.kobayashi@example.jp>", "返品の送料はどちらが負担しますか。",
                          now - dt.timedelta(days=2))
    cases.do_send_reply(resolved, actor=agent, body="小林様\n\n不良品の場合、送料は当店が負担いたします。")
    resolved.refresh_from_db()
    cases.do_update_case(resolved, actor=agent, expected_version=resolved.version, changes={"status": "resolved"})

    # Chat: one taken and answered, one still waiting for an agent.
    session = chat.start_session(page_url=LONG_URL, name="大河内・一ノ瀬 さくら子🌸", email=LONG_EMAIL, order_number="ORD-2026-0001234567")
    posted = chat.do_customer_message(session, client_id="layout-c1", text=CHAT_FIRST)
    taken = chat.do_take(posted.session.pk, agent=admin)
    chat.do_agent_message(taken, agent=admin, client_id="layout-a1", text="お待たせいたしました。ご注文番号を確認いたします。")
    chat.do_customer_message(taken, client_id="layout-c2", text=CHAT_LINK)
    waiting = chat.start_session(name="ジョナサン・アレクサンダー・ウィリアムズ＝山本", email="jonathan.alexander.williams.yamamoto@example.com")
    chat.do_customer_message(waiting, client_id="layout-w1", text="ギフト包装の「のし」に名入れはできますか？🎁 お急ぎでお願いしたいです。")

    do_notify([admin], kind="handover", case=new_mail,
              message=f"{lead}さんから案件 {new_mail.number}「{LONG_SUBJECT}」を引き継ぎました。")
    rollup.rebuild_all()
    assert taken.case is not None
    return {
        "inbox": "/?queue=all", "mail_case": f"/cases/{new_mail.pk}/", "mail_case_taken": f"/cases/{mail.pk}/",
        "chat_case": f"/cases/{taken.case.pk}/", "customer": f"/customers/{customer.pk}/",
        "search": "/knowledge/search/?q=マグカップ", "dashboard": "/metrics/", "targets": "/metrics/targets/",
        "settings": "/settings/", "knowledge": "/knowledge/", "notifications": "/notifications/",
        "approvals": "/approvals/", "chats": "/chat/", "contact_form": "/chat/forms/contact/",
        "delivery_watch": "/orders/delivery-watch/", "order_lookup": f"/orders/case/{phone.pk}/?q=ORD",
        "order_link": f"/orders/case/{phone.pk}/link/{order.pk}/", "customer_orders": f"/orders/customer/{customer.pk}/",
        "carriers": "/settings/orders/carriers/", "phone_case": f"/cases/{phone.pk}/",
        "fans": "/fans/", "win_back": "/fans/win-back/",
    }
