"""Shop settings (admins only): authority limits and the per-customer period, the category list,
the survey's delay, the dashboard's minimum sample, and the trail of changes.

Every save here is recorded in the settings audit (madoguchi.accounts.audit): a settings form is
bound with the values it was shown with (`initial`), and every field whose value changed is
recorded with its old and new value, so a field added to a form is audited without more work."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from madoguchi.accounts import access_log, audit, throttle, two_factor
from madoguchi.accounts.access import staff_user
from madoguchi.accounts.forms import (
    AuthorityLimitsForm,
    AvailabilityForm,
    CategoryForm,
    CustomerPeriodForm,
    OwnSignatureForm,
    SecurityForm,
    TeamAssignmentForm,
)
from madoguchi.accounts.models import AccessKind, AuthorityLimit, SettingsSource, Team, User
from madoguchi.accounts.services import (
    compensation_limit_yen,
    customer_period_days,
    do_set_availability,
    do_set_customer_period_days,
)
from madoguchi.cases.assignment import team_overview
from madoguchi.cases.models import Category
from madoguchi.mail.forms import MailboxSenderForm
from madoguchi.mail.models import Mailbox
from madoguchi.mail.signature import compose as compose_signature
from madoguchi.metrics.forms import MinSampleForm, SurveyDelayForm


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
    limits_form = AuthorityLimitsForm(initial=_limits_now())
    return _render_settings(request, limits_form, CategoryForm(prefix="cat"))


def _limits_now() -> dict[str, Any]:
    """The authority limits as they are now: what the form shows, and what a save is compared with."""
    return {key: compensation_limit_yen(User(role=role)) for key, role in AuthorityLimitsForm.ROLES.items()}


def _survey_now() -> dict[str, Any]:
    from madoguchi.metrics.survey import delay

    return {"delay_hours": int(delay().total_seconds() // 3600)}


def _min_sample_now() -> dict[str, Any]:
    from madoguchi.metrics.services import min_sample

    return {"min_sample": min_sample()}


def _security_now() -> dict[str, Any]:
    return {"admins_need_two_factor": two_factor.admins_need_it()}


def _period_now() -> dict[str, Any]:
    return {"customer_period_days": customer_period_days()}


def _render_settings(request: HttpRequest, limits_form: AuthorityLimitsForm, category_form: CategoryForm, status: int = 200,
                     survey_form: SurveyDelayForm | None = None, min_sample_form: MinSampleForm | None = None,
                     period_form: CustomerPeriodForm | None = None, mailbox_form: MailboxSenderForm | None = None,
                     security_form: SecurityForm | None = None,
                     team_form: TeamAssignmentForm | None = None) -> HttpResponse:
    teams = list(Team.objects.select_related("lead").order_by("name"))
    return render(request, "accounts/settings.html", {
        "mailbox_forms": _mailbox_forms(mailbox_form),
        "limits_form": limits_form,
        "period_form": period_form or CustomerPeriodForm(initial=_period_now()),
        "security_form": security_form or SecurityForm(initial=_security_now()),
        "category_form": category_form,
        "survey_form": survey_form or SurveyDelayForm(initial=_survey_now()),
        "min_sample_form": min_sample_form or MinSampleForm(initial=_min_sample_now()),
        "categories": Category.objects.all(),
        "teams": teams,
        "team_forms": [(team, team_form if team_form is not None and team_form.instance.pk == team.pk
                        else TeamAssignmentForm(instance=team, prefix=f"team{team.pk}")) for team in teams],
        "users": User.objects.select_related("team").order_by("username"),
        "now": timezone.now(),
    }, status=status)


@admin_required
@require_POST
def save_limits(request: HttpRequest) -> HttpResponse:
    form = AuthorityLimitsForm(request.POST, initial=_limits_now())
    if not form.is_valid():
        return _render_settings(request, form, CategoryForm(prefix="cat"), status=400)
    with transaction.atomic():
        for key, role in AuthorityLimitsForm.ROLES.items():
            AuthorityLimit.objects.update_or_create(role=role, defaults={"max_compensation_yen": form.cleaned_data[key]})
        audit.record_form(request.user, form, target=gettext_lazy("権限の上限"))
    messages.success(request, _("権限の上限を保存しました。"))
    return redirect("accounts:settings")


@admin_required
@require_POST
def add_category(request: HttpRequest) -> HttpResponse:
    form = CategoryForm(request.POST, prefix="cat")
    return _save_audited(request, form, None, _("分類を追加しました。"),
                         lambda: _render_settings(request, AuthorityLimitsForm(initial=_limits_now()), form, status=400))


def _save_audited(request: HttpRequest, form: Any, before: dict[str, audit.Value] | None, saved: str,
                  invalid: Callable[[], HttpResponse], to: str = "accounts:settings") -> HttpResponse:
    """A configuration row's model form: saved with its settings-audit entry (an addition when
    `before` is None, else the fields that changed) in one transaction; `invalid` shows the errors."""
    if not form.is_valid():
        return invalid()
    with transaction.atomic():
        row = form.save()
        audit.record_saved(request.user, row, before, source=SettingsSource.SETTINGS)
    messages.success(request, saved)
    return redirect(to)


@admin_required
def settings_audit(request: HttpRequest) -> HttpResponse:
    """設定の変更履歴: newest first, a page at a time (keyset on the row id)."""
    rows, next_before = audit.page(request.GET.get("before", ""))
    return render(request, "accounts/settings_audit.html", {"rows": rows, "next_before": next_before,
                                                             "first_page": not request.GET.get("before")})


def _save_one_setting(request: HttpRequest, form_class: Any, initial: dict[str, Any], form_key: str,
                      do_set: Callable[[Any], object], target: Any, saved: str) -> HttpResponse:
    """A settings form of one value: validated against what it was shown with, written through
    its app's `do_*` function and recorded in the settings audit in one transaction."""
    form = form_class(request.POST, initial=initial)
    if not form.is_valid():
        return _render_settings(request, AuthorityLimitsForm(initial=_limits_now()), CategoryForm(prefix="cat"),
                                status=400, **{form_key: form})
    (field,) = form.fields
    with transaction.atomic():
        do_set(form.cleaned_data[field])
        audit.record_form(request.user, form, target=target)
    messages.success(request, saved)
    return redirect("accounts:settings")


@admin_required
@require_POST
def save_customer_period(request: HttpRequest) -> HttpResponse:
    return _save_one_setting(request, CustomerPeriodForm, _period_now(), "period_form", do_set_customer_period_days,
                             gettext_lazy("補償のルール"), _("お客様ごとに合計する期間を保存しました。"))


@admin_required
@require_POST
def save_security(request: HttpRequest) -> HttpResponse:
    return _save_one_setting(request, SecurityForm, _security_now(), "security_form", two_factor.do_set_admins_need_it,
                             gettext_lazy("ログインのルール"), _("ログインのルールを保存しました。"))


@admin_required
def access_log_page(request: HttpRequest) -> HttpResponse:
    """アクセス記録: sign-ins, permission changes, exports and erasures, newest first."""
    kind = request.GET.get("kind", "")
    rows, next_before = access_log.page(request.GET.get("before", ""), kind)
    return render(request, "accounts/access_log.html", {
        "rows": rows, "next_before": next_before, "kind": kind, "kinds": AccessKind.choices,
        "first_page": not request.GET.get("before"),
        # Details are written in the shop's language when they happen (access_log.record's callers).
        "detail_language": settings.LANGUAGE_CODE,
    })


@admin_required
@require_POST
def save_survey_delay(request: HttpRequest) -> HttpResponse:
    from madoguchi.metrics.survey import do_set_delay

    return _save_one_setting(request, SurveyDelayForm, _survey_now(), "survey_form", do_set_delay,
                             gettext_lazy("アンケートの設定"), _("アンケートを送るまでの時間を保存しました。"))


@admin_required
@require_POST
def save_min_sample(request: HttpRequest) -> HttpResponse:
    from madoguchi.metrics.services import do_set_min_sample

    return _save_one_setting(request, MinSampleForm, _min_sample_now(), "min_sample_form", do_set_min_sample,
                             gettext_lazy("指標の表示の設定"), _("指標の最低件数を保存しました。"))


def _mailbox_prefix(mailbox: Mailbox | None) -> str:
    return f"mb{mailbox.pk}" if mailbox is not None and mailbox.pk else "mbnew"


def _mailbox_forms(bound: MailboxSenderForm | None) -> list[MailboxSenderForm]:
    """One sender form per mailbox (the one that failed, with its errors); with no mailbox yet,
    a form to add one (mail then leaves from the setting's bare address, without a name)."""
    found = [
        bound if bound is not None and bound.instance.pk == mailbox.pk else MailboxSenderForm(instance=mailbox, prefix=_mailbox_prefix(mailbox))
        for mailbox in Mailbox.objects.select_related("team").order_by("pk")
    ]
    if not found:
        found = [bound or MailboxSenderForm(prefix="mbnew", initial={"address": settings.DEFAULT_FROM_EMAIL})]
    return found


@admin_required
@require_POST
def save_mailbox(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    """差出人名・店名・署名 of a mailbox (or a first mailbox), recorded in the settings audit."""
    mailbox = get_object_or_404(Mailbox, pk=pk) if pk is not None else Mailbox()
    before = audit.snapshot(mailbox) if pk is not None else None
    form = MailboxSenderForm(request.POST, instance=mailbox, prefix=_mailbox_prefix(mailbox))
    return _save_audited(request, form, before, _("メールの差出人と署名を保存しました。"), lambda: _render_settings(
        request, AuthorityLimitsForm(initial=_limits_now()), CategoryForm(prefix="cat"), status=400, mailbox_form=form))


@admin_required
@require_POST
def save_team_assignment(request: HttpRequest, pk: int) -> HttpResponse:
    """A team's automatic assignment rule, recorded in the settings audit."""
    team = get_object_or_404(Team, pk=pk)
    before = audit.snapshot(team)
    form = TeamAssignmentForm(request.POST, instance=team, prefix=f"team{team.pk}")
    return _save_audited(request, form, before, _("チームの自動割り当てを保存しました。"), lambda: _render_settings(
        request, AuthorityLimitsForm(initial=_limits_now()), CategoryForm(prefix="cat"), status=400, team_form=form))


@login_required
@require_POST
def set_availability(request: HttpRequest) -> HttpResponse:
    """The top bar's 対応可能 / 離席 / 休暇: back to the page it was chosen on."""
    user = staff_user(request)
    form = AvailabilityForm(request.POST)
    if form.is_valid():
        do_set_availability(user, form.cleaned_data["availability"])
        messages.success(request, _("状況を「%(status)s」にしました。") % {"status": user.get_availability_display()})
    else:
        messages.error(request, _("状況を選んでください。"))
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        back = "/"
    return redirect(back)


@login_required
def team_page(request: HttpRequest) -> HttpResponse:
    """チームの状況 (leads and admins): each member's status and open cases; a lead sees their
    own teams, an admin every team. Two queries whatever the number of people."""
    user = staff_user(request)
    if not (user.is_lead or user.is_admin):
        raise PermissionDenied
    return render(request, "accounts/team.html", {"teams": team_overview(user)})


@login_required
def my_settings(request: HttpRequest) -> HttpResponse:
    """Each person's own settings: their mail signature, with how it shows under a mail."""
    user = staff_user(request)

    def page(form: OwnSignatureForm, status: int = 200) -> HttpResponse:
        mailbox = Mailbox.objects.filter(active=True).order_by("pk").first()
        return render(request, "accounts/me.html", {
            "form": form, "mailbox": mailbox, "preview": compose_signature(mailbox, User.objects.get(pk=user.pk)),
        }, status=status)

    if request.method != "POST":
        return page(OwnSignatureForm(instance=user))
    before = audit.snapshot(user)
    form = OwnSignatureForm(request.POST, instance=user)
    return _save_audited(request, form, before, _("署名を保存しました。"), lambda: page(form, 400), to="accounts:me")


@admin_required
@require_POST
def unlock_login(request: HttpRequest, user_id: int) -> HttpResponse:
    throttle.do_unlock(get_object_or_404(User, pk=user_id), request.user)
    messages.success(request, _("ログインのロックを解除しました。"))
    return redirect("accounts:settings")
