"""Saved inbox views (issue 22 item 3): the queue, filters and sort of the inbox under a name,
the agent's own or shared with their team. Listed in the inbox's side bar (one query)."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode

from django.db import transaction
from django.db.models import F, Q
from django.utils.translation import gettext as _

from madoguchi.accounts.models import User
from madoguchi.cases import labels, queues
from madoguchi.cases.models import SavedView
from madoguchi.cases.services import CaseError

MAX_NAME = 60
MAX_PER_OWNER = 100
# The keys a view keeps: everything the inbox reads but the page cursor.
KEPT = ("queue", *queues.FILTER_KEYS, "sort", "tag", "tagq")


def clean_query(query: str) -> str:
    """The inbox query string a view keeps: known keys with a value, in a stable order."""
    pairs = []
    for key, value in parse_qsl(query or "", keep_blank_values=False):
        if value.strip() and (key in KEPT or labels.FILTER_KEY.fullmatch(key)):
            pairs.append((key, value.strip()[:500]))
    return urlencode(pairs)[:2000]


@transaction.atomic
def do_save_view(*, actor: User, name: str, query: str, shared: bool) -> SavedView:
    name = unicodedata.normalize("NFKC", name or "").strip()
    if not name:
        raise CaseError(_("ビューの名前を入力してください。"))
    if len(name) > MAX_NAME:
        raise CaseError(_("ビューの名前は%(max)s文字以内で入力してください。") % {"max": MAX_NAME})
    if shared and actor.team_id is None:
        raise CaseError(_("チームに所属していないため、チームと共有できません。自分用として保存してください。"))
    team_id = actor.team_id if shared else None
    same = (SavedView.objects.filter(name=name, team_id=actor.team_id) if shared and actor.team_id is not None
            else SavedView.objects.filter(name=name, owner=actor, team__isnull=True))
    if same.exists():
        raise CaseError(_("「%(name)s」という名前のビューはすでにあります。別の名前にしてください。") % {"name": name})
    if SavedView.objects.filter(owner=actor).count() >= MAX_PER_OWNER:
        raise CaseError(_("保存できるビューは%(max)s件までです。使わないビューを削除してください。") % {"max": MAX_PER_OWNER})
    return SavedView.objects.create(name=name, owner=actor, team_id=team_id, query=clean_query(query))


def delete_refusal(view: SavedView, actor: User) -> str:
    """Why `actor` may not delete `view` ("" when they may): the owner may; a shared view also
    the lead of its team or an admin."""
    if view.owner_id == actor.pk:
        return ""
    if view.team_id is not None and (actor.is_admin or (actor.is_lead and actor.team_id == view.team_id)):
        return ""
    if view.team_id is None:
        return _("他の人の個人用ビューは削除できません。")
    return _("チームで共有したビューを削除できるのは、作成者とチームリーダーです。")


@transaction.atomic
def do_delete_view(view: SavedView, *, actor: User) -> None:
    refusal = delete_refusal(view, actor)
    if refusal:
        raise CaseError(refusal)
    view.delete()


@dataclass(frozen=True, slots=True)
class ViewLink:
    pk: int
    name: str
    query: str
    shared: bool
    deletable: bool


def views_for(user: User) -> list[ViewLink]:
    """The user's own views (first) and their team's shared ones, by name, in one query."""
    mine = Q(owner=user, team__isnull=True)
    if user.team_id is not None:
        mine |= Q(team_id=user.team_id)
    rows = SavedView.objects.filter(mine).order_by(F("team_id").asc(nulls_first=True), "name", "pk").values_list("pk", "name", "query", "owner_id", "team_id")
    found = []
    for pk, name, query, owner_id, team_id in rows:
        view = SavedView(pk=pk, owner_id=owner_id, team_id=team_id)
        found.append(ViewLink(pk, name, query, team_id is not None, not delete_refusal(view, user)))
    return found


def as_dict(query: str) -> dict[str, Any]:
    return dict(parse_qsl(query))
