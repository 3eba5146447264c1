"""Writes of the settings pages: each `do_*` saves and records its settings-audit entry in one
transaction (nothing is saved without its trail, no trail without the save)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from madoguchi.accounts import audit
from madoguchi.accounts.models import Role, SettingsAction, SettingsSource, Team, User
from madoguchi.businesshours import calendar
from madoguchi.businesshours.models import CalendarOptions, ClosedDay, WeeklyHours
from madoguchi.chat.models import WidgetSettings
from madoguchi.line.models import LineAccount
from madoguchi.mail.forms import DepartmentForm
from madoguchi.mail.models import Department
from madoguchi.metrics.models import SlaPolicy
from madoguchi.shopsettings import passwords
from madoguchi.shopsettings.forms import (
    ClosedRangeForm,
    InviteForm,
    LineAccountForm,
    SlaPolicyForm,
    TeamForm,
    UserEditForm,
    WeeklyHoursForm,
    WidgetSettingsForm,
    last_admin,
)

SOURCE = SettingsSource.SETTINGS


class SettingsRefused(Exception):
    """A change the rules do not allow (the message is for the person, in Japanese)."""


# --- Business hours -------------------------------------------------------------------------------

def do_save_weekly_hours(actor: User, form: WeeklyHoursForm) -> None:
    """Replace the weekly spans and the public-holiday switch with the form's (valid) values."""
    with transaction.atomic():
        WeeklyHours.objects.all().delete()
        WeeklyHours.objects.bulk_create([
            WeeklyHours(weekday=day, opens=opens, closes=closes)
            for day, spans in form.spans.items() for opens, closes in spans
        ])
        CalendarOptions.objects.update_or_create(
            pk=1, defaults={"closed_on_public_holidays": form.cleaned_data["closed_on_public_holidays"]})
        audit.record_form(actor, form, target=gettext_lazy("営業時間"), source=SOURCE)
        transaction.on_commit(calendar.forget)
    calendar.forget()


def do_add_closed_range(actor: User, form: ClosedRangeForm) -> ClosedDay:
    data = form.cleaned_data
    start: dt.date = data["start"]
    end: dt.date | None = data["end"] if data["end"] and data["end"] != start else None
    row = ClosedDay(name=data["name"].strip(), month=start.month, day=start.day,
                    end_month=end.month if end else None, end_day=end.day if end else None,
                    year=None if data["every_year"] else start.year)
    row.full_clean()
    with transaction.atomic():
        row.save()
        audit.record_saved(actor, row, None, source=SOURCE)
    return row


def _save_form(actor: User, form: Any) -> Any:
    """A settings model form's row saved with its audit entry (old values if it existed)."""
    model = form._meta.model
    before = audit.snapshot(model.objects.get(pk=form.instance.pk)) if form.instance.pk else None
    with transaction.atomic():
        row = form.save()
        audit.record_saved(actor, row, before, source=SOURCE)
    return row


def _delete(actor: User, row: Any) -> None:
    with transaction.atomic():
        before, pk = audit.snapshot(row), row.pk
        row.delete()
        audit.record_deleted(actor, row, before, pk, source=SOURCE)


def do_delete_closed_day(actor: User, row: ClosedDay) -> None:
    _delete(actor, row)


# --- SLA policies ---------------------------------------------------------------------------------

def do_save_sla_policy(actor: User, form: SlaPolicyForm) -> SlaPolicy:
    policy: SlaPolicy = _save_form(actor, form)
    return policy


def do_delete_sla_policy(actor: User, policy: SlaPolicy) -> None:
    if not SlaPolicy.objects.exclude(pk=policy.pk).exists():
        raise SettingsRefused(_("最後のSLAポリシーは削除できません（SLAの期限がなくなります）。"))
    _delete(actor, policy)


# --- Chat widget ----------------------------------------------------------------------------------

def do_save_widget_settings(actor: User, form: WidgetSettingsForm, before: Mapping[str, audit.Value] | None) -> WidgetSettings:
    with transaction.atomic():
        row: WidgetSettings = form.save(commit=False)
        row.pk = 1
        row.save()
        audit.record_saved(actor, row, before, source=SOURCE)
    return row


# --- Departments a case is forwarded to by mail (mail.forwarding) --------------------------------

def do_save_department(actor: User, form: DepartmentForm) -> Department:
    row: Department = _save_form(actor, form)
    return row


def do_delete_department(actor: User, row: Department) -> None:
    """Forwards to it keep their address (the department is only named on them)."""
    _delete(actor, row)


def do_save_line_account(actor: User, form: LineAccountForm) -> LineAccount:
    """Add or change a LINE account; the secrets are stored encrypted and masked in the trail."""
    stored = LineAccount.objects.filter(pk=form.instance.pk).first() if form.instance.pk else None
    before = audit.snapshot(stored) if stored is not None else None
    with transaction.atomic():
        account: LineAccount = form.save(commit=False)
        account.set_secrets(form.cleaned_data.get("channel_secret", ""), form.cleaned_data.get("access_token", ""))
        account.save()
        audit.record_saved(actor, account, before, source=SOURCE)
    return account


# --- Users and teams ------------------------------------------------------------------------------

def _user_values(user: User) -> dict[str, Any]:
    with translation.override(settings.LANGUAGE_CODE):
        return {
            "display_name": user.display_name, "email": user.email, "role": str(Role(user.role).label),
            "team": user.team.name if user.team_id and user.team else "", "is_active": user.is_active,
            "replies_need_approval": user.replies_need_approval,
        }


LABELS = {"display_name": gettext_lazy("表示名"), "email": gettext_lazy("メールアドレス"), "role": gettext_lazy("役割"),
          "team": gettext_lazy("チーム"), "is_active": gettext_lazy("有効"),
          "replies_need_approval": gettext_lazy("返信に承認が必要")}


def _record_user(actor: User, user: User, before: Mapping[str, Any] | None, action: str = SettingsAction.CHANGE,
                 note: str = "") -> None:
    after = _user_values(user)
    with translation.override(settings.LANGUAGE_CODE):
        changes = [{"field": name, "label": str(LABELS[name]), "old": audit.show(before.get(name)) if before else "",
                    "new": audit.show(value)} for name, value in after.items()
                   if before is None or audit.show(before.get(name)) != audit.show(value)]
        if before is None:
            changes = [c for c in changes if c["new"]]
        if note:
            changes.append({"field": "note", "label": str(_("操作")), "old": "", "new": note})
    if changes:
        audit.record(actor, source=SOURCE, action=action, target=audit.target_of(user), object_id=user.pk,
                     object_repr=f"{user}（{user.username}）", changes=changes)


def do_invite_user(actor: User, form: InviteForm) -> User:
    """A new account with no password yet, and a mail with a one-time link to set one."""
    data = form.cleaned_data
    with transaction.atomic():
        user = User(username=data["username"], email=data["email"], display_name=data["display_name"],
                    role=data["role"], team=data["team"], is_active=True)
        user.set_unusable_password()
        user.save()
        with translation.override(settings.LANGUAGE_CODE):
            note = _("招待メールを送信")
        _record_user(actor, user, None, action=SettingsAction.ADD, note=note)
        passwords.queue_link_mail(user, invited_by=actor, first=True)
    return user


def do_change_user(actor: User, form: UserEditForm) -> User:
    before = _user_values(User.objects.select_related("team").get(pk=form.instance.pk))
    with transaction.atomic():
        user: User = form.save()
        _record_user(actor, user, before)
    return user


def do_set_active(actor: User, user: User, active: bool) -> None:
    """Deactivate (cannot log in, their cases and records stay theirs) or reactivate an account.
    A stopped account's open sessions end too: Django's backend refuses an inactive user."""
    if user.is_active == active:
        return
    if not active:
        if user.pk == actor.pk:
            raise SettingsRefused(_("ご自身のアカウントは停止できません。"))
        if (user.role == Role.ADMIN or user.is_superuser) and last_admin(user):
            raise SettingsRefused(_("最後の管理者は停止できません。先にほかの人を管理者にしてください。"))
    before = _user_values(user)
    with transaction.atomic():
        user.is_active = active
        user.save(update_fields=["is_active"])
        _record_user(actor, user, before)


def do_send_password_link(actor: User, user: User) -> None:
    if not user.is_active:
        raise SettingsRefused(_("停止中のアカウントにはパスワードの設定メールを送れません。"))
    if not user.email:
        raise SettingsRefused(_("メールアドレスがないため送れません。先にメールアドレスを登録してください。"))
    with transaction.atomic():
        with translation.override(settings.LANGUAGE_CODE):
            note = _("パスワード再設定メールを送信")
        _record_user(actor, user, _user_values(user), note=note)
        passwords.queue_link_mail(user, invited_by=actor, first=False)


def do_add_team(actor: User, form: TeamForm) -> Team:
    with transaction.atomic():
        team: Team = form.save()
        audit.record_saved(actor, team, None, source=SOURCE)
    return team


def do_change_team(actor: User, form: TeamForm) -> Team:
    """A team renamed, its lead or its automatic assignment changed: audited field by field."""
    with transaction.atomic():
        before = audit.snapshot(Team.objects.get(pk=form.instance.pk))
        team: Team = form.save()
        audit.record_saved(actor, team, before, source=SOURCE)
    return team
