"""The filters of each list and its CSV. Bad input is a Japanese message on the list page (400),
never a 500 and never a silently different file."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from madoguchi.accounts.models import User
from madoguchi.cases.models import (
    Category,
    Channel,
    CommitmentState,
    CompensationKind,
    CompensationState,
    Priority,
    Status,
)
from madoguchi.cases.queues import QUEUES

DATE_FORMATS = ["%Y-%m-%d", "%Y/%m/%d", "%Y%m%d"]
LONGEST_RANGE_DAYS = 3660  # ten years: a typo like 20260 is caught, not walked


def _blank(label: Any, choices: Any) -> list[tuple[Any, Any]]:
    return [("", label), *[(str(value), label) for value, label in choices]]


def _choice(form: forms.Form, name: str) -> forms.ChoiceField:
    field = form.fields[name]
    assert isinstance(field, forms.ChoiceField)
    return field


class RangeForm(forms.Form):
    """A period in the shop's days (JST): from the start of 「から」 to the end of 「まで」."""

    date_from = forms.DateField(label=_("から"), required=False, input_formats=DATE_FORMATS,
                                widget=forms.DateInput(attrs={"type": "date"}),
                                error_messages={"invalid": _("日付は 2026-04-01 のように入力してください。")})
    date_to = forms.DateField(label=_("まで"), required=False, input_formats=DATE_FORMATS,
                              widget=forms.DateInput(attrs={"type": "date"}),
                              error_messages={"invalid": _("日付は 2026-04-01 のように入力してください。")})

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        first, last = data.get("date_from"), data.get("date_to")
        if first and last:
            if first > last:
                raise forms.ValidationError(_("「から」の日付は「まで」の日付以前にしてください。"))
            if (last - first).days > LONGEST_RANGE_DAYS:
                raise forms.ValidationError(_("期間は10年以内にしてください。"))
        return data

    def bounds(self) -> tuple[dt.datetime | None, dt.datetime | None]:
        """[start, end) as aware times: the shop's midnight of the first day and of the day after the last."""
        zone = timezone.get_current_timezone()
        first, last = self.cleaned_data.get("date_from"), self.cleaned_data.get("date_to")
        start = dt.datetime.combine(first, dt.time.min, tzinfo=zone) if first else None
        end = dt.datetime.combine(last + dt.timedelta(days=1), dt.time.min, tzinfo=zone) if last else None
        return start, end


class CaseFilterForm(RangeForm):
    queue = forms.ChoiceField(label=_("キュー"), required=False)
    status = forms.ChoiceField(label=_("状態"), required=False)
    category = forms.ChoiceField(label=_("分類"), required=False)
    priority = forms.ChoiceField(label=_("優先度"), required=False)
    channel = forms.ChoiceField(label=_("窓口"), required=False)
    assignee = forms.ChoiceField(label=_("担当者"), required=False)
    period_help = _("受付日")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _choice(self, "queue").choices = [("", _("すべての案件")), *[(q.code, q.title) for q in QUEUES]]
        _choice(self, "status").choices = _blank(_("すべて"), Status.choices)
        _choice(self, "priority").choices = _blank(_("すべて"), Priority.choices)
        _choice(self, "channel").choices = _blank(_("すべて"), Channel.choices)
        _choice(self, "category").choices = _blank(_("すべて"), Category.objects.order_by("position", "name").values_list("pk", "name"))
        _choice(self, "assignee").choices = _blank(_("すべて"), [
            (user.pk, str(user)) for user in User.objects.order_by("username")])
        for name in ("queue", "status", "category", "priority", "channel", "assignee"):
            self.fields[name].error_messages["invalid_choice"] = _("選べない値です。一覧から選んでください。")


class CustomerFilterForm(RangeForm):
    period_help = _("登録日")


class CompensationFilterForm(RangeForm):
    state = forms.ChoiceField(label=_("状態"), required=False)
    kind = forms.ChoiceField(label=_("種類"), required=False)
    period_help = _("申請日")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _choice(self, "state").choices = _blank(_("すべて"), CompensationState.choices)
        _choice(self, "kind").choices = _blank(_("すべて"), CompensationKind.choices)
        for name in ("state", "kind"):
            self.fields[name].error_messages["invalid_choice"] = _("選べない値です。一覧から選んでください。")


class PromiseFilterForm(RangeForm):
    state = forms.ChoiceField(label=_("状態"), required=False)
    period_help = _("期限")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _choice(self, "state").choices = _blank(_("すべて"), CommitmentState.choices)
        self.fields["state"].error_messages["invalid_choice"] = _("選べない値です。一覧から選んでください。")
