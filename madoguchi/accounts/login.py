"""The login forms of the desk and of the admin, with the throttle (accounts/throttle.py) in
front of the password check, and the receiver that records every failed login."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm

from madoguchi.accounts import throttle


class ThrottleCheck:
    """Refuses the try before the password is looked at while a delay or lock applies."""

    request: Any
    data: Any
    throttled: str | None = None  # the template shows this instead of "wrong password"

    def clean(self) -> dict[str, Any]:
        self.throttled = throttle.refusal(str(self.data.get("username", ""))[:150], throttle.client_address(self.request))
        if self.throttled is not None:
            raise forms.ValidationError(self.throttled, code="throttled")
        return super().clean()  # type: ignore[misc, no-any-return]


class LoginForm(ThrottleCheck, AuthenticationForm):
    pass


class AdminLoginForm(ThrottleCheck, AdminAuthenticationForm):
    pass


def record_failed_login(sender: Any, credentials: dict[str, Any], request: Any = None, **kwargs: Any) -> None:
    """django.contrib.auth's user_login_failed (the password arrives masked and is not kept)."""
    throttle.do_record_failure(str(credentials.get("username", ""))[:150], throttle.client_address(request))
