"""The business calendar against dates worked out by hand (JST, default Mon–Fri 9–18)."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from madoguchi.businesshours import (
    add_business_seconds,
    business_seconds_between,
    is_open,
    next_open,
)
from madoguchi.businesshours.models import CalendarOptions, ClosedDay, WeeklyHours

JST = ZoneInfo("Asia/Tokyo")
HOUR = 3600
pytestmark = pytest.mark.django_db


def jst(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=JST)


def test_today_labour_thanksgiving_2026_is_closed_although_a_monday():
    assert jst(2026, 11, 23).weekday() == 0
    assert not is_open(jst(2026, 11, 23, 10))
    assert is_open(jst(2026, 11, 24, 10))


def test_2027_holidays_coming_of_age_day_and_substitute_holiday_are_closed():
    assert not is_open(jst(2027, 1, 11, 10))  # 成人の日
    assert not is_open(jst(2027, 3, 22, 10))  # 春分の日 振替休日 (3/21 is a Sunday)
    assert not is_open(jst(2026, 5, 6, 10))  # 憲法記念日 振替休日
    assert not is_open(jst(2026, 9, 22, 10))  # 国民の休日
    assert is_open(jst(2027, 1, 12, 10))


def test_opening_hours_edges_are_half_open():
    assert is_open(jst(2026, 11, 24, 9, 0))
    assert not is_open(jst(2026, 11, 24, 8, 59, 59))
    assert not is_open(jst(2026, 11, 24, 18, 0))
    assert not is_open(jst(2026, 11, 28, 12))  # Saturday


def test_new_year_closure_is_seeded_and_recurs():
    assert not is_open(jst(2026, 12, 29, 10))
    assert not is_open(jst(2027, 1, 4, 8)) and is_open(jst(2027, 1, 4, 9))
    assert next_open(jst(2026, 12, 28, 18, 30)) == jst(2027, 1, 4, 9)


def test_next_open_skips_the_weekend_and_the_holiday():
    # Friday 2026-11-20 17:00 is open; 19:00 is after hours → Tuesday 24th (23rd is a holiday).
    assert next_open(jst(2026, 11, 20, 17)) == jst(2026, 11, 20, 17)
    assert next_open(jst(2026, 11, 20, 19)) == jst(2026, 11, 24, 9)
    assert next_open(dt.datetime(2026, 11, 20, 10, tzinfo=dt.UTC)) == jst(2026, 11, 24, 9)  # 19:00 JST


def test_business_seconds_over_a_weekend_and_a_public_holiday():
    # Fri 20th 17:00 → Tue 24th 10:00: Fri 1 h + Tue 1 h (Sat, Sun, Mon-holiday closed).
    assert business_seconds_between(jst(2026, 11, 20, 17), jst(2026, 11, 24, 10)) == 2 * HOUR
    # A whole ordinary week Mon 16th 0:00 → Mon 23rd 0:00 is 5 × 9 h.
    assert business_seconds_between(jst(2026, 11, 16), jst(2026, 11, 23)) == 45 * HOUR
    assert business_seconds_between(jst(2026, 11, 24, 10), jst(2026, 11, 24, 10)) == 0
    assert business_seconds_between(jst(2026, 11, 24, 11), jst(2026, 11, 24, 10)) == 0


def test_add_business_seconds_is_the_inverse():
    start = jst(2026, 11, 20, 17)
    assert add_business_seconds(start, 2 * HOUR) == jst(2026, 11, 24, 10)
    assert add_business_seconds(jst(2026, 11, 21, 12), 60) == jst(2026, 11, 24, 9, 1)
    assert add_business_seconds(jst(2026, 11, 24, 17), HOUR) == jst(2026, 11, 24, 18)


def test_admin_edits_take_effect_lunch_break_saturday_and_own_closed_day():
    WeeklyHours.objects.filter(weekday=0).delete()
    WeeklyHours.objects.create(weekday=0, opens=dt.time(9), closes=dt.time(12))
    WeeklyHours.objects.create(weekday=0, opens=dt.time(13), closes=dt.time(18))
    WeeklyHours.objects.create(weekday=5, opens=dt.time(10), closes=dt.time(15))
    ClosedDay.objects.create(year=2026, month=12, day=1, name="棚卸し")
    assert not is_open(jst(2026, 11, 30, 12, 30))  # lunch
    assert business_seconds_between(jst(2026, 11, 30), jst(2026, 12, 1)) == 8 * HOUR
    assert is_open(jst(2026, 11, 28, 11))  # Saturday now open
    assert not is_open(jst(2026, 12, 1, 10))  # stocktaking
    assert is_open(jst(2027, 12, 1, 10))  # only 2026


def test_public_holidays_can_be_worked():
    CalendarOptions.objects.create(closed_on_public_holidays=False)
    assert is_open(jst(2026, 11, 23, 10))


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError):
        is_open(dt.datetime(2026, 11, 24, 10))
