from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from madoguchi.api.models import Resource, Scope, WebhookEndpoint, WebhookEvent


class TokenForm(forms.Form):
    name = forms.CharField(label=_("名前"), max_length=100, help_text=_("何に使うトークンか（例: 在庫システム連携）。"))
    scope = forms.ChoiceField(label=_("権限"), choices=Scope.choices, initial=Scope.READ)
    resources = forms.MultipleChoiceField(
        label=_("対象"), choices=Resource.choices, required=False, widget=forms.CheckboxSelectMultiple,
        help_text=_("選ばなければすべてが対象です。"),
    )


class EndpointForm(forms.ModelForm):
    url = forms.URLField(label=_("送信先 URL"), max_length=500, assume_scheme="https")
    events = forms.MultipleChoiceField(label=_("イベント"), choices=WebhookEvent.choices, widget=forms.CheckboxSelectMultiple)

    class Meta:
        model = WebhookEndpoint
        fields = ["url", "events", "active"]

    def clean_url(self) -> Any:
        url = self.cleaned_data["url"]
        if not url.lower().startswith(("http://", "https://")):
            raise forms.ValidationError(_("http:// か https:// で始まる URL を入力してください。"))
        return url
