"""The effect check's statistics on generated data: weekly Poisson counts with a known drop are
reported as a drop more than chance; with no drop it says the difference cannot be told from
chance; a window not yet full says so and says too early in the first week."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pytest
from django.utils import translation

from madoguchi.prevention.effect import Verdict, check, rate_ratio, windows

FIX = dt.date(2026, 10, 1)


def weekly(rng: np.random.Generator, rate: float, weeks: int = 4) -> int:
    return int(rng.poisson(rate, size=weeks).sum())


@pytest.mark.parametrize("seed", range(5))
def test_a_known_drop_is_reported_as_more_than_chance(seed: int) -> None:
    rng = np.random.default_rng(seed)
    before, after = weekly(rng, 20.0), weekly(rng, 8.0)  # 60 % fewer after the fix
    effect = check(FIX, 28, FIX + dt.timedelta(days=40), before, after)
    assert effect.full and effect.verdict == Verdict.DROP
    assert effect.high is not None and effect.high < 1
    assert effect.low is not None and effect.low < 0.4 < effect.high  # the true ratio is inside
    with translation.override("ja"):
        text = effect.statement()
    assert "下がりました" in text and "偶然では説明しにくい減少" in text
    assert f"対策前 {before}件、対策後 {after}件" in text


@pytest.mark.parametrize("seed", range(5))
def test_no_drop_says_the_difference_may_be_chance(seed: int) -> None:
    rng = np.random.default_rng(100 + seed)
    before, after = weekly(rng, 20.0), weekly(rng, 20.0)
    effect = check(FIX, 28, FIX + dt.timedelta(days=28), before, after)
    assert effect.verdict == Verdict.NO_CHANGE
    assert effect.low is not None and effect.high is not None and effect.low < 1 < effect.high
    with translation.override("ja"):
        text = effect.statement()
    assert "減ったとは言えません" in text and "確認期間はまだ途中" not in text


def test_the_interval_covers_the_true_ratio_about_95_percent_of_the_time() -> None:
    rng = np.random.default_rng(7)
    covered = 0
    for _ in range(400):
        a, b = int(rng.poisson(30)), int(rng.poisson(15))
        _ratio, low, high, _p = rate_ratio(a, 1.0, b, 1.0)
        covered += low is not None and high is not None and low <= 0.5 <= high
    assert covered / 400 >= 0.93  # exact intervals are, if anything, conservative


def test_orders_make_it_a_rate_per_thousand_orders() -> None:
    # The same 40 complaints after, but twice the orders: the rate halved.
    effect = check(FIX, 28, FIX + dt.timedelta(days=28), 40, 40, before_orders=2000, after_orders=4000)
    assert effect.per_orders
    assert effect.before.rate == pytest.approx(20.0) and effect.after.rate == pytest.approx(10.0)
    assert effect.ratio == pytest.approx(0.5) and effect.verdict == Verdict.DROP
    # No orders in a window: per week instead.
    assert not check(FIX, 28, FIX + dt.timedelta(days=28), 40, 40, before_orders=0, after_orders=10).per_orders


def test_a_window_not_yet_full_compares_equal_lengths_and_says_it_is_recomputed() -> None:
    today = FIX + dt.timedelta(days=10)
    (b_start, b_end), (a_start, a_end), full = windows(FIX, 28, today)
    assert not full and (b_end - b_start).days == (a_end - a_start).days == 10
    assert b_end == a_start == FIX
    effect = check(FIX, 28, today, 30, 4)
    assert not effect.full and effect.elapsed_days == 10 and effect.verdict == Verdict.DROP
    with translation.override("ja"):
        assert "確認期間はまだ途中です（28日のうち10日）" in effect.statement()
    # The first days after the fix: too early to say anything.
    early = check(FIX, 28, FIX + dt.timedelta(days=3), 5, 0)
    assert early.verdict == Verdict.TOO_EARLY and early.ratio is None
    with translation.override("ja"):
        assert "まだ判断できません" in early.statement()


def test_nothing_in_either_window_cannot_be_compared() -> None:
    effect = check(FIX, 28, FIX + dt.timedelta(days=30), 0, 0)
    assert effect.verdict == Verdict.NO_DATA
    ratio, low, high, _p = rate_ratio(5, 1.0, 0, 1.0)
    assert ratio == 0 and low == 0 and high is not None and 0 < high < 1.5
    ratio, _low, high, _p = rate_ratio(0, 1.0, 5, 1.0)
    assert ratio is not None and math.isinf(ratio) and high is not None and math.isinf(high)


def test_a_rise_is_reported_as_a_rise() -> None:
    effect = check(FIX, 28, FIX + dt.timedelta(days=28), 10, 40)
    assert effect.verdict == Verdict.RISE
    with translation.override("ja"):
        assert "増加" in effect.statement()
