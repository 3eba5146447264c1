"""Bulk actions on cases selected in the inbox (issue 22 item 3): assign, status, category, add a
tag, merge. Each case goes through the same do_* function as the single change on the case page
(audit, optimistic lock, refusals), in its own transaction, so one refused case never stops the
others; the result says, case by case, what was done and what was refused and why (Japanese).

The role rule of bulk assignment: an agent assigns only to themselves (handing a case to a
colleague is a handover, with its note, on the case page); a team lead to themselves or a member
of their team; an admin to anyone active."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.utils.translation import gettext as _

from madoguchi.accounts.models import User
from madoguchi.cases import labels, services
from madoguchi.cases.models import ACTIVE_STATUSES, Case, Category, Status, Tag

MAX_CASES = 200
ACTIONS = ("assign", "status", "category", "tag", "merge")


@dataclass(frozen=True, slots=True)
class Outcome:
    case_id: int
    subject: str
    ok: bool
    message: str


def parse_selection(values: list[str]) -> list[tuple[int, int]]:
    """The inbox checkboxes' values, "<case id>.<version as shown>", bad ones skipped, in order."""
    seen: dict[int, int] = {}
    for value in values:
        pk_text, _dot, version_text = value.partition(".")
        if pk_text.isascii() and pk_text.isdigit() and version_text.isascii() and version_text.isdigit():
            seen.setdefault(int(pk_text), int(version_text))
    return list(seen.items())


def assign_refusal(actor: User, to_user: User) -> str:
    if not to_user.is_active:
        return _("%(user)sさんは無効なユーザーのため割り当てられません。") % {"user": to_user}
    if to_user.pk == actor.pk or actor.is_admin:
        return ""
    if actor.is_lead:
        if actor.team_id is not None and to_user.team_id == actor.team_id:
            return ""
        return _("チームリーダーが一括で割り当てられるのは、自分と自分のチームのメンバーだけです。")
    return _("担当者の役割では、自分以外の人への一括割り当てはできません。"
             "引き継ぐときは案件ページから引き継ぎメモを付けて引き継いでください。")


def do_bulk(actor: User, selection: list[tuple[int, int]], action: str, value: str) -> list[Outcome]:
    """Apply `action` (with `value`: a user id, a status, a category id or a tag id; nothing for
    merge) to the selected cases; one Outcome per case, in the order selected."""
    if not selection:
        raise services.CaseError(_("案件が選ばれていません。一覧のチェックボックスで選んでください。"))
    if len(selection) > MAX_CASES:
        raise services.CaseError(_("一度に操作できるのは%(max)s件までです。") % {"max": MAX_CASES})
    if action not in ACTIONS:
        raise services.CaseError(_("操作を選んでください。"))
    cases = Case.objects.select_related("assignee").in_bulk([pk for pk, _version in selection])
    missing = [Outcome(pk, "", False, _("案件が見つかりません。")) for pk, _version in selection if pk not in cases]
    chosen = [(cases[pk], version) for pk, version in selection if pk in cases]
    if action == "merge":
        return missing + _merge(actor, chosen)
    do_one = _action(actor, action, value)
    outcomes = list(missing)
    for case, version in chosen:
        try:
            message = do_one(case, version)
        except services.CaseConflict as conflict:
            outcomes.append(Outcome(case.pk, case.subject, False, str(conflict.args[0])))
        except services.CaseError as refused:
            outcomes.append(Outcome(case.pk, case.subject, False, str(refused)))
        else:
            outcomes.append(Outcome(case.pk, case.subject, True, message))
    return outcomes


def _value_error(message: str) -> services.CaseError:
    return services.CaseError(message)


def _action(actor: User, action: str, value: str) -> Callable[[Case, int], str]:
    """A function (case, version) -> what was done, for one case; raises CaseError when refused.
    A bad value refuses the whole action at once (CaseError)."""
    number = int(value) if value.isascii() and value.isdigit() else None
    if action == "assign":
        to_user = User.objects.filter(pk=number).first() if number is not None else None
        if to_user is None:
            raise _value_error(_("割り当てる担当者を選んでください。"))
        refusal = assign_refusal(actor, to_user)
        if refusal:
            raise _value_error(refusal)

        def assign(case: Case, version: int) -> str:
            if case.assignee_id == to_user.pk:
                return _("変更なし（すでに%(user)sさんが担当）") % {"user": to_user}
            services.do_take_case(case, actor=actor, expected_version=version, to_user=to_user)
            return _("%(user)sさんに割り当てました") % {"user": to_user}
        return assign
    if action == "status":
        if value not in Status.values:
            raise _value_error(_("変更後の状態を選んでください。"))
        label = Status(value).label

        def status(case: Case, version: int) -> str:
            services.do_update_case(case, actor=actor, expected_version=version, changes={"status": value})
            return _("状態を「%(status)s」にしました") % {"status": label}
        return status
    if action == "category":
        category = Category.objects.filter(pk=number, active=True).first() if number is not None else None
        if category is None:
            raise _value_error(_("変更後の分類を選んでください。"))

        def categorise(case: Case, version: int) -> str:
            services.do_update_case(case, actor=actor, expected_version=version, changes={"category": category})
            return _("分類を「%(category)s」にしました") % {"category": category.name}
        return categorise
    tag = Tag.objects.filter(pk=number).first() if number is not None else None
    if tag is None:
        raise _value_error(_("追加するタグを選んでください。"))

    def add_tag(case: Case, version: int) -> str:
        if labels.do_tag_case(case, tag, actor=actor):
            return _("タグ「%(tag)s」を追加しました") % {"tag": tag.name}
        return _("変更なし（タグ「%(tag)s」はすでにあります）") % {"tag": tag.name}
    return add_tag


def _merge(actor: User, chosen: list[tuple[Case, int]]) -> list[Outcome]:
    """Merge the selected cases of one customer into the oldest of them still open (by the
    existing do_merge_cases, one merge per case, each undoable). Refused as a whole when they
    are of different customers, fewer than two, or none is open."""
    if len(chosen) < 2:
        raise services.CaseError(_("統合するには、同じお客様の案件を2件以上選んでください。"))
    if len({case.customer_id for case, _version in chosen}) > 1:
        raise services.CaseError(_("選んだ案件のお客様が同じではないため統合できません。統合できるのは同じお客様の案件だけです"
                                   "（同じ出来事の案件どうしは案件ページで「関連する案件」としてリンクできます）。"))
    open_ones = [case for case, _version in chosen if case.status in ACTIVE_STATUSES and case.merged_into_id is None]
    if not open_ones:
        raise services.CaseError(_("選んだ案件はすべて解決済み・完了のため、統合先にできる案件がありません。"))
    target = min(open_ones, key=lambda case: (case.received_at, case.pk))
    outcomes = [Outcome(target.pk, target.subject, True, _("統合先（最初に受け付けた対応中の案件）"))]
    for case, version in chosen:
        if case.pk == target.pk:
            continue
        if case.version != version:
            outcomes.append(Outcome(case.pk, case.subject, False, _(
                "一覧を表示した後にこの案件が更新されたため統合しませんでした。最新の内容を確認してから、もう一度選んでください。")))
            continue
        try:
            services.do_merge_cases(case, target, actor=actor)
        except services.CaseError as refused:
            outcomes.append(Outcome(case.pk, case.subject, False, str(refused)))
        else:
            outcomes.append(Outcome(case.pk, case.subject, True, _("案件 #%(target)s に統合しました") % {"target": target.pk}))
    return outcomes
