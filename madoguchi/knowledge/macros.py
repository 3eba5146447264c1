"""Macros (issue 22, item 6): a reply template that also sets fields of the case when the reply
written from it is sent: status, category, assignee (the sender, or a named person) and a
promise due in N business hours (businesshours: closed days and nights are not counted).

The reply form posts the id of the template the agent inserted (reply_tools.js); the case desk
calls `apply_after_reply` (registered in cases.services.REPLY_ACTIONS) in the reply's own
transaction, and every change goes through the desk's do_* functions (audit trail, version)."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from madoguchi.accounts.models import User
from madoguchi.businesshours.calendar import add_business_seconds
from madoguchi.cases import services
from madoguchi.cases.models import Case
from madoguchi.knowledge.models import ReplyTemplate
from madoguchi.knowledge.replies import templates_for


def summary(template: ReplyTemplate) -> list[str]:
    """What sending with this template also does, as the agent reads it beside the reply box
    (the template row comes with its category and assignee: no query)."""
    lines = []
    if template.assign_to_sender:
        lines.append(_("担当者を自分にする"))
    elif template.set_assignee_id:
        lines.append(_("担当者: %(name)s") % {"name": template.set_assignee})
    if template.set_status:
        lines.append(_("状態: %(status)s") % {"status": template.get_set_status_display()})
    if template.set_category_id:
        lines.append(_("分類: %(category)s") % {"category": template.set_category.name})  # type: ignore[union-attr]
    if template.promise and template.promise_business_hours:
        lines.append(_("約束「%(promise)s」（営業時間で%(hours)s時間後が期限）")
                     % {"promise": template.promise, "hours": template.promise_business_hours})
    return lines


def template_of_reply(actor: User, data: dict[str, Any]) -> ReplyTemplate | None:
    """The template the reply form names (one the actor may use), None if it names none;
    a CaseError (the reply undone) if it names one the actor cannot use."""
    template_id = data.get("macro")
    if not template_id:
        return None
    template = next((t for t in templates_for(actor) if t.pk == template_id), None)
    if template is None:
        raise services.CaseError(_("選んだテンプレートが見つかりません。返信は送っていません。もう一度選び直してください。"))
    return template


def apply_after_reply(case: Case, actor: User, data: dict[str, Any]) -> list[str]:
    """REPLY_ACTIONS hook: the macro of the template named in the reply form, if any."""
    template = template_of_reply(actor, data)
    return do_apply_macro(case, template, actor=actor) if template is not None else []


def do_apply_macro(case: Case, template: ReplyTemplate, *, actor: User) -> list[str]:
    """Apply the template's field changes to the case, each through the desk's do_* function;
    returns what was done (empty: the template sets nothing). The assignee first (a case set to
    解決済み can no longer be taken), then status and category, then the promise."""
    done = summary(template)
    if not done:
        return []
    current = Case.objects.get(pk=case.pk)
    assignee = actor if template.assign_to_sender else template.set_assignee
    if assignee is not None and assignee.is_active:
        current = services.do_take_case(current, actor=actor, expected_version=current.version, to_user=assignee)
    changes: dict[str, Any] = {}
    if template.set_status:
        changes["status"] = template.set_status
    if template.set_category_id:
        changes["category"] = template.set_category
    if changes:
        current = services.do_update_case(current, actor=actor, expected_version=current.version, changes=changes)
    if template.promise and template.promise_business_hours:
        try:
            due = add_business_seconds(timezone.now(), template.promise_business_hours * 3600)
        except ValueError as error:  # no business hours set at all
            raise services.CaseError(str(error)) from error
        services.do_add_commitment(current, actor=actor, description=template.promise, due_at=due)
    return done
