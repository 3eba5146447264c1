from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from madoguchi.listening.models import Platform, PostState
from madoguchi.triage.models import MessageKind


class PostFileForm(forms.Form):
    file = forms.FileField(label=_("投稿ファイル（CSV・JSON）"),
                           help_text=_("汎用形式の CSV（UTF-8 または Shift_JIS）、投稿の JSON、X API の検索結果（JSON）。"))


class QueueFilterForm(forms.Form):
    kind = forms.ChoiceField(label=_("種類"), required=False, choices=[("", _("すべて")), *MessageKind.choices])
    state = forms.ChoiceField(label=_("状態"), required=False, choices=[("all", _("すべて")), *PostState.choices])
    platform = forms.ChoiceField(label=_("媒体"), required=False, choices=[("", _("すべて")), *Platform.choices])


class AnswerForm(forms.Form):
    note = forms.CharField(label=_("返信した内容（メモ）"), max_length=5000, required=False,
                           widget=forms.Textarea(attrs={"rows": 2}))
    reply_url = forms.CharField(label=_("返信のURL"), max_length=500, required=False)
