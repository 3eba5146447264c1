"""The demo's second act: what the desk's newer parts show once cases have a history.

Complaint patterns (the reader reads every customer's first message and `patterns` places the
complaints in clusters, as its worker does; one carrier's cluster has a spike this week),
prevention (root causes, a countermeasure whose report shows the drop), social listening (posts
of every kind read by the reader, one spike), the mail flow (a new agent's reply held for the
lead's approval, a reply scheduled for the next business morning, a case forwarded to 物流部), and
the inbox's tags and custom fields. Everything goes through the apps' own services; only the
moments are dated back to when the story says they happened."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from django.db.models import Q
from django.utils import timezone

from madoguchi.accounts.models import Role, User
from madoguchi.cases import labels
from madoguchi.cases.models import (
    AuditEvent,
    Case,
    Channel,
    CustomField,
    Interaction,
    InteractionKind,
    Status,
    Tag,
)
from madoguchi.mail import forwarding, held
from madoguchi.mail.models import Department, OutboundMessage, OutboundState
from madoguchi.patterns import services as patterns
from madoguchi.patterns.models import Cluster
from madoguchi.prevention import services as prevention
from madoguchi.prevention.models import CaseRootCause, Cause, Countermeasure
from madoguchi.triage.services import read_interactions

ACTIVE = (Status.OPEN, Status.WAITING_CUSTOMER)
STORES = ["自社サイト", "楽天市場店", "Yahoo!ショッピング店", "吉祥寺の実店舗"]
TAGS = [("要注意", "red"), ("SNSで拡散", "orange"), ("リピーター", "green"), ("返品待ち", "blue")]
ROOT_CAUSES = {
    "delivery": (Cause.CARRIER, "配送業者の営業所での仕分け・置き配の扱いによるもの。"),
    "defect": (Cause.PRODUCT, "窯元の検品で見落とされた個体。ロット番号を窯元に連絡済み。"),
    "description": (Cause.DESCRIPTION, "商品説明の書き方が、読む人によって違う意味に取れた。"),
    "billing": (Cause.SHOP, "注文処理の手順で確認が漏れた。"),
    "service": (Cause.SHOP, "担当者の案内が不十分だった。"),
}


def read_and_cluster(started: dt.datetime) -> dict[str, int]:
    """The reader reads each case's first customer message, then patterns places the complaints
    and counts the weeks: what the worker does as messages arrive, done once for the demo."""
    firsts = (Interaction.objects.filter(kind=InteractionKind.INBOUND).order_by("case_id", "occurred_at", "id")
              .values_list("case_id", "id"))
    seen: dict[int, int] = {}
    for case_id, pk in firsts:
        seen.setdefault(case_id, pk)
    read_interactions(list(seen.values()))
    # The reader's classification happened when each message arrived, not now.
    for event in AuditEvent.objects.filter(action="classified", at__gte=started).select_related("case").only("pk", "case__received_at"):
        AuditEvent.objects.filter(pk=event.pk).update(at=event.case.received_at + dt.timedelta(minutes=1))
    placed = patterns.assign_cases(list(seen))
    refreshed = patterns.refresh_clusters()
    return {"clustered": placed, "spikes": refreshed["spikes"]}


def root_causes(rng: random.Random, lead: User, started: dt.datetime) -> int:
    """Root causes recorded on some finished cases, and on the clusters with a spike."""
    done = 0
    cases = list(Case.objects.filter(status__in=(Status.RESOLVED, Status.CLOSED), category__code__in=list(ROOT_CAUSES))
                 .select_related("category").order_by("received_at", "id"))
    for case in rng.sample(cases, min(len(cases), 30)):
        cause, note = ROOT_CAUSES[case.category.code]
        prevention.do_set_root_cause(case, actor=lead, cause=cause, note=note)
        moment = case.resolved_at or case.updated_at
        CaseRootCause.objects.filter(case=case).update(set_at=moment)
        AuditEvent.objects.filter(case=case, action="root_cause_set", at__gte=started).update(at=moment)
        done += 1
    for cluster in Cluster.objects.filter(spike_week__isnull=False):
        prevention.do_set_cluster_root_cause(
            cluster, actor=lead, cause=Cause.CARRIER,
            note="同じ営業所の担当エリアで「置き配完了」と表示されたまま荷物が見当たらない件が今週に集中。営業所に調査を依頼中。",
        )
    return done


def countermeasure(lead: User, cases: list[Case], done_on: dt.date, passage: Any) -> Countermeasure | None:
    """The fix of a misread passage, started from its cluster, recorded on the day it was made."""
    cluster = next((c for c in (patterns.cluster_of(case) for case in cases) if c is not None), None)
    if cluster is None:
        return None
    prevention.do_set_cluster_root_cause(
        cluster, actor=lead, cause=Cause.DESCRIPTION,
        note="「直火OK」の表記を、IHでも使えると読んだお客様が多かった。IH非対応の記載がなかった。",
    )
    found = Countermeasure(
        title="商品ページに「IH・電子レンジ非対応」を太字で明記し、写真にも表示", cluster=cluster,
        detail="商品説明の2段落目「直火OK」の後に「IHクッキングヒーター・電子レンジではお使いいただけません」を追加。"
               "商品写真の1枚目に「直火専用」のアイコンを入れ、カート画面にも注意書きを表示した。",
        cause=Cause.DESCRIPTION, cause_note="「直火OK」がIHを含む意味に読まれていた。",
        done_by=lead, done_on=done_on, category=cases[0].category, product=passage.product, passage=passage,
    )
    prevention.do_save_countermeasure(found, actor=lead, before=None)
    moment = timezone.make_aware(dt.datetime.combine(done_on, dt.time(17, 30)))
    Countermeasure.objects.filter(pk=found.pk).update(created_at=moment)
    return found


def tags_and_fields(rng: random.Random, lead: User, admin: User | None) -> dict[str, int]:
    """A few tags on cases, and the admin's 購入店舗 choice field filled in where it is known."""
    tags = [Tag.objects.filter(name=name).first() or labels.do_create_tag(actor=lead, name=name, colour=colour)
            for name, colour in TAGS]
    open_cases = list(Case.objects.exclude(status=Status.CLOSED).order_by("id"))
    tagged = 0
    for case in rng.sample(open_cases, min(len(open_cases), 30)):
        tag = rng.choices(tags, [3, 1, 2, 2])[0]
        tagged += labels.do_tag_case(case, tag, actor=case.assignee or lead)
    filled = 0
    if admin is not None:
        field = CustomField.objects.filter(label="購入店舗").first() or labels.do_define_field(
            None, actor=admin, label="購入店舗", kind="choice", choices=STORES)
        for case in Case.objects.filter(order__isnull=False).exclude(status=Status.NEW).order_by("id"):
            if rng.random() < 0.6:
                labels.do_set_field_values(case, actor=case.assignee or lead, raw={field.pk: rng.choices(STORES, [6, 3, 1, 1])[0]})
                filled += 1
    return {"tagged": tagged, "fields": filled}


def mail_flow(rng: random.Random, users: dict[str, User], newcomer: User) -> dict[str, int]:
    """A newcomer's reply held for the lead, a reply scheduled for the next business morning,
    and a case forwarded to 物流部 awaiting its answer."""
    from madoguchi.mail.forms import next_business_morning

    lead = users["sato"]
    department = Department.objects.filter(name="物流部").first() or Department.objects.create(
        name="物流部", address="butsuryu@komorebido.example.jp")
    Department.objects.get_or_create(name="商品部", defaults={"address": "shohin@komorebido.example.jp"})
    mail_cases = list(Case.objects.filter(channel=Channel.EMAIL, status__in=ACTIVE).select_related("customer").order_by("-received_at", "-id"))
    if len(mail_cases) < 3:
        return {"held": 0}
    first, second, third = mail_cases[:3]
    Case.objects.filter(pk=first.pk).update(assignee=newcomer)
    first.assignee = newcomer
    name = first.customer.name.split(" ")[0]
    held.do_hold_reply(
        first, author=newcomer, cc=[], bcc=[], send_at=None, approval=True,
        body=(f"{name}様\n\nお問い合わせありがとうございます。こもれび堂の伊藤です。\n"
              "このたびはご不便をおかけし、申し訳ございません。ただいま状況を確認しておりますので、"
              "明日中にあらためてご連絡いたします。\n\nこもれび堂 お客様サポート 伊藤"),
    )
    author = second.assignee or users["tanaka"]
    name = second.customer.name.split(" ")[0]
    held.do_hold_reply(
        second, author=author, cc=[], bcc=[], send_at=next_business_morning(), approval=False,
        body=(f"{name}様\n\nおはようございます。こもれび堂です。\n昨日お約束しておりました件、"
              "配送業者からの回答がまいりましたのでご報告いたします。荷物は営業所で保管されており、本日中に再配達いたします。"
              f"\n\nこもれび堂 お客様サポート {str(author).split(' ')[0]}"),
    )
    actor = third.assignee or lead
    forwarding.do_forward(
        third, actor=actor, to_address=department.address, department=department,
        note="お客様の荷物の所在確認をお願いします。配送業者への調査依頼の結果と、再送が必要かどうかを本日中にご回答ください。",
    )
    # The forward mail went out when it was written: the demo's history, not mail to send now.
    OutboundMessage.objects.filter(case=third, state=OutboundState.PENDING).update(
        state=OutboundState.SENT, sent_at=timezone.now())
    return {"held": 1, "scheduled": 1, "forwarded": 1}


def first_admin() -> User | None:
    return User.objects.filter(Q(role=Role.ADMIN) | Q(is_superuser=True), is_active=True).order_by("id").first()


def x_cases(now: dt.datetime) -> int:
    """Two customers who wrote to the shop's X account (a public mention and a DM), fetched and
    filed by the X channel's own code, so the case shows the post as X sent it."""
    from madoguchi.x_account import ingest
    from madoguchi.x_account.models import ItemKind, XAccount, XRawItem

    account = XAccount.objects.first() or XAccount.objects.create(user_id="1700000000000000001", username="komorebido")
    users = {
        "1711000000000000001": {"id": "1711000000000000001", "username": "natsu_kurashi", "name": "なつ＠暮らしの道具"},
        "1711000000000000002": {"id": "1711000000000000002", "username": "t_ohashi", "name": "大橋 拓也"},
    }

    def stamp(hours_ago: float) -> str:
        return (now - dt.timedelta(hours=hours_ago)).astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")

    mention = {"id": "1866000000000000101", "author_id": "1711000000000000001", "conversation_id": "1866000000000000101",
               "created_at": stamp(5), "edit_history_tweet_ids": ["1866000000000000101"],
               "text": "@komorebido 先週注文したバスタオル、ヤマトの追跡で「配達完了」になってるのに届いてません…置き配の指定もしてないです"}
    dm = {"id": "1866000000000000202", "event_type": "MessageCreate", "sender_id": "1711000000000000002",
          "dm_conversation_id": "1700000000000000001-1711000000000000002",
          "participant_ids": ["1711000000000000002", account.user_id], "created_at": stamp(3),
          "text": "こんにちは。急須を注文した大橋です。届いた急須の蓋が少し欠けていました。写真を送ればよいですか？"}
    rows = [ingest._row(ItemKind.MENTION, mention, users), ingest._row(ItemKind.DM, dm, users)]
    XRawItem.objects.bulk_create(rows, ignore_conflicts=True)
    return ingest.file_items([f"{row.kind}:{row.item_id}" for row in rows])
