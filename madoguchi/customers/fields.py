"""Form fields for how customers write their addresses and numbers (full-width included)."""

from __future__ import annotations

import unicodedata
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from madoguchi.customers.models import IdentityKind
from madoguchi.customers.services import normalise_identity


class EmailAddressField(forms.EmailField):
    """An e-mail address, accepted as typed on a Japanese keyboard: ｔｅｓｔ＠ｅｘａｍｐｌｅ．ｊｐ is
    test@example.jp. NFKC before validating, the same form identities are stored in."""

    def to_python(self, value: Any) -> str:
        text: str = super().to_python(value) or ""
        return unicodedata.normalize("NFKC", text).strip()


class PhoneNumberField(forms.CharField):
    """A phone number as people write it (０９０－１２３４－５６７８, +81 90 …, 03(1234)5678).
    It must hold a real number of digits: a number with none would match every caller whose
    number is missing, and file them all under one customer."""

    MIN_DIGITS, MAX_DIGITS = 6, 15  # short local numbers … the E.164 maximum

    def validate(self, value: Any) -> None:
        super().validate(value)
        if not value:
            return
        digits = normalise_identity(IdentityKind.PHONE, value).lstrip("+")
        if not self.MIN_DIGITS <= len(digits) <= self.MAX_DIGITS:
            raise forms.ValidationError(_("電話番号は数字で入力してください（例: 090-1234-5678）。"), code="phone")


class LineUserIdField(forms.RegexField):
    """A LINE user ID as the Messaging API gives it: 「U」 and 32 hex digits (not a display name)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("label", _("LINEユーザーID"))
        kwargs.setdefault("help_text", _("Uで始まる33文字（LINE公式アカウントの管理画面で確認できます）"))
        kwargs.setdefault("error_messages", {
            "invalid": _("LINEユーザーIDは「U」と32文字の英数字（0-9、a-f）です。表示名ではありません。")})
        super().__init__(regex=r"^U[0-9a-f]{32}$", max_length=33, **kwargs)

    def to_python(self, value: Any) -> str:
        text: str = super().to_python(value) or ""
        return unicodedata.normalize("NFKC", text).strip()


class XHandleField(forms.RegexField):
    """An X (Twitter) user name, with or without its @."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("label", _("Xのユーザー名"))
        kwargs.setdefault("help_text", _("例：@komorebido"))
        kwargs.setdefault("error_messages", {"invalid": _("Xのユーザー名は英数字とアンダースコア（_）の15文字までです。")})
        super().__init__(regex=r"^@?[A-Za-z0-9_]{1,15}$", max_length=16, **kwargs)

    def to_python(self, value: Any) -> str:
        text: str = super().to_python(value) or ""
        return unicodedata.normalize("NFKC", text).strip()
