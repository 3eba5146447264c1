"""The settings audit: every change to the shop's configuration, who made it, when, old → new.

Written from three places, all through `record`:
- the settings pages (`record_form`: every field of a settings form, compared with the value it
  was shown with, so a field added to a form later is audited without more work);
- the admin (`madoguchi.accounts.admin_audit.AuditedAdmin`: a snapshot of the row before and
  after, inline rows included);
- any other desk view that saves a configuration row (`record_saved` / `record_deleted`).

The trail itself is never edited: SettingsChange is read-only in the admin, and nothing here
updates or deletes a row.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django import forms
from django.conf import settings
from django.db import models
from django.db.models.query import QuerySet
from django.utils import timezone, translation
from django.utils.functional import Promise
from django.utils.translation import gettext as _

from madoguchi.accounts.models import SettingsAction, SettingsChange, SettingsSource, User

# Fields whose values never enter the trail: only the fact that they changed.
SECRET_WORDS = ("password", "secret", "token", "nonce")
MASK = "********"
PAGE_SIZE = 50


@dataclass(frozen=True)
class Value:
    label: str
    shown: str
    key: str  # what is compared: the shown text, or a digest for a secret


def _is_secret(name: str) -> bool:
    return any(word in name.lower() for word in SECRET_WORDS)


def _secret(raw: Any) -> tuple[str, str]:
    text = "" if raw is None else str(raw)
    return (MASK if text else ""), hashlib.sha256(text.encode()).hexdigest()


def show(value: Any) -> str:
    """A value as a person reads it in the trail (in the shop's language)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(_("はい") if value else _("いいえ"))
    if isinstance(value, float):
        return f"{value:.2f}".rstrip("0").rstrip(".")
    if isinstance(value, dt.datetime):
        return timezone.localtime(value).strftime("%Y/%m/%d %H:%M") if timezone.is_aware(value) else value.strftime("%Y/%m/%d %H:%M")
    if isinstance(value, dt.date):
        return value.strftime("%Y/%m/%d")
    if isinstance(value, dt.time):
        return value.strftime("%H:%M")
    if isinstance(value, models.Model):
        return str(value)
    if isinstance(value, QuerySet | list | tuple | set):
        return "、".join(sorted(show(item) for item in value))
    return str(value)


def _field_value(instance: models.Model, field: models.Field[Any, Any]) -> tuple[str, str]:
    raw = getattr(instance, field.attname)
    if _is_secret(field.name):
        return _secret(raw)
    if raw is None or raw == "":
        return "", ""
    if field.is_relation:
        related = getattr(instance, field.name, None)
        shown = str(related) if related is not None else str(raw)
        return shown, f"{raw}"
    if field.choices:
        shown = str(dict(field.flatchoices).get(raw, raw))
        return shown, str(raw)
    shown = show(raw)
    return shown, shown


def snapshot(instance: models.Model) -> dict[str, Value]:
    """Every editable (or secret) field of a saved row, as the trail shows it (in the shop's language)."""
    with translation.override(settings.LANGUAGE_CODE):
        return _snapshot(instance)


def _snapshot(instance: models.Model) -> dict[str, Value]:
    values: dict[str, Value] = {}
    meta = instance._meta
    for field in meta.concrete_fields:
        if field.primary_key or not (field.editable or _is_secret(field.name)):
            continue
        shown, key = _field_value(instance, field)
        values[field.name] = Value(str(field.verbose_name), shown, key)
    if instance.pk is not None:
        for m2m in meta.many_to_many:
            if not m2m.editable:
                continue
            related = list(getattr(instance, m2m.name).all())
            shown = show(related)
            values[m2m.name] = Value(str(m2m.verbose_name), shown, ",".join(sorted(str(r.pk) for r in related)))
    return values


def diff(before: Mapping[str, Value], after: Mapping[str, Value]) -> list[dict[str, str]]:
    """[{field, label, old, new}] for each field whose value differs (added or removed fields too)."""
    changes = []
    for name in [*before, *[n for n in after if n not in before]]:
        old, new = before.get(name), after.get(name)
        if old is not None and new is not None and old.key == new.key:
            continue
        shown = new or old
        label = shown.label if shown is not None else name
        changes.append({"field": name, "label": label, "old": old.shown if old else "", "new": new.shown if new else ""})
    return changes


def _all_values(values: Mapping[str, Value]) -> list[dict[str, str]]:
    return [{"field": name, "label": v.label, "old": "", "new": v.shown} for name, v in values.items() if v.shown]


def _old_values(values: Mapping[str, Value]) -> list[dict[str, str]]:
    return [{"field": name, "label": v.label, "old": v.shown, "new": ""} for name, v in values.items() if v.shown]


def record(
    actor: Any, *, source: str, action: str, target: str | Promise, object_id: Any = "", object_repr: str = "",
    changes: Iterable[Mapping[str, str]] = (),
) -> SettingsChange:
    user = actor if isinstance(actor, User) and actor.pk is not None else None
    with translation.override(settings.LANGUAGE_CODE):  # a lazy label is stored in the shop's language
        target = str(target)
    return SettingsChange.objects.create(
        actor=user, actor_name=(f"{user}（{user.username}）" if user else _("システム"))[:150],
        source=source, action=action, target=str(target)[:100], object_id=str(object_id or "")[:64],
        object_repr=str(object_repr)[:200], changes=[dict(c) for c in changes],
    )


def target_of(instance: models.Model) -> str:
    with translation.override(settings.LANGUAGE_CODE):
        return str(instance._meta.verbose_name)


def record_saved(actor: Any, instance: models.Model, before: Mapping[str, Value] | None, *, source: str) -> SettingsChange | None:
    """After a configuration row was saved: an addition (before is None) or the fields that changed."""
    after = snapshot(instance)
    if before is None:
        return record(actor, source=source, action=SettingsAction.ADD, target=target_of(instance), object_id=instance.pk,
                      object_repr=str(instance), changes=_all_values(after))
    changes = diff(before, after)
    if not changes:
        return None
    return record(actor, source=source, action=SettingsAction.CHANGE, target=target_of(instance), object_id=instance.pk,
                  object_repr=str(instance), changes=changes)


def record_deleted(actor: Any, instance: models.Model, before: Mapping[str, Value], pk: Any, *, source: str) -> SettingsChange:
    return record(actor, source=source, action=SettingsAction.DELETE, target=target_of(instance), object_id=pk,
                  object_repr=str(instance), changes=_old_values(before))


def _form_value(field: forms.Field, value: Any) -> str:
    if isinstance(field, forms.ChoiceField) and not isinstance(field, forms.ModelChoiceField):
        options: Iterable[tuple[Any, Any]] = field.choices  # type: ignore[assignment]
        choices = {str(k): v for k, v in options if not isinstance(v, list | tuple)}
        if isinstance(value, list | tuple):
            return "、".join(str(choices.get(str(v), v)) for v in value)
        return str(choices.get(str(value), show(value)))
    return show(value)


def record_form(actor: Any, form: forms.Form, *, target: str | Promise, source: str = SettingsSource.SETTINGS) -> SettingsChange | None:
    """After a valid settings form was saved: every field whose submitted value differs from the
    value the form was shown with (form.initial). Any field added to the form is covered."""
    with translation.override(settings.LANGUAGE_CODE):
        changes = _form_changes(form)
    if not changes:
        return None
    return record(actor, source=source, action=SettingsAction.CHANGE, target=target, changes=changes)


def _form_changes(form: forms.Form) -> list[dict[str, str]]:
    changes = []
    for name in form.changed_data:
        field = form.fields[name]
        label = str(field.label or name)
        if _is_secret(name):
            old, new = MASK, MASK
        else:
            old = _form_value(field, form.get_initial_for_field(field, name))
            new = _form_value(field, form.cleaned_data.get(name))
        if old == new and not _is_secret(name):
            continue
        changes.append({"field": name, "label": label, "old": old, "new": new})
    return changes


def record_values(
    actor: Any, *, target: str | Promise, labels: Mapping[str, Any], before: Mapping[str, Any], after: Mapping[str, Any],
    source: str = SettingsSource.OTHER,
) -> SettingsChange | None:
    """After settings kept as named values were saved (e.g. the targets of the measures): each
    value that differs, with its label."""
    with translation.override(settings.LANGUAGE_CODE):
        changes = []
        for name in [*before, *[n for n in after if n not in before]]:
            old, new = show(before.get(name)), show(after.get(name))
            if old != new:
                changes.append({"field": name, "label": str(labels.get(name, name)), "old": old, "new": new})
    if not changes:
        return None
    return record(actor, source=source, action=SettingsAction.CHANGE, target=target, changes=changes)


def page(before: str = "") -> tuple[list[SettingsChange], str | None]:
    """A page of the trail, newest first, keyset-paginated by id (`before` = the last id shown)."""
    rows = SettingsChange.objects.select_related("actor").order_by("-id")
    if before.isdigit():
        rows = rows.filter(id__lt=int(before))
    found = list(rows[: PAGE_SIZE + 1])
    next_before = str(found[PAGE_SIZE - 1].pk) if len(found) > PAGE_SIZE else None
    return found[:PAGE_SIZE], next_before
