"""The pages of two-factor sign-in (accounts/two_factor.py): the desk's login view (password,
then the code step when the user needs one), the code step, and each person's own page where the
authenticator app is set up or turned off and recovery codes are renewed."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import LoginView
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect

from madoguchi.accounts import access_log, throttle, two_factor
from madoguchi.accounts.access import staff_user
from madoguchi.accounts.login import LoginForm
from madoguchi.accounts.models import AccessKind, User


class DeskLoginView(LoginView):
    """The password step; a user who needs a code is not signed in yet (two_factor.PENDING)."""

    authentication_form = LoginForm

    def form_valid(self, form: Any) -> HttpResponse:
        user = form.get_user()
        if two_factor.needs_code(user):
            two_factor.start_pending(self.request, user, self.get_success_url())
            return redirect("login_2fa")
        response = super().form_valid(form)
        self.request.session[two_factor.SIGNED_IN] = "password"
        return response


def _page(request: HttpRequest, mode: str, status: int = 200, **context: Any) -> HttpResponse:
    return render(request, "accounts/two_factor.html", {"mode": mode, **context}, status=status)


def _enrol_context(user: User) -> dict[str, Any]:
    device = two_factor.enrolment(user)
    return {"device": device, "qr": two_factor.qr_svg(device), "secret": two_factor.secret_text(device)}


@never_cache
@csrf_protect
def login_second_step(request: HttpRequest) -> HttpResponse:
    """/login/2fa/: the code of the user whose password was right (or, for an admin the shop
    requires it of who has no app yet, setting the app up first)."""
    user = two_factor.pending_user(request)
    if user is None:
        messages.error(request, _("もう一度ユーザー名とパスワードを入力してください。"))
        return redirect("login")
    address = throttle.client_address(request)
    if not two_factor.is_on(user):
        if request.method != "POST":
            return _page(request, "enrol", login_step=True, **_enrol_context(user))
        device = two_factor.enrolment(user)
        codes = two_factor.do_confirm(user, device, request.POST.get("code", ""))
        if codes is None:
            access_log.record(AccessKind.TWO_FACTOR_FAILED, user=user, address=address, detail=_("設定時のコードの誤り"))
            return _page(request, "enrol", 400, login_step=True, error=_("コードが違います。アプリに表示されている6桁の数字を入力してください。"),
                         **_enrol_context(user))
        next_url = two_factor.finish_sign_in(request, user)
        access_log.record(AccessKind.TWO_FACTOR_ON, user=user, address=address)
        return _page(request, "codes", codes=codes, next_url=next_url)
    if request.method != "POST":
        return _page(request, "code")
    refused = throttle.refusal(user.username, address)
    if refused is not None:
        return _page(request, "code", 429, error=refused)
    if not two_factor.check_code(user, request.POST.get("code", "")):
        throttle.do_record_failure(user.username, address)
        access_log.record(AccessKind.TWO_FACTOR_FAILED, user=user, address=address)
        return _page(request, "code", 400, error=_("コードが違います。もう一度入力してください。"))
    return redirect(two_factor.finish_sign_in(request, user))


@never_cache
@login_required
def my_two_factor(request: HttpRequest) -> HttpResponse:
    """/settings/me/2fa/: set up the app, renew recovery codes, or turn it off (with a code)."""
    user = staff_user(request)
    address = throttle.client_address(request)
    action = request.POST.get("action", "") if request.method == "POST" else ""
    on = two_factor.is_on(user)
    if not on:
        if action != "enrol":
            return _page(request, "enrol", **_enrol_context(user))
        codes = two_factor.do_confirm(user, two_factor.enrolment(user), request.POST.get("code", ""))
        if codes is None:
            return _page(request, "enrol", 400, error=_("コードが違います。アプリに表示されている6桁の数字を入力してください。"),
                         **_enrol_context(user))
        request.session[two_factor.SIGNED_IN] = "otp"
        access_log.record(AccessKind.TWO_FACTOR_ON, user=user, address=address)
        return _page(request, "codes", codes=codes)
    required = two_factor.required_for(user)
    if action not in {"codes", "off"}:
        return _page(request, "status", required=required)
    if not two_factor.check_code(user, request.POST.get("code", "")):
        throttle.do_record_failure(user.username, address)
        access_log.record(AccessKind.TWO_FACTOR_FAILED, user=user, address=address)
        return _page(request, "status", 400, required=required, error=_("コードが違います。もう一度入力してください。"))
    if action == "codes":
        return _page(request, "codes", codes=two_factor.do_new_recovery_codes(user))
    if required:
        return _page(request, "status", 400, required=required, error=_("管理者は2段階認証を解除できません（店の設定で必須になっています）。"))
    two_factor.do_turn_off(user)
    access_log.record(AccessKind.TWO_FACTOR_OFF, user=user, address=address)
    messages.success(request, _("2段階認証を解除しました。"))
    return redirect("accounts:two_factor")
