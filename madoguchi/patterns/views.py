"""Thin HTTP layer of complaint patterns: the cluster list, a cluster's page, and the
dashboard's breakdowns by product, passage and carrier (an htmx part)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from madoguchi.cases.models import Category
from madoguchi.ids import parse_id
from madoguchi.patterns import services
from madoguchi.patterns.access import patterns_required
from madoguchi.patterns.charts import weekly_svg
from madoguchi.patterns.models import Cluster
from madoguchi.shop.models import Carrier

PAGE = 50
DIM_TITLES = {
    "product": gettext_lazy("商品別の苦情"), "passage": gettext_lazy("商品ページの段落別の苦情"),
    "carrier": gettext_lazy("配送業者別の苦情"),
}


def _cursor(raw: str) -> tuple[Any, ...] | None:
    """`<value>_<id>` of the last row shown; anything else is the first page."""
    value, _sep, pk = raw.rpartition("_")
    number = parse_id(pk)
    if not value or number is None:
        return None
    return (value, number)


@patterns_required
def cluster_list(request: HttpRequest) -> HttpResponse:
    """Clusters with cases in the last 12 weeks, most first (keyset on (recent, id)); this
    week's spikes above them. Filters: category, carrier, spikes only."""
    week = services.this_week()
    clusters = Cluster.objects.select_related("category", "product", "passage__product")
    category = parse_id(request.GET.get("category", ""))
    carrier = request.GET.get("carrier", "")
    if category is not None:
        clusters = clusters.filter(category_id=category)
    if carrier in Carrier.values:
        clusters = clusters.filter(carrier=carrier)
    narrowed = ""
    for name in ("product", "passage"):  # from the dashboard's breakdowns
        if (value := parse_id(request.GET.get(name, ""))) is not None:
            clusters = clusters.filter(**{f"{name}_id": value})
            named = services.named(name, [services.BreakdownRow(str(value), 0, None, None)])
            narrowed = named[0][0]
    spiking = request.GET.get("spikes") == "1"
    if spiking:
        clusters = clusters.filter(spike_week=week)
    after = _cursor(request.GET.get("cursor", ""))
    listed = clusters.filter(recent__gt=0)
    if after is not None and str(after[0]).isdigit():
        recent, pk = int(after[0]), after[1]
        listed = listed.filter(recent__lte=recent).exclude(recent=recent, pk__gte=pk)
    rows = list(listed.order_by("-recent", "-id")[: PAGE + 1])
    more = len(rows) > PAGE
    rows = rows[:PAGE]
    spikes = [] if spiking or after else list(clusters.filter(spike_week=week).order_by("-this_week", "-id")[:10])
    query = request.GET.copy()
    query.pop("cursor", None)
    return render(request, "patterns/list.html", {
        "rows": rows, "spikes": spikes, "week": week, "categories": Category.objects.all(), "carriers": Carrier.choices,
        "chosen": {"category": category, "carrier": carrier, "spikes": spiking}, "narrowed": narrowed,
        "next_cursor": f"{rows[-1].recent}_{rows[-1].pk}" if more else "", "query": query.urlencode(),
    })


@patterns_required
def cluster_page(request: HttpRequest, pk: int) -> HttpResponse:
    cluster = get_object_or_404(Cluster.objects.select_related("category", "product", "passage__product"), pk=pk)
    week = services.this_week()
    first = week - dt.timedelta(weeks=services.WEEKS_SHOWN - 1)
    counts = services.cluster_weekly_counts(cluster, first, week)
    orders = services.cluster_weekly_orders(cluster, first, week)
    weeks = [(monday, n, orders[i][1] if orders else None,
              services.Rate.of(n, orders[i][1]).per_1000 if orders else None) for i, (monday, n) in enumerate(counts)]
    total = services.Rate.of(sum(n for _m, n in counts), sum(n for _m, n in orders) if orders is not None else None)
    raw = _cursor(request.GET.get("cursor", ""))
    after = None
    if raw is not None:
        try:
            moment = parse_datetime(str(raw[0]).replace(" ", "+"))  # a "+" of the offset arrives as a space
        except ValueError:  # well-formed but impossible (month 13): the first page
            moment = None
        after = (moment, raw[1]) if moment is not None and moment.tzinfo is not None else None
    cases = services.cluster_cases(cluster, after, PAGE + 1)
    more = len(cases) > PAGE
    cases = cases[:PAGE]
    chart = weekly_svg(_("週ごとの件数（直近12週・月曜始まり）"), counts, str(request.csp_nonce),  # type: ignore[attr-defined]
                       cluster.spike_week)
    return render(request, "patterns/cluster.html", {
        "cluster": cluster, "weeks": weeks, "total": total, "orders_known": orders is not None, "chart": chart,
        "cases": cases, "spikes": list(cluster.spikes.order_by("-week")[:10]), "week": week,
        "carrier_label": cluster.carrier_label,
        "next_cursor": f"{cases[-1].received_at.isoformat()}_{cases[-1].pk}" if more else "", "paged": after is not None,
    })


@patterns_required
def breakdown(request: HttpRequest, dim: str) -> HttpResponse:
    """One of the dashboard's tables (product, passage, carrier) for its period and category."""
    from madoguchi.metrics.views import _period

    if dim not in services.DIMS:
        return HttpResponse(_("不明な表です。"), status=404, content_type="text/plain; charset=utf-8")
    period, _warning = _period(request)
    category = parse_id(request.GET.get("category", ""))
    rows = services.breakdown(dim, period.first, period.last, category)
    return render(request, "patterns/_breakdown.html", {
        "dim": dim, "rows": services.named(dim, rows), "orders_known": True,
    })


def dashboard_panel(request: HttpRequest, period: Any, query: str) -> str:
    """The dashboard's part (metrics.views.DASHBOARD_PANELS): this week's spikes and the
    breakdowns by product, passage and carrier (each fetched by htmx, as the others are), for
    those who see patterns; nothing for others."""
    from django.template.loader import render_to_string

    from madoguchi.patterns.access import can_see_patterns

    if not can_see_patterns(request.user):
        return ""
    week = services.this_week()
    spikes = list(Cluster.objects.filter(spike_week=week).select_related("category", "product", "passage__product")
                  .order_by("-this_week", "-id")[:5])
    return render_to_string("patterns/_dashboard.html", {
        "spikes": spikes, "dims": list(DIM_TITLES.items()), "query": query,
    }, request=request)
