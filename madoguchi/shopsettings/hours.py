"""営業時間と休業日 (admins): the weekly spans, closed days and ranges, and the year's calendar
of public holidays and the shop's closed days (read-only)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from madoguchi.accounts.access import staff_user
from madoguchi.accounts.views import admin_required
from madoguchi.businesshours import calendar
from madoguchi.businesshours.models import CalendarOptions, ClosedDay, WeeklyHours
from madoguchi.shopsettings import services
from madoguchi.shopsettings.forms import ClosedRangeForm, WeeklyHoursForm, format_spans

FIRST_YEAR, LAST_YEAR = 2000, 2099


def _weekly_now() -> dict[str, object]:
    spans: dict[int, list[tuple]] = {}  # type: ignore[type-arg]
    for row in WeeklyHours.objects.order_by("weekday", "opens"):
        spans.setdefault(row.weekday, []).append((row.opens, row.closes))
    if not spans:
        spans = {day: list(day_spans) for day, day_spans in calendar.DEFAULT_WEEKLY.items()}
    options = CalendarOptions.objects.first()
    initial: dict[str, object] = {f"day{day}": format_spans(spans.get(day, [])) for day in range(7)}
    initial["closed_on_public_holidays"] = options.closed_on_public_holidays if options else True
    return initial


def _page(request: HttpRequest, weekly: WeeklyHoursForm | None = None, closed: ClosedRangeForm | None = None,
          status: int = 200) -> HttpResponse:
    this_year = timezone.localdate().year
    raw_year = request.GET.get("year", "")
    year = int(raw_year) if raw_year.isdigit() and FIRST_YEAR <= int(raw_year) <= LAST_YEAR else this_year
    if raw_year and str(year) != raw_year:
        messages.error(request, _("年は %(first)s から %(last)s までで指定してください。") % {"first": FIRST_YEAR, "last": LAST_YEAR})
    options = CalendarOptions.objects.first()
    return render(request, "shopsettings/hours.html", {
        "weekly_form": weekly or WeeklyHoursForm(initial=_weekly_now()),
        "closed_form": closed or ClosedRangeForm(prefix="closed"),
        "closed_days": ClosedDay.objects.order_by("year", "month", "day"),
        "year": year, "previous_year": year - 1 if year > FIRST_YEAR else None,
        "next_year": year + 1 if year < LAST_YEAR else None,
        "days_off": calendar.days_off(year),
        "holidays_closed": options.closed_on_public_holidays if options else True,
    }, status=status)


@admin_required
def hours_page(request: HttpRequest) -> HttpResponse:
    return _page(request)


@admin_required
@require_POST
def save_weekly(request: HttpRequest) -> HttpResponse:
    form = WeeklyHoursForm(request.POST, initial=_weekly_now())
    if not form.is_valid():
        return _page(request, weekly=form, status=400)
    services.do_save_weekly_hours(staff_user(request), form)
    messages.success(request, _("営業時間を保存しました。"))
    return redirect("shopsettings:hours")


@admin_required
@require_POST
def add_closed(request: HttpRequest) -> HttpResponse:
    form = ClosedRangeForm(request.POST, prefix="closed")
    if not form.is_valid():
        return _page(request, closed=form, status=400)
    row = services.do_add_closed_range(staff_user(request), form)
    messages.success(request, _("休業日「%(name)s」を追加しました。") % {"name": row.name})
    return redirect("shopsettings:hours")


@admin_required
@require_POST
def delete_closed(request: HttpRequest, pk: int) -> HttpResponse:
    row = get_object_or_404(ClosedDay, pk=pk)
    services.do_delete_closed_day(staff_user(request), row)
    messages.success(request, _("休業日「%(name)s」を削除しました。") % {"name": row.name})
    return redirect("shopsettings:hours")
