from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from madoguchi.accounts.models import Availability, Role, Team, User
from madoguchi.cases.models import Category


class AuthorityLimitsForm(forms.Form):
    agent = forms.IntegerField(label=_("担当者の上限（円）"), min_value=0, max_value=10_000_000)
    lead = forms.IntegerField(label=_("チームリーダーの上限（円）"), min_value=0, max_value=10_000_000)

    ROLES = {"agent": Role.AGENT, "lead": Role.LEAD}


class CustomerPeriodForm(forms.Form):
    customer_period_days = forms.IntegerField(
        label=_("お客様ごとに合計する期間（日）"), min_value=0, max_value=3650,
        help_text=_("この日数のあいだに同じお客様へ付与・申請した補償も合計して、権限の上限と比べます。0 にすると合計しません。"),
    )


class CategoryForm(forms.ModelForm):
    class Meta:
        model = Category
        fields = ["code", "name", "position", "active"]


class OwnSignatureForm(forms.ModelForm):
    """An agent's own signature, on their own settings page."""

    class Meta:
        model = User
        fields = ["signature"]
        widgets = {"signature": forms.Textarea(attrs={"rows": 5})}


class SecurityForm(forms.Form):
    admins_need_two_factor = forms.BooleanField(
        label=_("管理者に2段階認証を必須にする"), required=False,
        help_text=_("オンにすると、管理者は次のログインから認証アプリのコードが必要になります（未設定の人はログイン時に設定します）。"),
    )
class TeamAssignmentForm(forms.ModelForm):
    """A team's rule for cases that arrive with nobody on them (admins, on /settings/)."""

    class Meta:
        model = Team
        fields = ["assignment_rule"]


class AvailabilityForm(forms.Form):
    """対応可能 / 離席 / 休暇, set by each person in the top bar."""

    availability = forms.ChoiceField(label=_("状況"), choices=Availability.choices)
