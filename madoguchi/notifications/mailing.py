"""Notifications by mail (issue 22 item 7): each person chooses which kinds reach them by mail.

An event to be mailed is a `MailEvent` row, written in the transaction that raised it (so
nothing is lost and nothing is mailed for a write that rolled back), unique per (person, key):
a notification, a customer's message or a reminder raised twice is mailed once. After the
commit a task sends what is due; the minute job sends what is left (a digest whose window
ended, a task that was lost). The mail itself goes through the mail app's outbox
(`mail.outbound.queue_staff_mail`: one row per `dedupe_key`, retries, never sent twice).

Batching: the first event of a kind for a person is mailed at once. Events of the same kind
for that person arriving within `NOTIFY_MAIL_DIGEST_MINUTES` (5) of that mail wait until the
window ends and go together as one digest mail; events raised in one transaction (a bulk
action) are one mail too. So a burst of 50 is at most two mails: the first, then a digest.

Nobody is mailed about their own action (`actor`), and nothing goes to an inactive person or
one with no address. The mail is in the person's mail language (Japanese unless they chose
English), times in the shop's zone (JST), with an absolute link to the case (`SITE_URL`).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Max
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext, gettext_noop

from madoguchi import after_commit
from madoguchi.figures import stamp
from madoguchi.notifications.models import MailEvent, MailKind, MailPreference, Notification

if TYPE_CHECKING:
    from madoguchi.accounts.models import User
    from madoguchi.cases.models import Case

log = logging.getLogger(__name__)

# In-desk notification kinds that are also mailed, and the choice that governs each.
KIND_OF: dict[str, str] = {
    "handover": MailKind.HANDOVER,
    "approval": MailKind.APPROVAL,
    "approval_decided": MailKind.APPROVAL,
    "sla_warning": MailKind.SLA,
    "sla_breach": MailKind.SLA,
    "commitment_overdue": MailKind.PROMISE,
    "late_notice": MailKind.PROMISE,
    "survey_low": MailKind.LOW_SATISFACTION,
    "pattern_spike": MailKind.SPIKE,
    "listening_spike": MailKind.SPIKE,
}
MAX_DIGEST = 200  # events in one mail; more wait for the next one


def digest_window() -> dt.timedelta:
    return dt.timedelta(minutes=settings.NOTIFY_MAIL_DIGEST_MINUTES)


def preference_of(user: User) -> MailPreference:
    """The person's choices; the defaults (every kind, Japanese, 9:00) if never saved."""
    found = MailPreference.objects.filter(user=user).first()
    return found if found is not None else MailPreference(user=user)


def _preferences(users: Iterable[User]) -> dict[int, MailPreference]:
    users = list(users)
    found = {row.user_id: row for row in MailPreference.objects.filter(user__in=[u.pk for u in users])}
    return {user.pk: found.get(user.pk) or MailPreference(user=user) for user in users}


def case_url(case: Case) -> str:
    return f"{settings.SITE_URL}{reverse('cases:detail', args=[case.pk])}"


# --- Raising ---------------------------------------------------------------------------------------

def plan(users: Sequence[User], *, kind: str, key: str, message: str, params: dict[str, Any] | None = None,
         case: Case | None = None, actor: User | None = None,
         notifications: dict[int, Notification] | None = None) -> list[MailEvent]:
    """Note one event for each of `users` who wants this kind by mail; returns the new events
    (one already noted for a person, by its key, is not noted again). `key` is the event's
    identity; with `notifications` (person → their in-desk notification) it is the notification's."""
    now = timezone.now()
    people = [user for user in {user.pk: user for user in users}.values()
              if user.is_active and user.email and (actor is None or user.pk != actor.pk)]
    if not people:
        return []
    preferences = _preferences(people)
    people = [user for user in people if preferences[user.pk].wants(kind)]
    if not people:
        return []

    def key_of(user: User) -> str:
        if notifications is not None and user.pk in notifications:
            return f"n:{notifications[user.pk].pk}"
        return key

    keys = {user.pk: key_of(user)[:100] for user in people}
    noted = set(MailEvent.objects.filter(user__in=list(keys), key__in=set(keys.values())).values_list("user_id", "key"))
    people = [user for user in people if (user.pk, keys[user.pk]) not in noted]
    if not people:
        return []
    window = digest_window()
    last = dict(MailEvent.objects.filter(user__in=[u.pk for u in people], kind=kind, mailed_at__gt=now - window)
                .values("user_id").annotate(last=Max("mailed_at")).values_list("user_id", "last"))
    events = [
        MailEvent(user=user, kind=kind, key=keys[user.pk], case=case, message=message[:300], params=params or {},
                  notification=(notifications or {}).get(user.pk),
                  # Within a window of a mail of this kind: wait for the window to end, then one digest.
                  send_after=(last[user.pk] + window) if user.pk in last else now)
        for user in people
    ]
    MailEvent.objects.bulk_create(events, ignore_conflicts=True)  # a concurrent raise of the same key
    after_commit.collect("notifications.mail", [True], _send_soon)
    return events


def plan_notifications(rows: Sequence[Notification], *, actor: User | None = None) -> list[MailEvent]:
    """In-desk notifications just written (notifications.services.do_notify): mailed too when
    their kind is one people choose to get by mail."""
    if not rows or rows[0].kind not in KIND_OF:
        return []
    first = rows[0]
    return plan([row.user for row in rows], kind=KIND_OF[first.kind], key=f"n:{first.pk}", message=first.message,
                params=first.params, case=first.case, actor=actor, notifications={row.user_id: row for row in rows})


def _send_soon(_items: list[Any]) -> None:
    from madoguchi.notifications.tasks import send_notification_mails_task

    try:
        send_notification_mails_task()
    except Exception:  # noqa: BLE001 - the minute job sends them instead
        log.exception("notifications: could not queue the mail task")


# --- Sending ---------------------------------------------------------------------------------------

class _Taken(Exception):
    """Another worker mailed some of these events meanwhile."""


def send_due(now: dt.datetime | None = None, batch: int = 500) -> int:
    """Mail every person the events of a kind that are due, one mail per person and kind.
    Returns the number of mails put in the outbox."""
    now = now or timezone.now()
    groups = list(MailEvent.objects.filter(mailed_at__isnull=True, send_after__lte=now)
                  .values_list("user_id", "kind").annotate(n=Count("pk")).order_by()[:batch])
    queued = 0
    for user_id, kind, _count in groups:
        try:
            queued += _send_group(user_id, kind, now)
        except _Taken:
            continue
    return queued


def _send_group(user_id: int, kind: str, now: dt.datetime) -> int:
    from madoguchi.mail.outbound import queue_staff_mail

    with transaction.atomic():
        events = list(MailEvent.objects.filter(user_id=user_id, kind=kind, mailed_at__isnull=True, send_after__lte=now)
                      .select_related("user", "case").order_by("created_at", "pk")[:MAX_DIGEST])
        if not events:
            return 0
        ids = [event.pk for event in events]
        if MailEvent.objects.filter(pk__in=ids, mailed_at__isnull=True).update(mailed_at=now) != len(ids):
            raise _Taken
        user = events[0].user
        preference = preference_of(user)
        if not (user.is_active and user.email and preference.wants(kind)):
            return 0  # turned off (or left) since: marked done, nothing sent
        subject, body = render(preference, kind, events)
        row = queue_staff_mail(to=user.email, subject=subject, body=body, dedupe_key=f"notify:{ids[0]}",
                               case=events[0].case if len(events) == 1 else None)
        if row is None:
            return 0
        MailEvent.objects.filter(pk__in=ids).update(outbound=row)
        return 1


def footer() -> str:
    return gettext("時刻は日本時間です。メールで受け取る通知は「自分の設定」で選べます: %(url)s") % {
        "url": f"{settings.SITE_URL}{reverse('accounts:me')}#mail-notifications"}


def render(preference: MailPreference, kind: str, events: Sequence[MailEvent]) -> tuple[str, str]:
    """(subject, plain-text body) in the person's mail language."""
    user = preference.user
    with translation.override(preference.language or settings.LANGUAGE_CODE):
        label = str(MailKind(kind).label)
        greeting = gettext("%(name)s さん") % {"name": str(user)}
        if len(events) == 1:
            event = events[0]
            text = event.text
            subject = gettext("【%(kind)s】%(text)s") % {"kind": label, "text": text}
            lines = [greeting, "", text, ""]
            if event.case is not None:
                lines += [gettext("案件: %(number)s %(subject)s") % {"number": event.case.number, "subject": event.case.subject},
                          case_url(event.case), ""]
            lines += [stamp(event.created_at), "", "--", footer()]
        else:
            subject = gettext("【%(kind)s】%(count)s件のお知らせ") % {"kind": label, "count": len(events)}
            lines = [greeting, "",
                     gettext("%(first)s から %(last)s までに、%(count)s件のお知らせがありました。") % {
                         "first": stamp(events[0].created_at), "last": stamp(events[-1].created_at), "count": len(events)}, ""]
            for event in events:
                lines.append(f"- {stamp(event.created_at)} {event.text}")
                if event.case is not None:
                    lines.append(f"  {case_url(event.case)}")
            lines += ["", "--", footer()]
        return subject[:300], "\n".join(lines) + "\n"


# --- Events that are not in-desk notifications -----------------------------------------------------

def on_interaction_added(sender: Any, interaction: Any, actor: User | None = None, **kwargs: Any) -> None:
    """A customer wrote again on a case somebody has: its assignee hears of it by mail (the desk
    shows the 「新着返信」 mark). The case's first message is the case itself; a call the assignee
    records themselves is their own action."""
    from madoguchi.cases.models import InteractionKind

    if interaction.kind != InteractionKind.INBOUND:
        return
    case = interaction.case
    if case.assignee_id is None or interaction.occurred_at <= case.received_at:
        return
    if actor is not None and actor.pk == case.assignee_id:
        return
    plan([case.assignee], kind=MailKind.CUSTOMER_REPLY, key=f"reply:{interaction.pk}", case=case, actor=actor,
         message=gettext_noop("%(case)s %(subject)s にお客様から新しいメッセージが届きました。"),
         params={"case": case.number, "subject": case.subject})


def remind_promise(commitment: Any) -> bool:
    """Before a promise falls due, its owner hears of it by mail once (mail.receivers.remind_commitments)."""
    case = commitment.case
    return bool(plan([commitment.owner], kind=MailKind.PROMISE, key=f"remind:{commitment.pk}", case=case,
                     message=gettext_noop("%(case)s 約束「%(promise)s」の期限（%(due_at)s）が近づいています。"),
                     params={"case": case.number, "promise": commitment.description, "due_at": commitment.due_at.isoformat()}))
