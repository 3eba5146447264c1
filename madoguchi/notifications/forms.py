from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from madoguchi.notifications.models import MailPreference

KIND_FIELDS = ["handover", "approval", "customer_reply", "sla", "promise", "low_satisfaction"]
SUMMARY_FIELDS = ["daily_summary", "summary_time"]


class MailPreferenceForm(forms.ModelForm):
    """A person's own notifications by mail (on their settings page); the daily summary only
    for someone who leads a team."""

    class Meta:
        model = MailPreference
        fields = [*KIND_FIELDS, "language", *SUMMARY_FIELDS]
        widgets = {"summary_time": forms.TimeInput(attrs={"type": "time"}, format="%H:%M")}
        help_texts = {
            "language": _("メールの件名と本文の言語です。"),
            "summary_time": _("対応中の案件・SLA の超過・今日が期限の約束・低評価のフォローを、チームごとにまとめて送ります。"),
        }
        error_messages = {"summary_time": {"invalid": _("時刻は 09:00 のように入力してください。")}}

    def __init__(self, *args: object, leads: bool, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        # Named in the page's language (the top bar's switch names each in its own).
        self.fields["language"].choices = [("ja", _("日本語")), ("en", "English")]  # type: ignore[attr-defined]
        if not leads:
            for name in SUMMARY_FIELDS:
                del self.fields[name]
        else:
            self.fields["summary_time"].required = True
