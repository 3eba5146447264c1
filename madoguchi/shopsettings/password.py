"""The page a mailed link opens (no login): set a password, once, before the link expires."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.forms import SetPasswordForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters

from madoguchi.shopsettings import passwords


@never_cache
@sensitive_post_parameters("new_password1", "new_password2")
def set_password(request: HttpRequest, uidb64: str, token: str) -> HttpResponse:
    user = passwords.user_for(uidb64, token)
    if user is None:
        response = render(request, "shopsettings/password_link_bad.html", status=404)
    else:
        form = SetPasswordForm(user, request.POST or None)
        if request.method == "POST" and form.is_valid():
            form.save()
            messages.success(request, _("パスワードを設定しました。ユーザー名と新しいパスワードでログインしてください。"))
            return redirect("login")
        response = render(request, "shopsettings/password_set.html", {"form": form, "person": user},
                          status=400 if form.errors else 200)
    # The link's token never leaves for another site in a Referer ("no-referrer" would make the
    # browser send `Origin: null` with the form, which the CSRF check refuses).
    response["Referrer-Policy"] = "same-origin"
    return response
