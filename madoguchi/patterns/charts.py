"""A cluster's weekly counts as a server-side SVG bar chart (pygal, as the dashboard's charts:
no JavaScript, no CDN, the inline script cut and the style given the page's nonce)."""

from __future__ import annotations

import datetime as dt

import pygal
from django.utils.translation import gettext as _

from madoguchi.metrics.charts import STYLE, _without_script, with_nonce


def weekly_svg(title: str, counts: list[tuple[dt.date, int]], nonce: str, spike_week: dt.date | None = None) -> str:
    """One bar a week, the count printed on it; the week of a spike is a second series stacked
    on the same place, so it is red through the chart's own style sheet (a per-bar colour would
    be a style attribute, which the Content-Security-Policy refuses)."""
    chart = pygal.StackedBar(
        js=[], style=STYLE, height=240, width=720, x_label_rotation=0, show_legend=spike_week is not None,
        legend_at_bottom=True, disable_xml_declaration=True, title=title, no_data_text=_("データなし"),
        explicit_size=False, print_values=True, print_zeroes=False, min_scale=4, max_scale=8,
    )
    chart.x_labels = [monday.strftime("%m/%d") for monday, _n in counts]
    chart.add(_("件数"), [None if monday == spike_week else n for monday, n in counts])
    if spike_week is not None:
        chart.add(_("急増"), [n if monday == spike_week else None for monday, n in counts])
    return with_nonce(_without_script(chart.render(is_unicode=True)), nonce)
