"""The two kinds of admin page every model gets (used by every madoguchi/*/admin.py).

- `ReadOnlyAdmin` / `ReadOnlyInline`: records of what happened (change history, messages,
  compensations, survey answers, handovers, merges, mails...). Listed and viewed, never added,
  changed or deleted by hand: the admin answers 403. Corrections go through the desk, whose
  services write the case's change history.
- `AuditedAdmin`: configuration (categories, teams, users, limits, business hours, templates,
  mailboxes...). Editable; every addition, change and deletion, inline rows included, goes to
  the settings audit (madoguchi.accounts.audit) with who, when and old → new.

test_admin_is_read_only_or_audited checks that every registered admin is one of the two.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db import models
from django.db.models.query import QuerySet
from django.forms import BaseModelFormSet, ModelForm
from django.http import HttpRequest

from madoguchi.accounts import audit
from madoguchi.accounts.models import SettingsAction, SettingsSource

_BEFORE = "_settings_audit_before"


class ReadOnlyAdmin(admin.ModelAdmin):
    """A record of what happened: visible, never written through the admin."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ReadOnlyInline(admin.options.InlineModelAdmin):
    """Inline rows that are records of what happened (e.g. a case's messages)."""

    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class AppendOnlyInline(admin.options.InlineModelAdmin):
    """Inline rows of a history that grows (e.g. a rule's dated versions): a new row may be added
    (and is audited); rows already there are neither changed nor deleted."""

    extra = 0
    can_delete = False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


def _befores(request: HttpRequest) -> dict[tuple[str, Any], dict[str, audit.Value]]:
    if not hasattr(request, _BEFORE):
        setattr(request, _BEFORE, {})
    return getattr(request, _BEFORE)  # type: ignore[no-any-return]


def _stored(obj: models.Model) -> models.Model | None:
    return type(obj)._default_manager.filter(pk=obj.pk).first() if obj.pk is not None else None


class AuditedAdmin(admin.ModelAdmin):
    """Configuration: editable, and every write is recorded in the settings audit."""

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        stored = _stored(obj) if change else None
        if stored is not None:
            _befores(request)[(obj._meta.label, obj.pk)] = audit.snapshot(stored)
        super().save_model(request, obj, form, change)

    # log_addition/log_change run after save_related: many-to-many fields (a user's groups and
    # permissions) are saved by then.
    def log_addition(self, request: HttpRequest, obj: Any, message: Any) -> Any:
        audit.record_saved(request.user, obj, None, source=SettingsSource.ADMIN)
        return super().log_addition(request, obj, message)

    def log_change(self, request: HttpRequest, obj: Any, message: Any) -> Any:
        before = _befores(request).pop((obj._meta.label, obj.pk), None)
        if before is not None:
            audit.record_saved(request.user, obj, before, source=SettingsSource.ADMIN)
        else:  # saved by a page of its own, e.g. a user's password form: the fields it names, masked
            fields = [f for entry in message or [] if isinstance(entry, dict) and "name" not in entry.get("changed", {"name": 0})
                      for f in entry["changed"].get("fields", [])]
            if fields:
                audit.record(request.user, source=SettingsSource.ADMIN, action=SettingsAction.CHANGE, target=audit.target_of(obj),
                             object_id=obj.pk, object_repr=str(obj),
                             changes=[{"field": f, "label": f, "old": audit.MASK, "new": audit.MASK} for f in fields])
        return super().log_change(request, obj, message)

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        before, pk = audit.snapshot(obj), obj.pk
        super().delete_model(request, obj)
        audit.record_deleted(request.user, obj, before, pk, source=SettingsSource.ADMIN)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        rows = [(obj, audit.snapshot(obj), obj.pk) for obj in queryset]
        super().delete_queryset(request, queryset)
        for obj, before, pk in rows:
            audit.record_deleted(request.user, obj, before, pk, source=SettingsSource.ADMIN)

    def save_formset(self, request: HttpRequest, form: ModelForm[Any], formset: BaseModelFormSet[Any, Any], change: bool) -> None:
        """Inline rows: each one added, changed or deleted is recorded like a row of its own."""
        befores: dict[int, dict[str, audit.Value]] = {}
        pks: dict[int, Any] = {}
        for inline_form in formset.initial_forms:
            instance = inline_form.instance
            stored = _stored(instance)
            if stored is not None:
                befores[id(instance)], pks[id(instance)] = audit.snapshot(stored), instance.pk
        super().save_formset(request, form, formset, change)
        for obj in formset.new_objects:
            audit.record_saved(request.user, obj, None, source=SettingsSource.ADMIN)
        for obj, _fields in formset.changed_objects:
            if id(obj) in befores:
                audit.record_saved(request.user, obj, befores[id(obj)], source=SettingsSource.ADMIN)
        for obj in formset.deleted_objects:
            if id(obj) in befores:
                audit.record_deleted(request.user, obj, befores[id(obj)], pks[id(obj)], source=SettingsSource.ADMIN)
