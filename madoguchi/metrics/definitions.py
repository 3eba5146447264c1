"""Every measure of the dashboard, defined once (docs/metrics.md says the same in prose).

Cohort rule: a case belongs to the local day (settings.TIME_ZONE) on which it was received,
and every figure of a period is about the cases received in that period — so a period's
figures settle as its cases are answered, resolved and surveyed.

`Figures` holds additive counts, sums and duration histograms; the rollup (rollup.py)
keeps one per day/month and combination of filters, and periods are their sum. Durations are kept in buckets (exact
5 s steps below 10 minutes, 1 min below 2 hours, 10 min below 1 day, 1 h beyond), so medians
and p90 of a year are read from a few hundred numbers instead of a million rows.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

from django.utils.translation import gettext_lazy as _

# --- durations -------------------------------------------------------------------------------


BUCKETS = ((600, 5), (7200, 60), (86400, 600))  # (below this many seconds, step)
BEYOND_STEP = 3600


def bucket(seconds: int) -> int:
    """The histogram bucket (its lower bound, in seconds) a duration is counted in:
    5 s steps below 10 minutes, 1 minute below 2 hours, 10 minutes below a day, 1 hour beyond.
    A year's histogram then has a few hundred keys at most, whatever the case count."""
    seconds = max(0, int(seconds))
    for limit, step in BUCKETS:
        if seconds < limit:
            return seconds - seconds % step
    return seconds - seconds % BEYOND_STEP


def add_to(hist: dict[str, int], seconds: int) -> None:
    key = str(bucket(seconds))
    hist[key] = hist.get(key, 0) + 1


def _nth(ordered: list[tuple[int, int]], rank: int) -> int:
    """The value at 1-based `rank` in a sorted histogram [(value, count), …]."""
    seen = 0
    for value, count in ordered:
        seen += count
        if seen >= rank:
            return value
    raise IndexError(rank)


def median(hist: dict[str, int]) -> float | None:
    """The middle value; with an even count, the mean of the two middle values."""
    ordered = sorted((int(k), v) for k, v in hist.items() if v)
    n = sum(v for _, v in ordered)
    if n == 0:
        return None
    if n % 2:
        return float(_nth(ordered, n // 2 + 1))
    return (_nth(ordered, n // 2) + _nth(ordered, n // 2 + 1)) / 2


def p90(hist: dict[str, int]) -> float | None:
    """Nearest rank: the smallest value with at least 90 % of the values at or below it."""
    ordered = sorted((int(k), v) for k, v in hist.items() if v)
    n = sum(v for _, v in ordered)
    if n == 0:
        return None
    return float(_nth(ordered, math.ceil(0.9 * n)))


# --- the additive figures of a set of cases -----------------------------------------------------

HISTOGRAMS = ("chat_first_answer", "email_first_reply", "resolution")


@dataclass
class Figures:
    cases: int = 0
    chat_first_answer: dict[str, int] = field(default_factory=dict)  # wall-clock seconds
    email_first_reply: dict[str, int] = field(default_factory=dict)  # business seconds
    resolution: dict[str, int] = field(default_factory=dict)  # business seconds
    outcomes: int = 0
    outcomes_resolved: int = 0
    cancelled: int = 0
    refunds: int = 0
    kept: int = 0
    upsell: int = 0
    ever_resolved: int = 0
    reopened: int = 0
    ratings: int = 0
    ratings_good: int = 0
    nps_answers: int = 0
    promoters: int = 0
    detractors: int = 0
    sla_due: int = 0
    sla_met: int = 0
    commitments_due: int = 0
    commitments_on_time: int = 0
    compensation_yen: int = 0
    assigned_cases: int = 0
    agents: list[int] = field(default_factory=list)

    def add(self, other: Figures) -> None:
        self.add_json(other.__dict__)

    def add_json(self, data: dict[str, Any]) -> None:
        """Add the figures of another set of cases (a rollup row's JSON, read as it is)."""
        for name in SCALARS:
            setattr(self, name, getattr(self, name) + data.get(name, 0))
        for name in HISTOGRAMS:
            mine = getattr(self, name)
            for key, count in data.get(name, {}).items():
                mine[key] = mine.get(key, 0) + count
        if data.get("agents"):
            self.agents = sorted(set(self.agents) | set(data["agents"]))

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Figures:
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known)


SCALARS = tuple(name for name in Figures.__dataclass_fields__ if name not in (*HISTOGRAMS, "agents"))


@dataclass(frozen=True)
class CaseRow:
    """The facts of one case that the measures read (collected by rollup.case_rows)."""

    channel: str
    assignee_id: int | None
    first_wall_seconds: int | None = None
    first_business_seconds: int | None = None
    resolution_business_seconds: int | None = None
    ever_resolved: bool = False
    reopen_count: int = 0
    sla_due: int = 0
    sla_met: int = 0
    outcome: dict[str, bool] | None = None
    rating: int | None = None
    nps: int | None = None
    commitments_due: int = 0
    commitments_on_time: int = 0
    compensation_yen: int = 0


def figures_of(rows: list[CaseRow]) -> Figures:
    """What each case contributes to each measure — the one place that decides it."""
    f = Figures()
    agents: set[int] = set()
    for row in rows:
        f.cases += 1
        if row.channel == "chat" and row.first_wall_seconds is not None:
            add_to(f.chat_first_answer, row.first_wall_seconds)
        if row.channel == "email" and row.first_business_seconds is not None:
            add_to(f.email_first_reply, row.first_business_seconds)
        if row.resolution_business_seconds is not None:
            add_to(f.resolution, row.resolution_business_seconds)
        if row.outcome is not None:
            f.outcomes += 1
            f.outcomes_resolved += row.outcome["resolved"]
            f.cancelled += row.outcome["cancelled"]
            f.refunds += row.outcome["refund_asked"]
            f.kept += row.outcome["kept"]
            f.upsell += row.outcome["upsell"]
        if row.ever_resolved:
            f.ever_resolved += 1
            f.reopened += row.reopen_count > 0
        if row.rating is not None:
            f.ratings += 1
            f.ratings_good += row.rating >= 4
        if row.nps is not None:
            f.nps_answers += 1
            f.promoters += row.nps >= 9
            f.detractors += row.nps <= 6
        f.sla_due += row.sla_due
        f.sla_met += row.sla_met
        f.commitments_due += row.commitments_due
        f.commitments_on_time += row.commitments_on_time
        f.compensation_yen += row.compensation_yen
        if row.assignee_id is not None:
            f.assigned_cases += 1
            agents.add(row.assignee_id)
    f.agents = sorted(agents)
    return f


# --- the measures ---------------------------------------------------------------------------------


def _share(part: int, whole: int) -> float | None:
    return 100.0 * part / whole if whole else None


@dataclass(frozen=True)
class Measure:
    code: str
    label: Any
    unit: str  # "s" seconds, "%", "yen", "count", "points"
    better: str  # "lower" or "higher": which side of the target is good
    default_target: float | None
    definition: Any

    def value(self, f: Figures) -> float | None:
        return COMPUTE[self.code](f)


COMPUTE = {
    "cases": lambda f: float(f.cases),
    "chat_first_answer_median": lambda f: median(f.chat_first_answer),
    "chat_first_answer_p90": lambda f: p90(f.chat_first_answer),
    "email_first_reply_median": lambda f: median(f.email_first_reply),
    "email_first_reply_p90": lambda f: p90(f.email_first_reply),
    "resolution_median": lambda f: median(f.resolution),
    "resolution_p90": lambda f: p90(f.resolution),
    "csat": lambda f: _share(f.ratings_good, f.ratings),
    "nps": lambda f: (100.0 * (f.promoters - f.detractors) / f.nps_answers) if f.nps_answers else None,
    "resolution_rate": lambda f: _share(f.outcomes_resolved, f.outcomes),
    "reopen_rate": lambda f: _share(f.reopened, f.ever_resolved),
    "sla_attainment": lambda f: _share(f.sla_met, f.sla_due),
    "commitments_on_time": lambda f: _share(f.commitments_on_time, f.commitments_due),
    "compensation_yen": lambda f: float(f.compensation_yen),
    "cancellations": lambda f: float(f.cancelled),
    "refunds": lambda f: float(f.refunds),
    "kept": lambda f: float(f.kept),
    "upsell": lambda f: float(f.upsell),
    "cases_per_agent": lambda f: (f.assigned_cases / len(f.agents)) if f.agents else None,
}

# What each rate or duration is computed from: its sample size n. A count (cases, yen) has none.
SAMPLES = {
    "chat_first_answer_median": lambda f: sum(f.chat_first_answer.values()),
    "chat_first_answer_p90": lambda f: sum(f.chat_first_answer.values()),
    "email_first_reply_median": lambda f: sum(f.email_first_reply.values()),
    "email_first_reply_p90": lambda f: sum(f.email_first_reply.values()),
    "resolution_median": lambda f: sum(f.resolution.values()),
    "resolution_p90": lambda f: sum(f.resolution.values()),
    "csat": lambda f: f.ratings,
    "nps": lambda f: f.nps_answers,
    "resolution_rate": lambda f: f.outcomes,
    "reopen_rate": lambda f: f.ever_resolved,
    "sla_attainment": lambda f: f.sla_due,
    "commitments_on_time": lambda f: f.commitments_due,
    "cases_per_agent": lambda f: f.assigned_cases,
}


def sample(code: str, f: Figures) -> int | None:
    """How many answers, cases or targets the measure's value stands on (None: a plain count)."""
    compute = SAMPLES.get(code)
    return None if compute is None else int(compute(f))


MEASURES = [
    Measure("cases", _("受付件数"), "count", "higher", None, _("期間内に受け付けた案件の数。")),
    Measure("chat_first_answer_median", _("チャット：最初の応答までの待ち時間（中央値）"), "s", "lower", 120,
            _("チャットの案件で、受付から担当者の最初の返信までの実時間（営業時間ではない）。返信のない案件は除く。")),
    Measure("chat_first_answer_p90", _("チャット：最初の応答までの待ち時間（90パーセンタイル）"), "s", "lower", None,
            _("同じ値の90パーセンタイル（最近順位法）。遅い1割を隠さないため。")),
    Measure("email_first_reply_median", _("メール：最初の返信まで（中央値・営業時間）"), "s", "lower", 4 * 3600,
            _("メールの案件で、受付から最初の返信までの営業時間（土日・祝日・休業日・営業時間外を除く）。")),
    Measure("email_first_reply_p90", _("メール：最初の返信まで（90パーセンタイル・営業時間）"), "s", "lower", None,
            _("同じ値の90パーセンタイル。")),
    Measure("resolution_median", _("解決までの時間（中央値・営業時間）"), "s", "lower", None,
            _("受付から最後に「解決済み」になった時点までの営業時間。お客様の返答待ちの時間も含む。未解決の案件は除く。")),
    Measure("resolution_p90", _("解決までの時間（90パーセンタイル・営業時間）"), "s", "lower", None,
            _("同じ値の90パーセンタイル。")),
    Measure("csat", _("顧客満足度（CSAT）"), "%", "higher", 85,
            _("アンケートの回答のうち、満足度4または5の割合。")),
    Measure("nps", _("NPS"), "points", "higher", None,
            _("おすすめ度（0〜10）の回答のうち、9〜10の割合から0〜6の割合を引いた値。")),
    Measure("resolution_rate", _("解決率"), "%", "higher", 90,
            _("対応結果を記録した案件のうち「解決した」の割合。結果の記録がない案件は除く。")),
    Measure("reopen_rate", _("再オープン率"), "%", "lower", 10,
            _("一度でも解決済みになった案件のうち、その後お客様の連絡などで再開した案件の割合。")),
    Measure("sla_attainment", _("SLA達成率"), "%", "higher", 95,
            _("期限が来た（または期限内に済んだ）SLAの目標（初回応答・次回応答・解決）のうち、期限内に済んだものの割合。")),
    Measure("commitments_on_time", _("約束を期限内に守った割合"), "%", "higher", 95,
            _("期限が過ぎた、または完了した約束のうち、期限までに「守った」になったものの割合。")),
    Measure("compensation_yen", _("補償の金額（円）"), "yen", "lower", None,
            _("付与済みの補償の合計金額。承認待ち・却下は除く。")),
    Measure("cancellations", _("解約・キャンセル（件）"), "count", "lower", None,
            _("対応結果で「解約・キャンセルされた」とした案件の数。前の期間との比較の目標は−15%。")),
    Measure("refunds", _("返金の要求（件）"), "count", "lower", None,
            _("対応結果で「返金を求められた」とした案件の数。前の期間との比較の目標は−15%。")),
    Measure("kept", _("解約を防いだ（件）"), "count", "higher", None, _("対応結果で「解約を思いとどまってもらえた」の数。")),
    Measure("upsell", _("追加購入（件）"), "count", "higher", None, _("対応結果で「追加の購入があった」の数。")),
    Measure("cases_per_agent", _("担当者1人あたりの案件数"), "count", "higher", None,
            _("担当者のついた案件の数 ÷ 期間内に案件を担当した人数。")),
]
MEASURES_BY_CODE = {m.code: m for m in MEASURES}

# Changes against the previous period of the same length (target: −15 %).
CHANGE_TARGETS = {"cancellations_change": -15.0, "refunds_change": -15.0}


def change_percent(current: float | None, previous: float | None) -> float | None:
    """(current − previous) / previous in %; None when there is nothing to compare with."""
    if current is None or not previous:
        return None
    return 100.0 * (current - previous) / previous


def meets(measure_better: str, value: float | None, target: float | None) -> bool | None:
    if value is None or target is None:
        return None
    return value <= target if measure_better == "lower" else value >= target


# --- the impact arithmetic (how many customers unhappy answers cost) ------------------------------

DAYS_PER_MONTH = 30


@dataclass(frozen=True)
class Impact:
    contacts_per_day: float
    satisfaction: float  # %
    leave_percent: float  # % of the unhappy who leave
    unhappy_per_day: float
    lost_per_month: float
    kept_by_plus_five: float


def impact(contacts_per_day: float, satisfaction: float, leave_percent: float) -> Impact:
    """Seed 002: 100 contacts/day at 75 % → 25 unhappy, 13 leave (52 %) → ~390 a month;
    +5 points of satisfaction keep contacts × 5 % × leave share × 30 a month."""
    unhappy = contacts_per_day * (100 - satisfaction) / 100
    lost = unhappy * leave_percent / 100 * DAYS_PER_MONTH
    gained = contacts_per_day * min(5.0, 100 - satisfaction) / 100 * leave_percent / 100 * DAYS_PER_MONTH
    return Impact(contacts_per_day, satisfaction, leave_percent, unhappy, lost, gained)
