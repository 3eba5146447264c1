"""Root causes and countermeasures: who may write them, the writes (`do_*`, audited), and what a
countermeasure's report reads (its scope's cases, the daily counts behind the effect check).

Knows nothing of HTTP."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import Count, QuerySet
from django.db.models.functions import TruncDate
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from madoguchi.accounts import audit
from madoguchi.accounts.models import SettingsSource, User
from madoguchi.accounts.services import decides_for_team
from madoguchi.cases.models import AuditEvent, Case
from madoguchi.cases.services import CaseError
from madoguchi.patterns.models import Cluster
from madoguchi.patterns.services import describe, orders_of
from madoguchi.prevention import effect as effect_module
from madoguchi.prevention.models import CaseRootCause, Cause, ClusterRootCause, Countermeasure
from madoguchi.shop.models import Order

AUDIT_LABELS = {
    "root_cause_set": gettext_lazy("根本原因を記録"),
    "root_cause_cleared": gettext_lazy("根本原因を取り消し"),
}
# Cases listed in a report under 「対策のもとになった案件」 (the count says how many in all).
REPORT_CASES = 50


# --- Who may -----------------------------------------------------------------------------------

def may_set_root_cause(user: User, case: Case) -> bool:
    """A case's root cause: its assignee, the lead of its team, an admin."""
    return user.is_active and (user.pk == case.assignee_id or decides_for_team(user, case.team))


def may_manage_countermeasures(user: User) -> bool:
    """Countermeasures change the shop (a product page, a carrier, a rule): leads and admins."""
    return user.is_active and (user.is_admin or user.is_lead)


# --- Root cause on a case ----------------------------------------------------------------------

@transaction.atomic
def do_set_root_cause(case: Case, *, actor: User, cause: str, note: str = "") -> CaseRootCause | None:
    """Record (or, with an empty cause, withdraw) the case's root cause; audited on the case with
    the old and new values. The case row is locked so two saves are one after the other."""
    if not may_set_root_cause(actor, case):
        raise CaseError(_("根本原因を記録できるのは、この案件の担当者、チームのリーダー、管理者です。"))
    if cause and cause not in Cause.values:
        raise CaseError(_("根本原因を選び直してください。"))
    note = note.strip()
    if len(note) > 2000:
        raise CaseError(_("原因の説明は2000文字以内にしてください。"))
    Case.objects.select_for_update().filter(pk=case.pk).first()
    current = CaseRootCause.objects.filter(case=case).first()
    old = {"cause": current.cause if current else "", "note": current.note if current else ""}
    if not cause:
        if current is None:
            return None
        current.delete()
        AuditEvent.objects.create(case=case, actor=actor, action="root_cause_cleared",
                                  changes={"cause": [old["cause"], ""], "note": [old["note"], ""]})
        return None
    if current is not None and old == {"cause": cause, "note": note}:
        return current
    row, _created = CaseRootCause.objects.update_or_create(
        case=case, defaults={"cause": cause, "note": note, "set_by": actor, "set_at": timezone.now()})
    changes = {name: [old[name], new] for name, new in (("cause", cause), ("note", note)) if old[name] != new}
    AuditEvent.objects.create(case=case, actor=actor, action="root_cause_set", changes=changes)
    return row


@transaction.atomic
def do_set_cluster_root_cause(cluster: Cluster, *, actor: User, cause: str, note: str = "") -> ClusterRootCause | None:
    """A cluster's root cause (leads and admins), or with an empty cause none; settings-audited."""
    if not may_manage_countermeasures(actor):
        raise CaseError(_("まとまりの根本原因を記録できるのは、チームのリーダーと管理者です。"))
    if cause and cause not in Cause.values:
        raise CaseError(_("根本原因を選び直してください。"))
    Cluster.objects.select_for_update().filter(pk=cluster.pk).first()
    current = ClusterRootCause.objects.filter(cluster=cluster).first()
    before = audit.snapshot(current) if current is not None else None
    if not cause:
        if current is not None:
            current.delete()
            audit.record_deleted(actor, current, before or {}, cluster.pk, source=SettingsSource.OTHER)
        return None
    row = current or ClusterRootCause(cluster=cluster)
    row.cause, row.note, row.set_by, row.set_at = cause, note.strip()[:2000], actor, timezone.now()
    row.save()
    audit.record_saved(actor, row, before, source=SettingsSource.OTHER)
    return row


# --- Countermeasures ---------------------------------------------------------------------------

@transaction.atomic
def do_save_countermeasure(countermeasure: Countermeasure, *, actor: User,
                           before: Mapping[str, audit.Value] | None) -> Countermeasure:
    """Save a countermeasure a form filled (new, or `before` = its audit snapshot as it was), with
    its SettingsChange. The passage must be the product's."""
    if not may_manage_countermeasures(actor):
        raise CaseError(_("再発防止策を記録できるのは、チームのリーダーと管理者です。"))
    passage = countermeasure.passage
    if passage is not None and countermeasure.product_id and passage.product_id != countermeasure.product_id:
        raise CaseError(_("商品説明の箇所は、選んだ商品のものを選んでください。"))
    if passage is not None and not countermeasure.product_id:
        countermeasure.product_id = passage.product_id
    if countermeasure.pk is None:
        countermeasure.created_by = actor
    countermeasure.save()
    audit.record_saved(actor, countermeasure, before, source=SettingsSource.OTHER)
    return countermeasure


def scope_cases(countermeasure: Countermeasure) -> QuerySet[Case]:
    """The cases the countermeasure aims at: its cluster's, else those matching every link it has
    among category, product, passage and carrier (the carrier of the case's order)."""
    cases = Case.objects.filter(merged_into__isnull=True)  # a merged case counts once, in its target
    if countermeasure.cluster_id:
        return cases.filter(cluster_member__cluster_id=countermeasure.cluster_id)
    if countermeasure.category_id:
        cases = cases.filter(category_id=countermeasure.category_id)
    if countermeasure.passage_id:
        cases = cases.filter(passage_id=countermeasure.passage_id)
    elif countermeasure.product_id:
        cases = cases.filter(product_id=countermeasure.product_id)
    if countermeasure.carrier:
        cases = cases.filter(order__carrier=countermeasure.carrier)
    return cases


def scope_orders(countermeasure: Countermeasure) -> QuerySet[Order] | None:
    """The orders the rate is per, as patterns measures a cluster's (`patterns.services.orders_of`):
    its carrier's or its product's; None when the scope names neither (the rate is then per week).
    Without a cluster, an unsaved Cluster of the countermeasure's product and carrier is asked."""
    cluster = countermeasure.cluster
    return orders_of(cluster if cluster is not None else Cluster(carrier=countermeasure.carrier, product_id=countermeasure.product_id))


def day_start(day: dt.date) -> dt.datetime:
    """The beginning of a shop day (JST) as an aware datetime."""
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def _daily(queryset: QuerySet[Any], field: str, start: dt.date, end: dt.date, distinct: bool = False) -> dict[dt.date, int]:
    """{day: rows} in [start, end), days in the shop's zone: one grouped statement."""
    rows = (queryset.filter(**{f"{field}__gte": day_start(start), f"{field}__lt": day_start(end)})
            .annotate(day=TruncDate(field, tzinfo=timezone.get_current_timezone()))
            .values("day").annotate(n=Count("pk", distinct=distinct)).order_by())
    return {row["day"]: row["n"] for row in rows}


@dataclass(frozen=True)
class Series:
    """Daily counts from the start of the before window to the end of the after window (or today)."""

    start: dt.date
    end: dt.date
    cases: dict[dt.date, int]
    orders: dict[dt.date, int]

    def total(self, counts: dict[dt.date, int], start: dt.date, end: dt.date) -> int:
        return sum(n for day, n in counts.items() if start <= day < end)


def series(countermeasure: Countermeasure, today: dt.date) -> Series:
    start = countermeasure.done_on - dt.timedelta(days=countermeasure.window_days)
    end = min(countermeasure.check_until(), max(today, countermeasure.done_on))
    orders = scope_orders(countermeasure)
    cluster = countermeasure.cluster
    by_product = bool(cluster.product_id if cluster is not None else countermeasure.product_id)
    return Series(start, end, _daily(scope_cases(countermeasure), "received_at", start, end),
                  {} if orders is None else _daily(orders, "ordered_at", start, end, distinct=by_product))


def effect_of(countermeasure: Countermeasure, today: dt.date | None = None,
              data: Series | None = None) -> effect_module.Effect:
    """The effect check as of today (JST): equal windows either side of the fix date."""
    today = today or timezone.localdate()
    data = data or series(countermeasure, today)
    (b_start, b_end), (a_start, a_end), _full = effect_module.windows(countermeasure.done_on, countermeasure.window_days, today)
    return effect_module.check(
        countermeasure.done_on, countermeasure.window_days, today,
        data.total(data.cases, b_start, b_end), data.total(data.cases, a_start, a_end),
        data.total(data.orders, b_start, b_end), data.total(data.orders, a_start, a_end),
    )


@dataclass(frozen=True)
class Week:
    start: dt.date
    cases: int
    orders: int
    after: bool      # on or after the fix date

    def value(self, per_orders: bool) -> float | None:
        if per_orders:
            return self.cases / self.orders * 1000 if self.orders else None
        return float(self.cases)


def weeks(countermeasure: Countermeasure, data: Series) -> list[Week]:
    """Seven-day blocks counted from the fix date (back and forward), for the chart; the block
    still running (after the fix) ends today."""
    out = []
    fix = countermeasure.done_on
    blocks = countermeasure.window_days // 7
    for i in range(-blocks, blocks):
        start = fix + dt.timedelta(days=7 * i)
        end = min(start + dt.timedelta(days=7), data.end)
        if start >= data.end:
            break
        out.append(Week(start, data.total(data.cases, start, end), data.total(data.orders, start, end), i >= 0))
    return out


@dataclass(frozen=True)
class Report:
    countermeasure: Countermeasure
    today: dt.date
    effect: effect_module.Effect
    weeks: list[Week]
    cases: list[Case]          # behind it: the scope's cases in the before window, newest first
    case_count: int
    causes: list[tuple[str, int]]  # the root causes recorded on those cases, most first

    @property
    def statement(self) -> str:
        return self.effect.statement()


def report(countermeasure: Countermeasure, today: dt.date | None = None) -> Report:
    """Everything the report page, its PDF and the digest show (a handful of statements)."""
    today = today or timezone.localdate()
    data = series(countermeasure, today)
    effect = effect_of(countermeasure, today, data)
    fix = countermeasure.done_on
    behind = scope_cases(countermeasure).filter(
        received_at__gte=day_start(fix - dt.timedelta(days=countermeasure.window_days)), received_at__lt=day_start(fix))
    cases = list(behind.select_related("customer", "category", "root_cause").order_by("-received_at", "-pk")[:REPORT_CASES])
    case_count = data.total(data.cases, data.start, fix)
    tally = Counter(CaseRootCause.objects.filter(case__in=behind).values_list("cause", flat=True))
    labels = dict(Cause.choices)
    causes = [(str(labels.get(cause, cause)), n) for cause, n in tally.most_common()]
    return Report(countermeasure, today, effect, weeks(countermeasure, data), cases, case_count, causes)


def link_labels(countermeasure: Countermeasure) -> list[tuple[str, str]]:
    """(label, value) of what the countermeasure changed and aims at, as people read them."""
    from madoguchi.shop.tracking import carrier_label

    out: list[tuple[str, str]] = []
    c = countermeasure
    if c.cluster is not None:
        out.append((_("苦情のまとまり"), describe(c.cluster)))
    if c.category is not None:
        out.append((_("分類"), c.category.name))
    if c.product is not None:
        out.append((_("商品"), f"{c.product.name}（{c.product.sku}）"))
    if c.passage is not None:
        out.append((_("商品説明の箇所"), c.passage.text[:120]))
    if c.carrier:
        out.append((_("配送業者"), carrier_label(c.carrier)))
    if c.rule is not None:
        out.append((_("対応ルール"), c.rule.title))
    if c.article is not None:
        out.append((_("記事"), c.article.title))
    return out
