"""The customer kept informed (SPEC §3 step 5): signed links to a case's status page, what that
page shows, and the late-promise notice the worker prepares and an agent approves.

Knows nothing of HTTP. Writes are `do_*` functions, audited on the case like the desk's own."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core import signing
from django.db import IntegrityError, transaction
from django.db.models import OuterRef, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop

from madoguchi.accounts.models import User
from madoguchi.accounts.services import approvers_for, decides_for_team
from madoguchi.cases.models import (
    ACTIVE_STATUSES,
    AuditEvent,
    Case,
    Commitment,
    CommitmentState,
    Interaction,
    InteractionKind,
    Status,
)
from madoguchi.cases.queues import ACTIVE_LITERAL
from madoguchi.cases.services import DELIVERED_CHANNELS, CaseError, do_send_reply, reply_channel
from madoguchi.customers.services import salutation
from madoguchi.notifications.services import do_notify
from madoguchi.progress.models import LateNotice, NoticeState, StatusLink

SALT = "madoguchi.progress.link"
# Where the agent's confirmed new time goes in the notice's text.
NEW_TIME = "【新しいご連絡予定】"

AUDIT_LABELS = {
    "status_link_made": gettext_lazy("進捗ページのリンクを作成"),
    "status_link_renewed": gettext_lazy("進捗ページのリンクを作り直し"),
    "status_link_revoked": gettext_lazy("進捗ページのリンクを無効化"),
    "late_notice_prepared": gettext_lazy("遅れのお知らせを準備"),
    "late_notice_sent": gettext_lazy("遅れのお知らせを送信"),
    "late_notice_dismissed": gettext_lazy("遅れのお知らせを送らないことにした"),
}


def _audit(case: Case, actor: User | None, action: str, changes: dict[str, Any]) -> None:
    AuditEvent.objects.create(case=case, actor=actor, action=action, changes=changes)


def jst(at: dt.datetime) -> str:
    """「2026年12月08日（火）15:00」 in the shop's time zone (JST)."""
    local = timezone.localtime(at)
    return f"{local:%Y年%m月%d日}（{'月火水木金土日'[local.weekday()]}）{local:%H:%M}"


# --- Links ----------------------------------------------------------------------------------

def _signer() -> signing.Signer:
    return signing.Signer(salt=SALT, sep=".")


def token_for(link: StatusLink) -> str:
    """`<id>.<HMAC-SHA256>`: unguessable without the secret key; nothing secret is stored."""
    return _signer().sign(str(link.pk))


def url_for(link: StatusLink) -> str:
    return settings.SITE_URL + reverse("progress:page", args=[token_for(link)])


def link_from_token(token: str, now: dt.datetime | None = None) -> StatusLink | None:
    """The live link a token names, or None (tampered, unknown, revoked or expired)."""
    try:
        value = _signer().unsign(token)
    except signing.BadSignature:
        return None
    if not value.isdigit() or len(value) > 18:
        return None
    link = StatusLink.objects.select_related("case__customer").filter(pk=int(value)).first()
    now = now or timezone.now()
    if link is None or link.revoked_at is not None or link.expires_at <= now:
        return None
    return link


def live_link(case: Case, now: dt.datetime | None = None) -> StatusLink | None:
    now = now or timezone.now()
    return (StatusLink.objects.filter(case=case, revoked_at__isnull=True, expires_at__gt=now)
            .order_by("-expires_at", "-id").first())


def live_links_of_page_case() -> Any:
    """live_link's rows, for the case page's case query (cases.page.CASE_PAGE_EXISTS)."""
    return StatusLink.objects.filter(case=OuterRef("pk"), revoked_at__isnull=True, expires_at__gt=timezone.now())


def drafts_of_page_case() -> Any:
    """The case's late notices waiting for a decision, for cases.page.CASE_PAGE_EXISTS."""
    return LateNotice.objects.filter(case=OuterRef("pk"), state=NoticeState.DRAFT)


def may_withdraw_links(user: User, case: Case) -> bool:
    """Renewing or withdrawing a link the customer may be using: the case's assignee, the lead of
    its team, an admin. (Making one, like replying, is any staff member's.)"""
    return user.is_active and (user.pk == case.assignee_id or decides_for_team(user, case.team))


def _new_link(case: Case, actor: User | None) -> StatusLink:
    return StatusLink.objects.create(
        case=case, created_by=actor, expires_at=timezone.now() + dt.timedelta(days=settings.PROGRESS_LINK_DAYS))


@transaction.atomic
def do_get_link(case: Case, *, actor: User | None) -> StatusLink:
    """The case's live link, made if it has none (the case row is locked so two clicks make one)."""
    Case.objects.select_for_update().filter(pk=case.pk).first()
    link = live_link(case)
    if link is None:
        link = _new_link(case, actor)
        _audit(case, actor, "status_link_made", {"link": link.pk})
    return link


@transaction.atomic
def do_revoke_links(case: Case, *, actor: User, renew: bool) -> StatusLink | None:
    """Withdraw every live link of the case (a forwarded mail, a customer who asks); `renew`
    makes a new one at once (the old URL then shows 「見つかりません」)."""
    if not may_withdraw_links(actor, case):
        raise CaseError(_("リンクを無効にできるのは、この案件の担当者、チームのリーダー、管理者です。"))
    Case.objects.select_for_update().filter(pk=case.pk).first()
    revoked = list(StatusLink.objects.filter(case=case, revoked_at__isnull=True).values_list("pk", flat=True))
    StatusLink.objects.filter(pk__in=revoked).update(revoked_at=timezone.now(), revoked_by=actor)
    link = _new_link(case, actor) if renew else None
    _audit(case, actor, "status_link_renewed" if renew else "status_link_revoked",
           {"revoked": revoked, **({"link": link.pk} if link else {})})
    return link


def ack_line(case: Case) -> str:
    """The paragraph the receipt mail adds: the status page of the new case."""
    if not settings.PROGRESS_LINK_IN_RECEIPT:
        return ""
    link = do_get_link(case, actor=None)
    return ("対応の状況とお約束の予定は、次のページでいつでもご確認いただけます（ログインは不要です）。\n"
            f"{url_for(link)}\n\n")


# --- What the customer sees -----------------------------------------------------------------

CUSTOMER_STATUS = {
    Status.NEW: gettext_lazy("お問い合わせを受け付けました。担当者が内容を確認しております。"),
    Status.OPEN: gettext_lazy("担当者が対応しております。"),
    Status.WAITING_CUSTOMER: gettext_lazy("お客様からのご返信をお待ちしております。"),
    Status.WAITING_DEPT: gettext_lazy("担当部署にて確認しております。"),
    Status.RESOLVED: gettext_lazy("対応が完了いたしました。"),
    Status.CLOSED: gettext_lazy("対応が完了いたしました。"),
}


@dataclass
class PublicPromise:
    description: str
    due_at: dt.datetime
    new_due_at: dt.datetime | None = None
    kept_at: dt.datetime | None = None


@dataclass
class PublicView:
    shop_name: str
    number: str
    received_at: dt.datetime
    status: str
    is_active: bool
    promises: list[PublicPromise] = field(default_factory=list)
    done: list[PublicPromise] = field(default_factory=list)
    replies: list[tuple[dt.datetime, str]] = field(default_factory=list)


# case → the shop's name as the customer knows it ("" if unknown); the mail app's mailbox name
# is registered in ready(). Else the setting MADOGUCHI_SHOP_NAME.
SHOP_NAMES: list[Any] = []


def shop_name(case: Case) -> str:
    for name_of in SHOP_NAMES:
        name = str(name_of(case) or "").strip()
        if name:
            return name
    return str(settings.PROGRESS_SHOP_NAME)


def public_view(case: Case) -> PublicView:
    """Only what the customer already knows or was promised: the state in their words, the
    promises made to them (never the internal ones, nor who owes them), the messages the shop
    sent them. Never notes, records, compensation internals or staff names beyond the replies'
    own signatures (which the customer received)."""
    promises = list(Commitment.objects.filter(case=case, internal=False, state__in=[CommitmentState.OPEN, CommitmentState.KEPT])
                    .select_related("late_notice").order_by("due_at", "id"))
    view = PublicView(shop_name=shop_name(case), number=case.number, received_at=case.received_at,
                      status=str(CUSTOMER_STATUS.get(Status(case.status), "")), is_active=case.status in ACTIVE_STATUSES)
    for promise in promises:
        notice = getattr(promise, "late_notice", None)
        shown = PublicPromise(description=promise.description, due_at=promise.due_at,
                              new_due_at=notice.new_due_at if notice is not None and notice.state == NoticeState.SENT else None)
        if promise.state == CommitmentState.KEPT:
            shown.kept_at = promise.closed_at
            view.done.append(shown)
        else:
            view.promises.append(shown)
    view.replies = list(Interaction.objects.filter(case=case, kind=InteractionKind.OUTBOUND)
                        .order_by("occurred_at", "id").values_list("occurred_at", "body")[:100])
    return view


def shown_case(link: StatusLink) -> Case:
    """The case the page shows: a case merged into another shows the one it became (the
    customer's link in an earlier mail keeps working)."""
    case = link.case
    for _hop in range(5):
        if case.merged_into_id is None:
            break
        case = Case.objects.select_related("customer").get(pk=case.merged_into_id)
    return case


def do_note_view(link: StatusLink) -> None:
    """When the customer last opened the page (shown to the agent), written at most once a minute."""
    now = timezone.now()
    if link.last_viewed_at is None or now - link.last_viewed_at > dt.timedelta(minutes=1):
        StatusLink.objects.filter(pk=link.pk).update(last_viewed_at=now)


# --- Late notices ---------------------------------------------------------------------------

def late_notice_text(commitment: Commitment, url: str) -> str:
    case = commitment.case
    return (
        f"{salutation(case.customer)}\n\n"
        "いつもご利用いただき、誠にありがとうございます。\n"
        f"お問い合わせ（受付番号 {case.number}）の件でご連絡いたします。\n\n"
        f"「{commitment.description}」について、{jst(commitment.due_at)}までとお約束しておりましたが、"
        "確認に時間を要しており、お約束の日時に間に合わない見込みとなりました。\n"
        "お待たせしてしまい、大変申し訳ございません。\n\n"
        f"新しいご連絡の予定: {NEW_TIME}\n\n"
        "進み具合は、次のページでもご確認いただけます。\n"
        f"{url}\n\n"
        "引き続き、どうぞよろしくお願いいたします。"
    )


def deciders(notice: LateNotice) -> list[User]:
    case = notice.case
    people = [person for person in (case.assignee, notice.commitment.owner) if person is not None and person.is_active]
    people = people or approvers_for(case.assignee, case.team)
    return list({person.pk: person for person in people}.values())


def may_decide(user: User, notice: LateNotice) -> bool:
    """The case's assignee, the promise's owner, the lead of the case's team, an admin."""
    case = notice.case
    return user.is_active and (user.pk in (case.assignee_id, notice.commitment.owner_id) or decides_for_team(user, case.team))


def _about_to_be_late(commitment: Commitment, now: dt.datetime) -> bool:
    """Due within the notice window and past half of the time it was given (a promise made for
    the next hour is not "late" the moment it is written)."""
    if commitment.due_at <= now:
        return True
    whole = commitment.due_at - commitment.created_at
    return commitment.due_at - now <= whole / 2


def prepare_late_notices(now: dt.datetime | None = None, batch: int = 200) -> int:
    """Draft a notice for each open, customer-facing promise of an active case due within
    PROGRESS_LATE_NOTICE_BUSINESS_HOURS business hours (or already past due) that has none, and
    tell who decides. Nothing is sent: an agent approves each one. Once per promise, ever."""
    from madoguchi.businesshours.calendar import add_business_seconds

    now = now or timezone.now()
    waiting = Commitment.objects.filter(state=CommitmentState.OPEN, internal=False, late_notice__isnull=True,
                                        case__status__in=ACTIVE_STATUSES)
    # Nothing to look at: the business calendar is not even loaded (each process caches it for a
    # while, so a worker that loaded it at its start would see a closed day set just after late).
    if not waiting.exists():
        return 0
    horizon = add_business_seconds(now, settings.PROGRESS_LATE_NOTICE_BUSINESS_HOURS * 3600)
    candidates = (waiting.filter(due_at__lte=horizon)
                  .select_related("case__customer", "case__assignee", "case__team__lead", "owner")
                  .order_by("due_at", "id")[:batch])
    made = 0
    for commitment in candidates:
        if not _about_to_be_late(commitment, now):
            continue
        case = commitment.case
        try:
            with transaction.atomic():
                link = do_get_link(case, actor=None)
                notice = LateNotice.objects.create(
                    commitment=commitment, case=case, body=late_notice_text(commitment, url_for(link)),
                    new_due_at=add_business_seconds(max(commitment.due_at, now), settings.PROGRESS_LATE_NOTICE_BUSINESS_HOURS * 3600))
                _audit(case, None, "late_notice_prepared", {"description": commitment.description})
                do_notify(deciders(notice), kind="late_notice", case=case,
                          message=gettext_noop("%(case)s 約束「%(promise)s」が期限に間に合わない見込みです。"
                                               "お客様へのお知らせを確認して送ってください。"),
                          params={"case": case.number, "promise": commitment.description})
        except IntegrityError:
            continue  # another worker prepared it
        made += 1
    return made


def drafts_of(user: User) -> QuerySet[LateNotice]:
    """The notices waiting for this person: on their active cases or open promises; a lead's
    team's active cases; all for an admin. (A notice whose case is settled or whose promise
    is closed waits for nobody.)

    Asked on every inbox page: the person's cases and promises come from their own partial
    indexes as sets the drafts are checked against, never a join of every draft with its case
    and promise (65 ms at 1,000,000 cases with 4,700 drafts waiting; docs/benchmarks.md)."""
    from django.db.models import Q

    from madoguchi.accounts.models import Team

    drafts = LateNotice.objects.filter(state=NoticeState.DRAFT)
    if user.is_admin:
        return drafts
    # The active-case predicate written out (cases.queues.ACTIVE_LITERAL): with `status IN` bound
    # as parameters SQLite cannot use the partial index case_active_assignee and walked every
    # case the agent ever had (40 ms of each inbox page at 1,000,000 cases; 1 ms now).
    active = Case.objects.filter(ACTIVE_LITERAL)
    scope = (Q(case__in=active.filter(assignee=user).values("pk"))
             | Q(commitment__in=Commitment.objects.filter(state=CommitmentState.OPEN, owner=user).values("pk")))
    if user.is_lead:
        scope |= Q(case__in=active.filter(team__in=Team.objects.filter(lead=user).values("pk")).values("pk"))
    return drafts.filter(scope)


def drafts_for(user: User, limit: int = 50) -> list[LateNotice]:
    return list(drafts_of(user).select_related("case", "commitment").order_by("commitment__due_at", "id")[:limit])


def count_drafts_for(user: User) -> int:
    """How many notices wait for this person (up to 100): a count, for the inbox's banner on
    every page load, without loading the notices, their cases and their promises."""
    return drafts_of(user).values("pk")[:100].count()


@transaction.atomic
def do_send_late_notice(notice: LateNotice, *, actor: User, new_due_at: dt.datetime | None, body: str) -> Interaction:
    """The agent's one click: the notice goes to the customer on the case's channel (the reply
    path: mail through the outbox, chat, LINE…), with the new time they confirmed. Once."""
    current = LateNotice.objects.select_for_update(of=("self",)).select_related(
        "case__team", "commitment").get(pk=notice.pk)
    if current.state != NoticeState.DRAFT:
        raise CaseError(_("このお知らせはすでに送信したか、送らないことにしています。"))
    if not may_decide(actor, current):
        raise CaseError(_("遅れのお知らせを送れるのは、この案件の担当者、約束の担当者、チームのリーダー、管理者です。"))
    if new_due_at is None:
        raise CaseError(_("新しいご連絡予定の日時を入力してください。"))
    if new_due_at <= timezone.now():
        raise CaseError(_("新しいご連絡予定が過去の日時になっています。これからの日時を指定してください。"))
    text = body.replace(NEW_TIME, jst(new_due_at)).strip()
    if not text:
        raise CaseError(_("お知らせの文面が空です。"))
    interaction = do_send_reply(current.case, actor=actor, body=text)
    current.state = NoticeState.SENT
    current.new_due_at = new_due_at
    current.body = text
    current.decided_by = actor
    current.decided_at = timezone.now()
    current.interaction = interaction
    current.save()
    _audit(current.case, actor, "late_notice_sent", {"description": current.commitment.description,
                                                      "new_due_at": new_due_at.isoformat()})
    return interaction


def delivered(case: Case) -> bool:
    """Whether a reply on the case reaches the customer (a phone case's is only recorded)."""
    return reply_channel(case) in DELIVERED_CHANNELS


@transaction.atomic
def do_dismiss_late_notice(notice: LateNotice, *, actor: User) -> LateNotice:
    """The promise will be kept after all (or the customer was called): no notice, and none again."""
    current = LateNotice.objects.select_for_update(of=("self",)).select_related("case__team", "commitment").get(pk=notice.pk)
    if current.state != NoticeState.DRAFT:
        raise CaseError(_("このお知らせはすでに送信したか、送らないことにしています。"))
    if not may_decide(actor, current):
        raise CaseError(_("遅れのお知らせを送れるのは、この案件の担当者、約束の担当者、チームのリーダー、管理者です。"))
    current.state = NoticeState.DISMISSED
    current.decided_by = actor
    current.decided_at = timezone.now()
    current.save()
    _audit(current.case, actor, "late_notice_dismissed", {"description": current.commitment.description})
    return current
