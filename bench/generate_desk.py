"""Bulk generator of a realistic case desk for the benchmark (issue 2, "Benchmark").

At --size N it writes N cases, about 5·N interactions, N/5 customers (with identities),
0.3·N orders (one item each), 0.3·N commitments (about a fifth open, some due today and
some overdue), handovers, compensations and one audit event per case, plus 60 users in 5
teams. The schema comes from the real migrations; table and column names come from each
model's _meta, and any column the generator does not know gets the field's default, so a
new nullable or defaulted field does not break it.

Loading is raw bulk I/O, not the ORM: SQLite gets executemany in one transaction with
synchronous=OFF and journal_mode=OFF; PostgreSQL gets COPY with triggers (foreign-key
checks) off for the session. Secondary indexes are dropped before the load and rebuilt
after it (one sort instead of millions of B-tree inserts), then ANALYZE runs.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import time
from array import array
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from django.db import models

DAY = 86400
YEARS = 5
# Status mix: recent cases are often still active, old ones mostly closed (a few stuck).
RECENT_SHARE = 0.15  # the newest 15% of cases (about nine months)
STATUS_CODES = ["new", "open", "waiting_customer", "waiting_dept", "resolved", "closed"]
ACTIVE_CODES = {0, 1, 2, 3}
RESOLVED, CLOSED = 4, 5
BENCH_CASE_EVERY = 1000  # every 1000th case has exactly 50 interactions (the case-page benchmark)
BENCH_CASE_INTERACTIONS = 50

LATE_NOTICE = ("いつもご利用いただきありがとうございます。お約束していたご連絡が予定の時刻に間に合わない見込みです。"
               "大変申し訳ございません。あらためてご連絡いたしますので、いましばらくお待ちください。")
FAMILY = ["佐藤", "鈴木", "高橋", "田中", "伊藤", "渡辺", "山本", "中村", "小林", "加藤", "吉田", "山田", "松本", "井上", "木村"]
FAMILY_KANA = ["サトウ", "スズキ", "タカハシ", "タナカ", "イトウ", "ワタナベ", "ヤマモト", "ナカムラ", "コバヤシ", "カトウ",
               "ヨシダ", "ヤマダ", "マツモト", "イノウエ", "キムラ"]
GIVEN = ["花子", "一郎", "美咲", "健太", "さくら", "大輔", "陽菜", "翔太", "結衣", "拓也", "愛", "直樹"]
GIVEN_KANA = ["ハナコ", "イチロウ", "ミサキ", "ケンタ", "サクラ", "ダイスケ", "ヒナ", "ショウタ", "ユイ", "タクヤ", "アイ", "ナオキ"]
SUBJECTS = [
    "商品がまだ届きません", "届いた商品が破損していました", "サイズが説明と違います", "二重に請求されています",
    "電話の対応が失礼でした", "色が写真と違う", "返品の方法を教えてください", "クーポンが使えません",
    "配達日時を変更したい", "電源が入りません", "説明書が入っていませんでした", "領収書を発行してほしい",
]
INBOUND = [
    "注文した商品が一週間たっても届きません。いつ届くのか教えてください。",
    "箱を開けたら本体に大きな傷がありました。交換してもらえますか。",
    "サイトには「防水」と書いてあったのに、雨の日に使ったら中に水が入りました。",
    "クレジットカードの明細を見たら、同じ金額が二回引き落とされていました。",
    "先日お電話した際の担当の方の言い方がとても冷たく、悲しい気持ちになりました。",
    "届いた色が写真とまったく違います。返品はできますか？",
]
OUTBOUND = [
    "このたびはご不便をおかけし、誠に申し訳ございません。配送状況を確認いたします。",
    "ご連絡ありがとうございます。お手数ですが、注文番号を教えていただけますでしょうか。",
    "配送業者に確認したところ、明日の午前中にお届けできる見込みです。",
    "交換品を本日発送いたしました。問い合わせ番号をお送りします。",
    "二重請求を確認いたしました。一件分を返金いたします。",
]
NOTES = [
    "物流部に確認中。回答は明日の予定。", "お客様は電話連絡を希望。平日18時以降。",
    "前回の案件と同じ商品。品質管理に共有済み。", "リーダーに補償の承認を依頼した。",
]
PROMISES = ["明日までに配送状況をご連絡する", "交換品を発送する", "返金の処理完了をご連絡する", "物流部の回答をお伝えする"]
INBOUND += [
    "三日前に届いた電気ケトルの電源が入りません。コンセントを替えても同じでした。",
    "南部鉄器の急須の注ぎ口が割れていました。梱包の箱もつぶれていました。",
    "ワイヤレスイヤホンの片方から音が出ません。初期不良ではないでしょうか。",
    "置き配を指定したのに不在票が入っていました。再配達の手続きがわかりません。",
    "領収書の宛名を会社名に変えて再発行していただけますか。",
    "注文確認メールが届かないので、注文できているのか不安です。",
    "誕生日のプレゼントにするつもりだったので、間に合わないなら取り消したいです。",
    "クーポンコードを入れても「対象外」と表示されて割引になりません。",
    "北海道への送料が注文画面と請求額で違っています。",
    "サイズ交換をお願いしたいのですが、送料はどちらの負担になりますか。",
]
OUTBOUND += [
    "お届けが遅れており、大変ご迷惑をおかけしております。配送業者に調査を依頼いたしました。",
    "恐れ入りますが、破損部分のお写真をこのメールへの返信でお送りいただけますでしょうか。",
    "着払いでご返送いただければ、到着を確認しだい全額を返金いたします。",
    "クーポンの対象商品に誤りがございました。差額を返金いたします。",
    "再配達のご依頼は、伝票番号でヤマト運輸のサイトからお手続きいただけます。",
]
NOTES += [
    "配送業者から調査結果の連絡待ち。三日後に再確認。", "お客様の口調が強い。返品規定を引用して回答済み。",
    "同じお客様から三件目の問い合わせ。まとめて対応する。",
]
GREETINGS = ["お世話になっております。", "いつもご利用いただきありがとうございます。", "はじめて連絡します。", ""]
SIGNOFFS = ["よろしくお願いします。", "早めのご連絡をお待ちしております。", "至急対応してください。", ""]
SHOP_OPEN = "{name}様\nいつも当店をご利用いただき、誠にありがとうございます。\nお客様窓口の担当でございます。"
SHOP_CLOSE = "何かご不明な点がございましたら、このメールにご返信ください。\n──\nサンプル商店 お客様窓口\n営業時間 平日10時〜18時"


def _mails(seed: int, count: int, pool: list[str], opener: list[str], closer: list[str]) -> list[str]:
    """A fixed set of whole messages (2–4 sentences with a greeting and a sign-off): bodies of
    real size (100–600 characters) whose index tokens are computed once each."""
    rnd = random.Random(seed)
    out = []
    for _ in range(count):
        parts = [rnd.choice(opener), *rnd.sample(pool, rnd.randrange(2, 5)), rnd.choice(closer)]
        out.append("\n".join(part for part in parts if part))
    return out


INBOUND_MAILS = _mails(11, 80, INBOUND, GREETINGS, SIGNOFFS)
OUTBOUND_MAILS = _mails(12, 60, OUTBOUND, [SHOP_OPEN.format(name=n) for n in FAMILY[:4]], [SHOP_CLOSE])
NOTE_TEXTS = _mails(13, 20, NOTES, [""], [""])
CHANNELS = ["email", "phone", "chat", "line", "x", "form"]
CARRIERS = ["yamato", "sagawa", "japanpost", "seino"]


def columns_of(model: type[models.Model]) -> tuple[str, dict[str, str], dict[str, Any]]:
    """Table name, {attname: column}, and {attname: default value} for every concrete field."""
    fields = model._meta.concrete_fields
    defaults: dict[str, Any] = {}
    for field in fields:
        default = field.get_default() if field.has_default() or field.null else None
        if isinstance(default, (dict, list)):
            default = json.dumps(default)
        elif default is None and not field.null:
            default = "" if isinstance(field, (models.CharField, models.TextField)) else None
        defaults[field.attname] = default
    return model._meta.db_table, {f.attname: f.column for f in fields}, defaults


def stamp(ts: float) -> str:
    """UTC time as Django stores it on SQLite; PostgreSQL reads it in the session's UTC zone."""
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(ts))


class Plan:
    """Per-case facts that several tables share, computed once into compact arrays."""

    def __init__(self, size: int, now: float, agent_ids: list[int], team_of: dict[int, int], seed: int = 2026):
        rnd = random.Random(seed)
        self.size = size
        self.customers = max(size // 5, 10)
        self.orders = max(int(size * 0.3), self.customers)
        self.now = now
        start = now - YEARS * 365 * DAY
        step = (now - start) / size
        self.received = array("d")
        self.status = bytearray()
        self.assignee = array("l")
        self.customer = array("l")
        recent_from = int(size * (1 - RECENT_SHARE))
        for i in range(size):
            self.received.append(start + i * step + rnd.random() * step)
            self.customer.append(rnd.randrange(self.customers) + 1)
            if i >= recent_from:
                state = rnd.choices(range(6), weights=[10, 25, 15, 10, 16, 24])[0]
            else:
                state = rnd.choices(range(6), weights=[0.3, 0.8, 0.5, 0.4, 3, 95])[0]
            self.status.append(state)
            # About one active case in ten waits for someone to pick it up.
            unassigned = state in ACTIVE_CODES and rnd.random() < 0.1
            self.assignee.append(0 if unassigned else rnd.choice(agent_ids))
        self.team_of = team_of
        self.first_reply = array("d", bytes(8 * size))  # time of the first answer (0: none)
        self.last_message = array("d", bytes(8 * size))
        # Open promises to customers: (commitment id, case index, due).
        self.open_promises: list[tuple[int, int, float]] = []

    def resolved_at(self, i: int, rnd: random.Random | None = None) -> float:
        """When a resolved or closed case was resolved: 1–9 days after it came in, in the past
        (a fixed function of the case, so the case row and its SLA clock agree)."""
        received = self.received[i]
        return self.past(received + (1 + (i * 7919) % 9) * DAY - (i * 104729) % 7200)

    def past(self, ts: float) -> float:
        """The time, or a moment ago if it would be in the future (nothing is dated ahead)."""
        return min(ts, self.now - 30)


def _text(rnd: random.Random, pool: list[str], parts: int = 2) -> str:
    return "\n".join(rnd.choice(pool) for _ in range(parts))


def customer_rows(plan: Plan, rnd: random.Random) -> Iterator[dict[str, Any]]:
    for cid in range(1, plan.customers + 1):
        f, g = rnd.randrange(len(FAMILY)), rnd.randrange(len(GIVEN))
        yield {"id": cid, "name": f"{FAMILY[f]} {GIVEN[g]}", "kana": f"{FAMILY_KANA[f]} {GIVEN_KANA[g]}",
               "created_at": stamp(plan.now - YEARS * 365 * DAY)}


def identity_rows(plan: Plan, rnd: random.Random) -> Iterator[dict[str, Any]]:
    ident = 0
    for cid in range(1, plan.customers + 1):
        ident += 1
        yield {"id": ident, "customer_id": cid, "kind": "email", "value": f"customer{cid}@example.jp"}
        if cid % 2:
            ident += 1
            yield {"id": ident, "customer_id": cid, "kind": "phone", "value": f"090{cid:08d}"}


def product_rows(plan: Plan, rnd: random.Random) -> Iterator[dict[str, Any]]:
    for pid in range(1, 501):
        yield {"id": pid, "sku": f"SKU-{pid:05d}", "name": f"{rnd.choice(['保温', '防水', '軽量', '折りたたみ'])}"
               f"{rnd.choice(['マグ', 'バッグ', '傘', 'ケトル', 'ランプ'])} {pid}号", "url": ""}


def passage_rows(plan: Plan, rnd: random.Random) -> Iterator[dict[str, Any]]:
    n = 0
    for pid in range(1, 501):
        for position in range(1, 4):
            n += 1
            yield {"id": n, "product_id": pid, "position": position, "text": "本製品は日常生活防水です。水没させないでください。"}


def order_rows(plan: Plan, rnd: random.Random) -> Iterator[dict[str, Any]]:
    # Order j belongs to customer ((j-1) % customers) + 1, so customer c always owns order c.
    for oid in range(1, plan.orders + 1):
        ordered = plan.now - rnd.random() * YEARS * 365 * DAY
        yield {"id": oid, "number": f"ORD-{oid:09d}", "customer_id": (oid - 1) % plan.customers + 1,
               "ordered_at": stamp(ordered), "shipped_at": stamp(ordered + DAY), "delivered_at": stamp(ordered + 3 * DAY),
               "carrier": rnd.choice(CARRIERS), "tracking_number": f"{oid:012d}", "amount_yen": rnd.randrange(500, 30000)}


def order_item_rows(plan: Plan, rnd: random.Random) -> Iterator[dict[str, Any]]:
    for oid in range(1, plan.orders + 1):
        yield {"id": oid, "order_id": oid, "product_id": rnd.randrange(500) + 1, "quantity": 1,
               "unit_price_yen": rnd.randrange(500, 30000)}


def case_rows(plan: Plan, rnd: random.Random, categories: list[int]) -> Iterator[dict[str, Any]]:
    for i in range(plan.size):
        cid = i + 1
        received = plan.received[i]
        state = plan.status[i]
        agent = plan.assignee[i] or None
        done = state in (RESOLVED, CLOSED)
        yield {
            "id": cid, "subject": rnd.choice(SUBJECTS), "channel": rnd.choice(CHANNELS),
            "category_id": rnd.choice(categories), "priority": rnd.choices([1, 2, 3, 4], weights=[10, 70, 15, 5])[0],
            "status": STATUS_CODES[state], "assignee_id": agent, "team_id": plan.team_of.get(agent) if agent else None,
            "customer_id": plan.customer[i], "order_id": plan.customer[i] if rnd.random() < 0.6 else None,
            "received_at": stamp(received), "created_at": stamp(received), "updated_at": stamp(plan.past(received + 600)),
            "resolved_at": stamp(plan.resolved_at(i, rnd)) if done else None,
            "complaint": rnd.choice(INBOUND), "solution": rnd.choice(OUTBOUND) if done else "",
            "fact_order_number": f"ORD-{plan.customer[i]:09d}" if rnd.random() < 0.4 else "",
            "landing_point": "交換品の送付で合意" if done else "", "checklist": "{}", "version": 1,
            # A customer wrote since the assignee last looked: the inbox's 「新着返信」 mark.
            "unread_by_assignee": bool(agent and state in ACTIVE_CODES and rnd.random() < 0.15),
        }


def interactions_for(plan: Plan, i: int, rnd: random.Random) -> int:
    if (i + 1) % BENCH_CASE_EVERY == 0:
        return BENCH_CASE_INTERACTIONS
    return rnd.randrange(1, 10)  # mean 5


def interaction_rows(plan: Plan, rnd: random.Random) -> Iterator[dict[str, Any]]:
    """Messages of each case, in time order and all in the past (the newest cases' messages
    are closer together); notes the first answer and the last message of each case."""
    n = 0
    latest = plan.now - 60
    for i in range(plan.size):
        at = plan.received[i]
        agent = plan.assignee[i] or None
        channel = rnd.choice(CHANNELS)
        count = interactions_for(plan, i, rnd)
        for k in range(count):
            n += 1
            kind = "inbound" if k % 2 == 0 else rnd.choice(("outbound", "outbound", "note"))
            pool = INBOUND_MAILS if kind == "inbound" else OUTBOUND_MAILS if kind == "outbound" else NOTE_TEXTS
            when = stamp(at)
            if kind == "outbound" and not plan.first_reply[i]:
                plan.first_reply[i] = at
            yield {"id": n, "case_id": i + 1, "kind": kind, "channel": channel,
                   "author_id": None if kind == "inbound" else agent, "occurred_at": when,
                   "body": rnd.choice(pool), "external_id": "", "created_at": when}
            plan.last_message[i] = at
            room = (latest - at) / (count - k)
            at += rnd.uniform(min(60, room), max(min(2 * DAY, room), 1)) if room > 0 else 0


def commitment_rows(plan: Plan, rnd: random.Random) -> Iterator[dict[str, Any]]:
    """About 0.3·N promises: open ones on active cases (15% overdue, 5% due today), kept or broken on the rest."""
    n = 0
    closed_chance = 0.27
    for i in range(plan.size):
        state = plan.status[i]
        if state in ACTIVE_CODES:
            if rnd.random() >= 0.55:
                continue
            roll = rnd.random()
            if roll < 0.15:
                due = plan.now - rnd.randrange(3600, 10 * DAY)
            elif roll < 0.20:
                due = plan.now + rnd.randrange(0, 3 * 3600)  # later today (JST evening at the latest)
            else:
                due = plan.now + rnd.randrange(DAY, 14 * DAY)
            result, closed = "open", None
        elif rnd.random() < closed_chance:
            due = plan.received[i] + rnd.randrange(1, 7) * DAY
            result, closed = ("kept" if rnd.random() < 0.9 else "broken"), stamp(plan.past(due))
        else:
            continue
        n += 1
        agent = plan.assignee[i] or None
        if result == "open":
            plan.open_promises.append((n, i, due))
        yield {"id": n, "case_id": i + 1, "description": rnd.choice(PROMISES), "owner_id": agent, "department": "",
               "due_at": stamp(due), "state": result, "created_by_id": agent,
               "created_at": stamp(plan.received[i]), "closed_at": closed, "escalated_at": None}


def late_notice_rows(plan: Plan, rnd: random.Random, horizon: float) -> Iterator[dict[str, Any]]:
    """The late notices a running desk has by now: its minute job drafted one for every open
    promise as it came within reach (due by `horizon`, the job's business-hours horizon, and past
    half its time: progress.services.prepare_late_notices), and agents sent or set aside most of
    those already overdue. Without them the first hours of a generated desk's worker are spent
    drafting tens of thousands of notices, which no real desk does."""
    due_soon = [(c, i, due) for c, i, due in plan.open_promises
                if due <= horizon and due - plan.now <= (due - plan.received[i]) / 2]
    for n, (commitment, i, due) in enumerate(due_soon, start=1):
        prepared = plan.past(due - rnd.randrange(2 * 3600, 4 * 3600))
        decided = due < plan.now and rnd.random() < 0.8
        state = rnd.choice(["sent", "sent", "sent", "dismissed"]) if decided else "draft"
        agent = plan.assignee[i] or None
        yield {"id": n, "commitment_id": commitment, "case_id": i + 1, "state": state, "prepared_at": stamp(prepared),
               "new_due_at": stamp(due + 4 * 3600), "body": LATE_NOTICE,
               "decided_by_id": agent if decided and agent else None,
               "decided_at": stamp(plan.past(prepared + 1800)) if decided else None, "interaction_id": None}


def handover_rows(plan: Plan, rnd: random.Random, agents: list[int]) -> Iterator[dict[str, Any]]:
    n = 0
    for i in range(0, plan.size, 20):
        n += 1
        yield {"id": n, "case_id": i + 1, "from_user_id": rnd.choice(agents), "to_user_id": plan.assignee[i] or None,
               "to_team_id": None, "note": "お客様は交換を希望。発送手配まで済んでいます。", "created_at": stamp(plan.past(plan.received[i] + DAY))}


def compensation_rows(plan: Plan, rnd: random.Random, agents: list[int]) -> Iterator[dict[str, Any]]:
    n = 0
    for i in range(7, plan.size, 33):
        n += 1
        yield {"id": n, "case_id": i + 1, "kind": rnd.choice(["refund", "coupon", "replacement"]),
               "amount_yen": rnd.choice([500, 1000, 3000, 5000]), "reason": "配送遅延のお詫び",
               "state": "granted", "requested_by_id": rnd.choice(agents), "approved_by_id": None,
               "decision_note": "", "created_at": stamp(plan.past(plan.received[i] + DAY)),
               "decided_at": stamp(plan.past(plan.received[i] + DAY))}


def audit_rows(plan: Plan, rnd: random.Random) -> Iterator[dict[str, Any]]:
    for i in range(plan.size):
        yield {"id": i + 1, "case_id": i + 1, "actor_id": plan.assignee[i] or None, "action": "created",
               "changes": "{}", "at": stamp(plan.received[i])}


ARTICLE_TOPICS = ["返品・交換の受付", "配送遅延のお詫びと調査", "二重請求の返金手順", "初期不良の判定", "クーポンが使えないとき",
                  "領収書の再発行", "置き配と再配達", "電話対応の言葉づかい", "補償の上限と承認", "住所変更の締め切り"]
TAGS = ["返品", "配送", "返金", "不良品", "クーポン", "領収書", "電話", "補償", "ケトル", "急須", "イヤホン", "北海道"]
ARTICLES = 300


def sla_rows(plan: Plan, rnd: random.Random, policy: int | None) -> Iterator[dict[str, Any]]:
    """Every case's SLA clocks as the app leaves them: met targets counted and their dues
    cleared; running ones with their due (breached ones recorded, see breach_rows); waiting
    for the customer paused. First answer within 4 hours, resolution within 3 days (wall time,
    standing in for business time)."""
    first_target, resolution_target = 4 * 3600, 3 * DAY
    for i in range(plan.size):
        state, received = plan.status[i], plan.received[i]
        row: dict[str, Any] = {"case_id": i + 1, "policy_id": policy, "marks": []}
        due, met = 0, 0
        if plan.first_reply[i]:
            wall = int(plan.first_reply[i] - received)
            row.update(first_done_at=stamp(plan.first_reply[i]), first_wall_seconds=wall,
                       first_business_seconds=int(wall * 0.6))
            due, met = due + 1, met + (wall <= first_target)
            row["marks"].append("counted:first")
        elif state in ACTIVE_CODES:
            row.update(_running(plan, "first", received + first_target, 3600, row))
        if state in (RESOLVED, CLOSED):
            resolved = plan.resolved_at(i)
            row.update(resolved_at=stamp(resolved), resolution_business_seconds=int((resolved - received) * 0.5))
            due, met = due + 1, met + (resolved - received <= resolution_target)
            row["marks"].append("counted:resolution")
        else:
            row.update(_running(plan, "resolution", received + resolution_target, 12 * 3600, row))
        if state == 2:  # waiting for the customer: the clock stopped at the last message
            row["paused_since"] = stamp(plan.last_message[i] or received)
        row["reopen_count"] = 1 if i % 31 == 0 else 0
        row["targets_due"] = due + row.pop("breached", 0)
        row["targets_met"] = met
        row["marks"] = json.dumps(row["marks"])
        yield row


def _running(plan: Plan, target: str, due: float, warn_before: int, row: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {f"{target}_due": stamp(due)}
    if due < plan.now:  # breached long ago: recorded, counted, no warning left to send
        row["marks"].append(f"counted:{target}")
        row["breached"] = row.get("breached", 0) + 1
    elif due - warn_before > plan.now:
        out[f"{target}_warn_at"] = stamp(due - warn_before)
    else:
        row["marks"].append(f"warned:{target}")
    return out


def breach_rows(plan: Plan, rnd: random.Random) -> Iterator[dict[str, Any]]:
    """The breach records of running targets whose due has passed (so the minute job finds
    nothing left to do, as on a desk that has been running)."""
    n = 0
    for i in range(plan.size):
        if plan.status[i] not in ACTIVE_CODES:
            continue
        received = plan.received[i]
        for target, due in (("first", received + 4 * 3600), ("resolution", received + 3 * DAY)):
            if target == "first" and plan.first_reply[i]:
                continue
            if due < plan.now:
                n += 1
                yield {"id": n, "case_id": i + 1, "target": target, "due_at": stamp(due), "breached_at": stamp(due + 60)}


def outcome_rows(plan: Plan, rnd: random.Random) -> Iterator[dict[str, Any]]:
    for i in range(plan.size):
        if plan.status[i] in (RESOLVED, CLOSED) and rnd.random() < 0.6:
            yield {"case_id": i + 1, "resolved": rnd.random() < 0.9, "cancelled": rnd.random() < 0.05,
                   "refund_asked": rnd.random() < 0.07, "kept": rnd.random() < 0.03, "upsell": rnd.random() < 0.02,
                   "recorded_by_id": plan.assignee[i] or None, "recorded_at": stamp(plan.resolved_at(i))}


SURVEY_COMMENTS = ["対応が早くて助かりました。", "丁寧に説明していただきました。", "返金まで時間がかかりすぎです。",
                   "最初の返事が遅かったです。", ""]


def survey_rows(plan: Plan, rnd: random.Random) -> Iterator[dict[str, Any]]:
    """One survey per resolved case: waiting during the first day, else sent; about a quarter answered."""
    n = 0
    for i in range(plan.size):
        if plan.status[i] not in (RESOLVED, CLOSED):
            continue
        n += 1
        resolved = plan.resolved_at(i)
        row: dict[str, Any] = {"id": n, "case_id": i + 1, "nonce": f"b{i + 1:031d}"[-32:]}
        if resolved + DAY > plan.now:
            row.update(state="waiting", due_at=stamp(resolved + DAY))
        else:
            sent = resolved + DAY
            row.update(state="sent", channel="email", sent_at=stamp(sent), expires_at=stamp(sent + 30 * DAY))
            if rnd.random() < 0.25:
                rating = rnd.choices([1, 2, 3, 4, 5], weights=[5, 8, 17, 35, 35])[0]
                row.update(answered_at=stamp(plan.past(sent + rnd.randrange(600, 3 * DAY))), rating=rating,
                           nps=min(10, rating * 2 + rnd.randrange(-1, 2)), comment=rnd.choice(SURVEY_COMMENTS))
        yield row


def _article_body(rnd: random.Random, topic: str) -> str:
    steps = rnd.sample(OUTBOUND + NOTES, 4)
    return (f"## {topic}\n\nこの手順は{rnd.choice(['全担当者', '新人担当者', 'リーダー'])}向けです。\n\n"
            + "\n".join(f"{k}. {step}" for k, step in enumerate(steps, 1))
            + f"\n\n> 注意: 「{rnd.choice(INBOUND)}」という問い合わせには、まず事実を確認します。")


def article_rows(plan: Plan, rnd: random.Random, categories: list[int], editor: int) -> Iterator[dict[str, Any]]:
    for n in range(1, ARTICLES + 1):
        topic = ARTICLE_TOPICS[n % len(ARTICLE_TOPICS)]
        at = stamp(plan.now - rnd.random() * YEARS * 365 * DAY)
        yield {"id": n, "title": f"{topic}（{n}）", "body": _article_body(random.Random(n), topic),
               "visibility": "public" if n % 3 == 0 else "internal", "state": "published" if n % 10 else "draft",
               "category_id": rnd.choice(categories), "version": 1, "created_at": at, "updated_at": at,
               "updated_by_id": editor}


def article_version_rows(plan: Plan, rnd: random.Random, editor: int) -> Iterator[dict[str, Any]]:
    for row in article_rows(plan, random.Random(3), [0], editor):
        yield {"id": row["id"], "article_id": row["id"], "number": 1, "title": row["title"], "body": row["body"],
               "visibility": row["visibility"], "state": row["state"], "tags": "", "author_id": editor,
               "created_at": row["created_at"]}


def tag_rows(plan: Plan, rnd: random.Random) -> Iterator[dict[str, Any]]:
    for n, name in enumerate(TAGS, 1):
        yield {"id": n, "name": name}


def article_tag_rows(plan: Plan, rnd: random.Random) -> Iterator[dict[str, Any]]:
    n = 0
    for article in range(1, ARTICLES + 1):
        for tag in random.Random(article).sample(range(1, len(TAGS) + 1), 2):
            n += 1
            yield {"id": n, "article_id": article, "tag_id": tag}


# The inbox's labels (issue 22): case tags, and custom fields with values on a quarter of the
# cases. Both are functions of the case id, so the search documents (search_docs) carry the same
# words as the rows without reading them back.
CASE_TAGS = [("要返金", "red"), ("VIP", "purple"), ("返品希望", "orange"), ("再発", "red"), ("ギフト", "pink"),
             ("電話折り返し", "blue"), ("クーポン対応", "green"), ("初期不良", "orange"), ("配送遅延", "yellow"),
             ("法人", "gray"), ("SNS", "blue"), ("要確認", "yellow"), ("定期便", "green"), ("海外", "gray"),
             ("高額", "purple"), ("二重請求", "red")]
STORES = ["本店", "楽天市場店", "Yahoo!ショッピング店", "Amazon店"]
CUSTOM_FIELDS = [("購入店舗", "choice", STORES), ("返品伝票番号", "text", []), ("購入日", "date", [])]


def case_tag_ids(cid: int) -> list[int]:
    """Three cases in ten carry one to three tags (ids 1..16)."""
    if cid % 10 >= 3:
        return []
    rnd = random.Random(cid * 7919)
    return sorted(rnd.sample(range(1, len(CASE_TAGS) + 1), rnd.randint(1, 3)))


def case_field_texts(cid: int) -> list[tuple[int, str]]:
    """(field id, text) of a case's text and choice fields: a quarter of the cases have them."""
    if cid % 4:
        return []
    return [(1, STORES[cid % len(STORES)])] + ([(2, f"RT{cid:010d}")] if cid % 8 == 0 else [])


def case_field_values(plan: Plan, cid: int) -> list[tuple[int, str, str | None]]:
    """(field id, text, date): the text fields, and the purchase date five days before the case."""
    texts: list[tuple[int, str, str | None]] = [(field, text, None) for field, text in case_field_texts(cid)]
    return texts + [(3, "", stamp(plan.received[cid - 1] - 5 * DAY)[:10])] if texts else []


def case_label_words(cid: int) -> str:
    """What knowledge.indexing.case_labels finds for a generated case (tags, then field texts)."""
    words = [CASE_TAGS[t - 1][0] for t in case_tag_ids(cid)] + [text for _field, text in case_field_texts(cid)]
    return " ".join(words)


def case_label_tag_rows(plan: Plan, rnd: random.Random) -> Iterator[dict[str, Any]]:
    at = stamp(plan.now - 400 * DAY)
    for n, (name, colour) in enumerate(CASE_TAGS, 1):
        yield {"id": n, "name": name, "colour": colour, "created_at": at}


def case_tag_rows(plan: Plan, rnd: random.Random) -> Iterator[dict[str, Any]]:
    n = 0
    for cid in range(1, plan.size + 1):
        for tag in case_tag_ids(cid):
            n += 1
            yield {"id": n, "case_id": cid, "tag_id": tag, "added_at": stamp(plan.past(plan.received[cid - 1] + 900))}


def custom_field_rows(plan: Plan, rnd: random.Random) -> Iterator[dict[str, Any]]:
    for n, (label, kind, choices) in enumerate(CUSTOM_FIELDS, 1):
        yield {"id": n, "label": label, "kind": kind, "choices": json.dumps(choices, ensure_ascii=False), "position": n,
               "active": True}


def custom_value_rows(plan: Plan, rnd: random.Random) -> Iterator[dict[str, Any]]:
    n = 0
    for cid in range(1, plan.size + 1):
        for field, text, date in case_field_values(plan, cid):
            n += 1
            yield {"id": n, "case_id": cid, "field_id": field, "text": text, "date": date,
                   "updated_at": stamp(plan.past(plan.received[cid - 1] + 1200))}


# --- Writers ----------------------------------------------------------------------------------


class Loader:
    """Drops a table's secondary indexes, streams rows in, rebuilds the indexes."""

    batch = 50_000

    def secondary_indexes(self, table: str) -> list[tuple[str, str]]:
        raise NotImplementedError

    def insert(self, table: str, columns: list[str], rows: Iterable[tuple[Any, ...]]) -> int:
        raise NotImplementedError

    def execute(self, sql: str) -> None:
        raise NotImplementedError

    def load(self, model: type[models.Model], rows: Iterable[dict[str, Any]]) -> tuple[int, float]:
        started = time.perf_counter()
        table, columns, defaults = columns_of(model)
        names = list(columns)
        indexes = self.secondary_indexes(table)
        for name, _sql in indexes:
            self.execute(f'DROP INDEX "{name}"')
        template = [defaults[name] for name in names]
        position = {name: k for k, name in enumerate(names)}

        def tuples() -> Iterator[tuple[Any, ...]]:
            for row in rows:
                values = list(template)
                for key, value in row.items():
                    values[position[key]] = value
                yield tuple(values)

        count = self.insert(table, [columns[n] for n in names], tuples())
        for _name, sql in indexes:
            self.execute(sql)
        return count, time.perf_counter() - started


class SQLiteLoader(Loader):
    def __init__(self, path: str):
        import sqlite3

        self.db = sqlite3.connect(path, isolation_level=None)
        for pragma in ("journal_mode=OFF", "synchronous=OFF", "foreign_keys=OFF", "cache_size=-262144",
                       "temp_store=MEMORY", "locking_mode=EXCLUSIVE"):
            self.db.execute(f"PRAGMA {pragma}")
        self.db.execute("BEGIN")

    def secondary_indexes(self, table: str) -> list[tuple[str, str]]:
        return self.db.execute(
            "SELECT name, sql FROM sqlite_master WHERE type='index' AND tbl_name=? AND sql IS NOT NULL", (table,)
        ).fetchall()

    def execute(self, sql: str) -> None:
        self.db.execute(sql)

    def insert(self, table: str, columns: list[str], rows: Iterable[tuple[Any, ...]]) -> int:
        sql = f'INSERT INTO "{table}" ({", ".join(chr(34) + c + chr(34) for c in columns)}) VALUES ({", ".join("?" * len(columns))})'
        count = 0
        batch: list[tuple[Any, ...]] = []
        for row in rows:
            batch.append(row)
            if len(batch) >= self.batch:
                self.db.executemany(sql, batch)
                count += len(batch)
                batch.clear()
        self.db.executemany(sql, batch)
        return count + len(batch)

    def finish(self) -> None:
        self.db.execute("COMMIT")
        self.db.execute("ANALYZE")
        self.db.close()


class PostgresLoader(Loader):
    def __init__(self, dsn: str):
        import psycopg

        self.db = psycopg.connect(dsn, autocommit=True)
        # Triggers off = foreign-key checks off for this session only: the generator keeps
        # references consistent itself, and checking 5M rows one by one would dominate.
        self.db.execute("SET session_replication_role = replica")
        self.db.execute("SET TIME ZONE 'UTC'")
        self.db.execute("SET maintenance_work_mem = '512MB'")
        self.db.execute("SET synchronous_commit = off")

    def secondary_indexes(self, table: str) -> list[tuple[str, str]]:
        # Indexes that back a constraint (primary key, unique) stay; the others are rebuilt.
        return self.db.execute(
            """SELECT i.relname, pg_get_indexdef(i.oid) FROM pg_index x
               JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid
               WHERE t.relname = %s AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.oid)""",
            (table,),
        ).fetchall()

    def execute(self, sql: str) -> None:
        self.db.execute(sql)

    def insert(self, table: str, columns: list[str], rows: Iterable[tuple[Any, ...]]) -> int:
        count = 0
        with self.db.cursor() as cur:
            quoted = ", ".join(f'"{c}"' for c in columns)
            with cur.copy(f'COPY "{table}" ({quoted}) FROM STDIN') as copy:
                for row in rows:
                    copy.write_row(row)
                    count += 1
        return count

    def reset_sequence(self, table: str) -> None:
        self.db.execute(
            f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), (SELECT coalesce(max(id), 1) FROM \"{table}\"))"
        )

    def finish(self, tables: list[str], serial: list[str]) -> None:
        for table in serial:
            self.reset_sequence(table)
        self.db.execute("SET session_replication_role = DEFAULT")
        # VACUUM sets the visibility map, so index-only scans work as on a long-lived database.
        for table in tables:
            self.db.execute(f'VACUUM (ANALYZE) "{table}"')
        self.db.close()


def late_notice_horizon() -> float:
    """Up to when the late-notice job looks now (its own business-hours reckoning)."""
    from django.conf import settings

    from madoguchi.businesshours.calendar import add_business_seconds

    now = dt.datetime.now(dt.UTC)
    return add_business_seconds(now, settings.PROGRESS_LATE_NOTICE_BUSINESS_HOURS * 3600).timestamp()


def generate(size: int, make_loader: Callable[[], Loader], log: Callable[[str], None] = print) -> dict[str, tuple[int, float]]:
    """Fill the (migrated, empty) database; returns {table: (rows, seconds)}."""
    from django.contrib.auth.hashers import make_password

    from madoguchi.accounts.models import Role, Team, User
    from madoguchi.cases.models import (
        AuditEvent,
        Case,
        CaseTag,
        Category,
        Commitment,
        Compensation,
        CustomField,
        CustomFieldValue,
        Handover,
        Interaction,
    )
    from madoguchi.cases.models import Tag as CaseLabel
    from madoguchi.customers.models import Customer, Identity
    from madoguchi.knowledge.models import Article, ArticleVersion, Tag
    from madoguchi.metrics.models import CaseSla, Outcome, SlaBreach, SlaPolicy, Survey
    from madoguchi.progress.models import LateNotice
    from madoguchi.shop.models import Order, OrderItem, Passage, Product

    rnd = random.Random(7)
    # Users and teams go through the ORM (60 rows); one password hash shared by all of them.
    password = make_password("bench-窓口-2026")
    teams = [Team.objects.create(name=f"ベンチ{n}課") for n in range(1, 6)]
    users = [User(username="bench-admin", role=Role.ADMIN, is_staff=True, password=password, display_name="管理 太郎")]
    for t, team in enumerate(teams):
        users.append(User(username=f"bench-lead{t + 1}", role=Role.LEAD, team=team, password=password,
                          display_name=f"{FAMILY[t]} リーダー"))
        for a in range(11 if t < 4 else 10):
            users.append(User(username=f"bench-agent{t + 1}-{a + 1}", role=Role.AGENT, team=team, password=password,
                              display_name=f"{FAMILY[(t * 3 + a) % len(FAMILY)]} {GIVEN[a % len(GIVEN)]}"))
    User.objects.bulk_create(users)
    users = list(User.objects.filter(username__startswith="bench-"))
    for team in teams:
        team.lead = next(u for u in users if u.role == Role.LEAD and u.team_id == team.pk)
        team.save(update_fields=["lead"])
    agents = [u.pk for u in users if u.role != Role.ADMIN]
    team_of = {u.pk: u.team_id for u in users if u.team_id}
    categories = list(Category.objects.values_list("pk", flat=True))
    # The catch-all policy (no priority, channel or category), as a case without a closer match gets.
    policy = SlaPolicy.objects.filter(priority=None, channel="", category=None).values_list("pk", flat=True).first()
    editor = next(u.pk for u in users if u.role == Role.ADMIN)
    from django.db import connection

    horizon = late_notice_horizon()
    connection.close()  # the loader takes the database for itself
    loader = make_loader()

    started = time.perf_counter()
    plan = Plan(size, time.time(), agents, team_of)
    log(f"plan: {time.perf_counter() - started:.1f}s")
    steps: list[tuple[type[models.Model], Iterable[dict[str, Any]]]] = [
        (Customer, customer_rows(plan, rnd)),
        (Identity, identity_rows(plan, rnd)),
        (Product, product_rows(plan, rnd)),
        (Passage, passage_rows(plan, rnd)),
        (Order, order_rows(plan, rnd)),
        (OrderItem, order_item_rows(plan, rnd)),
        (Case, case_rows(plan, rnd, categories)),
        (Interaction, interaction_rows(plan, rnd)),
        (Commitment, commitment_rows(plan, rnd)),
        (LateNotice, late_notice_rows(plan, rnd, horizon)),
        (Handover, handover_rows(plan, rnd, agents)),
        (Compensation, compensation_rows(plan, rnd, agents)),
        (AuditEvent, audit_rows(plan, rnd)),
        (CaseSla, sla_rows(plan, rnd, policy)),
        (SlaBreach, breach_rows(plan, rnd)),
        (Outcome, outcome_rows(plan, rnd)),
        (Survey, survey_rows(plan, rnd)),
        (Tag, tag_rows(plan, rnd)),
        (Article, article_rows(plan, rnd, categories, editor)),
        (ArticleVersion, article_version_rows(plan, rnd, editor)),
        (Article.tags.through, article_tag_rows(plan, rnd)),
        (CaseLabel, case_label_tag_rows(plan, rnd)),
        (CaseTag, case_tag_rows(plan, rnd)),
        (CustomField, custom_field_rows(plan, rnd)),
        (CustomFieldValue, custom_value_rows(plan, rnd)),
    ]
    report: dict[str, tuple[int, float]] = {}
    for model, rows in steps:
        cpu = time.process_time()
        count, seconds = loader.load(model, rows)
        report[model._meta.db_table] = (count, seconds)
        log(f"{model._meta.db_table}: {count:,} rows in {seconds:.1f}s (this process's CPU {time.process_time() - cpu:.1f}s)")
    started = time.perf_counter()
    tables = [model._meta.db_table for model, _rows in steps]
    serial = [model._meta.db_table for model, _rows in steps if model._meta.pk.name == "id"]
    if isinstance(loader, PostgresLoader):
        loader.finish(tables, serial)
    elif isinstance(loader, SQLiteLoader):
        loader.finish()
    report["(analyze)"] = (0, time.perf_counter() - started)
    log(f"analyze: {report['(analyze)'][1]:.1f}s")
    report.update(fill_derived(make_loader, log))
    return report


def _line_tokens() -> Callable[..., str]:
    """index_tokens with each line's tokens cached: the generated texts repeat lines from fixed
    sets, and what is unique (an order number, an address) is one short line. The index is a bag
    of words (FTS5 / tsvector), so tokenising line by line gives the same index; search_docs checks
    that on the first documents of each kind."""
    import functools

    from madoguchi.knowledge.text import tokens

    cached = functools.lru_cache(maxsize=500_000)(lambda line: tuple(tokens(line)))

    def index_tokens(*texts: str) -> str:
        return " ".join(token for text in texts for line in text.split("\n") for token in cached(line))

    return index_tokens


def _ns(**values: Any) -> Any:
    from types import SimpleNamespace

    return SimpleNamespace(**values)


def search_docs(read: Callable[[str], Iterable[tuple[Any, ...]]]) -> Iterator[dict[str, Any]]:
    """Every document `madoguchi reindex` writes (cases, then messages, customers, orders), in
    the same order, made by the app's own builders (knowledge.indexing.*_doc) from rows read in
    bulk; articles are indexed afterwards by the app (index_refs)."""
    from django.db.models import Model

    from madoguchi.customers.models import Customer, Identity
    from madoguchi.knowledge import indexing
    from madoguchi.shop.models import Order

    exact, fast = indexing.index_tokens, _line_tokens()
    checked: dict[str, int] = {}

    def made(kind: str, build: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        indexing.index_tokens = fast  # type: ignore[assignment]
        try:
            doc = build()
        finally:
            indexing.index_tokens = exact  # type: ignore[assignment]
        if checked.get(kind, 0) < 200:  # the first documents of each kind: same words as the app's own
            checked[kind] = checked.get(kind, 0) + 1
            if sorted(doc["tokens"].split()) != sorted(build()["tokens"].split()):
                raise RuntimeError(f"line-by-line tokens differ from the app's for {kind} {doc['ref_id']}")
        return doc

    subjects: dict[int, str] = {}
    for pk, subject, complaint, solution, order_number, product, received in read(
        "SELECT id, subject, complaint, solution, fact_order_number, fact_product, received_at FROM cases_case ORDER BY id"
    ):
        subjects[pk] = subject
        case = _ns(pk=pk, subject=subject, complaint=complaint, solution=solution, fact_order_number=order_number,
                   fact_product=product, received_at=received)
        yield made("case", lambda case=case: indexing.case_doc(case, case_label_words(case.pk)))  # type: ignore[misc]
    for pk, case_id, body, occurred in read("SELECT id, case_id, body, occurred_at FROM cases_interaction ORDER BY id"):
        message = _ns(pk=pk, case_id=case_id, body=body, occurred_at=occurred)
        yield made("message", lambda m=message, s=subjects[case_id]: indexing.message_doc(m, s))  # type: ignore[misc]
    subjects.clear()
    identities: dict[int, list[Any]] = {}
    for customer_id, kind, value in read("SELECT customer_id, kind, value FROM customers_identity ORDER BY id"):
        identities.setdefault(customer_id, []).append(Identity(kind=kind, value=value))  # unsaved: its .display
    names: dict[int, str] = {}
    for pk, name, kana, created in read("SELECT id, name, kana, created_at FROM customers_customer ORDER BY id"):
        names[pk] = name
        mine = identities.pop(pk, [])
        customer = _ns(pk=pk, name=name, kana=kana, created_at=created, identities=_ns(all=lambda mine=mine: mine))
        yield made("customer", lambda c=customer: indexing.customer_doc(c))  # type: ignore[misc]
    for pk, number, tracking, carrier, ordered, customer_id in read(
        "SELECT id, number, tracking_number, carrier, ordered_at, customer_id FROM shop_order ORDER BY id"
    ):
        order: Model = Order(pk=pk, number=number, tracking_number=tracking, carrier=carrier, ordered_at=ordered)
        order.customer = Customer(pk=customer_id, name=names.get(customer_id, ""))  # type: ignore[attr-defined]
        yield made("order", lambda o=order: indexing.order_doc(o))  # type: ignore[misc]


def fill_search_index(make_loader: Callable[[], Loader], log: Callable[[str], None] = print) -> tuple[int, float]:
    """The search index in bulk: the documents `madoguchi reindex` would write (search_docs),
    loaded like the other tables (SQLite: the FTS5 insert trigger off during the load and the
    FTS5 index rebuilt once after it, as migration 0004 does; PostgreSQL: COPY, the GIN index
    built after), then the articles through the worker's own path (index_refs)."""
    from django.db import connection

    from madoguchi.knowledge import indexing
    from madoguchi.knowledge.models import Article, DocKind, SearchDoc

    started = time.perf_counter()
    connection.close()
    loader = make_loader()
    if isinstance(loader, SQLiteLoader):
        db = loader.db

        def read(sql: str) -> Iterable[tuple[Any, ...]]:
            return db.execute(sql)

        trigger = db.execute("SELECT sql FROM sqlite_master WHERE name = 'knowledge_searchdoc_ai'").fetchone()[0]
        db.execute("DROP TRIGGER knowledge_searchdoc_ai")
        count, _seconds = loader.load(SearchDoc, ({"id": n, **doc} for n, doc in enumerate(search_docs(read), 1)))
        db.execute(trigger)
        db.execute("INSERT INTO knowledge_searchfts(knowledge_searchfts) VALUES ('rebuild')")
        loader.finish()
    else:
        import psycopg

        assert isinstance(loader, PostgresLoader)
        reader = psycopg.connect(loader.db.info.dsn)
        reader.execute("SET TIME ZONE 'UTC'")

        def read(sql: str) -> Iterable[tuple[Any, ...]]:
            with reader.cursor(name=f"bench_{abs(hash(sql))}") as cursor:
                cursor.itersize = 5000
                cursor.execute(sql)
                yield from cursor

        count, _seconds = loader.load(SearchDoc, ({"id": n, **doc} for n, doc in enumerate(search_docs(read), 1)))
        reader.close()
        table = SearchDoc._meta.db_table
        loader.finish([table], [table])
    articles = list(Article.objects.values_list("pk", flat=True))
    count += indexing.index_refs([(DocKind.ARTICLE, pk) for pk in articles])
    return count, time.perf_counter() - started


def fill_derived(make_loader: Callable[[], Loader], log: Callable[[str], None] = print) -> dict[str, tuple[int, float]]:
    """What the running desk derives from the rows: the search index (fill_search_index, the
    documents of `madoguchi reindex`) and the dashboard rollups by the app's own rebuild
    (metrics.rollup.rebuild_all, what `madoguchi rebuild_rollups` runs)."""
    from django.db import connection

    from madoguchi.knowledge.models import SearchDoc
    from madoguchi.metrics import rollup
    from madoguchi.metrics.models import Cell

    report: dict[str, tuple[int, float]] = {}
    cpu = time.process_time()
    report[SearchDoc._meta.db_table] = fill_search_index(make_loader, log)
    count, seconds = report[SearchDoc._meta.db_table]
    cpu = time.process_time() - cpu
    log(f"search index: {count:,} documents in {seconds:.1f}s ({count / seconds:,.0f}/s; this process's CPU {cpu:.1f}s,"
        f" {count / cpu:,.0f}/CPU-s)")
    started, cpu = time.perf_counter(), time.process_time()
    days = rollup.rebuild_all()
    report[Cell._meta.db_table] = (Cell.objects.count(), time.perf_counter() - started)
    log(f"dashboard rollups: {days:,} days, {report[Cell._meta.db_table][0]:,} rows in {report[Cell._meta.db_table][1]:.1f}s"
        f" (this process's CPU {time.process_time() - cpu:.1f}s)")
    report.update(fill_patterns(make_loader, log))
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    report["(analyze derived)"] = (0, time.perf_counter() - started)
    return report


# Complaint clusters (patterns app): what each category's complaints are about, as the words a
# cluster of them would be named by. Within a key a case's topic is a fixed function of its id.
PATTERN_TOPICS = {
    "delivery": ["予定日・届く・到着", "置き配・濡れる・雨", "潰れる・箱・割れる", "不在票・在宅・インターホン"],
    "defect": ["電源・入る・充電", "臭い・異臭・薬品", "傷・ヒビ・割れる"],
    "description": ["電子レンジ・レンジ・割れる", "サイズ・小さい・違う", "色・写真・違う"],
    "billing": ["二重・請求・引き落とし", "クーポン・割引・対象外"],
    "service": ["電話・態度・言い方", "返信・遅い・連絡"],
    "other": ["領収書・宛名・再発行", "注文確認・メール・届く"],
}
COMPLAINT_SHARE = 7  # of every 10 cases


def fill_patterns(make_loader: Callable[[], Loader], log: Callable[[str], None] = print) -> dict[str, tuple[int, float]]:
    """Complaint clusters as the patterns app keeps them: 70 % of cases are complaints, keyed by
    the app's own rule (patterns.clustering.key_of: a delivery complaint by its order's carrier,
    a defect by the product of its order, a misread description by a passage of that product,
    the others by carrier) and split by topic within a key; Cluster and Member rows bulk-loaded,
    then the periodic job's own count of the last 12 weeks and spikes (services.refresh_clusters)."""
    from django.db import connection

    from madoguchi.cases.models import Case, Category
    from madoguchi.patterns import services
    from madoguchi.patterns.clustering import key_of
    from madoguchi.patterns.models import Cluster, Member
    from madoguchi.shop.models import OrderItem

    started = time.perf_counter()
    codes = dict(Category.objects.values_list("pk", "code"))
    product_of = dict(OrderItem.objects.values_list("order_id", "product_id"))
    clusters: dict[tuple[Any, int], dict[str, Any]] = {}
    members: list[tuple[int, int, str, int, int | None, int | None, str]] = []
    rows = Case.objects.filter(merged_into__isnull=True).order_by("pk").values_list(
        "pk", "received_at", "category_id", "order_id", "order__carrier")
    for pk, received, category, order, carrier in rows.iterator(chunk_size=20_000):
        if pk % 10 >= COMPLAINT_SHARE:
            continue
        code = codes[category]
        product = product_of.get(order) if code in ("defect", "description") and order else None
        passage = (product - 1) * 3 + 1 + pk % 3 if product and code == "description" else None
        key = key_of(category, code, product=product, passage=passage, carrier=carrier or "")
        topics = PATTERN_TOPICS.get(code, PATTERN_TOPICS["other"])
        topic = (pk * 2654435761 >> 7) % len(topics)
        cluster = clusters.get((key, topic))
        if cluster is None:
            cluster = clusters[(key, topic)] = {
                "id": len(clusters) + 1, "category_id": category, "product_id": key.product, "passage_id": key.passage,
                "carrier": key.carrier, "key": key.as_text(), "label": topics[topic], "size": 0,
                "terms": json.dumps(dict.fromkeys(topics[topic].split("・"), 1.0), ensure_ascii=False),
                "created_at": stamp(received.timestamp()), "last_case_at": None,
            }
        cluster["size"] += 1
        cluster["last_case_at"] = stamp(received.timestamp())
        members.append((pk, cluster["id"], stamp(received.timestamp()), category, key.product, key.passage, carrier or ""))
    connection.close()
    loader = make_loader()
    report: dict[str, tuple[int, float]] = {}
    report[Cluster._meta.db_table] = loader.load(Cluster, clusters.values())
    report[Member._meta.db_table] = loader.load(Member, (
        {"case_id": pk, "cluster_id": cluster, "received_at": at, "category_id": category, "product_id": product,
         "passage_id": passage, "carrier": carrier, "similarity": 1.0, "joined_at": at}
        for pk, cluster, at, category, product, passage, carrier in members))
    if isinstance(loader, PostgresLoader):
        loader.finish([Cluster._meta.db_table, Member._meta.db_table], [Cluster._meta.db_table])
    elif isinstance(loader, SQLiteLoader):
        loader.finish()
    log(f"complaint clusters: {len(clusters):,} clusters, {len(members):,} members in {time.perf_counter() - started:.1f}s")
    started = time.perf_counter()
    counted = services.refresh_clusters()
    report["(patterns refresh)"] = (counted["clusters"], time.perf_counter() - started)
    log(f"complaint clusters' weeks and spikes (the periodic job): {counted} in {report['(patterns refresh)'][1]:.1f}s")
    return report
