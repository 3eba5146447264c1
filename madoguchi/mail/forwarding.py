"""A case forwarded to another department by mail, and their answer joining it (issue 22 item 5).

`do_forward` sends the department a mail from the case's mailbox with the agent's request and
the case's conversation quoted (what the customer wrote and what the shop answered, with times),
Reply-To the mailbox's own address, and a token 「[fw:…]」 in the subject; the case enters
「他部署の回答待ち」 (the inbox queue of that name lists it by itself).

Their answer arrives like any mail (SMTP receiver, IMAP). Ingest asks `answered` before it
threads a mail to a customer's case: a mail answering the forward (In-Reply-To/References name
the forward's Message-ID, or the subject carries its token) joins the case as an internal entry
(社内メモ: never shown to the customer, never on the status page), whoever sent it, and never
opens a case or a customer record for the department's address. When every forward of the case
is answered the case leaves 「他部署の回答待ち」 for 対応中, and its assignee is notified.
"""

from __future__ import annotations

import re
import secrets
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_noop

from madoguchi.accounts.models import User
from madoguchi.accounts.services import approvers_for
from madoguchi.cases.models import Case, Channel, Interaction, InteractionKind, Status
from madoguchi.cases.services import do_add_interaction, do_record, do_set_status
from madoguchi.figures import stamp
from madoguchi.mail.models import Department, Forward, RawMessage, RawState
from madoguchi.mail.outbound import queue_forward
from madoguchi.mail.parsing import ParsedMessage
from madoguchi.notifications.services import do_notify

TOKEN = re.compile(r"\[fw:([0-9a-f]{16})\]")
QUOTED_ENTRIES = 30  # the newest messages of the conversation quoted in the forward


def _thread_text(case: Case) -> str:
    entries = list(Interaction.objects.filter(case=case, kind__in=[InteractionKind.INBOUND, InteractionKind.OUTBOUND])
                   .select_related("author").order_by("-occurred_at", "-pk")[:QUOTED_ENTRIES])
    lines = [f"―――― 案件 #{case.pk}「{case.subject}」のやりとり（古い順） ――――",
             f"お客様: {case.customer.name}", f"受付: {stamp(case.received_at)}", ""]
    for entry in reversed(entries):
        who = "お客様から" if entry.kind == InteractionKind.INBOUND else f"お客様へ（{entry.author or '自動送信'}）"
        lines.append(f"[{stamp(entry.occurred_at)} {who}・{entry.get_channel_display()}]")
        lines += [f"> {line}" for line in entry.body.splitlines()] or ["> "]
        lines.append("")
    return "\n".join(lines)


def forward_text(case: Case, author: User, note: str) -> str:
    return (
        f"{note.strip()}\n\n"
        f"（{author} より。このメールにそのまま返信してください。回答は案件 #{case.pk} に社内の記録として入ります。"
        "お客様には送られません。件名の [fw:…] は消さないでください。）\n\n"
        f"{_thread_text(case)}\n"
    )


@transaction.atomic
def do_forward(case: Case, *, actor: User, note: str, to_address: str, department: Department | None = None) -> Forward:
    token = secrets.token_hex(8)
    subject = f"【転送】{case.subject} [#{case.pk}] [fw:{token}]"
    out = queue_forward(case, to=to_address, subject=subject, body=forward_text(case, actor, note))
    forward = Forward.objects.create(case=case, department=department, to_address=to_address, note=note.strip(),
                                     author=actor, token=token, outbound=out)
    name = department.name if department is not None else to_address
    do_add_interaction(case, actor=actor, kind=InteractionKind.SYSTEM, channel=Channel.EMAIL,
                       body=f"他部署（{name} <{to_address}>）に転送しました。依頼内容:\n{note.strip()}")
    do_record(case, actor=actor, action="forwarded", changes={"forward": forward.pk, "to": to_address})
    do_set_status(case, actor=actor, status=Status.WAITING_DEPT, why="forwarded")
    return forward


def mentions_forward(parsed: ParsedMessage, forward_ids: set[str]) -> bool:
    """Without a query: the subject carries a forward's token, or the headers name a forward's
    Message-ID among `forward_ids` (read with the batch's thread ids, mail.threading)."""
    return bool(TOKEN.search(parsed.subject)) or any(mid in forward_ids for mid in parsed.thread_ids)


def answered(parsed: ParsedMessage, forward_ids: set[str]) -> Forward | None:
    """The forward this mail answers, if any."""
    if not mentions_forward(parsed, forward_ids):
        return None
    ids = [mid for mid in parsed.thread_ids if mid in forward_ids]
    if ids:
        found = Forward.objects.select_related("case").filter(outbound__message_id__in=ids).first()
        if found is not None:
            return found
    match = TOKEN.search(parsed.subject)
    return Forward.objects.select_related("case").filter(token=match.group(1)).first() if match else None


def file_answer(row: RawMessage, parsed: ParsedMessage, forward: Forward, out: Any) -> None:
    """The department's answer (inside the mail's savepoint): an internal entry on the case."""
    from madoguchi.cases.services import follow_merges

    case = follow_merges(forward.case)
    row.case = case
    if parsed.auto_reason:  # their out-of-office reply: kept beside the case, not an answer
        row.state, row.error = RawState.IGNORED, f"自動送信のメールのため案件に記録していません（{parsed.auto_reason}）。"
        out.row(row)
        return
    sender = f"{parsed.from_name} <{parsed.from_address}>" if parsed.from_name else parsed.from_address
    body = parsed.visible_text or parsed.text or "（本文なし）"
    note = out.message(case, kind=InteractionKind.NOTE, channel=Channel.EMAIL,
                       body=f"他部署からの回答（{sender}、転送先 {forward.to_address}）:\n\n{body}",
                       occurred_at=row.received_at or timezone.now(), external_id=parsed.message_id)
    row.interaction, row.state = note, RawState.PARSED
    out.row(row)
    first = Forward.objects.filter(pk=forward.pk, answered_at__isnull=True).update(answered_at=timezone.now(), answer=note)
    waiting = Forward.objects.filter(case=case, answered_at__isnull=True).exists()
    if not waiting:
        do_set_status(case, actor=None, status=Status.OPEN, why="department_answered", only_from=[Status.WAITING_DEPT])
    if first:
        people = [case.assignee] if case.assignee is not None else approvers_for(None, case.team)
        do_notify(people, kind="department_answered", case=case,
                  message=gettext_noop("案件 #%(case)s: 他部署（%(to)s）から回答が届きました。"),
                  params={"case": case.pk, "to": forward.department.name if forward.department else forward.to_address})


def forwards_of(case: Case) -> list[Forward]:
    return list(Forward.objects.filter(case=case).select_related("department", "author", "outbound").order_by("-created_at")[:10])
