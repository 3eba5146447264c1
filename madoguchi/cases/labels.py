"""Tags and the shop's own fields on cases (issue 22 item 3): the writes (do_*), their rules and
Japanese refusals, and the few reads the inbox and the case page make (a constant number of
queries whatever the number of rows, tags or fields).

Who may do what: an admin or a team lead makes and deletes tags; an admin defines the custom
fields (the settings page, madoguchi/accounts/inbox_settings.py); every staff member tags a case and
sets its fields, like any other change of the case. Each change of a case is an AuditEvent on the
case (「タグを追加」「タグを外す」「独自項目を変更」) and bumps its `updated_at`.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import (
    BooleanField,
    CharField,
    DateField,
    DecimalField,
    Exists,
    F,
    IntegerField,
    JSONField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.utils import timezone
from django.utils.translation import gettext as _

from madoguchi.accounts.models import User
from madoguchi.cases.models import (
    Case,
    CaseTag,
    CustomField,
    CustomFieldValue,
    FieldKind,
    Tag,
    TagColour,
)
from madoguchi.cases.services import CaseError, _audit

MAX_TAG_NAME = 40
MAX_FIELD_TEXT = 500
MAX_CHOICES = 50
NUMBER_LIMIT = Decimal("99999999999999")  # what DecimalField(18, 4) holds


def may_manage_tags(user: User) -> bool:
    return bool(user.is_admin or user.is_lead)


def _touch(case: Case) -> None:
    """A tag or a field changed: the case's 「最終更新」 moves (no version bump: the record the
    version guards is unchanged, so an open record form stays valid)."""
    Case.objects.filter(pk=case.pk).update(updated_at=timezone.now())


# ---- tags -------------------------------------------------------------------------------------


def clean_tag_name(name: str) -> str:
    name = unicodedata.normalize("NFKC", name or "").strip()
    name = re.sub(r"\s+", " ", name)
    if not name:
        raise CaseError(_("タグ名を入力してください。"))
    if len(name) > MAX_TAG_NAME:
        raise CaseError(_("タグ名は%(max)s文字以内で入力してください。") % {"max": MAX_TAG_NAME})
    return name


@transaction.atomic
def do_create_tag(*, actor: User, name: str, colour: str) -> Tag:
    if not may_manage_tags(actor):
        raise CaseError(_("タグを作れるのは管理者とチームリーダーです。"))
    name = clean_tag_name(name)
    if colour not in TagColour.values:
        raise CaseError(_("色は用意された中から選んでください。"))
    if Tag.objects.filter(name__iexact=name).exists():
        raise CaseError(_("「%(name)s」というタグはすでにあります。") % {"name": name})
    try:
        with transaction.atomic():
            return Tag.objects.create(name=name, colour=colour, created_by=actor)
    except IntegrityError as clash:
        raise CaseError(_("「%(name)s」というタグはすでにあります。") % {"name": name}) from clash


@transaction.atomic
def do_delete_tag(tag: Tag, *, actor: User) -> int:
    """Delete a tag and take it off every case (each such case audited). Returns how many."""
    if not may_manage_tags(actor):
        raise CaseError(_("タグを削除できるのは管理者とチームリーダーです。"))
    case_ids = list(CaseTag.objects.filter(tag=tag).values_list("case_id", flat=True))
    from madoguchi.cases.models import AuditEvent

    AuditEvent.objects.bulk_create([
        AuditEvent(case_id=case_id, actor=actor, action="tag_removed", changes={"tag": tag.name, "why": "tag_deleted"})
        for case_id in case_ids
    ])
    tag.delete()
    return len(case_ids)


@transaction.atomic
def do_tag_case(case: Case, tag: Tag, *, actor: User) -> bool:
    """Put `tag` on the case (False when it already had it: nothing written)."""
    if CaseTag.objects.filter(case=case, tag=tag).exists():
        return False
    try:
        with transaction.atomic():
            CaseTag.objects.create(case=case, tag=tag, added_by=actor)
    except IntegrityError:
        return False  # somebody added it at the same moment
    _audit(case, actor, "tag_added", {"tag": tag.name})
    _touch(case)
    return True


@transaction.atomic
def do_untag_case(case: Case, tag: Tag, *, actor: User) -> bool:
    deleted, _rows = CaseTag.objects.filter(case=case, tag=tag).delete()
    if not deleted:
        return False
    _audit(case, actor, "tag_removed", {"tag": tag.name})
    _touch(case)
    return True


@dataclass(frozen=True, slots=True)
class TagChip:
    pk: int
    name: str
    colour: str


def tags_by_case(case_ids: list[int]) -> dict[int, list[TagChip]]:
    """The tags of many cases, in one query (an inbox page)."""
    found: dict[int, list[TagChip]] = {}
    if not case_ids:
        return found
    rows = (CaseTag.objects.filter(case_id__in=case_ids).order_by("tag__name")
            .values_list("case_id", "tag_id", "tag__name", "tag__colour"))
    for case_id, tag_id, name, colour in rows:
        found.setdefault(case_id, []).append(TagChip(tag_id, name, colour))
    return found


def all_tags() -> list[TagChip]:
    return [TagChip(pk, name, colour) for pk, name, colour in Tag.objects.order_by("name").values_list("pk", "name", "colour")]


# ---- custom fields ------------------------------------------------------------------------------


def parse_choices(text: str) -> list[str]:
    """A choice field's options from the settings form: one a line, blanks and repeats dropped."""
    seen: list[str] = []
    for line in (text or "").splitlines():
        option = unicodedata.normalize("NFKC", line).strip()
        if option and option not in seen:
            if len(option) > 100:
                raise CaseError(_("選択肢は1つ100文字以内で入力してください。"))
            seen.append(option)
    if len(seen) > MAX_CHOICES:
        raise CaseError(_("選択肢は%(max)s個までです。") % {"max": MAX_CHOICES})
    return seen


@transaction.atomic
def do_define_field(field: CustomField | None, *, actor: User, label: str, kind: str, choices: list[str],
                    position: int = 0, active: bool = True) -> CustomField:
    """Add a custom field (field None) or change one. The kind of a field that has values is
    never changed (they would no longer mean what they meant)."""
    if not actor.is_admin:
        raise CaseError(_("独自項目を設定できるのは管理者です。"))
    label = unicodedata.normalize("NFKC", label or "").strip()
    if not label:
        raise CaseError(_("項目名を入力してください。"))
    if len(label) > 60:
        raise CaseError(_("項目名は60文字以内で入力してください。"))
    if kind not in FieldKind.values:
        raise CaseError(_("種類は文字・数値・日付・選択肢から選んでください。"))
    if kind == FieldKind.CHOICE and not choices:
        raise CaseError(_("選択肢の項目には、選択肢を1行に1つずつ入力してください。"))
    clash = CustomField.objects.filter(label__iexact=label)
    if field is not None:
        clash = clash.exclude(pk=field.pk)
        if field.kind != kind and field.values.exists():
            raise CaseError(_("値が入っている項目の種類は変えられません。新しい項目を作ってください。"))
    if clash.exists():
        raise CaseError(_("「%(label)s」という項目はすでにあります。") % {"label": label})
    row = field or CustomField()
    row.label, row.kind, row.position, row.active = label, kind, position, active
    row.choices = choices if kind == FieldKind.CHOICE else []
    row.save()
    return row


def parse_number(raw: str) -> Decimal:
    text = unicodedata.normalize("NFKC", raw).strip().replace(",", "").replace("，", "")
    try:
        number = Decimal(text)
    except InvalidOperation as bad:
        raise CaseError(_("数値で入力してください（例: 1200、3.5）。")) from bad
    if not number.is_finite() or abs(number) > NUMBER_LIMIT:
        raise CaseError(_("数値が大きすぎます。"))
    if number.as_tuple().exponent < -4:  # type: ignore[operator]
        raise CaseError(_("小数は4桁までで入力してください。"))
    return number


def parse_date(raw: str) -> dt.date:
    text = unicodedata.normalize("NFKC", raw).strip()
    match = re.fullmatch(r"(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?", text)
    if match:
        try:
            return dt.date(*(int(part) for part in match.groups()))
        except ValueError:
            pass
    raise CaseError(_("日付は 2026-12-07 のように年-月-日で入力してください。"))


def parse_value(field: CustomField, raw: str) -> str | Decimal | dt.date | None:
    """What the agent typed, checked for the field's kind (None: empty, the value is removed)."""
    raw = (raw or "").strip()
    if not raw:
        return None
    if field.kind == FieldKind.NUMBER:
        return parse_number(raw)
    if field.kind == FieldKind.DATE:
        return parse_date(raw)
    if field.kind == FieldKind.CHOICE:
        if raw not in field.choices:
            raise CaseError(_("「%(label)s」は選択肢から選んでください。") % {"label": field.label})
        return raw
    if len(raw) > MAX_FIELD_TEXT:
        raise CaseError(_("%(max)s文字以内で入力してください。") % {"max": MAX_FIELD_TEXT})
    return raw


def shown(value: CustomFieldValue | None) -> str:
    if value is None:
        return ""
    if value.number is not None:
        text = format(value.number.normalize(), "f")
        return text
    if value.date is not None:
        return value.date.strftime("%Y/%m/%d")
    return value.text


def _stored(value: str | Decimal | dt.date) -> dict[str, Any]:
    if isinstance(value, Decimal):
        return {"text": "", "number": value, "date": None}
    if isinstance(value, dt.date):
        return {"text": "", "number": None, "date": value}
    return {"text": value, "number": None, "date": None}


@transaction.atomic
def do_set_field_values(case: Case, *, actor: User, raw: dict[int, str]) -> dict[str, list[str]]:
    """Set the case's custom fields from what was typed ({field id: text}). Every value is
    checked first: one bad value writes nothing (CaseError naming the field). Returns the audit
    diff {label: [old, new]} (empty when nothing changed)."""
    fields = {f.pk: f for f in CustomField.objects.filter(pk__in=list(raw), active=True)}
    parsed: dict[int, Any] = {}
    problems = []
    for pk, text in raw.items():
        field = fields.get(pk)
        if field is None:
            continue
        try:
            parsed[pk] = parse_value(field, text)
        except CaseError as error:
            problems.append(f"{field.label}: {error}")
    if problems:
        raise CaseError(" / ".join(problems))
    current = {v.field_id: v for v in CustomFieldValue.objects.select_for_update().filter(case=case, field_id__in=list(parsed))}
    diff: dict[str, list[str]] = {}
    for pk, value in parsed.items():
        field, row = fields[pk], current.get(pk)
        before = shown(row)
        if value is None:
            if row is not None:
                row.delete()
                diff[field.label] = [before, ""]
            continue
        if row is None:
            row = CustomFieldValue(case=case, field=field)
        for name, stored in _stored(value).items():
            setattr(row, name, stored)
        after = shown(row)
        if after != before or row.pk is None:
            row.updated_by = actor
            row.save()
            diff[field.label] = [before, after]
    if diff:
        _audit(case, actor, "field_set", diff)
        _touch(case)
    return diff


@dataclass(frozen=True, slots=True)
class FieldRow:
    pk: int
    label: str
    kind: str
    choices: list[str]
    value: str


def active_fields() -> list[CustomField]:
    return list(CustomField.objects.filter(active=True).order_by("position", "id"))


# ---- inbox filters ----------------------------------------------------------------------------


KIND_KEYS = {FieldKind.TEXT: "cft", FieldKind.CHOICE: "cfc", FieldKind.NUMBER: "cfn", FieldKind.DATE: "cfd"}
FILTER_KEY = re.compile(r"(cft|cfc|cfn|cfd)(\d+)(?:_(min|max))?")


def filter_key(field: CustomField, end: str = "") -> str:
    """The query-string key of a field's inbox filter; it names the kind, so applying a filter
    needs no query: cft<id> text contains, cfc<id> choice equals, cfn<id>_min / cfd<id>_max …"""
    return f"{KIND_KEYS[FieldKind(field.kind)]}{field.pk}" + (f"_{end}" if end else "")


def clean_label_filters(raw: dict[str, str], fields: list[CustomField]) -> dict[str, str]:
    """The tag and custom-field filters of the inbox, well-formed or dropped (a hand-edited URL
    filters less, never fails). Keys: tag (id), tagq (part of a tag name), and filter_key's."""
    from madoguchi.ids import parse_id

    cleaned: dict[str, str] = {}
    tag = parse_id((raw.get("tag") or "").strip())
    if tag is not None:
        cleaned["tag"] = str(tag)
    tagq = unicodedata.normalize("NFKC", raw.get("tagq") or "").strip()[:MAX_TAG_NAME]
    if tagq:
        cleaned["tagq"] = tagq
    for field in fields:
        if field.kind in (FieldKind.TEXT, FieldKind.CHOICE):
            key = filter_key(field)
            value = unicodedata.normalize("NFKC", raw.get(key) or "").strip()[:MAX_FIELD_TEXT]
            if field.kind == FieldKind.CHOICE and value not in field.choices:
                value = ""
            if value:
                cleaned[key] = value
            continue
        for end in ("min", "max"):
            key = filter_key(field, end)
            value = (raw.get(key) or "").strip()
            if not value:
                continue
            try:
                parsed: Any = parse_number(value) if field.kind == FieldKind.NUMBER else parse_date(value)
            except CaseError:
                continue
            cleaned[key] = str(parsed) if field.kind == FieldKind.NUMBER else parsed.isoformat()
    return cleaned


def apply_label_filters(cases: QuerySet[Any], filters: dict[str, Any], prefix: str = "") -> QuerySet[Any]:
    """Narrow an inbox queryset by the filters of `clean_label_filters` (`prefix` "case__" when
    the rows are promises). Each is `id IN (…)` over an index of its own table."""
    pk = f"{prefix}pk__in"
    if filters.get("tag"):
        cases = cases.filter(**{pk: CaseTag.objects.filter(tag_id=int(filters["tag"])).values("case_id")})
    if filters.get("tagq"):
        cases = cases.filter(**{pk: CaseTag.objects.filter(tag__name__icontains=filters["tagq"]).values("case_id")})
    conditions: dict[int, Q] = {}
    for key, value in filters.items():
        match = FILTER_KEY.fullmatch(key)
        if not match or value in (None, ""):
            continue
        kind, field_id, end = match.group(1), int(match.group(2)), match.group(3)
        if kind == "cft":
            condition = Q(text__icontains=value)
        elif kind == "cfc":
            condition = Q(text=value)
        else:
            column = "number" if kind == "cfn" else "date"
            condition = Q(**{f"{column}__{'gte' if end == 'min' else 'lte'}": value})
        conditions[field_id] = conditions.get(field_id, Q()) & condition
    for field_id, condition in conditions.items():
        cases = cases.filter(**{pk: CustomFieldValue.objects.filter(condition, field_id=field_id).values("case_id")})
    return cases


@dataclass(frozen=True, slots=True)
class CaseLabels:
    on_case: list[TagChip]
    others: list[TagChip]
    fields: list[FieldRow]


def case_labels(case: Case) -> CaseLabels:
    """The case page's tags (on the case, and the others to add) and its custom fields with their
    values, in ONE query (UNION ALL of the tags and the active fields), so the page costs one
    query more whatever the number of tags and fields."""
    tags = Tag.objects.order_by().annotate(
        k=Value("t", output_field=CharField()), on=Exists(CaseTag.objects.filter(case=case.pk, tag=OuterRef("pk"))),
        opts=Value(None, output_field=JSONField()), t=Value("", output_field=CharField()),
        n=Value(None, output_field=DecimalField()), d=Value(None, output_field=DateField()),
        pos=Value(0, output_field=IntegerField()),
    ).values_list("k", "pk", "name", "colour", "on", "opts", "t", "n", "d", "pos")
    values = CustomFieldValue.objects.filter(case=case.pk, field=OuterRef("pk"))
    fields = CustomField.objects.filter(active=True).order_by().annotate(
        k=Value("f", output_field=CharField()), on=Value(False, output_field=BooleanField()),
        opts=F("choices"), t=Subquery(values.values("text")[:1]), n=Subquery(values.values("number")[:1]),
        d=Subquery(values.values("date")[:1]), pos=F("position"),
    ).values_list("k", "pk", "label", "kind", "on", "opts", "t", "n", "d", "pos")
    on_case: list[TagChip] = []
    others: list[TagChip] = []
    rows: list[tuple[int, int, FieldRow]] = []
    for kind, pk, name, extra, on, opts, text, number, date, position in tags.union(fields, all=True):
        if kind == "t":
            (on_case if on else others).append(TagChip(pk, name, extra))
            continue
        shown_value = CustomFieldValue(text=text or "", number=_decimal(number), date=_date(date))
        rows.append((position, pk, FieldRow(pk, name, extra, _choices(opts), shown(shown_value) if (text or number is not None or date) else "")))
    on_case.sort(key=lambda chip: chip.name)
    others.sort(key=lambda chip: chip.name)
    return CaseLabels(on_case, others, [row for _position, _pk, row in sorted(rows, key=lambda r: (r[0], r[1]))])


def _decimal(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def _date(value: Any) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def _choices(value: Any) -> list[str]:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return []
    return [str(option) for option in value] if isinstance(value, list) else []
