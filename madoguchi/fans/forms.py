from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from madoguchi.cases.models import Category


def _number(label: Any, low: int, high: int, *, required: bool = True, help_text: Any = "") -> forms.IntegerField:
    return forms.IntegerField(
        label=label, min_value=low, max_value=high, required=required, help_text=help_text,
        error_messages={
            "invalid": _("半角の数字で入力してください。"),
            "required": _("入力してください。"),
            "min_value": _("%(limit_value)s 以上の数を入力してください。"),
            "max_value": _("%(limit_value)s 以下の数を入力してください。"),
        },
    )


class FanRuleForm(forms.Form):
    recency_days = _number(_("最終購入からの日数（以内）"), 1, 3650,
                           help_text=_("この日数以内に買ってくださった方をファンとします。"))
    min_orders = _number(_("購入回数（以上）"), 1, 1000, help_text=_("キャンセルと全額返金の注文は数えません。"))
    min_spent_yen = _number(_("購入金額の合計（円以上）"), 0, 100_000_000, help_text=_("返金を差し引いた金額です。"))
    not_complaints = forms.ModelMultipleChoiceField(
        label=_("苦情に数えない分類"), queryset=Category.objects.filter(active=True), required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("お問い合わせなど、この分類の案件があってもファンから外しません。"),
    )


class FansFilterForm(forms.Form):
    within_days = _number(_("最終購入が何日以内"), 1, 3650, required=False)


class WinBackFilterForm(forms.Form):
    min_days = _number(_("解決から何日以上"), 0, 36500, required=False)
    max_days = _number(_("解決から何日以内"), 1, 36500, required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        low, high = data.get("min_days"), data.get("max_days")
        if low is not None and high is not None and low > high:
            raise forms.ValidationError(_("「何日以上」は「何日以内」より小さい数にしてください。"))
        return data
