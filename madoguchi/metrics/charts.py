"""Trend charts as server-side SVG with pygal: no JavaScript, no CDN (pygal's tooltip
script, loaded from the web by default, is switched off with js=[])."""

from __future__ import annotations

import datetime as dt
import re
import threading
from collections import OrderedDict
from typing import Any

import pygal
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from pygal.style import Style

STYLE = Style(
    background="transparent", plot_background="transparent", font_family="sans-serif",
    colors=("#2563eb", "#dc2626", "#059669", "#d97706"), label_font_size=11, legend_font_size=12,
)


# Rendered charts by what they show: pygal takes about 25 ms a chart, the dashboard draws four,
# and between two views of a period the figures rarely change. Kept per process, newest last.
_rendered: OrderedDict[tuple[Any, ...], str] = OrderedDict()
_RENDERED_MAX = 128
_rendered_lock = threading.Lock()


def line_svg(title: str, series: dict[str, list[tuple[dt.date, float | None]]], monthly: bool = False) -> str:
    key = (get_language(), title, monthly, tuple((name, tuple(values)) for name, values in series.items()))
    with _rendered_lock:
        if key in _rendered:
            _rendered.move_to_end(key)
            return _rendered[key]
    svg = _render(title, series, monthly)
    with _rendered_lock:
        _rendered[key] = svg
        while len(_rendered) > _RENDERED_MAX:
            _rendered.popitem(last=False)
    return svg


def _render(title: str, series: dict[str, list[tuple[dt.date, float | None]]], monthly: bool) -> str:
    chart = pygal.Line(
        js=[], style=STYLE, height=260, width=720, show_dots=True, dots_size=2, x_label_rotation=30,
        show_minor_x_labels=False, legend_at_bottom=True, disable_xml_declaration=True, title=title,
        no_data_text=_("データなし"), explicit_size=False,
    )
    points = next(iter(series.values()), [])
    fmt = "%Y/%m" if monthly else "%m/%d"
    chart.x_labels = [p.strftime(fmt) for p, _ in points]
    chart.x_labels_major = chart.x_labels[:: max(1, len(points) // 8)]
    for name, values in series.items():
        chart.add(name, [None if v is None else round(v, 1) for _d, v in values])
    return _without_script(chart.render(is_unicode=True))


# pygal writes its tooltip script's configuration as an inline <script> even with js=[], and hides
# the (unused) tooltip with a style attribute: both refused by the Content-Security-Policy, so
# both go (the tooltip is hidden by metrics.css). Its <style> gets the page's nonce (with_nonce).
_SCRIPT = re.compile(r"<script\b[^>]*>.*?</script>", re.S)


def _without_script(svg: str) -> str:
    return _SCRIPT.sub("", svg).replace(' style="opacity: 0" class="tooltip"', ' class="tooltip"')


def with_nonce(svg: str, nonce: str) -> str:
    """The chart's own <style> element, allowed by this response's CSP nonce."""
    return svg.replace("<style ", f'<style nonce="{nonce}" ', 1)


Series = dict[str, list[tuple[dt.date, float | None]]]


def duration_unit(series: Series) -> tuple[int, str]:
    """Seconds, minutes or hours, as fits the largest value of the series: an axis of 60,000
    seconds reads as 17 hours. Returns (seconds per unit, unit name)."""
    largest = max((v for values in series.values() for _d, v in values if v is not None), default=0.0)
    if largest < 180:
        return 1, _("秒")
    if largest < 3 * 3600:
        return 60, _("分")
    return 3600, _("時間")


def in_unit(series: Series, seconds: int) -> Series:
    return {name: [(day, None if v is None else v / seconds) for day, v in values] for name, values in series.items()}
