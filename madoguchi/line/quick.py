"""Quick-reply buttons on LINE replies (issue 19): a reply written from a template that has
quick replies (`knowledge.ReplyTemplate.quick_replies`) goes to a LINE customer with those
buttons under it. Registered in `cases.services.REPLY_ACTIONS`: it runs in the reply's own
transaction, after `interaction_added` queued the `LineOutbound` and before the commit hands it
to the worker, so the buttons leave with the first attempt."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from madoguchi.accounts.models import User
from madoguchi.cases.models import Case, Channel
from madoguchi.knowledge.macros import template_of_reply
from madoguchi.knowledge.models import QUICK_REPLY_LABEL_MAX, QUICK_REPLY_MAX, quick_reply_labels
from madoguchi.line.models import LineOutbound, OutboundState


def attach_quick_replies(case: Case, actor: User, data: dict[str, Any]) -> list[str]:
    template = template_of_reply(actor, data)
    labels = quick_reply_labels(template.quick_replies)[:QUICK_REPLY_MAX] if template is not None else []
    if not labels:
        return []
    row = (LineOutbound.objects.filter(case_id=case.pk, interaction__author=actor, interaction__channel=Channel.LINE,
                                       state=OutboundState.PENDING, attempts=0)
           .order_by("-pk").first())
    if row is None:
        return []  # not a LINE reply (a mail on a LINE customer's case): buttons are LINE's
    row.quick_replies = [label[:QUICK_REPLY_LABEL_MAX] for label in labels]
    row.save(update_fields=["quick_replies"])
    return [_("LINEのクイックリプライ: %(labels)s") % {"labels": "、".join(row.quick_replies)}]
