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
