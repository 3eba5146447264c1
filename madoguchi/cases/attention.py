"""Who must look at a case because the customer wrote: the 「新着返信」 mark in the inbox, and the
notification when a reply reopens a resolved case (SPEC §2: the customer is never left unheard).

The mark is a column on Case (`unread_by_assignee`), so the inbox shows it without a query per
row. It is set when a customer's message joins a case that already had one, and cleared when the
assignee opens the case or when staff reply. Receivers are connected in CasesConfig.ready().
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_noop

from madoguchi.accounts.models import User
from madoguchi.accounts.services import approvers_for
from madoguchi.cases.models import Case, Interaction, InteractionKind, Status
from madoguchi.notifications.services import do_notify

REOPENED_FROM = (Status.RESOLVED, Status.CLOSED)


def on_interaction_added(sender: Any, interaction: Interaction, actor: User | None, **kwargs: Any) -> None:
    """A customer's reply marks the case unread for its assignee; a reply from staff clears it.
    The first message of a case (received when the case was) is the case itself, not a reply,
    and a call the assignee records themselves is no news to them."""
    case = interaction.case
    recorded_by_assignee = actor is not None and actor.pk == case.assignee_id  # a call they took themselves
    if interaction.kind == InteractionKind.INBOUND and interaction.occurred_at > case.received_at and not recorded_by_assignee:
        # Not trusting the in-memory flag: a mail batch read its cases before this mail.
        Case.objects.filter(pk=case.pk, unread_by_assignee=False).update(unread_by_assignee=True)
        case.unread_by_assignee = True
    elif interaction.kind == InteractionKind.OUTBOUND and actor is not None and case.unread_by_assignee:
        Case.objects.filter(pk=case.pk).update(unread_by_assignee=False)
        case.unread_by_assignee = False


def on_status_changed(sender: Any, case: Case, old: str, new: str, actor: User | None, **kwargs: Any) -> None:
    """The customer wrote on a resolved (or closed) case and it is open again: tell the assignee,
    or, if nobody has it, the team's lead (else the admins). A person who reopens a case by hand
    knows it already."""
    if actor is not None or old not in REOPENED_FROM or new != Status.OPEN:
        return
    assignee = case.assignee if case.assignee_id else None
    recipients = [assignee] if assignee is not None and assignee.is_active else approvers_for(None, case.team)
    if recipients:
        do_notify(recipients, kind="case_reopened", case=case,
                  message=gettext_noop("%(case)s %(subject)s にお客様から返信があり、対応中に戻りました。"),
                  params={"case": case.number, "subject": case.subject})


def do_mark_seen(case: Case, user: User) -> bool:
    """The assignee opened the case: the 「新着返信」 mark goes. Anyone else's visit leaves it
    for the assignee. Writes only when the mark is set; returns whether it was."""
    if not case.unread_by_assignee or case.assignee_id != user.pk:
        return False
    Case.objects.filter(pk=case.pk, assignee_id=user.pk).update(unread_by_assignee=False)
    case.unread_by_assignee = False
    return True
