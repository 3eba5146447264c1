"""Durations, amounts and dates read in the active language, from one helper each
(madoguchi.figures): 「1時間04分」 / "1 h 04 min", 「3,000円」 / "¥3,000", 「2026年1月1日」 /
"Jan. 1, 2026"; SLA overruns past a day in days. Needs the English catalogue (see test_english)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.template import Context, Template
from django.utils import translation

from madoguchi.figures import duration, long_date, yen
from madoguchi.metrics.formatting import format_timer, format_value

CASES = [
    # seconds, Japanese, English
    (45, "45秒", "45 s"),
    (600, "10分", "10 min"),
    (1040, "17分20秒", "17 min 20 s"),
    (3840, "1時間04分", "1 h 04 min"),
    (101_100, "1日4時間", "1 d 4 h"),
    (86_400, "1日", "1 day"),
    (150 * 3600 + 35 * 60, "6日", "6 days"),
]


@pytest.mark.parametrize(("seconds", "japanese", "english"), CASES)
def test_a_duration_reads_in_the_chosen_language(seconds, japanese, english):
    with translation.override("ja"):
        assert duration(seconds) == japanese
    with translation.override("en"):
        assert duration(seconds) == english


def test_an_amount_is_yen_after_the_number_in_japanese_and_before_it_in_english():
    with translation.override("ja"):
        assert yen(3000) == "3,000円" and format_value(3000, "yen") == "3,000円"
    with translation.override("en"):
        assert yen(3000) == "¥3,000" and format_value(1234567, "yen") == "¥1,234,567"


def test_a_date_and_an_sla_overrun_read_in_the_chosen_language():
    with translation.override("ja"):
        assert long_date(dt.date(2026, 1, 1)) == "2026年1月1日"
        assert format_timer(-(150 * 3600 + 35 * 60)) == "6日超過"
    with translation.override("en"):
        assert long_date(dt.date(2026, 1, 1)) == "Jan. 1, 2026"
        assert format_timer(-(150 * 3600 + 35 * 60)) == "6 days overdue"
        assert format_timer(3840) == "1 h 04 min left"


def test_templates_have_the_filters_and_the_punctuation_of_the_language():
    template = Template("{{ s|duration }} {{ n|yen }} {% sep %} 担当{{ team|paren }} {{ word|quoted }}")
    context = {"s": 3840, "n": 3000, "team": "<サポート1課>", "word": "荷物受付"}
    with translation.override("ja"):
        assert template.render(Context(context)) == "1時間04分 3,000円 ・ 担当（&lt;サポート1課&gt;） 「荷物受付」"
    with translation.override("en"):
        assert template.render(Context(context)) == "1 h 04 min ¥3,000 · 担当 (&lt;サポート1課&gt;) “荷物受付”"
