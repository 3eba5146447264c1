"""Forms of the case desk. Field rules (required, lengths) live here; domain rules in services."""

from __future__ import annotations

import json
import unicodedata
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext

from madoguchi.accounts.models import Team, User
from madoguchi.cases import record_merge
from madoguchi.cases.models import Case, Category, Channel, CompensationKind, Priority, Status
from madoguchi.cases.steps import CHECKLIST_ITEMS
from madoguchi.customers.fields import (
    EmailAddressField,
    LineUserIdField,
    PhoneNumberField,
    XHandleField,
)

LOCAL_INPUT = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M"]


class LocalDateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="%Y-%m-%dT%H:%M", **kwargs)


def local_datetime_field(label: Any, required: bool = True) -> forms.DateTimeField:
    return forms.DateTimeField(label=label, required=required, input_formats=LOCAL_INPUT, widget=LocalDateTimeInput())


def now_local_minute() -> Any:
    return timezone.localtime().replace(second=0, microsecond=0)


class ChecklistField(forms.MultipleChoiceField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(
            label=_("初動チェックリスト"), required=False, choices=CHECKLIST_ITEMS,
            widget=forms.CheckboxSelectMultiple, **kwargs,
        )


class RecordFieldsMixin(forms.Form):
    """The seed 000 record and the facts gathered, shared by the new-case and edit forms."""

    complaint = forms.CharField(label=_("クレームの内容（お客様の言葉のまま）"), max_length=20000, widget=forms.Textarea(attrs={"rows": 5}))
    solution = forms.CharField(label=_("解決策・提案の内容"), max_length=5000, required=False, widget=forms.Textarea(attrs={"rows": 3}))
    landing_point = forms.CharField(label=_("着地点"), max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 2}),
                                    help_text=_("どう決着したか、または何を約束したか"))
    fact_order_number = forms.CharField(label=_("注文番号"), max_length=50, required=False)
    fact_product = forms.CharField(label=_("商品"), max_length=200, required=False)
    fact_what_happened = forms.CharField(label=_("何が起きたか"), max_length=5000, required=False, widget=forms.Textarea(attrs={"rows": 3}))
    fact_when = forms.CharField(label=_("いつ起きたか"), max_length=100, required=False)
    checklist = ChecklistField()

    def clean_complaint(self) -> str:
        value: str = self.cleaned_data["complaint"]
        if not value.strip():
            raise forms.ValidationError(_("クレームの内容を入力してください。"))
        return value  # verbatim: no stripping inside, the customer's words stay as said


class NewCaseForm(RecordFieldsMixin):
    """Log a phone call (or any contact) as a new case in under a minute."""

    field_order = ["customer_name", "customer_kana", "phone", "email", "line_id", "x_handle", "channel", "received_at", "subject",
                   "category", "priority", "complaint"]
    customer_name = forms.CharField(label=_("お客様のお名前"), max_length=200)
    customer_kana = forms.CharField(label=_("フリガナ"), max_length=200, required=False)
    phone = PhoneNumberField(label=_("電話番号"), max_length=30, required=False)
    email = EmailAddressField(label=_("メールアドレス"), max_length=254, required=False)
    line_id = LineUserIdField(required=False)
    x_handle = XHandleField(required=False)
    channel = forms.ChoiceField(label=_("窓口"), choices=Channel.choices, initial=Channel.PHONE)
    received_at = local_datetime_field(_("受付日時（入電日時）"))
    subject = forms.CharField(label=_("件名"), max_length=200)
    category = forms.ModelChoiceField(label=_("分類"), queryset=Category.objects.filter(active=True), empty_label=None)
    priority = forms.TypedChoiceField(label=_("優先度"), choices=Priority.choices, coerce=int, initial=Priority.NORMAL)
    commitment_description = forms.CharField(label=_("お客様への約束（任意）"), max_length=300, required=False,
                                             help_text=_("例：物流部に確認し、折り返しお電話します"))
    commitment_due_at = local_datetime_field(_("約束の期限"), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["received_at"].initial = now_local_minute
        for name in ("customer_name", "subject"):
            self.fields[name].widget.attrs["autocomplete"] = "off"

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        contacts = ("phone", "email", "line_id", "x_handle")
        if not any(data.get(name) for name in contacts) and not any(name in self.errors for name in contacts):
            self.add_error("phone", _("電話番号かメールアドレス（LINEやXのお客様はLINEユーザーIDかXのユーザー名）を入力してください。"))
        if data.get("commitment_description") and not data.get("commitment_due_at"):
            self.add_error("commitment_due_at", _("約束には期限が必要です。"))
        if data.get("commitment_due_at") and not data.get("commitment_description") and "commitment_description" not in self.errors:
            # a due date with no promise would be dropped while the page says 登録しました
            self.add_error("commitment_description", _("期限を入れた約束の内容を入力してください。"))
        for name in ("customer_name", "subject"):
            if name in data and not str(data[name]).strip():
                self.add_error(name, _("空白だけでは登録できません。"))
        return data


class CaseEditForm(RecordFieldsMixin):
    version = forms.IntegerField(widget=forms.HiddenInput)
    # The record's fingerprints when the form was opened (record_merge): lets a save after
    # somebody else's change write only what this agent changed.
    base = forms.CharField(widget=forms.HiddenInput, required=False)
    subject = forms.CharField(label=_("件名"), max_length=200)
    category = forms.ModelChoiceField(label=_("分類"), queryset=Category.objects.all(), empty_label=None)
    priority = forms.TypedChoiceField(label=_("優先度"), choices=Priority.choices, coerce=int)
    status = forms.ChoiceField(label=_("状態"), choices=Status.choices)

    @classmethod
    def for_case(cls, case: Case, keep: dict[str, Any] | None = None) -> CaseEditForm:
        """The form for the case as it is now; `keep`: what the agent typed, left in the form."""
        initial: dict[str, Any] = {name: record_merge.current_value(case, name) for name in record_merge.RECORD_FIELDS}
        initial.update(keep or {})
        if hasattr(initial["category"], "pk"):
            initial["category"] = initial["category"].pk
        initial["checklist"] = [code for code, done in (initial["checklist"] or {}).items() if done]
        initial["version"] = case.version
        initial["base"] = json.dumps(record_merge.fingerprints_of(case))
        return cls(initial=initial, prefix="edit")

    def clean_base(self) -> dict[str, str]:
        try:
            base = json.loads(self.cleaned_data["base"] or "{}")
        except ValueError:
            return {}  # a mangled base: every field then counts as the agent's change
        return {str(k): str(v) for k, v in base.items()} if isinstance(base, dict) else {}

    def changes(self) -> dict[str, Any]:
        data = self.cleaned_data
        changes = {name: data[name] for name in record_merge.RECORD_FIELDS if name != "checklist"}
        changes["checklist"] = {code: True for code in data["checklist"]}
        return changes

    def agents_changes(self) -> dict[str, Any]:
        return record_merge.changed_by_agent(self.changes(), self.cleaned_data["base"])


class InteractionForm(forms.Form):
    DIRECTIONS = [("inbound", _("お客様から（受電・受信）")), ("outbound", _("お客様へ（架電・送信）")), ("note", _("社内メモ"))]
    kind = forms.ChoiceField(label=_("種類"), choices=DIRECTIONS, initial="inbound")
    channel = forms.ChoiceField(label=_("窓口"), choices=Channel.choices, initial=Channel.PHONE)
    occurred_at = local_datetime_field(_("日時"))
    body = forms.CharField(label=_("内容"), max_length=20000, widget=forms.Textarea(attrs={"rows": 4}))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["occurred_at"].initial = now_local_minute

    def clean_body(self) -> str:
        value: str = self.cleaned_data["body"]
        if not value.strip():
            raise forms.ValidationError(_("内容を入力してください。"))
        return value


class ReplyForm(forms.Form):
    body = forms.CharField(label=_("お客様への返信"), max_length=20000,
                           widget=forms.Textarea(attrs={"rows": 8, "id": "reply-body"}))
    # The last timeline entry the agent had on screen: a person's reply after it holds this one.
    seen = forms.IntegerField(required=False, min_value=0, widget=forms.HiddenInput)
    # Set on the form shown after such a hold: the agent read the other reply and sends anyway.
    confirm = forms.BooleanField(required=False, widget=forms.HiddenInput)
    # The reply template the agent used, whose macro (knowledge) also sets fields on sending.
    macro = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput(attrs={"id": "kb-macro"}))
    # How the case's channel app sends it, where it offers a choice (X: "public" reply or "dm"),
    # and that the agent confirmed what it warned of (a public reply past X's length); the app's
    # reply options render them and its REPLY_ACTIONS hook reads them.
    route = forms.CharField(required=False, max_length=20)
    route_confirmed = forms.BooleanField(required=False)

    def clean_body(self) -> str:
        value: str = self.cleaned_data["body"]
        if not value.strip():
            raise forms.ValidationError(_("返信の本文を入力してください。"))
        return value


class HandoverForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)
    to_user = forms.ModelChoiceField(label=_("引き継ぎ先の担当者"), queryset=User.objects.filter(is_active=True), required=False)
    to_team = forms.ModelChoiceField(label=_("引き継ぎ先のチーム"), queryset=Team.objects.all(), required=False)
    note = forms.CharField(label=_("引き継ぎメモ（必須）"), max_length=5000, widget=forms.Textarea(attrs={"rows": 3}),
                           help_text=_("これまでの経緯、お客様に約束したこと、次にすべきこと"))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("to_user") and not data.get("to_team"):
            raise forms.ValidationError(_("引き継ぎ先の担当者またはチームを選んでください。"))
        if "note" in data and not data["note"].strip():
            self.add_error("note", _("引き継ぎメモを入力してください。"))
        return data


class CommitmentForm(forms.Form):
    description = forms.CharField(label=_("約束した内容"), max_length=300)
    due_at = local_datetime_field(_("期限"))
    owner = forms.ModelChoiceField(label=_("担当者"), queryset=User.objects.filter(is_active=True), required=False)
    department = forms.CharField(label=_("担当部署"), max_length=100, required=False)
    internal = forms.BooleanField(label=_("社内の約束（お客様の進捗ページに出さない）"), required=False)

    def clean_due_at(self) -> Any:
        due = self.cleaned_data["due_at"]
        if due <= timezone.now():
            raise forms.ValidationError(_("期限が過去の日時になっています。これからの日時を指定してください。"))
        return due


class CompensationForm(forms.Form):
    kind = forms.ChoiceField(label=_("種類"), choices=CompensationKind.choices)
    amount_yen = forms.IntegerField(label=_("金額（円）"), min_value=1, max_value=10_000_000,
                                    error_messages={"min_value": _("金額は1円以上で入力してください。")})
    reason = forms.CharField(label=_("理由"), max_length=300)


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(choices=[("approve", _("承認")), ("reject", _("却下"))])
    note = forms.CharField(label=_("メモ"), max_length=300, required=False)


def case_number(value: str) -> int | None:
    """A case number as an agent types it: 「#123」「＃１２３」「123」 (None: not a number)."""
    text = unicodedata.normalize("NFKC", value or "").strip().lstrip("#").strip()
    return int(text) if text.isdigit() and 0 < len(text) < 12 else None


class MergeForm(forms.Form):
    """「案件を統合」: this case goes into another open case of the same customer."""

    target = forms.ChoiceField(label=_("統合先（このお客様の対応中の案件）"), required=False)
    number = forms.CharField(label=_("または案件番号で指定"), max_length=20, required=False,
                             widget=forms.TextInput(attrs={"placeholder": "#123", "inputmode": "numeric"}))
    confirm = forms.BooleanField(
        label=_("この案件のやりとり・約束・補償を統合先に移し、この案件を完了にします（7日以内なら取り消せます）"),
        error_messages={"required": _("統合する前に、内容を確認してチェックを入れてください。")},
    )

    def __init__(self, *args: Any, candidates: list[Case] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices: list[tuple[str, Any]] = [("", _("選んでください"))]
        choices += [(str(case.pk), f"#{case.pk} {case.subject}" + pgettext("括弧", "（%(text)s）") % {"text": case.get_status_display()})
                    for case in candidates or []]
        field = self.fields["target"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = choices

    def clean_number(self) -> int | None:
        value = self.cleaned_data.get("number", "")
        if not value.strip():
            return None
        number = case_number(value)
        if number is None:
            raise forms.ValidationError(_("案件番号は数字で入力してください（例: #123）。"))
        return number

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        chosen = data.get("number") or (int(data["target"]) if data.get("target") else None)
        if chosen is None and "number" not in self.errors:
            raise forms.ValidationError(_("統合先の案件を選ぶか、案件番号を入力してください。"))
        data["target_pk"] = chosen
        return data


class LinkForm(forms.Form):
    """「関連する案件をリンク」: the same incident, without merging (any customer's case)."""

    number = forms.CharField(label=_("リンクする案件番号"), max_length=20,
                             widget=forms.TextInput(attrs={"placeholder": "#123", "inputmode": "numeric"}))
    note = forms.CharField(label=_("メモ（任意）"), max_length=200, required=False,
                           help_text=_("例: 3月12日の配送遅延（ヤマト運輸 関東）"))

    def clean_number(self) -> int:
        number = case_number(self.cleaned_data.get("number", ""))
        if number is None:
            raise forms.ValidationError(_("案件番号は数字で入力してください（例: #123）。"))
        return number
