"""Forms of the knowledge capability (field rules only; domain rules are in services)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from madoguchi.cases.models import Category
from madoguchi.knowledge.models import (
    QUICK_REPLY_LABEL_MAX,
    QUICK_REPLY_MAX,
    ArticleState,
    RuleVersion,
    Visibility,
    quick_reply_labels,
)
from madoguchi.knowledge.text import normalise


class ArticleForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    title = forms.CharField(label=_("タイトル"), max_length=200)
    body = forms.CharField(label=_("本文（Markdown）"), max_length=50000, widget=forms.Textarea(attrs={"rows": 16}))
    visibility = forms.ChoiceField(label=_("公開範囲"), choices=Visibility.choices)
    state = forms.ChoiceField(label=_("状態"), choices=ArticleState.choices)
    category = forms.ModelChoiceField(label=_("分類"), queryset=Category.objects.all(), required=False)
    tags = forms.CharField(label=_("タグ（カンマ区切り）"), max_length=500, required=False)


class SearchForm(forms.Form):
    KINDS = [("", _("すべて")), ("case", _("案件")), ("customer", _("お客様")), ("order", _("注文")), ("article", _("記事"))]
    q = forms.CharField(label=_("検索"), max_length=200, required=False)
    PERIODS = [("", _("全期間")), ("30", _("30日以内")), ("365", _("1年以内"))]
    kind = forms.ChoiceField(label=_("種類"), choices=KINDS, required=False)
    period = forms.ChoiceField(label=_("期間"), choices=PERIODS, required=False)

    def clean_q(self) -> str:
        return normalise(self.cleaned_data["q"]).strip()


class RuleVersionForm(forms.Form):
    effective_from = forms.DateField(label=_("適用開始日"), widget=forms.DateInput(attrs={"type": "date"}))
    body = forms.CharField(label=_("本文（Markdown）"), max_length=20000, widget=forms.Textarea(attrs={"rows": 8}))


class FlagForm(forms.Form):
    rule_version = forms.ModelChoiceField(label=_("根拠のルール"), queryset=RuleVersion.objects.select_related("rule"),
                                          required=False, empty_label=_("選んでください"))
    reason = forms.CharField(label=_("具体的な言動"), max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 3}))


class TemplateForm(forms.ModelForm):
    SCOPES = [("personal", _("自分だけ")), ("team", _("自分のチーム")), ("shared", _("全員"))]
    scope = forms.ChoiceField(label=_("使う人"), choices=SCOPES)

    class Meta:
        from madoguchi.knowledge.models import ReplyTemplate

        model = ReplyTemplate
        fields = ["name", "kind", "body", "rule", "position",
                  # the macro: what sending a reply from this template also changes
                  "set_status", "set_category", "assign_to_sender", "set_assignee", "promise", "promise_business_hours",
                  "quick_replies"]
        widgets = {"body": forms.Textarea(attrs={"rows": 8}), "quick_replies": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        from madoguchi.accounts.models import User

        self.fields["set_assignee"].queryset = User.objects.filter(is_active=True)  # type: ignore[attr-defined]
        self.fields["set_category"].queryset = Category.objects.filter(active=True)  # type: ignore[attr-defined]
        self.fields["promise_business_hours"].widget.attrs["max"] = 1000

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if bool(data.get("promise", "").strip()) != bool(data.get("promise_business_hours")):
            raise forms.ValidationError(_("約束を登録するには、約束の内容と期限（営業時間で何時間後）の両方を入力してください。"))
        if data.get("assign_to_sender") and data.get("set_assignee"):
            raise forms.ValidationError(_("担当者は「送信した人」か特定の人のどちらか一方にしてください。"))
        if (data.get("promise_business_hours") or 0) > 1000:
            self.add_error("promise_business_hours", _("1000時間以下で入力してください。"))
        return data

    def clean_quick_replies(self) -> str:
        """One label a line, as LINE takes them: at most 13 buttons of at most 20 characters."""
        labels = quick_reply_labels(self.cleaned_data.get("quick_replies") or "")
        if len(labels) > QUICK_REPLY_MAX:
            raise forms.ValidationError(_("LINEのクイックリプライは13個までです。"))
        long = [label for label in labels if len(label) > QUICK_REPLY_LABEL_MAX]
        if long:
            raise forms.ValidationError(_("LINEのクイックリプライは1つ20文字までです: %(label)s") % {"label": long[0]})
        return "\n".join(labels)
