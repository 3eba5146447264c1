"""A cluster's weekly counts as a server-side SVG bar chart (pygal, as the dashboard's charts:
no JavaScript, no CDN, the inline script cut and the style given the page's nonce)."""

from __future__ import annotations

import datetime as dt

import pygal
from django.utils.translation import gettext as _

from madoguchi.metrics.charts import STYLE, _without_script, with_nonce


def weekly_svg(title: str, counts: list[tuple[dt.date, int]], nonce: str, spike_week: dt.date | None = None) -> str:
    """One bar a week (the week of a spike in red), the count printed on it."""
    chart = pygal.Bar(
        js=[], style=STYLE, height=240, width=720, x_label_rotation=0, show_legend=False,
        disable_xml_declaration=True, title=title, no_data_text=_("データなし"), explicit_size=False,
        print_values=True, print_zeroes=False, min_scale=4, max_scale=8,
    )
    chart.x_labels = [monday.strftime("%m/%d") for monday, _n in counts]
    chart.add(_("件数"), [
        {"value": n, "color": "#dc2626"} if spike_week is not None and monday == spike_week else n for monday, n in counts
    ])
    return with_nonce(_without_script(chart.render(is_unicode=True)), nonce)
