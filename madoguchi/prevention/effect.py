"""The effect check of a countermeasure (issue 20 item 4): did the complaints it aimed at become
rarer after the fix date than before it, by more than chance?

Plain statistics, no Django. Two windows of equal length, `before` = [fix − L, fix) and `after`
= [fix, fix + L), where L is the chosen window (e.g. 28 days) or, while it is not yet full, the
days elapsed since the fix (the check is recomputed until the window is full). Each window has a
count of cases and an exposure: the orders placed in it when the shop's orders are known (rate
per 1,000 orders), else its length in weeks (rate per week).

The rate ratio after/before, RR = (b / E_b) / (a / E_a), is tested with the exact conditional
test for two Poisson counts: given n = a + b, b is binomial(n, π) with π = RR·E_b / (E_a + RR·E_b).
A Clopper-Pearson interval for π becomes the 95 % interval for RR; the drop is "more than
chance" when the whole interval lies below 1 (its upper end < 1), which is the two-sided exact
test at 5 %.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from enum import StrEnum

from django.utils.translation import gettext as _
from scipy.stats import beta, binomtest

CONFIDENCE = 0.95
# Fewer days than this after the fix: too early to say anything (a first week is all noise).
MIN_DAYS = 7


class Verdict(StrEnum):
    DROP = "drop"              # fewer, and more than chance
    NO_CHANGE = "no_change"    # cannot be told apart from chance
    RISE = "rise"              # more, and more than chance
    NO_DATA = "no_data"        # no cases in either window
    TOO_EARLY = "too_early"    # fewer than MIN_DAYS after the fix


@dataclass(frozen=True)
class Window:
    start: dt.date
    end: dt.date   # exclusive
    cases: int
    orders: int | None  # None: orders unknown, the rate is per week

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    @property
    def last(self) -> dt.date:
        """The window's last day (inclusive), as people read a period."""
        return self.end - dt.timedelta(days=1)

    @property
    def exposure(self) -> float:
        return float(self.orders) if self.orders is not None else self.days / 7

    @property
    def rate(self) -> float | None:
        """Cases per 1,000 orders, or per week."""
        if self.exposure <= 0:
            return None
        return self.cases / self.exposure * (1000 if self.orders is not None else 1)


@dataclass(frozen=True)
class Effect:
    before: Window
    after: Window
    window_days: int         # the length chosen
    full: bool               # the after window has run its whole length
    verdict: Verdict
    ratio: float | None      # after/before; None when it cannot be computed
    low: float | None        # 95 % interval of the ratio
    high: float | None
    p_value: float | None

    @property
    def per_orders(self) -> bool:
        return self.before.orders is not None

    @property
    def elapsed_days(self) -> int:
        return self.after.days

    @property
    def change_percent(self) -> float | None:
        return None if self.ratio is None else (self.ratio - 1) * 100

    def statement(self) -> str:
        return statement(self)


def windows(fix: dt.date, window_days: int, today: dt.date) -> tuple[tuple[dt.date, dt.date], tuple[dt.date, dt.date], bool]:
    """The before and after windows (start, exclusive end) as of `today`, and whether the after
    window is full. Both have the same length: the chosen one, or the days elapsed until full."""
    elapsed = max(0, min(window_days, (today - fix).days))
    return (fix - dt.timedelta(days=elapsed), fix), (fix, fix + dt.timedelta(days=elapsed)), elapsed >= window_days


def rate_ratio(a: int, exposure_a: float, b: int, exposure_b: float,
               confidence: float = CONFIDENCE) -> tuple[float | None, float | None, float | None, float | None]:
    """Ratio of the rate b/E_b to a/E_a with its exact conditional (Clopper-Pearson) interval and
    two-sided p-value. (None, …) when there is nothing to compare (no events, no exposure)."""
    n = a + b
    if n == 0 or exposure_a <= 0 or exposure_b <= 0:
        return None, None, None, None
    scale = exposure_a / exposure_b  # π/(1−π) · scale = RR
    alpha = 1 - confidence
    pi_low = 0.0 if b == 0 else float(beta.ppf(alpha / 2, b, n - b + 1))
    pi_high = 1.0 if b == n else float(beta.ppf(1 - alpha / 2, b + 1, n - b))
    ratio = math.inf if a == 0 else (b / exposure_b) / (a / exposure_a)
    low = pi_low / (1 - pi_low) * scale
    high = math.inf if pi_high >= 1 else pi_high / (1 - pi_high) * scale
    p_value = float(binomtest(b, n, exposure_b / (exposure_a + exposure_b)).pvalue)
    return ratio, low, high, p_value


def check(fix: dt.date, window_days: int, today: dt.date, before_cases: int, after_cases: int,
          before_orders: int | None = None, after_orders: int | None = None) -> Effect:
    """The effect as of `today` from the counts in the two windows `windows()` gave. Orders are
    used only when both windows have some (else the rate is per week)."""
    (b_start, b_end), (a_start, a_end), full = windows(fix, window_days, today)
    use_orders = bool(before_orders) and bool(after_orders)
    before = Window(b_start, b_end, before_cases, before_orders if use_orders else None)
    after = Window(a_start, a_end, after_cases, after_orders if use_orders else None)
    if after.days < min(MIN_DAYS, window_days):
        return Effect(before, after, window_days, full, Verdict.TOO_EARLY, None, None, None, None)
    ratio, low, high, p_value = rate_ratio(before.cases, before.exposure, after.cases, after.exposure)
    if ratio is None or low is None or high is None:
        verdict = Verdict.NO_DATA
    elif high < 1:
        verdict = Verdict.DROP
    elif low > 1:
        verdict = Verdict.RISE
    else:
        verdict = Verdict.NO_CHANGE
    return Effect(before, after, window_days, full, verdict, ratio, low, high, p_value)


def _number(value: float | None) -> str:
    if value is None:
        return "-"
    if math.isinf(value):
        return "∞"
    return f"{value:.2f}"


def statement(effect: Effect) -> str:
    """The plain Japanese sentence the report, its PDF and the digest print."""
    parts = []
    if not effect.full:
        parts.append(_("確認期間はまだ途中です（%(days)s日のうち%(elapsed)s日）。期間が満ちるまで毎日計算し直します。") % {
            "days": effect.window_days, "elapsed": effect.elapsed_days})
    if effect.verdict == Verdict.TOO_EARLY:
        parts.append(_("対策から%(min)s日たっていないため、まだ判断できません。") % {"min": MIN_DAYS})
        return "".join(parts)
    if effect.verdict == Verdict.NO_DATA:
        parts.append(_("対策の前後どちらの期間にも該当する案件がなく、比べられません。"))
        return "".join(parts)
    values = {"ratio": _number(effect.ratio), "low": _number(effect.low), "high": _number(effect.high),
              "before": effect.before.cases, "after": effect.after.cases}
    counts = _("対策前 %(before)s件、対策後 %(after)s件。") % values
    if effect.verdict == Verdict.DROP:
        parts.append(counts + _("発生率は対策前の %(ratio)s 倍（95%% 信頼区間 %(low)s〜%(high)s）に下がりました。"
                                "区間全体が1を下回っており、偶然では説明しにくい減少です。") % values)
    elif effect.verdict == Verdict.RISE:
        parts.append(counts + _("発生率は対策前の %(ratio)s 倍（95%% 信頼区間 %(low)s〜%(high)s）に上がりました。"
                                "偶然では説明しにくい増加です。対策を見直してください。") % values)
    else:
        parts.append(counts + _("発生率の比は %(ratio)s 倍（95%% 信頼区間 %(low)s〜%(high)s）で、区間が1をまたいでいます。"
                                "偶然のばらつきと区別できず、減ったとは言えません。") % values)
    return "".join(parts)
