"""The fans and win-back lists (leads and admins), their CSV export, and the admin's rule."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseBase, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from madoguchi.accounts import access_log, throttle
from madoguchi.accounts.models import AccessKind, User
from madoguchi.accounts.views import admin_required
from madoguchi.exports import csvfile
from madoguchi.fans import figures, lists, services
from madoguchi.fans.forms import FanRuleForm, FansFilterForm, WinBackFilterForm


def lead_required(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    @wraps(view)
    @login_required
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        user = request.user
        if not isinstance(user, User) or not (user.is_lead or user.is_admin):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper


def csv_response(request: HttpRequest, file_name: str, header: list[str], rows: Iterable[list[Any]]) -> StreamingHttpResponse:
    """A CSV Excel opens as Japanese (exports.csvfile: UTF-8 with a BOM, formulas quoted,
    streamed in chunks also under ASGI), in the access log as every export of personal data is."""
    with translation.override(settings.LANGUAGE_CODE):
        access_log.record(AccessKind.EXPORT, user=request.user, address=throttle.client_address(request),  # type: ignore[arg-type]
                          detail=_("%(file)s（ファン・取り戻したいお客様の CSV）") % {"file": file_name})
    return csvfile.csv_response(request, file_name, header, rows)


def _query_without_cursor(request: HttpRequest) -> str:
    query = request.GET.copy()
    query.pop("cursor", None)
    query.pop("format", None)
    return query.urlencode()


def _stamp(moment: Any) -> str:
    return timezone.localtime(moment).strftime("%Y/%m/%d %H:%M") if moment else ""


def _figure_cells(row: Any) -> list[Any]:
    email, phone = lists.contacts(row)
    return [row.customer_id, row.customer.name, row.customer.kana, email, phone, row.order_count, row.spent_yen,
            _stamp(row.first_order_at), _stamp(row.last_order_at)]


def _figure_header() -> list[str]:
    return [_("お客様番号"), _("お名前"), _("フリガナ"), _("メール"), _("電話"), _("注文回数"), _("購入金額（円・返金後）"),
            _("初回注文"), _("最終注文")]


@lead_required
def fans_list(request: HttpRequest) -> HttpResponseBase:
    current = figures.rule()
    form = FansFilterForm(request.GET or None)
    within = form.cleaned_data.get("within_days") if form.is_valid() else None
    if request.GET.get("format") == "csv" and (form.is_valid() or not request.GET.get("within_days")):
        rows = lists.every_page(lambda cursor, size: lists.fans_page(current, cursor, within_days=within, size=size))
        return csv_response(request, "fans.csv", _figure_header(), (_figure_cells(row) for row in rows))
    page = lists.fans_page(current, request.GET.get("cursor", ""), within_days=within)
    return render(request, "fans/fans.html", {
        "form": form, "page": page, "rule": current, "query": _query_without_cursor(request),
    })  # a bad filter is shown with its message over the unfiltered list


@lead_required
def win_back_list(request: HttpRequest) -> HttpResponseBase:
    form = WinBackFilterForm(request.GET or None)
    low, high = (form.cleaned_data.get("min_days"), form.cleaned_data.get("max_days")) if form.is_valid() else (None, None)
    now = timezone.now()
    if request.GET.get("format") == "csv" and (form.is_valid() or not form.is_bound):
        rows = lists.every_page(lambda cursor, size: lists.win_back_page(cursor, size=size, min_days=low, max_days=high))
        header = [*_figure_header(), _("苦情の解決日時"), _("解決からの日数"), _("案件番号")]
        return csv_response(request, "win-back.csv", header, (
            [*_figure_cells(row), _stamp(row.last_resolved_at), lists.days_since(row.last_resolved_at, now),
             row.last_resolved_case_id or ""] for row in rows))
    page = lists.win_back_page(request.GET.get("cursor", ""), min_days=low, max_days=high)
    for row in page.rows:
        row.days_since = lists.days_since(row.last_resolved_at, now)  # type: ignore[attr-defined]
    return render(request, "fans/win_back.html", {
        "form": form, "page": page, "query": _query_without_cursor(request),
    })  # a bad filter is shown with its message over the unfiltered list


@admin_required
def rule_settings(request: HttpRequest) -> HttpResponse:
    initial = services.rule_initial()
    form = FanRuleForm(request.POST or None, initial=initial)
    if request.method == "POST":
        if not form.is_valid():
            return render(request, "fans/rule.html", {"form": form}, status=400)
        outcome = services.do_save_rule(request.user, form)
        if outcome == "rebuild":
            messages.success(request, _("ファンの条件を保存しました。苦情の数え直しをバックグラウンドで行っています。"))
        else:
            messages.success(request, _("ファンの条件を保存しました。"))
        return redirect("fans:fans")
    return render(request, "fans/rule.html", {"form": form})
