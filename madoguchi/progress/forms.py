from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from madoguchi.cases.forms import local_datetime_field


class LateNoticeForm(forms.Form):
    new_due_at = local_datetime_field(_("新しいご連絡予定（日本時間）"))
    body = forms.CharField(label=_("お客様へのお知らせ"), widget=forms.Textarea(attrs={"rows": 12}), max_length=5000)
