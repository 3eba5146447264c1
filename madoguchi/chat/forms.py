from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from madoguchi.cases.models import Category
from madoguchi.chat.spam import HONEYPOT
from madoguchi.customers.fields import EmailAddressField


class PublicForm(forms.Form):
    stamp = forms.CharField(widget=forms.HiddenInput)
    page_url = forms.CharField(required=False, max_length=1000, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        # The honeypot: people never see it (CSS), so only a bot fills it in.
        self.fields[HONEYPOT] = forms.CharField(required=False, label=_("ウェブサイト（入力しないでください）"))


class ContactForm(PublicForm):
    name = forms.CharField(label=_("お名前"), max_length=100)
    email = EmailAddressField(label=_("メールアドレス"))
    category = forms.ModelChoiceField(
        label=_("お問い合わせの種類"), queryset=Category.objects.filter(active=True), required=False,
        empty_label=_("選んでください（任意）"),
    )
    order_number = forms.CharField(label=_("注文番号（お持ちの場合）"), max_length=50, required=False)
    message = forms.CharField(label=_("お問い合わせ内容"), max_length=5000, widget=forms.Textarea(attrs={"rows": 6}))


RATINGS = [(5, _("★★★★★ とても満足")), (4, _("★★★★ 満足")), (3, _("★★★ ふつう")), (2, _("★★ 不満")), (1, _("★ とても不満"))]


class FeedbackForm(PublicForm):
    rating = forms.TypedChoiceField(label=_("満足度"), choices=RATINGS, coerce=int, widget=forms.RadioSelect)
    comment = forms.CharField(label=_("ご意見・ご感想"), max_length=5000, required=False, widget=forms.Textarea(attrs={"rows": 5}))
    email = EmailAddressField(label=_("メールアドレス（お返事が必要な場合）"), required=False)
    order_number = forms.CharField(label=_("注文番号（お持ちの場合）"), max_length=50, required=False)


class OfflineMessageForm(forms.Form):
    name = forms.CharField(max_length=100, required=False)
    email = EmailAddressField()
    order_number = forms.CharField(max_length=50, required=False)
    message = forms.CharField(max_length=5000)
    page_url = forms.CharField(max_length=1000, required=False)


class TransferForm(forms.Form):
    to_user: forms.ModelChoiceField[Any] = forms.ModelChoiceField(label=_("担当者"), queryset=None, required=False, empty_label=_("— 担当者 —"))
    to_team: forms.ModelChoiceField[Any] = forms.ModelChoiceField(label=_("チーム"), queryset=None, required=False, empty_label=_("— チーム —"))
    note = forms.CharField(label=_("引き継ぎメモ"), widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        from madoguchi.accounts.models import Team, User

        super().__init__(*args, **kwargs)
        self.fields["to_user"].queryset = User.objects.filter(is_active=True).order_by("username")  # type: ignore[attr-defined]
        self.fields["to_team"].queryset = Team.objects.all()  # type: ignore[attr-defined]
