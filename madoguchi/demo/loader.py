"""`madoguchi demo`: a living desk for a newcomer — staff, products, customers with orders,
and a few hundred cases in every category and status (issue 2, part 4).

Seeded, so two fresh loads tell the same stories; only the staff passwords differ.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
from collections import Counter
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from madoguchi.accounts.models import Team
from madoguchi.cases.models import Case, Category, Channel, Compensation, Status
from madoguchi.cases.services import escalate_overdue_commitments
from madoguchi.customers.models import IdentityKind
from madoguchi.demo import features, replay
from madoguchi.demo import staff as staff_module
from madoguchi.demo.cases import Builder, Plan, Staff
from madoguchi.demo.catalogue import ITEMS, SHOP, create_products
from madoguchi.demo.knowledge import load_knowledge
from madoguchi.demo.listening import load_posts
from madoguchi.demo.people import OrderBook, Person, make_people
from madoguchi.demo.phrases import Ctx
from madoguchi.demo.quiet import (
    live_receivers_muted,
    rebuild_customer_figures,
    rebuild_search_index,
)
from madoguchi.demo.stories_goods import STORIES as GOODS
from madoguchi.demo.stories_goods import delivered_not_received, misread
from madoguchi.demo.stories_service import STORIES as SERVICE
from madoguchi.demo.stories_service import subscription_after_cancel
from madoguchi.notifications.models import Notification
from madoguchi.patterns.services import this_week, week_start
from madoguchi.shop.models import Carrier, Passage

SEED = 20261123
STORIES = {**GOODS, **SERVICE}
CATEGORY_WEIGHTS = {"delivery": 30, "defect": 22, "description": 14, "billing": 12, "service": 10, "other": 12}
STATUS_WEIGHTS: dict[str, int] = {
    Status.NEW: 10, Status.OPEN: 18, Status.WAITING_CUSTOMER: 9,
    Status.WAITING_DEPT: 9, Status.RESOLVED: 20, Status.CLOSED: 34,
}
# How many days ago a case in this status was received (a closed case is older than a new one).
AGE_DAYS = {
    Status.NEW: (0, 2), Status.OPEN: (0, 10), Status.WAITING_CUSTOMER: (1, 14),
    Status.WAITING_DEPT: (1, 16), Status.RESOLVED: (2, 45), Status.CLOSED: (7, 90),
}
CHANNEL_WEIGHTS = {
    Channel.EMAIL: 30, Channel.FORM: 12, Channel.PHONE: 20, Channel.CHAT: 10,
    Channel.LINE: 15, Channel.X: 10, Channel.OTHER: 3,
}
NEEDS = {Channel.PHONE: IdentityKind.PHONE, Channel.LINE: IdentityKind.LINE, Channel.X: IdentityKind.X}
FANS = 15
SPIKE_CARRIER = Carrier.YAMATO  # its 「置き配」 complaints pile up this week
FIXED_SKU, FIXED_PASSAGE = "KB-CER-003", 2  # the 土鍋's 「直火OK」, misread as IH, fixed four weeks ago
FIXED_DAYS_AGO = 28


def load_demo(cases: int = 240, admin: tuple[str, str] | None = None) -> str:
    """Load the demo shop; on a second run, add nothing and say where the accounts are.
    `admin`: the first admin's (username, password) when it was created with this load: it is
    kept in the accounts file with the demo's accounts."""
    data_dir = Path(settings.DATA_DIR)
    with transaction.atomic():
        users, passwords = staff_module.ensure_staff()
        if Case.objects.filter(product__sku__in=[item.sku for item in ITEMS]).exists():
            return _already_loaded(data_dir, passwords)
        with live_receivers_muted():
            counts = _load(cases, users)
            counts["articles"] = load_knowledge(users["sato"])
            counts.update(_features(users))
        rebuild_search_index()
        rebuild_customer_figures()
        replay.finish()
    path = staff_module.write_accounts_file(data_dir, passwords, admin)
    return _summary(counts, passwords, path)


def _load(total: int, users: dict) -> Counter[str]:
    rng = random.Random(SEED)
    started = timezone.now() - dt.timedelta(seconds=1)
    products = create_products()
    people = make_people(rng, max(30, int(total * 0.7)) + FANS)
    fans, complainers = people[:FANS], people[FANS:]
    book = OrderBook(rng, products)
    now = timezone.now()
    for person in people:
        for _ in range(rng.randint(6, 12) if person in fans else rng.randint(0, 3)):
            book.order(person, now - dt.timedelta(days=rng.randint(5, 240), hours=rng.randint(0, 23)))
    team = Team.objects.get(name=staff_module.TEAM_NAME)
    staff = Staff(team, users["sato"], [users[name] for name, _d, _r in staff_module.STAFF if name != staff_module.NEWCOMER])
    builder = Builder(rng, staff, started)
    categories = {c.code: c for c in Category.objects.filter(code__in=CATEGORY_WEIGHTS)}
    weights = [2.5 if n % 7 == 0 else 1 for n in range(len(complainers))]  # some write again and again
    counts: Counter[str] = Counter()
    for code, status in _pairs(rng, total):
        person = rng.choices(complainers, weights)[0]
        plan = _plan(rng, book, person, categories[code], status, staff)
        builder.build(plan, person.customer)
        counts[code] += 1
        counts[status] += 1
    _pattern_cases(rng, book, complainers, categories, staff, builder, now)
    _customer_to_win_back(book, categories, staff, builder, now)
    book.flush()
    counts["escalated"] = escalate_overdue_commitments()
    _read_old_notifications(now)
    counts["customers"], counts["fans"] = len(people), len(fans)
    counts["pending"] = Compensation.objects.filter(state="pending").count()
    return counts


def _customer_to_win_back(book: OrderBook, categories: dict[str, Category], staff: Staff, builder: Builder,
                          now: dt.datetime) -> None:
    """One customer the fans app lists to win back: two orders months ago, one delivery complaint
    since, settled, and no order after it. Drawn from a generator of its own: the main one's draws
    change with the hour of the day (a promise due "today" only before 17:00), so which complainer
    ended so was chance, and after midnight JST the demo had none."""
    rng = random.Random(SEED + 1)
    person = make_people(rng, 1)[0]
    for days in (150, 95):
        book.order(person, now - dt.timedelta(days=days, hours=rng.randint(0, 23)))
    plan = _plan(rng, book, person, categories["delivery"], Status.CLOSED, staff,
                 received=now - dt.timedelta(days=40, hours=rng.randint(0, 8)))
    builder.build(plan, person.customer)


def _read_old_notifications(now: dt.datetime) -> None:
    """A desk in use: what was notified more than two days ago has been read."""
    old = Notification.objects.filter(read_at__isnull=True, created_at__lt=now - dt.timedelta(days=2))
    old.update(read_at=F("created_at") + dt.timedelta(hours=1))


def _pairs(rng: random.Random, total: int) -> list[tuple[str, str]]:
    """Every category in every status at least once, the rest drawn by weight."""
    pairs: list[tuple[str, str]] = [(code, status) for code in CATEGORY_WEIGHTS for status in STATUS_WEIGHTS][:total]
    while len(pairs) < total:
        pairs.append((
            rng.choices(list(CATEGORY_WEIGHTS), list(CATEGORY_WEIGHTS.values()))[0],
            rng.choices(list(STATUS_WEIGHTS), list(STATUS_WEIGHTS.values()))[0],
        ))
    rng.shuffle(pairs)
    return pairs


def _plan(rng: random.Random, book: OrderBook, person: Person, category: Category, status: str, staff: Staff,
          story_fn: Any = None, item: Any = None, received: dt.datetime | None = None, carrier: str = "") -> Plan:
    """A case's plan drawn at random; the pattern cases fix the story, item, time and carrier."""
    story_fn = story_fn or rng.choice(STORIES[category.code])
    item = item or _item_for(rng, story_fn)
    channel = _channel(rng, person)
    if received is None:
        low, high = AGE_DAYS[Status(status)]
        received = _received(rng, rng.randint(low, high), channel)
        if item.sku == FIXED_SKU and story_fn is misread and received > timezone.now() - dt.timedelta(days=FIXED_DAYS_AGO):
            # Since the fix, that misreading is (nearly) gone: another item's is told instead.
            item = rng.choice([i for i in ITEMS if i.misreadings and i.sku != FIXED_SKU])
    order = None
    if category.code != "other" or rng.random() < 0.5:
        ordered = received - dt.timedelta(days=rng.randint(4, 12), hours=rng.randint(0, 12))
        undelivered = category.code == "delivery"
        order = book.order(person, ordered, main=item, delivered=not undelivered, carrier=carrier)
    carrier_name = str(Carrier(order.carrier).label) if order and order.carrier else "配送業者"
    ctx = Ctx(rng, person.customer.name, person.family, item, order, carrier_name, channel, received)
    story = story_fn(ctx)
    handover = status not in (Status.NEW,) and rng.random() < 0.3
    return Plan(category, status, received, story, ctx, book.products[item.sku], handover)


def _pattern_cases(rng: random.Random, book: OrderBook, people: list[Person], categories: dict[str, Category],
                   staff: Staff, builder: Builder, now: dt.datetime) -> None:
    """Cases the patterns and prevention pages need a history of: one carrier's 「配達完了なのに
    届かない」 over twelve weeks with a burst this week (a spike), and the 土鍋's misread 「直火OK」
    often before the fix of four weeks ago and rarely after it (with the 土鍋's orders around it)."""
    delivery, description = categories["delivery"], categories["description"]
    monday = week_start(this_week())
    elapsed = max((now - monday).total_seconds() - 1800, 60)
    for n in range(8):  # this week, spread over the days gone by
        at = monday + dt.timedelta(seconds=elapsed * (n + 0.5) / 8)
        plan = _plan(rng, book, rng.choice(people), delivery, Status.NEW if n >= 5 else Status.OPEN, staff,
                     story_fn=delivered_not_received, received=at, carrier=SPIKE_CARRIER)
        builder.build(plan, plan.ctx.order.customer if plan.ctx.order else rng.choice(people).customer)
    for weeks_ago in range(1, 12):  # the eleven weeks before: one now and then
        for _ in range(rng.choice([0, 1, 1, 1, 2])):
            at = monday - dt.timedelta(weeks=weeks_ago) + dt.timedelta(days=rng.randint(0, 6), hours=rng.randint(9, 21))
            plan = _plan(rng, book, rng.choice(people), delivery, Status.CLOSED, staff,
                         story_fn=delivered_not_received, received=at, carrier=SPIKE_CARRIER)
            builder.build(plan, plan.ctx.order.customer if plan.ctx.order else rng.choice(people).customer)
    item = next(i for i in ITEMS if i.sku == FIXED_SKU)
    one_reading = dataclasses.replace(item, misreadings=[m for m in item.misreadings if m[0] == FIXED_PASSAGE])
    fixed = timezone.localtime(now) - dt.timedelta(days=FIXED_DAYS_AGO)
    for days_before in [1, 3, 5, 8, 11, 13, 16, 19, 22, 24, 26]:  # before the fix: every few days
        plan = _plan(rng, book, rng.choice(people), description, Status.CLOSED, staff, story_fn=misread,
                     item=one_reading, received=fixed - dt.timedelta(days=days_before, hours=rng.randint(0, 8)))
        builder.build(plan, plan.ctx.order.customer if plan.ctx.order else rng.choice(people).customer)
    plan = _plan(rng, book, rng.choice(people), description, Status.OPEN, staff, story_fn=misread,
                 item=one_reading, received=fixed + dt.timedelta(days=19, hours=3))
    builder.build(plan, plan.ctx.order.customer if plan.ctx.order else rng.choice(people).customer)
    for _ in range(160):  # the 土鍋 sells steadily on both sides of the fix
        book.order(rng.choice(people), now - dt.timedelta(days=rng.uniform(1, 56)), main=item)


def _features(users: dict) -> Counter[str]:
    rng = random.Random(SEED + 1)
    started = timezone.now() - dt.timedelta(seconds=1)
    lead = users["sato"]
    counts: Counter[str] = Counter()
    counts["x_cases"] = features.x_cases(started)
    counts.update(features.read_and_cluster(started))
    counts["root_causes"] = features.root_causes(rng, lead, started)
    passage = Passage.objects.get(product__sku=FIXED_SKU, position=FIXED_PASSAGE)
    fixed_cases = list(Case.objects.filter(passage=passage).order_by("received_at", "id"))
    done_on = timezone.localdate() - dt.timedelta(days=FIXED_DAYS_AGO)
    counts["countermeasures"] = int(features.countermeasure(lead, fixed_cases, done_on, passage) is not None)
    counts.update(features.tags_and_fields(rng, lead, features.first_admin()))
    counts.update(features.mail_flow(rng, users, users[staff_module.NEWCOMER]))
    counts.update(load_posts(rng, users))
    return counts


def _item_for(rng: random.Random, story_fn: object):  # noqa: ANN202
    if story_fn is subscription_after_cancel:
        return next(item for item in ITEMS if item.kind == "food")
    if story_fn is misread:
        return rng.choice([item for item in ITEMS if item.misreadings])
    return rng.choice(ITEMS)


def _received(rng: random.Random, days_ago: int, channel: str) -> dt.datetime:
    """A moment `days_ago` days back, at an hour people write (or, for calls, the shop answers
    the phone), in Japan time, never in the future."""
    local = timezone.localtime(timezone.now()) - dt.timedelta(days=days_ago)
    hours = [10, 11, 12, 13, 14, 15, 16, 17] if channel == Channel.PHONE else [8, 9, 10, 12, 13, 15, 19, 20, 21, 22, 23]
    moment = local.replace(hour=rng.choice(hours), minute=rng.randint(0, 59))
    if moment > timezone.now() - dt.timedelta(minutes=30):
        moment = timezone.now() - dt.timedelta(minutes=rng.randint(30, 300))
    return moment


def _channel(rng: random.Random, person: Person) -> str:
    options = [ch for ch in CHANNEL_WEIGHTS if ch not in NEEDS or NEEDS[ch] in person.kinds]
    return rng.choices(options, [CHANNEL_WEIGHTS[ch] for ch in options])[0]


def _already_loaded(data_dir: Path, passwords: dict[str, str]) -> str:
    path = data_dir / staff_module.ACCOUNTS_FILE
    if passwords:  # a demo account had been deleted: it exists again, with a new password
        staff_module.write_accounts_file(data_dir, passwords)
    where = f"デモ用アカウントのパスワード: {path}" if path.exists() else "デモ用アカウントは作成済みです。"
    return f"デモデータはすでに入っています（{Case.objects.count()}件の案件）。何も追加しませんでした。\n{where}"


def _summary(counts: Counter[str], passwords: dict[str, str], path: Path) -> str:
    statuses = "、".join(f"{Status(s).label} {counts[s]}" for s in STATUS_WEIGHTS)
    lines = [
        f"デモデータを読み込みました: {SHOP}（器・タオル・キッチン用品・化粧品のネットショップ）",
        f"  案件 {sum(counts[c] for c in CATEGORY_WEIGHTS)}件（{statuses}）",
        f"  お客様 {counts['customers']}人（うちリピーター {counts['fans']}人）、承認待ちの補償 {counts['pending']}件、"
        f"期限超過でリーダーに通知した約束 {counts['escalated']}件",
        f"  ナレッジ記事 {counts['articles']}件（よくある質問と社内マニュアル）",
        f"  苦情の傾向: まとまりに入った苦情 {counts['clustered']}件（今週急増 {counts['spikes']}件）、"
        f"再発防止策 {counts['countermeasures']}件、ソーシャルの声 {counts['posts']}件、承認待ちの返信 {counts['held']}件",
        "",
        "デモ用アカウント（ユーザー名 / パスワード）:",
    ]
    names = {username: display for username, display, _role in staff_module.STAFF}
    lines += [f"  {username:<10} {password}  {names[username]}" for username, password in passwords.items()]
    lines.append(f"パスワードは {path} にも保存しました（持ち主だけが読めます）。")
    return "\n".join(lines)
