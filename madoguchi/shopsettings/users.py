"""利用者とチーム (admins): invite by mail, change role, team and address, stop and restart an
account, mail a link to reset a password, add a team."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from madoguchi.accounts.access import staff_user
from madoguchi.accounts.models import User
from madoguchi.accounts.views import admin_required
from madoguchi.shopsettings import passwords, services
from madoguchi.shopsettings.forms import InviteForm, TeamEditForm, TeamForm, UserEditForm


def _page(request: HttpRequest, invite: InviteForm | None = None, team: TeamForm | None = None,
          status: int = 200) -> HttpResponse:
    from madoguchi.accounts.models import Team

    return render(request, "shopsettings/users.html", {
        "users": User.objects.select_related("team").order_by("-is_active", "username"),
        "teams": Team.objects.select_related("lead").order_by("name"),
        "invite_form": invite or InviteForm(prefix="invite"),
        "team_form": team or TeamForm(prefix="team"),
        "link_hours": passwords.link_hours(),
    }, status=status)


@admin_required
def users_page(request: HttpRequest) -> HttpResponse:
    return _page(request)


@admin_required
@require_POST
def invite(request: HttpRequest) -> HttpResponse:
    form = InviteForm(request.POST, prefix="invite")
    if not form.is_valid():
        return _page(request, invite=form, status=400)
    user = services.do_invite_user(staff_user(request), form)
    messages.success(request, _("%(email)s に招待メールを送りました。") % {"email": user.email})
    return redirect("shopsettings:users")


@admin_required
@require_POST
def add_team(request: HttpRequest) -> HttpResponse:
    form = TeamForm(request.POST, prefix="team")
    if not form.is_valid():
        return _page(request, team=form, status=400)
    team = services.do_add_team(staff_user(request), form)
    messages.success(request, _("チーム「%(name)s」を追加しました。") % {"name": team.name})
    return redirect("shopsettings:users")


@admin_required
def team_edit(request: HttpRequest, pk: int) -> HttpResponse:
    from madoguchi.accounts.models import Team

    team = get_object_or_404(Team, pk=pk)
    form = TeamEditForm(request.POST or None, instance=team)
    if request.method == "POST" and form.is_valid():
        services.do_change_team(staff_user(request), form)
        messages.success(request, _("チーム「%(name)s」の設定を保存しました。") % {"name": form.instance.name})
        return redirect("shopsettings:users")
    return render(request, "shopsettings/team_edit.html", {"form": form, "team": Team.objects.get(pk=pk)},
                  status=400 if form.errors else 200)


@admin_required
def user_edit(request: HttpRequest, pk: int) -> HttpResponse:
    user = get_object_or_404(User, pk=pk)
    form = UserEditForm(request.POST or None, instance=user, actor=staff_user(request))
    if request.method == "POST" and form.is_valid():
        services.do_change_user(staff_user(request), form)
        messages.success(request, _("%(name)s さんの設定を保存しました。") % {"name": user})
        return redirect("shopsettings:users")
    return render(request, "shopsettings/user_edit.html", {"form": form, "person": User.objects.get(pk=pk)},
                  status=400 if form.errors else 200)


@admin_required
@require_POST
def set_active(request: HttpRequest, pk: int) -> HttpResponse:
    user = get_object_or_404(User, pk=pk)
    active = request.POST.get("active") == "1"
    try:
        services.do_set_active(staff_user(request), user, active)
    except services.SettingsRefused as refused:
        messages.error(request, str(refused))
    else:
        messages.success(request, (_("%(name)s さんのアカウントを再開しました。") if active
                                   else _("%(name)s さんのアカウントを停止しました（これまでの記録は残ります）。")) % {"name": user})
    return redirect("shopsettings:users")


@admin_required
@require_POST
def send_password_link(request: HttpRequest, pk: int) -> HttpResponse:
    user = get_object_or_404(User, pk=pk)
    try:
        services.do_send_password_link(staff_user(request), user)
    except services.SettingsRefused as refused:
        messages.error(request, str(refused))
    else:
        messages.success(request, _("%(email)s にパスワード再設定のメールを送りました。") % {"email": user.email})
    return redirect("shopsettings:users")
