"""Forms of the metrics capability shown on other pages (the shop settings page)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from madoguchi.metrics.models import DashboardOptions, SurveyOptions


class SurveyDelayForm(forms.Form):
    delay_hours = forms.IntegerField(
        label=_("解決から何時間後に送るか"), min_value=0, max_value=SurveyOptions.MAX_DELAY_HOURS,
        help_text=_("0 にすると解決の直後（1分以内）に送ります。送る前に案件が再開されたら送らず、改めて解決した時から数え直します。"),
    )


class MinSampleForm(forms.Form):
    min_sample = forms.IntegerField(
        label=_("数字を信頼できる最低件数"), min_value=1, max_value=DashboardOptions.MAX_MIN_SAMPLE,
        help_text=_("満足度・解決率などの割合は、もとになった件数がこれより少ないと灰色で表示し、売上への影響の試算もしません。"),
    )
