from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from madoguchi.accounts.models import Role
from madoguchi.cases.models import Category


class AuthorityLimitsForm(forms.Form):
    agent = forms.IntegerField(label=_("担当者の上限（円）"), min_value=0, max_value=10_000_000)
    lead = forms.IntegerField(label=_("チームリーダーの上限（円）"), min_value=0, max_value=10_000_000)

    ROLES = {"agent": Role.AGENT, "lead": Role.LEAD}


class CategoryForm(forms.ModelForm):
    class Meta:
        model = Category
        fields = ["code", "name", "position", "active"]
