"""Thin HTTP layer of the metrics capability; logic lives in dashboard.py, survey.py, services.py."""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from madoguchi.accounts import access_log, throttle
from madoguchi.accounts import audit as settings_audit
from madoguchi.accounts.access import staff_user
from madoguchi.accounts.models import AccessKind, Team, User
from madoguchi.cases.models import Case, Category, Channel
from madoguchi.ids import parse_id
from madoguchi.metrics import dashboard as board
from madoguchi.metrics import survey as surveys
from madoguchi.metrics.charts import duration_unit, in_unit, line_svg, with_nonce
from madoguchi.metrics.definitions import CHANGE_TARGETS, MEASURES, MEASURES_BY_CODE
from madoguchi.metrics.models import FollowUp, QualityReview
from madoguchi.metrics.rollup import refresh_dirty
from madoguchi.metrics.services import (
    OUTCOME_FLAGS,
    MetricsError,
    can_review,
    do_record_outcome,
    do_review,
    do_set_target,
    min_sample,
    review_averages,
    sees_agent_figures,
)

FILTERS = ("team", "agent", "channel", "category")
BREAKDOWNS = {
    "team": gettext_lazy("チーム別"), "agent": gettext_lazy("担当者別"),
    "channel": gettext_lazy("窓口別"), "category": gettext_lazy("分類別"),
}
MAX_DAYS = 3 * 366
# Parts other apps add to the dashboard below its breakdowns (in their ready()): each gets the
# request, the period and the page's query string and returns HTML ("" for nothing).
DASHBOARD_PANELS: list[Callable[[HttpRequest, board.Period, str], str]] = []
YEARS = (2000, 2100)


def _period(request: HttpRequest) -> tuple[board.Period, str]:
    default = board.default_period()
    first = _date(request.GET.get("start"), default.first)
    last = _date(request.GET.get("end"), default.last)
    if first is None or last is None:
        return default, _("日付の形式が正しくありません（例: 2026-11-01）。直近30日を表示しています。")
    if last < first:
        return default, _("終了日が開始日より前です。直近30日を表示しています。")
    if (last - first).days >= MAX_DAYS:
        return default, _("期間は3年以内で指定してください。直近30日を表示しています。")
    return board.Period(first, last), ""


def _date(raw: str | None, default: dt.date) -> dt.date | None:
    if not raw:
        return default
    try:
        day = parse_date(raw)
    except ValueError:
        return None  # well-formed but impossible, e.g. 2026-13-45
    # Periods are compared with the one before and padded to whole days: the year 1 or 9999
    # would run off the calendar.
    return day if day is None or YEARS[0] <= day.year <= YEARS[1] else None


def _filters(request: HttpRequest) -> dict[str, str]:
    """Only well-formed values: ids are digits, a channel is one of the channels."""
    values = {name: request.GET.get(name, "").strip() for name in FILTERS}
    valid = {
        name: value for name, value in values.items()
        if value and (value in Channel.values if name == "channel" else parse_id(value) is not None)
    }
    return valid


def _names() -> dict[str, dict[str, str]]:
    return {
        "team": {str(t.pk): t.name for t in Team.objects.all()},
        "agent": {str(u.pk): str(u) for u in User.objects.filter(is_active=True)},
        "channel": {str(v): str(label) for v, label in Channel.choices},
        "category": {str(c.pk): c.name for c in Category.objects.all()},
    }


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    period, warning = _period(request)
    # One dirty day that the page shows (this period or the previous) is rebuilt first;
    # the minute job does the rest.
    refresh_dirty(limit=board.INLINE_REFRESH_DAYS, first=period.previous().first, last=period.last)
    user = staff_user(request)
    filters = _filters(request)
    if not sees_agent_figures(user, filters.get("agent")):
        filters.pop("agent", None)
        warning = _("担当者ごとの数字はチームリーダーと管理者が見られます（自分の数字は見られます）。")
    table = request.GET.get("table", "summary")
    if table == "agent" and not sees_agent_figures(user):
        return HttpResponseForbidden(_("担当者ごとの数字はチームリーダーと管理者が見られます（自分の数字は見られます）。"))
    # Breakdown tables are fetched by their own requests (htmx), so the page itself stays fast.
    csv_breakdown = request.GET.get("format") == "csv" and table in BREAKDOWNS
    data = board.build(period, filters, with_breakdowns=csv_breakdown, dims=(table,) if csv_breakdown else ())
    names = _names()
    if request.GET.get("format") == "csv":
        access_log.record(AccessKind.EXPORT, address=throttle.client_address(request),
                          detail=f"指標の CSV（{table}、{data.period.first}〜{data.period.last}）")
        return _csv(table, data, names)
    monthly = period.days > 92
    charts = []
    if data.trend:
        pick = lambda codes: {str(MEASURES_BY_CODE[c].label): data.trend[c] for c in codes}  # noqa: E731
        charts = [
            line_svg(_("受付件数"), pick(["cases"]), monthly),
            line_svg(_("満足度・解決率・SLA達成率（%）"), pick(["csat", "resolution_rate", "sla_attainment"]), monthly),
            # Chat waits are minutes of the clock, mail replies hours of business time: one chart
            # each, in the unit that fits its own data (one axis flattened the chat line).
            _duration_chart(_("チャット：最初の応答までの待ち時間（中央値・%(unit)s）"), pick(["chat_first_answer_median"]), monthly),
            _duration_chart(_("メール：最初の返信までの時間（中央値・営業時間・%(unit)s）"), pick(["email_first_reply_median"]), monthly),
        ]
        charts = [with_nonce(svg, str(request.csp_nonce)) for svg in charts]  # type: ignore[attr-defined]
    breakdowns = [(dim, title) for dim, title in BREAKDOWNS.items() if dim != "agent" or sees_agent_figures(user)]
    agents = User.objects.filter(is_active=True).order_by("username")
    return render(request, "metrics/dashboard.html", {
        "data": data, "period": period, "filters": filters, "warning": warning, "charts": charts,
        "breakdowns": breakdowns,
        "teams": Team.objects.all(), "agents": agents if sees_agent_figures(user) else agents.filter(pk=user.pk),
        "channels": Channel.choices, "categories": Category.objects.all(),
        "query": request.GET.urlencode(), "can_edit": user.is_admin or user.is_lead,
        "reviews_by_team": review_averages("team"),
        "team_names": {int(k): v for k, v in names["team"].items()},
        "panels": [html for panel in DASHBOARD_PANELS if (html := panel(request, period, request.GET.urlencode()))],
    })


def _duration_chart(title: str, series: dict[str, list[tuple[dt.date, float | None]]], monthly: bool) -> str:
    seconds, unit = duration_unit(series)
    return line_svg(title % {"unit": unit}, in_unit(series, seconds), monthly)


@login_required
def breakdown(request: HttpRequest, dim: str) -> HttpResponse:
    """One breakdown table of the dashboard (team, agent, channel, category) for the period."""
    if dim not in BREAKDOWNS:
        return HttpResponse(_("不明な表です。"), status=404, content_type="text/plain; charset=utf-8")
    filters = _filters(request)
    if (dim == "agent" or "agent" in filters) and not sees_agent_figures(staff_user(request), filters.get("agent") if dim != "agent" else None):
        return HttpResponseForbidden(_("担当者ごとの数字はチームリーダーと管理者が見られます（自分の数字は見られます）。"))
    period, _warning = _period(request)
    names = _names()[dim]
    rows = sorted(((names.get(value, value), vals) for value, vals in board.breakdown(period, dim, filters)),
                  key=lambda r: r[0])
    return render(request, "metrics/_breakdown.html", {
        "dim": dim, "rows": rows, "labels": [MEASURES_BY_CODE[c].label for c in board.BREAKDOWN_MEASURES],
        "columns": [(c, MEASURES_BY_CODE[c].unit) for c in board.BREAKDOWN_MEASURES], "minimum": min_sample(),
    })


def _csv(table: str, data: board.Dashboard, names: dict[str, dict[str, str]]) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="metrics-{table}-{data.period.first}-{data.period.last}.csv"'
    response.write("\ufeff")  # BOM: Excel opens UTF-8 Japanese correctly
    writer = csv.writer(response)
    if table == "summary":
        writer.writerow(["code", "指標", "値", "目標", "達成", "前の期間", "前期比（%）"])
        for row in [*data.rows, *data.changes]:
            writer.writerow([row.code, str(row.label), _num(row.value), _num(row.target), _ok(row.ok),
                             _num(row.previous), _num(row.change)])
    elif table == "trend":
        writer.writerow(["日付", *board.TREND_MEASURES])
        points = next(iter(data.trend.values()), [])
        for i, (day, _v) in enumerate(points):
            writer.writerow([day.isoformat(), *[_num(data.trend[c][i][1]) for c in board.TREND_MEASURES]])
    elif table in data.breakdowns:
        writer.writerow([table, *board.BREAKDOWN_MEASURES])
        for value, vals in data.breakdowns[table]:
            writer.writerow([names[table].get(value, value), *[_num(vals[c]) for c in board.BREAKDOWN_MEASURES]])
    elif table == "quality":
        writer.writerow(["チーム", "件数", *QualityReview.DIMENSIONS, "overall"])
        for averages in review_averages("team"):
            writer.writerow([names["team"].get(str(averages["team"]), averages["team"]), averages["n"],
                             *[_num(averages[d]) for d in QualityReview.DIMENSIONS], _num(averages["overall"])])
    else:
        return HttpResponse(_("不明な表です。"), status=404, content_type="text/plain; charset=utf-8")
    return response


def _num(value: float | None) -> str:
    return "" if value is None else f"{value:.2f}".rstrip("0").rstrip(".")


def _ok(value: bool | None) -> str:
    return "" if value is None else ("yes" if value else "no")


@login_required
def targets_edit(request: HttpRequest) -> HttpResponse:
    user = staff_user(request)
    if not (user.is_admin or user.is_lead):
        return HttpResponseForbidden(_("目標を変更できるのはチームリーダーと管理者です。"))
    from madoguchi.metrics.services import targets

    if request.method == "POST":
        try:
            with transaction.atomic():  # one bad value saves none of them
                before = targets()
                for code in [m.code for m in MEASURES] + list(CHANGE_TARGETS):
                    raw = request.POST.get(code, "").strip()
                    do_set_target(code, float(raw.replace(",", "")) if raw else None)
                settings_audit.record_values(user, target=gettext_lazy("目標"), before=before, after=targets(), labels={
                    m.code: m.label for m in MEASURES} | {code: f"{_('前の期間との比較: ')}{MEASURES_BY_CODE[code.removesuffix('_change')].label}"
                                                        for code in CHANGE_TARGETS})
        except ValueError:
            messages.error(request, _("目標は数字で入力してください。"))
        else:
            messages.success(request, _("目標を保存しました。"))
            return redirect("metrics:dashboard")
    current = targets()
    rows = [(m.code, m.label, m.unit, current.get(m.code)) for m in MEASURES]
    rows += [(code, _("前の期間との比較: ") + str(MEASURES_BY_CODE[code.removesuffix("_change")].label), "%", current.get(code))
             for code in CHANGE_TARGETS]
    return render(request, "metrics/targets.html", {"rows": rows})


@login_required
@require_POST
def outcome(request: HttpRequest, case_id: int) -> HttpResponse:
    case = get_object_or_404(Case, pk=case_id)
    try:
        do_record_outcome(case, actor=staff_user(request), flags={k: request.POST.get(k) == "on" for k in OUTCOME_FLAGS if k != "resolved"}
                          | {"resolved": request.POST.get("resolved") == "yes"})
        messages.success(request, _("対応結果を記録しました。"))
    except MetricsError as error:
        messages.error(request, str(error))
    return redirect("cases:detail", case.pk)


@login_required
def review(request: HttpRequest, case_id: int) -> HttpResponse:
    case = get_object_or_404(Case.objects.select_related("assignee"), pk=case_id)
    user = staff_user(request)
    if not can_review(user, case):
        return HttpResponseForbidden(_("応対品質の評価は、案件のチームのリーダーまたは管理者が行います。"))
    error = ""
    if request.method == "POST":
        try:
            scores = {d: int(request.POST.get(d) or 0) for d in QualityReview.DIMENSIONS}
            notes = {d: request.POST.get(f"note-{d}", "") for d in QualityReview.DIMENSIONS}
            do_review(case, reviewer=user, scores=scores, comment=request.POST.get("comment", ""), notes=notes)
        except (MetricsError, ValueError) as exc:
            error = str(exc) if isinstance(exc, MetricsError) else _("点数は1〜5で選んでください。")
        else:
            messages.success(request, _("評価を保存しました。担当者が自分の評価ページで確認できます。"))
            return redirect("cases:detail", case.pk)
    dims = QualityReview.dimension_labels()
    return render(request, "metrics/review_form.html", {"case": case, "dims": dims, "error": error})


@login_required
def reviews(request: HttpRequest) -> HttpResponse:
    user = staff_user(request)
    mine = QualityReview.objects.filter(agent=user).select_related("case", "reviewer")[:100]
    visible = QualityReview.objects.all()
    if not user.is_admin:
        visible = visible.filter(team__lead=user) if user.is_lead else visible.filter(agent=user)
    dims = QualityReview.dimension_labels()
    names = _names()
    by_agent = [(names["agent"].get(str(r["agent"]), r["agent"]), r) for r in review_averages("agent", visible)]
    by_team = [(names["team"].get(str(r["team"]), "—"), r) for r in review_averages("team", visible)]
    return render(request, "metrics/reviews.html", {"mine": mine, "dims": dims, "by_agent": by_agent, "by_team": by_team})


@login_required
def follow_ups(request: HttpRequest) -> HttpResponse:
    rows = FollowUp.objects.filter(done_at__isnull=True).select_related("case", "survey", "assigned_to").order_by("created_at")
    user = staff_user(request)
    if not user.is_admin:
        rows = rows.filter(assigned_to=user)
    return render(request, "metrics/follow_ups.html", {"rows": rows[:200]})


@login_required
@require_POST
def follow_up_done(request: HttpRequest, pk: int) -> HttpResponse:
    follow_up = get_object_or_404(FollowUp.objects.select_related("case__team"), pk=pk)
    try:
        surveys.do_close_follow_up(follow_up, actor=staff_user(request), note=request.POST.get("note", ""))
        messages.success(request, _("フォローを完了にしました。"))
    except surveys.SurveyError as error:
        messages.error(request, str(error))
    return redirect("metrics:follow_ups")


def survey(request: HttpRequest, token: str) -> HttpResponse:
    """Public page for the customer: no login, one answer, a clear Japanese page on any problem."""
    try:
        current = surveys.survey_from_token(token)
    except surveys.SurveyError as problem:
        return render(request, "metrics/survey_problem.html", {"message": str(problem)}, status=400)
    error = ""
    if request.method == "POST":
        try:
            surveys.do_answer(token, rating=request.POST.get("rating"), nps=request.POST.get("nps"),
                              comment=request.POST.get("comment", ""))
        except surveys.SurveyError as exc:
            error = str(exc)
        else:
            return render(request, "metrics/survey_thanks.html")
    return render(request, "metrics/survey.html", {
        "survey": current, "error": error, "ratings": range(1, 6), "nps_range": range(0, 11), "posted": request.POST,
    }, status=400 if error else 200)


def now_local() -> dt.datetime:
    return timezone.localtime()
