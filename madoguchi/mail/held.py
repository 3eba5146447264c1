"""Replies by mail that do not go at once (issue 22 item 5, Re:lation's 承認 and 予約送信).

A reply waits for a lead's approval when its author's replies need one (User.replies_need_approval,
or every agent's when the mailbox says so: Mailbox.approval), and for its time when the agent
chose one. Until it goes it is a `HeldReply`, shown on the case page and (awaiting approval) on
the approvals list; nothing is on the timeline and nothing is in the outbox. When it goes it is
written by `cases.services.do_send_reply` as its author's reply, with its CC and BCC: one
transaction claims the row (a conditional UPDATE: of two workers, or a lead's click and the
scheduled time, exactly one wins) and writes the reply, whose mail the outbox sends once.

A scheduled reply goes by a Huey task queued with the reply's time (ETA) and, should that task be
lost (a restart, the time changed), by the minute sweep (`release_due`).
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.db import transaction
from django.db.models import F, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop

from madoguchi.accounts.models import Role, User
from madoguchi.accounts.services import approvers_for, decides_for_team
from madoguchi.cases.models import Case, Interaction, InteractionKind
from madoguchi.cases.services import CaseError, ReplyCollision, do_record, do_send_reply
from madoguchi.mail import recipients
from madoguchi.mail.models import HELD_OPEN, ApprovalRule, HeldReply, HeldState, Mailbox
from madoguchi.notifications.services import do_notify

log = logging.getLogger(__name__)
MAX_AHEAD = dt.timedelta(days=90)


class HeldError(CaseError):
    """A rule of held replies (Japanese, shown as it is)."""


class RepliedSinceHeld(ReplyCollision, HeldError):
    """Somebody replied to the customer after this reply was held: approving it unseen could
    send the customer two answers (issue 22 item 2's guard, for held replies too)."""

    message = gettext_lazy(
        "この返信が保留された後に、%(who)sさんがお客様へ返信しています。まだ送っていません。"
        "その返信を確かめて、それでも送る場合はもう一度「承認して送信」を押してください。"
    )


def replies_since(held: HeldReply, seen_up_to: int | None = None) -> list[Interaction]:
    """Replies a person sent on the case after `held` was written (and after the entry
    `seen_up_to`, the newest one the approver was shown), automatic ones aside."""
    found = Interaction.objects.filter(case_id=held.case_id, kind=InteractionKind.OUTBOUND, author__isnull=False,
                                       created_at__gt=held.created_at)
    if seen_up_to is not None:
        found = found.filter(pk__gt=seen_up_to)
    return list(found.select_related("author").order_by("id"))


def needs_approval(author: User, mailbox: Mailbox | None) -> bool:
    rule = mailbox.approval if mailbox is not None else ApprovalRule.FLAGGED
    if rule == ApprovalRule.NONE:
        return False
    if rule == ApprovalRule.AGENTS and author.role == Role.AGENT and not author.is_superuser:
        return True
    return author.replies_need_approval


def approvers(held: HeldReply) -> list[User]:
    """Who decides: the case team's lead (else the author's team's), else every admin; never the
    author."""
    case = held.case
    found = [user for user in approvers_for(held.author, case.team) if user.pk != held.author_id]
    if not found:
        found = list(User.objects.filter(role=Role.ADMIN, is_active=True).exclude(pk=held.author_id))
    return found


def may_decide(user: User, held: HeldReply) -> bool:
    if user.pk == held.author_id or not user.is_active:
        return False
    if decides_for_team(user, held.case.team):
        return True
    author_team = held.author.team
    return user.is_lead and author_team is not None and author_team.lead_id == user.pk


def awaiting_for(user: User) -> QuerySet[HeldReply]:
    """Replies waiting for this user's approval: an admin sees all, a lead their team's (the
    case's team or the author's), nobody else any."""
    waiting = HeldReply.objects.filter(state=HeldState.AWAITING).exclude(author=user)
    if user.is_admin:
        return waiting
    if not user.is_lead:
        return HeldReply.objects.none()
    return waiting.filter(Q(case__team__lead=user) | Q(author__team__lead=user))


def may_edit(user: User, held: HeldReply) -> bool:
    return held.state in HELD_OPEN and (user.pk == held.author_id or may_decide(user, held))


def check_send_at(send_at: dt.datetime | None, now: dt.datetime | None = None) -> None:
    now = now or timezone.now()
    if send_at is None:
        return
    if send_at <= now:
        raise HeldError(_("送信日時が過去になっています。これからの日時を指定してください。"))
    if send_at > now + MAX_AHEAD:
        raise HeldError(_("送信日時は90日以内にしてください。"))


def _changes(held: HeldReply) -> dict[str, Any]:
    return {"held_reply": held.pk, "state": held.state, "send_at": held.send_at.isoformat() if held.send_at else None}


@transaction.atomic
def do_hold_reply(case: Case, *, author: User, body: str, cc: list[str], bcc: list[str],
                  send_at: dt.datetime | None, approval: bool) -> HeldReply:
    """Keep a reply back: for approval (`approval`), or until `send_at`."""
    if not body.strip():
        raise HeldError(_("返信の本文を入力してください。"))
    check_send_at(send_at)
    held = HeldReply.objects.create(
        case=case, author=author, body=body, cc=recipients.join(cc), bcc=recipients.join(bcc), send_at=send_at,
        needs_approval=approval, state=HeldState.AWAITING if approval else HeldState.SCHEDULED,
    )
    if approval:
        do_record(case, actor=author, action="reply_held", changes=_changes(held))
        _ask(held)
    else:
        do_record(case, actor=author, action="reply_scheduled", changes=_changes(held))
        _queue_release(held)
    return held


def _ask(held: HeldReply) -> None:
    do_notify(approvers(held), kind="reply_approval", case=held.case, actor=held.author,
              message=gettext_noop("案件 #%(case)s: %(author)sさんの返信が承認を待っています。"),
              params={"case": held.case_id, "author": str(held.author)})


def _lock(held: HeldReply, expected_version: int | None) -> HeldReply:
    current = HeldReply.objects.select_for_update().select_related("case", "author").get(pk=held.pk)
    if expected_version is not None and current.version != expected_version:
        raise HeldError(_("この返信は他の人が先に変更しました。最新の内容を確認してから、もう一度操作してください。"))
    return current


@transaction.atomic
def do_approve(held: HeldReply, *, actor: User, expected_version: int | None = None,
               seen_up_to: int | None = None) -> HeldReply:
    """The lead approves: the reply goes now (or at its time, if one was chosen and is still ahead).
    Refused (RepliedSinceHeld) while a person's reply written since the hold is newer than the
    entry `seen_up_to` the lead was shown; None: any such reply refuses it."""
    current = _lock(held, expected_version)
    if current.state != HeldState.AWAITING:
        raise HeldError(_("この返信はもう承認待ちではありません（%(state)s）。") % {"state": current.get_state_display()})
    if not may_decide(actor, current):
        raise HeldError(_("この返信を承認できるのは、チームのリーダーか管理者です（自分の返信は承認できません）。"))
    newer = replies_since(current, seen_up_to)
    if newer:
        raise RepliedSinceHeld(newer)
    current.approved_by, current.comment = actor, ""
    current.version += 1
    later = current.send_at is not None and current.send_at > timezone.now()
    current.state = HeldState.SCHEDULED if later else HeldState.AWAITING
    current.save(update_fields=["approved_by", "comment", "version", "state", "updated_at"])
    do_record(current.case, actor=actor, action="reply_approved", changes=_changes(current))
    if later:
        _queue_release(current)
        message = gettext_noop("案件 #%(case)s: あなたの返信が承認されました（%(send_at)s に送信します）。")
        params: dict[str, Any] = {"case": current.case_id, "send_at": current.send_at.isoformat() if current.send_at else ""}
    else:
        _send(current, claim_from=HeldState.AWAITING)
        message = gettext_noop("案件 #%(case)s: あなたの返信が承認され、送信されました。")
        params = {"case": current.case_id}
    do_notify([current.author], kind="reply_approval_decided", case=current.case, actor=actor, message=message, params=params)
    return current


@transaction.atomic
def do_return(held: HeldReply, *, actor: User, comment: str, expected_version: int | None = None) -> HeldReply:
    """The lead sends it back to its author with a comment; nothing is sent."""
    if not comment.strip():
        raise HeldError(_("差し戻す理由（コメント）を入力してください。"))
    current = _lock(held, expected_version)
    if current.state != HeldState.AWAITING:
        raise HeldError(_("この返信はもう承認待ちではありません（%(state)s）。") % {"state": current.get_state_display()})
    if not may_decide(actor, current):
        raise HeldError(_("この返信を差し戻せるのは、チームのリーダーか管理者です。"))
    current.state, current.comment, current.returned_by = HeldState.RETURNED, comment.strip()[:2000], actor
    current.version += 1
    current.save(update_fields=["state", "comment", "returned_by", "version", "updated_at"])
    do_record(current.case, actor=actor, action="reply_returned", changes=_changes(current))
    do_notify([current.author], kind="reply_approval_decided", case=current.case, actor=actor,
              message=gettext_noop("案件 #%(case)s: あなたの返信が差し戻されました。コメント: %(comment)s"),
              params={"case": current.case_id, "comment": current.comment[:200]})
    return current


@transaction.atomic
def do_edit(held: HeldReply, *, actor: User, body: str, cc: list[str], bcc: list[str], send_at: dt.datetime | None,
            expected_version: int | None = None) -> HeldReply:
    """The author (or a lead who may decide it) changes a reply that has not gone: its words, CC,
    BCC or time. An author whose replies need approval resubmits it: it waits for approval again."""
    current = _lock(held, expected_version)
    if not may_edit(actor, current):
        raise HeldError(_("この返信はもう変更できません（%(state)s）。") % {"state": current.get_state_display()})
    if not body.strip():
        raise HeldError(_("返信の本文を入力してください。"))
    check_send_at(send_at)
    current.body, current.cc, current.bcc, current.send_at = body, recipients.join(cc), recipients.join(bcc), send_at
    current.version += 1
    was = current.state
    if current.needs_approval and actor.pk == current.author_id:
        current.state, current.approved_by = HeldState.AWAITING, None
    elif current.state == HeldState.RETURNED:
        current.state = HeldState.AWAITING if current.needs_approval else HeldState.SCHEDULED
    current.save()
    do_record(current.case, actor=actor, action="reply_held_edited", changes=_changes(current))
    if current.state == HeldState.AWAITING:
        if was != HeldState.AWAITING or actor.pk == current.author_id:
            _ask(current)  # (re)submitted; a lead's own touch-up of a waiting reply asks nobody again
    elif send_at is None:
        _send(current, claim_from=HeldState.SCHEDULED)  # "now" chosen for a scheduled reply
    else:
        _queue_release(current)
    return current


@transaction.atomic
def do_cancel(held: HeldReply, *, actor: User, expected_version: int | None = None) -> HeldReply:
    current = _lock(held, expected_version)
    if not may_edit(actor, current):
        raise HeldError(_("この返信はもう取り消せません（%(state)s）。") % {"state": current.get_state_display()})
    current.state = HeldState.CANCELLED
    current.version += 1
    current.save(update_fields=["state", "version", "updated_at"])
    do_record(current.case, actor=actor, action="reply_cancelled", changes=_changes(current))
    return current


def _send(held: HeldReply, *, claim_from: str) -> bool:
    """Claim the reply (state `claim_from` → sent, one conditional UPDATE) and write it as its
    author's reply in this transaction. False if someone else claimed it first."""
    taken = HeldReply.objects.filter(pk=held.pk, state=claim_from).update(state=HeldState.SENT, version=F("version") + 1,
                                                                         updated_at=timezone.now())
    if not taken:
        return False
    reply = do_send_reply(held.case, actor=held.author, body=held.body,
                          delivery={"cc": recipients.split(held.cc), "bcc": recipients.split(held.bcc)})
    HeldReply.objects.filter(pk=held.pk).update(interaction=reply, error="")
    held.state, held.interaction = HeldState.SENT, reply
    return True


def release(pk: int, now: dt.datetime | None = None) -> bool:
    """Send a scheduled reply whose time has come (the ETA task and the minute sweep). A reply
    that can no longer be sent (the case was merged) goes back to its author with the reason."""
    now = now or timezone.now()
    held = HeldReply.objects.select_related("case", "author").filter(pk=pk, state=HeldState.SCHEDULED, send_at__lte=now).first()
    if held is None:
        return False
    try:
        with transaction.atomic():
            return _send(held, claim_from=HeldState.SCHEDULED)
    except CaseError as error:
        with transaction.atomic():
            if HeldReply.objects.filter(pk=pk, state=HeldState.SCHEDULED).update(
                    state=HeldState.RETURNED, error=str(error)[:2000], version=F("version") + 1):
                do_notify([held.author], kind="reply_approval_decided", case=held.case,
                          message=gettext_noop("案件 #%(case)s: 予約した返信を送れませんでした: %(error)s"),
                          params={"case": held.case_id, "error": str(error)[:200]})
        return False


def release_due(now: dt.datetime | None = None, batch: int = 100) -> int:
    now = now or timezone.now()
    due = list(HeldReply.objects.filter(state=HeldState.SCHEDULED, send_at__lte=now).order_by("send_at", "pk")
               .values_list("pk", flat=True)[:batch])
    return sum(release(pk, now) for pk in due)


def _queue_release(held: HeldReply) -> None:
    if held.send_at is None:
        return
    pk, eta = held.pk, held.send_at

    def queue() -> None:
        from madoguchi.mail.tasks import release_held_reply_task

        try:
            release_held_reply_task.schedule((pk,), eta=eta)
        except Exception:  # noqa: BLE001 - the minute sweep sends it instead
            log.exception("mail: could not queue held reply %s", pk)

    transaction.on_commit(queue)


def open_of_page_case() -> Any:
    """open_for_case's rows, for the case page's case query (cases.page.CASE_PAGE_EXISTS)."""
    return HeldReply.objects.filter(case=OuterRef("pk"), state__in=HELD_OPEN)


def open_for_case(case: Case) -> list[HeldReply]:
    return list(HeldReply.objects.filter(case=case, state__in=HELD_OPEN)
                .select_related("author__team", "approved_by", "returned_by")
                .order_by("created_at", "pk"))
