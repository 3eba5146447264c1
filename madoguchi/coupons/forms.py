from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from madoguchi.coupons.models import CouponKind

NUMBER_ERRORS = {"invalid": _("半角の数字で入力してください。"), "required": _("入力してください。")}


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="%Y-%m-%d", **kwargs)


class CouponForm(forms.Form):
    """Field checks only; the rules (no negative amount, a rate up to 100 %, an expiry from
    today in JST) are the service's (coupons.services.check_terms), so every caller gets them."""

    kind = forms.ChoiceField(label=_("割引の種類"), choices=CouponKind.choices, initial=CouponKind.YEN)
    value = forms.IntegerField(label=_("割引（円または%）"), error_messages=NUMBER_ERRORS)
    ledger_yen = forms.IntegerField(label=_("見込みの割引額（円）"), required=False, error_messages=NUMBER_ERRORS,
                                    help_text=_("割引率のときだけ: 補償として記録し、権限の上限と比べる金額です。"))
    expires_on = forms.DateField(label=_("有効期限（この日まで・日本時間）"), widget=DateInput(),
                                 input_formats=["%Y-%m-%d", "%Y/%m/%d"],
                                 error_messages={"invalid": _("日付を 2026-12-31 の形で入力してください。"),
                                                 "required": _("有効期限を入力してください。")})
    code = forms.CharField(label=_("クーポンコード"), max_length=40, required=False,
                           help_text=_("空欄なら自動で作ります。"))
    reason = forms.CharField(label=_("理由"), max_length=300, error_messages={"required": _("補償の理由を入力してください。")})

    @classmethod
    def blank(cls) -> CouponForm:
        return cls(prefix="cpn", initial={"expires_on": timezone.localdate() + dt.timedelta(days=90)})
