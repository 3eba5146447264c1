"""Trend charts as server-side SVG with pygal: no JavaScript, no CDN (pygal's tooltip
script, loaded from the web by default, is switched off with js=[])."""

from __future__ import annotations

import datetime as dt

import pygal
from pygal.style import Style

STYLE = Style(
    background="transparent", plot_background="transparent", font_family="sans-serif",
    colors=("#2563eb", "#dc2626", "#059669", "#d97706"), label_font_size=11, legend_font_size=12,
)


def line_svg(title: str, series: dict[str, list[tuple[dt.date, float | None]]], monthly: bool = False) -> str:
    chart = pygal.Line(
        js=[], style=STYLE, height=260, width=720, show_dots=True, dots_size=2, x_label_rotation=30,
        show_minor_x_labels=False, legend_at_bottom=True, disable_xml_declaration=True, title=title,
        no_data_text="データなし", explicit_size=False,
    )
    points = next(iter(series.values()), [])
    fmt = "%Y/%m" if monthly else "%m/%d"
    chart.x_labels = [p.strftime(fmt) for p, _ in points]
    chart.x_labels_major = chart.x_labels[:: max(1, len(points) // 8)]
    for name, values in series.items():
        chart.add(name, [None if v is None else round(v, 1) for _, v in values])
    return chart.render(is_unicode=True)
