"""設定 → タグ・独自項目 (issue 22 items 3 and 8): the shop's tags (admins and team leads) and the
custom fields of its cases (admins). Rules and writes are madoguchi.cases.labels' do_*; every
change is recorded in the settings audit (madoguchi.accounts.audit)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from madoguchi.accounts import audit
from madoguchi.accounts.access import staff_user
from madoguchi.accounts.models import SettingsSource
from madoguchi.cases import labels
from madoguchi.cases.models import CaseTag, CustomField, FieldKind, Tag, TagColour
from madoguchi.cases.services import CaseError


class TagForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("タグ名"), max_length=labels.MAX_TAG_NAME)
    colour = forms.ChoiceField(label=gettext_lazy("色"), choices=TagColour.choices, initial=TagColour.GRAY)


class FieldForm(forms.Form):
    label = forms.CharField(label=gettext_lazy("項目名"), max_length=60)
    kind = forms.ChoiceField(label=gettext_lazy("種類"), choices=FieldKind.choices)
    choices = forms.CharField(label=gettext_lazy("選択肢（1行に1つ。種類が選択肢のとき）"), required=False,
                              widget=forms.Textarea(attrs={"rows": 3}))
    position = forms.IntegerField(label=gettext_lazy("並び順"), min_value=0, max_value=9999, initial=0)
    active = forms.BooleanField(label=gettext_lazy("使用中"), required=False, initial=True)

    @classmethod
    def for_field(cls, field: CustomField) -> FieldForm:
        return cls(prefix=f"f{field.pk}", initial={"label": field.label, "kind": field.kind, "choices": "\n".join(field.choices),
                                                   "position": field.position, "active": field.active})


def lead_or_admin(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @wraps(view)
    @login_required
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not labels.may_manage_tags(staff_user(request)):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper


def _page(request: HttpRequest, status: int = 200, tag_form: TagForm | None = None, field_form: FieldForm | None = None,
          bound: FieldForm | None = None, bound_pk: int | None = None) -> HttpResponse:
    user = staff_user(request)
    counts = dict(CaseTag.objects.order_by().values_list("tag_id").annotate(n=Count("id")))
    tags = [(tag, counts.get(tag.pk, 0)) for tag in Tag.objects.order_by("name")]
    fields = list(CustomField.objects.order_by("position", "id")) if user.is_admin else []
    return render(request, "accounts/inbox_settings.html", {
        "tags": tags,
        "tag_form": tag_form or TagForm(prefix="tag"),
        "field_form": field_form or FieldForm(prefix="field"),
        "fields": [(f, bound if bound is not None and bound_pk == f.pk else FieldForm.for_field(f)) for f in fields],
        "palette": TagColour.choices,
    }, status=status)


@lead_or_admin
def labels_page(request: HttpRequest) -> HttpResponse:
    return _page(request)


@lead_or_admin
@require_POST
def tag_add(request: HttpRequest) -> HttpResponse:
    form = TagForm(request.POST, prefix="tag")
    if form.is_valid():
        try:
            with transaction.atomic():
                tag = labels.do_create_tag(actor=staff_user(request), name=form.cleaned_data["name"], colour=form.cleaned_data["colour"])
                audit.record_saved(request.user, tag, None, source=SettingsSource.SETTINGS)
        except CaseError as refused:
            form.add_error("name", str(refused))
        else:
            messages.success(request, _("タグ「%(name)s」を作りました。") % {"name": tag.name})
            return redirect("accounts:labels")
    return _page(request, status=400, tag_form=form)


@lead_or_admin
@require_POST
def tag_delete(request: HttpRequest, pk: int) -> HttpResponse:
    tag = Tag.objects.filter(pk=pk).first()
    if tag is None:
        messages.error(request, _("このタグはすでに削除されています。"))
        return redirect("accounts:labels")
    before, name = audit.snapshot(tag), tag.name
    with transaction.atomic():
        count = labels.do_delete_tag(tag, actor=staff_user(request))
        audit.record_deleted(request.user, tag, before, pk, source=SettingsSource.SETTINGS)
    messages.success(request, _("タグ「%(name)s」を削除しました（%(count)s件の案件から外しました）。") % {"name": name, "count": count})
    return redirect("accounts:labels")


def _save_field(request: HttpRequest, field: CustomField | None, form: FieldForm) -> HttpResponse | None:
    """None when saved (the caller redirects), else the page with the form's errors."""
    user = staff_user(request)
    if not user.is_admin:
        raise PermissionDenied
    if form.is_valid():
        data = form.cleaned_data
        before = audit.snapshot(field) if field is not None else None
        try:
            with transaction.atomic():
                saved = labels.do_define_field(field, actor=user, label=data["label"], kind=data["kind"],
                                               choices=labels.parse_choices(data["choices"]), position=data["position"],
                                               active=data["active"])
                audit.record_saved(request.user, saved, before, source=SettingsSource.SETTINGS)
        except CaseError as refused:
            form.add_error(None, str(refused))
        else:
            messages.success(request, _("独自項目「%(label)s」を保存しました。") % {"label": saved.label})
            return None
    if field is None:
        return _page(request, status=400, field_form=form)
    return _page(request, status=400, bound=form, bound_pk=field.pk)


@lead_or_admin
@require_POST
def field_add(request: HttpRequest) -> HttpResponse:
    return _save_field(request, None, FieldForm(request.POST, prefix="field")) or redirect("accounts:labels")


@lead_or_admin
@require_POST
def field_save(request: HttpRequest, pk: int) -> HttpResponse:
    field = get_object_or_404(CustomField, pk=pk)
    return _save_field(request, field, FieldForm(request.POST, prefix=f"f{pk}")) or redirect("accounts:labels")
