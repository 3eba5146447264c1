"""Dashboard charts are rendered once per set of figures (pygal costs ~25 ms a chart)."""

from __future__ import annotations

import datetime as dt

from django.utils import translation

from madoguchi.metrics import charts

DAYS = [dt.date(2026, 11, d) for d in range(1, 8)]


def series(last: float) -> charts.Series:
    return {"初回応答": [(day, float(n)) for n, day in enumerate(DAYS[:-1])] + [(DAYS[-1], last)]}


def test_the_same_figures_are_drawn_once(monkeypatch) -> None:
    drawn: list[str] = []
    render = charts._render
    monkeypatch.setattr(charts, "_render", lambda *args: drawn.append(args[0]) or render(*args))
    first = charts.line_svg("応答時間の推移", series(9.0))
    assert charts.line_svg("応答時間の推移", series(9.0)) == first
    assert drawn == ["応答時間の推移"]


def test_changed_figures_or_another_language_are_drawn_again() -> None:
    with translation.override("ja"):
        before = charts.line_svg("応答時間の推移", series(9.0))
        after = charts.line_svg("応答時間の推移", series(12.5))
    assert before != after and "12.5" in after
    with translation.override("en"):
        english = charts.line_svg("応答時間の推移", series(40.0))
        empty = charts.line_svg("応答時間の推移", {"初回応答": [(day, None) for day in DAYS]})
    assert english != before and "データなし" not in empty
