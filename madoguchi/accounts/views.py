"""Shop settings (admins only): authority limits, the category list, the survey's delay."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from madoguchi.accounts.forms import AuthorityLimitsForm, CategoryForm
from madoguchi.accounts.models import AuthorityLimit, Team, User
from madoguchi.accounts.services import compensation_limit_yen
from madoguchi.cases.models import Category
from madoguchi.metrics.forms import SurveyDelayForm


def admin_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @wraps(view)
    @login_required
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user = request.user
        if not isinstance(user, User) or not user.is_admin:
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper


@admin_required
def settings_page(request: HttpRequest) -> HttpResponse:
    limits_form = AuthorityLimitsForm(
        initial={key: compensation_limit_yen(User(role=role)) for key, role in AuthorityLimitsForm.ROLES.items()}
    )
    return _render_settings(request, limits_form, CategoryForm(prefix="cat"))


def _render_settings(request: HttpRequest, limits_form: AuthorityLimitsForm, category_form: CategoryForm, status: int = 200,
                     survey_form: SurveyDelayForm | None = None) -> HttpResponse:
    from madoguchi.metrics.survey import delay

    return render(request, "accounts/settings.html", {
        "limits_form": limits_form,
        "category_form": category_form,
        "survey_form": survey_form or SurveyDelayForm(initial={"delay_hours": int(delay().total_seconds() // 3600)}),
        "categories": Category.objects.all(),
        "teams": Team.objects.select_related("lead").prefetch_related("members"),
        "users": User.objects.select_related("team").order_by("username"),
    }, status=status)


@admin_required
@require_POST
def save_limits(request: HttpRequest) -> HttpResponse:
    form = AuthorityLimitsForm(request.POST)
    if not form.is_valid():
        return _render_settings(request, form, CategoryForm(prefix="cat"), status=400)
    for key, role in AuthorityLimitsForm.ROLES.items():
        AuthorityLimit.objects.update_or_create(role=role, defaults={"max_compensation_yen": form.cleaned_data[key]})
    messages.success(request, _("権限の上限を保存しました。"))
    return redirect("accounts:settings")


@admin_required
@require_POST
def add_category(request: HttpRequest) -> HttpResponse:
    form = CategoryForm(request.POST, prefix="cat")
    if not form.is_valid():
        return _render_settings(request, AuthorityLimitsForm(), form, status=400)
    form.save()
    messages.success(request, _("分類を追加しました。"))
    return redirect("accounts:settings")


@admin_required
@require_POST
def save_survey_delay(request: HttpRequest) -> HttpResponse:
    from madoguchi.metrics.survey import do_set_delay

    form = SurveyDelayForm(request.POST)
    if not form.is_valid():
        return _render_settings(request, AuthorityLimitsForm(), CategoryForm(prefix="cat"), status=400, survey_form=form)
    do_set_delay(form.cleaned_data["delay_hours"])
    messages.success(request, _("アンケートを送るまでの時間を保存しました。"))
    return redirect("accounts:settings")
