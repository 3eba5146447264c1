"""Complaint patterns without HTTP: placing complaint cases in clusters, a cluster's weekly
counts and rate per 1,000 orders, spikes, and the breakdowns by product, passage and carrier.

The API other apps use (the prevention reports of issue 20 item 4 among them):

- `Cluster` (models.py): `category`, `product`, `passage`, `carrier` (what its cases share),
  `label` (its leading words), `size`, `recent` (cases in the last 12 weeks), `spike_week`.
- `cluster_of(case)`: the case's cluster or None.
- `week_of(day)`: the Monday (JST) of a day's ISO week; weeks everywhere here are JST weeks.
- `cluster_weekly_counts(cluster, start, end)`: [(monday, cases)] for each week from start's
  week to end's week (dates, inclusive), zeros included.
- `cluster_weekly_orders(cluster, start, end)`: [(monday, orders)] of the cluster's carrier or
  product in the same weeks, or None when the cluster has neither (orders unknown).
- `cluster_rate_per_1000_orders(cluster, start, end)`: `Rate(cases, orders, per_1000)` over
  those weeks (`orders`/`per_1000` None when unknown or no orders).
- `cluster_counts_between(cluster, start, end)`: the same `Rate` over any [start, end) of
  aware datetimes: the before/after windows of an effect check.
- `cluster_cases(cluster, after=None, limit=50)`: a keyset page of its cases, newest first.
- `clusters_about(product=, passage=, carrier=, category=)`: the clusters of a thing.

Nothing here runs on a request that a person waits for except the reads: placing cases is
the worker's (`assign_cases`, deferred work when a message is read, and the periodic job)."""

from __future__ import annotations

import datetime as dt
import logging
import math
import statistics
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.core.cache import cache
from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop

from madoguchi.patterns import clustering
from madoguchi.patterns.models import Cluster, Member, Progress, Spike

if TYPE_CHECKING:
    from madoguchi.cases.models import Case
    from madoguchi.shop.models import Order

log = logging.getLogger(__name__)

ASSIGN_WORK = "patterns.assign"
WEEKS_SHOWN = 12  # a cluster's chart and the list's "recent" count
BASELINE_WEEKS = 8  # a spike: this week against the eight before
MIN_SPIKE_CASES = 5  # fewer cases in a week are never a spike
SPIKE_SIGMAS = 3.0
CLUSTERS_PER_KEY = 300  # a key's clusters a new case is compared with (the most recently active)
BATCH = 500  # cases placed in one transaction


# --- Weeks (JST, Monday first) -----------------------------------------------------------------

def _tz() -> Any:
    from madoguchi.metrics.rollup import tz

    return tz()


def week_of(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def local_day(at: dt.datetime) -> dt.date:
    return at.astimezone(_tz()).date()


def midnight(day: dt.date) -> dt.datetime:
    """The start of a JST day (a week's when the day is its Monday)."""
    return dt.datetime.combine(day, dt.time(), _tz())


week_start = midnight


def weeks(start: dt.date, end: dt.date) -> list[dt.date]:
    first, last = week_of(start), week_of(end)
    return [first + dt.timedelta(weeks=i) for i in range((last - first).days // 7 + 1)]


def this_week() -> dt.date:
    return week_of(local_day(timezone.now()))


# --- Reading a cluster -------------------------------------------------------------------------

@dataclass(frozen=True)
class Rate:
    cases: int
    orders: int | None  # None: the cluster's orders are not known (no product or carrier)
    per_1000: float | None  # None: orders unknown or none

    @classmethod
    def of(cls, cases: int, orders: int | None) -> Rate:
        return cls(cases, orders, round(cases * 1000 / orders, 2) if orders else None)


def cluster_of(case: Case) -> Cluster | None:
    member = Member.objects.select_related("cluster").filter(case=case).first()
    return member.cluster if member else None


def clusters_about(*, product: Any = None, passage: Any = None, carrier: str = "", category: Any = None) -> QuerySet[Cluster]:
    qs = Cluster.objects.all()
    if product is not None:
        qs = qs.filter(product=product)
    if passage is not None:
        qs = qs.filter(passage=passage)
    if carrier:
        qs = qs.filter(carrier=carrier)
    if category is not None:
        qs = qs.filter(category=category)
    return qs.order_by("-recent", "-id")


def _weekly(qs: QuerySet[Any], field: str, start: dt.date, end: dt.date, distinct: bool = False) -> list[tuple[dt.date, int]]:
    """One statement: a filtered count per week over an index range of `field`."""
    mondays = weeks(start, end)
    edges = [week_start(m) for m in [*mondays, mondays[-1] + dt.timedelta(weeks=1)]]
    counts = qs.filter(**{f"{field}__gte": edges[0], f"{field}__lt": edges[-1]}).aggregate(**{
        f"w{i}": Count("pk", distinct=distinct, filter=Q(**{f"{field}__gte": edges[i], f"{field}__lt": edges[i + 1]}))
        for i in range(len(mondays))
    })
    return [(monday, int(counts[f"w{i}"] or 0)) for i, monday in enumerate(mondays)]


def cluster_weekly_counts(cluster: Cluster, start: dt.date, end: dt.date) -> list[tuple[dt.date, int]]:
    """Cases of the cluster received in each JST week from start's week to end's week."""
    return _weekly(Member.objects.filter(cluster=cluster), "received_at", start, end)


def orders_of(cluster: Cluster) -> QuerySet[Order] | None:
    """The orders a cluster's rate is measured against: its carrier's, or its product's (a
    passage's product); None when it has neither."""
    from madoguchi.shop.models import Order

    if cluster.carrier and cluster.product_id is None:
        return Order.objects.filter(carrier=cluster.carrier)
    if cluster.product_id is not None:
        return Order.objects.filter(items__product_id=cluster.product_id)
    return None


def cluster_weekly_orders(cluster: Cluster, start: dt.date, end: dt.date) -> list[tuple[dt.date, int]] | None:
    orders = orders_of(cluster)
    if orders is None:
        return None
    return _weekly(orders, "ordered_at", start, end, distinct=cluster.product_id is not None)


def cluster_rate_per_1000_orders(cluster: Cluster, start: dt.date, end: dt.date) -> Rate:
    """Cases per 1,000 of the cluster's orders over the weeks from start's to end's."""
    return cluster_counts_between(cluster, week_start(week_of(start)), week_start(week_of(end) + dt.timedelta(weeks=1)))


def cluster_counts_between(cluster: Cluster, start: dt.datetime, end: dt.datetime) -> Rate:
    """Cases received and orders placed in [start, end), and the rate."""
    cases = Member.objects.filter(cluster=cluster, received_at__gte=start, received_at__lt=end).count()
    orders = orders_of(cluster)
    if orders is None:
        return Rate.of(cases, None)
    ordered = orders.filter(ordered_at__gte=start, ordered_at__lt=end)
    count = ordered.values("pk").distinct().count() if cluster.product_id is not None else ordered.count()
    return Rate.of(cases, count)


def cluster_cases(cluster: Cluster, after: tuple[dt.datetime, int] | None = None, limit: int = 50) -> list[Case]:
    """A page of the cluster's cases, newest first, after the (received_at, case id) cursor of
    the previous page: one statement at any depth (the member index ends in the sort key)."""
    from madoguchi.cases.models import Case

    members = Member.objects.filter(cluster=cluster)
    if after is not None:
        members = members.filter(Q(received_at__lt=after[0]) | Q(received_at=after[0], case_id__lt=after[1]))
    ids = members.order_by("-received_at", "-case_id").values("case_id")[:limit]
    return list(Case.objects.filter(pk__in=ids).select_related("customer", "assignee", "category")
                .only("pk", "subject", "status", "received_at", "priority", "customer__name", "assignee__username",
                      "assignee__display_name", "assignee__first_name", "assignee__last_name", "category__name")
                .order_by("-received_at", "-pk"))


# --- Placing cases -------------------------------------------------------------------------------

@dataclass
class Candidate:
    case_id: int
    received_at: dt.datetime
    category_id: int
    category_code: str
    product: int | None
    passage: int | None
    carrier: str
    text: str


def complaint_candidates(case_ids: Iterable[int]) -> list[Candidate]:
    """The complaint cases among these (a message of theirs was read as a complaint) not yet in
    a cluster, with what they are keyed by: the case's own product, passage and order's carrier
    (what an agent linked), else the first ones the reader found in the complaint."""
    from madoguchi.cases.models import Case
    from madoguchi.triage.models import MessageKind, MessageReading

    ids = set(case_ids) - set(Member.objects.filter(case_id__in=list(case_ids)).values_list("case_id", flat=True))
    if not ids:
        return []
    readings: dict[int, Any] = {}
    for reading in (MessageReading.objects.filter(interaction__case_id__in=ids, kind=MessageKind.COMPLAINT)
                    .select_related("interaction").order_by("interaction_id")):
        readings.setdefault(reading.interaction.case_id, reading)
    found = []
    for case in (Case.objects.filter(pk__in=list(readings), merged_into__isnull=True)
                 .select_related("category", "order").only("pk", "received_at", "category__code", "product_id",
                                                           "passage_id", "order__carrier", "complaint")):
        reading = readings[case.pk]
        products = [p for p in reading.products if isinstance(p, int)]
        carrier = (case.order.carrier if case.order is not None else "") or next(iter(reading.carriers), "")
        found.append(Candidate(case.pk, case.received_at, case.category_id, case.category.code,
                               case.product_id or (products[0] if products else None), case.passage_id,
                               carrier, reading.interaction.body or case.complaint))
    return sorted(found, key=lambda c: (c.received_at, c.case_id))


def assign_cases(case_ids: Iterable[int]) -> int:
    """Put each complaint case of these not yet in a cluster into one; returns how many joined.
    Idempotent: a case in a cluster stays there. The words are read before any lock; the
    decision and the writes happen under the `assign` progress row's lock, so two workers never
    place the same case twice or grow one cluster from two stale copies."""
    ids = list(dict.fromkeys(case_ids))
    placed = 0
    for start in range(0, len(ids), BATCH):
        candidates = complaint_candidates(ids[start : start + BATCH])
        if candidates:
            placed += _place(candidates)
    return placed


def _place(candidates: list[Candidate]) -> int:
    from madoguchi.shop.models import Passage, Product

    weigh = clustering.idf()
    counts = {c.case_id: clustering.term_counts(c.text) for c in candidates}
    with transaction.atomic():
        Progress.objects.get_or_create(name="assign")
        lock = Progress.objects.select_for_update().get(name="assign")
        taken = set(Member.objects.filter(case_id__in=list(counts)).values_list("case_id", flat=True))
        candidates = [c for c in candidates if c.case_id not in taken]
        # A product or passage deleted since it was read is not a key.
        products = set(Product.objects.filter(pk__in={c.product for c in candidates if c.product}).values_list("pk", flat=True))
        passages = set(Passage.objects.filter(pk__in={c.passage for c in candidates if c.passage}).values_list("pk", flat=True))
        by_key: dict[clustering.Key, list[Candidate]] = {}
        for c in candidates:
            c.product = c.product if c.product in products else None
            c.passage = c.passage if c.passage in passages else None
            key = clustering.key_of(c.category_id, c.category_code, product=c.product, passage=c.passage, carrier=c.carrier)
            by_key.setdefault(key, []).append(c)
        members: list[Member] = []
        for key, items in by_key.items():
            members += _place_key(key, items, counts, weigh)
        Member.objects.bulk_create(members)
        lock.cursor = lock.cursor + len(members)  # a version: the breakdowns' cache key moves
        lock.updated_at = timezone.now()
        lock.save()
    return len(members)


def _place_key(key: clustering.Key, items: list[Candidate], counts: dict[int, dict[str, float]],
               weigh: clustering.Idf) -> list[Member]:
    existing = list(Cluster.objects.filter(key=key.as_text()).order_by("-last_case_at", "-id")[:CLUSTERS_PER_KEY])
    groups = [clustering.Group(cluster.pk, dict(cluster.terms), cluster.size) for cluster in existing]
    groups = clustering.place([counts[c.case_id] for c in items], groups, weigh)
    by_pk = {cluster.pk: cluster for cluster in existing}
    # The list shows a cluster at once: its counts grow with the cases placed now (the
    # periodic job counts them all again).
    week = this_week()
    window, week_begins = week_start(week - dt.timedelta(weeks=WEEKS_SHOWN - 1)), week_start(week)
    members = []
    for group in groups:
        if not group.joined:
            continue
        times = [items[i].received_at for i, _s in group.joined]
        recent = sum(1 for at in times if at >= window)
        now = sum(1 for at in times if at >= week_begins)
        terms = clustering.top_terms(group.terms)
        cluster = by_pk.get(group.pk) if group.pk is not None else None
        if cluster is None:
            cluster = Cluster.objects.create(category_id=key.category, product_id=key.product, passage_id=key.passage,
                                             carrier=key.carrier, key=key.as_text(), terms=terms, size=group.size,
                                             label=clustering.label(terms, weigh)[:200], last_case_at=max(times),
                                             recent=recent, this_week=now)
        else:
            cluster.terms, cluster.size = terms, group.size
            cluster.label = clustering.label(terms, weigh)[:200]
            cluster.last_case_at = max(filter(None, [cluster.last_case_at, *times]))
            cluster.recent, cluster.this_week = cluster.recent + recent, cluster.this_week + now
            cluster.save(update_fields=["terms", "size", "label", "last_case_at", "recent", "this_week"])
        for index, similarity in group.joined:
            c = items[index]
            members.append(Member(case_id=c.case_id, cluster=cluster, received_at=c.received_at, category_id=c.category_id,
                                  product_id=c.product, passage_id=c.passage, carrier=c.carrier,
                                  similarity=round(similarity, 4)))
    return members


def do_remove_case(case_id: int) -> bool:
    """Take a case out of its cluster (a duplicate merged into another case): the cluster's
    size now, its recent counts at the periodic job's next run."""
    from django.db.models import F

    member = Member.objects.filter(case_id=case_id).first()
    if member is None:
        return False
    member.delete()
    Cluster.objects.filter(pk=member.cluster_id, size__gt=0).update(size=F("size") - 1)
    return True


def catch_up(limit: int = 5000) -> int:
    """The periodic job's sweep: complaint readings written since the last run (their message
    ids are above the cursor) whose cases are in no cluster. Deferred work does this as each
    message is read; this finds what a lost task or an old desk left."""
    from madoguchi.triage.models import MessageKind, MessageReading

    progress, _created = Progress.objects.get_or_create(name="readings")
    rows = list(MessageReading.objects.filter(interaction_id__gt=progress.cursor)
                .order_by("interaction_id").values_list("interaction_id", "kind", "interaction__case_id")[:limit])
    if not rows:
        return 0
    placed = assign_cases([case for _i, kind, case in rows if kind == MessageKind.COMPLAINT])
    Progress.objects.filter(pk=progress.pk).update(cursor=rows[-1][0], updated_at=timezone.now())
    return placed


# --- Spikes ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class SpikeTest:
    count: int
    mean: float
    spread: float
    flagged: bool


def spike_test(count: int, previous: list[int]) -> SpikeTest:
    """This week's count against the eight before: a spike when it is at least MIN_SPIKE_CASES
    and more than SPIKE_SIGMAS spreads above their mean, the spread being their standard
    deviation but never less than a Poisson count's (√mean) nor 1, so flat or empty weeks do
    not make every small rise a spike."""
    mean = statistics.fmean(previous) if previous else 0.0
    spread = statistics.pstdev(previous) if len(previous) > 1 else 0.0
    floor = max(spread, math.sqrt(mean), 1.0)
    return SpikeTest(count, round(mean, 2), round(spread, 2), count >= MIN_SPIKE_CASES and count > mean + SPIKE_SIGMAS * floor)


def refresh_clusters(today: dt.date | None = None) -> dict[str, int]:
    """The periodic job: every cluster's count this week and over the last 12 weeks (one
    grouped statement over the members of those weeks), the spikes of this week flagged
    and the team leads notified once per cluster and week."""
    monday = week_of(today or local_day(timezone.now()))
    first = monday - dt.timedelta(weeks=WEEKS_SHOWN - 1)
    edges = [week_start(first + dt.timedelta(weeks=i)) for i in range(WEEKS_SHOWN + 1)]
    rows = (Member.objects.filter(received_at__gte=edges[0], received_at__lt=edges[-1]).values("cluster_id")
            .annotate(**{f"w{i}": Count("pk", filter=Q(received_at__gte=edges[i], received_at__lt=edges[i + 1]))
                         for i in range(WEEKS_SHOWN)}).order_by())
    spikes = []
    counted: dict[int, tuple[int, int]] = {}
    for raw in rows:
        row: dict[str, Any] = dict(raw)
        series = [row[f"w{i}"] for i in range(WEEKS_SHOWN)]
        counted[row["cluster_id"]] = (sum(series), series[-1])
        test = spike_test(series[-1], series[-1 - BASELINE_WEEKS : -1])
        if test.flagged:
            spikes.append((row["cluster_id"], test))
    with transaction.atomic():
        stale = Cluster.objects.filter(Q(recent__gt=0) | Q(this_week__gt=0) | Q(spike_week__isnull=False)).exclude(pk__in=list(counted))
        stale.update(recent=0, this_week=0, spike_week=None)
        current = {pk: (recent, week, spike) for pk, recent, week, spike in
                   Cluster.objects.filter(pk__in=list(counted)).values_list("pk", "recent", "this_week", "spike_week")}
        flagged = {pk for pk, _t in spikes}
        changed = []
        for pk, (recent, week) in counted.items():
            spike_week = monday if pk in flagged else None
            if current.get(pk) != (recent, week, spike_week):
                changed.append(Cluster(pk=pk, recent=recent, this_week=week, spike_week=spike_week))
        Cluster.objects.bulk_update(changed, ["recent", "this_week", "spike_week"], batch_size=500)
        new = _flag(monday, spikes)
    return {"clusters": len(counted), "changed": len(changed), "spikes": len(spikes), "notified": new}


def _flag(monday: dt.date, spikes: list[tuple[int, SpikeTest]]) -> int:
    """A Spike row per cluster and week (unique): the leads hear of each once."""
    if not spikes:
        return 0
    known = set(Spike.objects.filter(week=monday, cluster_id__in=[pk for pk, _t in spikes]).values_list("cluster_id", flat=True))
    fresh = [(pk, test) for pk, test in spikes if pk not in known]
    Spike.objects.bulk_create([Spike(cluster_id=pk, week=monday, count=t.count, mean=t.mean, spread=t.spread)
                               for pk, t in fresh], ignore_conflicts=True)
    clusters = Cluster.objects.in_bulk([pk for pk, _t in fresh])
    for pk, test in fresh:
        notify_leads(clusters[pk], test)
    return len(fresh)


def team_leads() -> list[Any]:
    from madoguchi.accounts.models import Role, User

    return list(User.objects.filter(Q(role=Role.LEAD) | Q(led_teams__isnull=False), is_active=True).distinct())


def notify_leads(cluster: Cluster, test: SpikeTest) -> None:
    """Each team lead (in the desk, and by mail unless they turned spikes off). The message is
    put together in the reader's language: the shop's own words (category, product, the
    cluster's words) as stored, the carrier as a label of the desk's catalogue."""
    from madoguchi.notifications.services import do_notify, msgid
    from madoguchi.shop.models import Carrier

    params: dict[str, Any] = {"about": about(cluster), "words": cluster.label, "count": test.count,
                              "mean": f"{test.mean:g}", "url": cluster_url(cluster)}
    if cluster.carrier in Carrier.values:
        params["carrier_label"] = msgid(Carrier(cluster.carrier).label)
        message = gettext_noop("苦情の急増: %(about)s / %(carrier_label)s「%(words)s」が今週 %(count)s 件（前の8週は平均 %(mean)s 件）。%(url)s")
    else:
        message = gettext_noop("苦情の急増: %(about)s「%(words)s」が今週 %(count)s 件（前の8週は平均 %(mean)s 件）。%(url)s")
    do_notify(team_leads(), kind="pattern_spike", message=message, params=params)


def about(cluster: Cluster) -> str:
    """The category and the product (or passage) a cluster is about, in the shop's words."""
    parts = [cluster.category.name]
    if cluster.passage_id is not None and cluster.passage is not None:
        parts.append(f"{cluster.passage.product.name} §{cluster.passage.position}")
    elif cluster.product_id is not None and cluster.product is not None:
        parts.append(cluster.product.name)
    return " / ".join(parts)


def cluster_url(cluster: Cluster) -> str:
    from django.conf import settings
    from django.urls import reverse

    return f"{settings.SITE_URL}{reverse('patterns:cluster', args=[cluster.pk])}"


def describe(cluster: Cluster) -> str:
    """The cluster in one line (category / product or passage / carrier / its words), the
    carrier in the active language."""
    parts = [about(cluster)]
    if cluster.carrier:
        parts.append(cluster.carrier_label)
    return " / ".join([*parts, cluster.label])[:200]


# --- Breakdowns by product, passage and carrier ----------------------------------------------------

DIMS = ("product", "passage", "carrier")


@dataclass(frozen=True)
class BreakdownRow:
    value: str
    cases: int
    orders: int | None
    per_1000: float | None


def breakdown(dim: str, first: dt.date, last: dt.date, category: int | None = None, limit: int = 50) -> list[BreakdownRow]:
    """Complaint cases received from `first` to `last` (JST days) per product, passage or
    carrier (those with one), most first, with the orders of that product or carrier placed in
    the same days and the rate per 1,000. Cached until a case joins a cluster (10 minutes at
    most, for the orders)."""
    version = Progress.objects.filter(name="assign").values_list("cursor", flat=True).first() or 0
    key = f"patterns:breakdown:{dim}:{first}:{last}:{category or ''}:{limit}:{version}"
    rows: list[BreakdownRow] | None = cache.get(key)
    if rows is None:
        rows = _breakdown(dim, first, last, category, limit)
        cache.set(key, rows, 600)
    return rows


def _breakdown(dim: str, first: dt.date, last: dt.date, category: int | None, limit: int) -> list[BreakdownRow]:
    from madoguchi.shop.models import Order, OrderItem, Passage

    start, end = midnight(first), midnight(last + dt.timedelta(days=1))
    members = Member.objects.filter(received_at__gte=start, received_at__lt=end)
    members = members.exclude(carrier="") if dim == "carrier" else members.filter(**{f"{dim}__isnull": False})
    if category is not None:
        members = members.filter(category_id=category)
    counted = list(members.values(dim).annotate(n=Count("pk")).order_by("-n", dim)[:limit])
    values = [row[dim] for row in counted]
    orders: dict[Any, int] = {}
    if dim == "carrier":
        orders = dict(Order.objects.filter(carrier__in=values, ordered_at__gte=start, ordered_at__lt=end)
                      .values("carrier").annotate(n=Count("pk")).order_by().values_list("carrier", "n"))
    else:
        products = values if dim == "product" else list(Passage.objects.filter(pk__in=values).values_list("product_id", flat=True))
        by_product = dict(OrderItem.objects.filter(product__in=products, order__ordered_at__gte=start, order__ordered_at__lt=end)
                          .values("product").annotate(n=Count("order", distinct=True)).order_by().values_list("product", "n"))
        if dim == "product":
            orders = by_product
        else:
            product_of = dict(Passage.objects.filter(pk__in=values).values_list("pk", "product_id"))
            orders = {pk: by_product.get(product, 0) for pk, product in product_of.items()}
    return [BreakdownRow(str(row[dim]), row["n"], orders.get(row[dim], 0), Rate.of(row["n"], orders.get(row[dim], 0)).per_1000)
            for row in counted]


def named(dim: str, rows: list[BreakdownRow]) -> list[tuple[str, str, BreakdownRow]]:
    """(name, list filter, row) for each row: a product's name, a passage's product, position
    and first words, a carrier's name. One statement for the names."""
    from madoguchi.shop.models import Carrier, Passage, Product

    values = [row.value for row in rows]
    if dim == "carrier":
        names = {str(k): str(v) for k, v in Carrier.choices}
    elif dim == "product":
        names = {str(pk): name for pk, name in Product.objects.filter(pk__in=values).values_list("pk", "name")}
    else:
        # The quotation marks are the desk's words (「」 in Japanese, “” in English); the text is the shop's.
        names = {str(pk): gettext("%(product)s §%(position)s「%(text)s」") % {"product": name, "position": position, "text": text[:24]}
                 for pk, name, position, text in
                 Passage.objects.filter(pk__in=values).values_list("pk", "product__name", "position", "text")}
    return [(names.get(row.value, row.value), f"{dim}={row.value}", row) for row in rows]
