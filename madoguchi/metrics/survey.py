"""Satisfaction surveys: a signed, expiring link per resolved case; one answer per case.

The token is Django's signing of a random nonce (the secret key makes it unforgeable); the
nonce finds the survey, `expires_at` bounds it. A rating of 1–2 creates a follow-up task
for the team lead and a note on the case timeline (seed 003 step 7).

The invitation is not sent on resolution but after the shop's delay (SurveyOptions, on the
settings page; 24 hours unless changed), by the minute job `send_due_invitations`
(tasks.send_due_surveys_job): a case reopened meanwhile gets none, resolving it again starts
the delay again, and a case gets one invitation at most. It goes by the channel that still
reaches the customer (cases.automatic: the open chat, else e-mail); when none does, the
case's timeline says so and the link stays on the case page for the agent.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import logging
import secrets
from typing import Any

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from madoguchi.accounts.services import approvers_for
from madoguchi.cases.automatic import do_send_automatic
from madoguchi.cases.models import Case, InteractionKind, Status
from madoguchi.cases.services import do_add_interaction
from madoguchi.customers.services import salutation
from madoguchi.metrics.models import FollowUp, Survey, SurveyOptions, SurveyState
from madoguchi.metrics.rollup import mark_dirty
from madoguchi.notifications.services import do_notify

log = logging.getLogger(__name__)
SALT = "madoguchi.metrics.survey"
VALID_DAYS = 14
LOW_RATING = 2
SENDABLE = (Status.RESOLVED, Status.CLOSED)  # a case in another status (reopened) gets no invitation
INVITATION = "満足度アンケート"  # what the timeline says could not be sent

# Set while this module writes the invitation, so the SLA receivers do not take it for a reply.
sending_invitation: contextvars.ContextVar[bool] = contextvars.ContextVar("sending_invitation", default=False)


class SurveyError(ValueError):
    """Shown to the customer as it is (Japanese)."""


def token_for(survey: Survey) -> str:
    return signing.dumps(survey.nonce, salt=SALT)


def survey_url(survey: Survey) -> str:
    return settings.SITE_URL + reverse("metrics:survey", args=[token_for(survey)])


def invitation_text(case: Case, survey: Survey) -> str:
    return (
        f"{salutation(case.customer)}\n\nこのたびはお問い合わせいただき、ありがとうございました。\n"
        "今回の対応について、1分ほどのアンケートにご協力いただけますと幸いです。\n"
        f"{survey_url(survey)}\n"
        f"（{VALID_DAYS}日間有効です。ログインは不要です。）"
    )


# --- When -----------------------------------------------------------------------------------------

def delay() -> dt.timedelta:
    options = SurveyOptions.objects.first()
    hours = options.delay_hours if options is not None else SurveyOptions.DEFAULT_DELAY_HOURS
    return dt.timedelta(hours=hours)


@transaction.atomic
def do_set_delay(hours: int) -> SurveyOptions:
    options = SurveyOptions.objects.select_for_update().first() or SurveyOptions()
    options.delay_hours = hours
    options.full_clean()
    options.save()
    return options


@transaction.atomic
def do_schedule(case: Case, now: dt.datetime | None = None) -> Survey:
    """The case was resolved: its survey goes out after the delay. Resolving again before it
    went starts the delay again; once sent (or found undeliverable) nothing changes."""
    now = now or timezone.now()
    due = now + delay()
    survey, created = Survey.objects.get_or_create(
        case=case, defaults={"nonce": secrets.token_urlsafe(16), "due_at": due, "state": SurveyState.WAITING},
    )
    if not created and survey.state == SurveyState.WAITING:
        Survey.objects.filter(pk=survey.pk, state=SurveyState.WAITING).update(due_at=due)
        survey.due_at = due
    return survey


def do_hold(case: Case) -> int:
    """The case was reopened: a survey not sent yet waits for the next resolution."""
    return Survey.objects.filter(case=case, state=SurveyState.WAITING).update(due_at=None)


# --- Sending (the minute job) -----------------------------------------------------------------------

def send_due_invitations(now: dt.datetime | None = None, batch: int = 200) -> int:
    """Send the invitations whose delay has passed on cases still resolved or closed; returns
    how many were written (sent or recorded as undeliverable). Each in its own transaction,
    which marks the survey and writes the invitation (and so the mail's outbox row) together:
    a crash before the commit leaves it waiting, after it the survey is no longer waiting, so
    it is never sent twice."""
    now = now or timezone.now()
    due = list(
        Survey.objects.filter(state=SurveyState.WAITING, due_at__lte=now, case__status__in=SENDABLE)
        .order_by("due_at", "pk").values_list("pk", "case_id")[:batch]
    )
    done = 0
    for survey_pk, case_pk in due:
        try:
            done += _send_one(survey_pk, case_pk, now)
        except Exception:  # noqa: BLE001 - one case's problem must not hold up the others
            log.exception("metrics: could not send the survey %s", survey_pk)
    return done


def _send_one(survey_pk: int, case_pk: int, now: dt.datetime) -> bool:
    with transaction.atomic():
        # The case first (an agent's status change locks the case, then the survey).
        case = Case.objects.select_for_update(of=("self",)).select_related("customer").filter(pk=case_pk).first()
        survey = Survey.objects.select_for_update().filter(
            pk=survey_pk, state=SurveyState.WAITING, due_at__lte=now
        ).first()
        if case is None or survey is None or case.status not in SENDABLE:
            return False
        survey.sent_at = now
        survey.expires_at = now + dt.timedelta(days=VALID_DAYS)
        token = sending_invitation.set(True)
        try:
            sent = do_send_automatic(case, body=invitation_text(case, survey), what=INVITATION, occurred_at=now)
        finally:
            sending_invitation.reset(token)
        survey.state = SurveyState.SENT if sent is not None else SurveyState.NOT_DELIVERABLE
        survey.channel = sent.channel if sent is not None else ""
        survey.save(update_fields=["state", "channel", "sent_at", "expires_at"])
    return True


def survey_from_token(token: str, now: dt.datetime | None = None) -> Survey:
    """The open survey of a token, or SurveyError saying why not."""
    try:
        nonce = signing.loads(token, salt=SALT)
    except signing.BadSignature as error:
        raise SurveyError(_("このアンケートのリンクは正しくありません。メールに記載のリンクをそのままお使いください。")) from error
    survey = Survey.objects.select_related("case").filter(nonce=nonce).first()
    if survey is None:
        raise SurveyError(_("このアンケートは見つかりませんでした。"))
    if survey.answered_at is not None:
        raise SurveyError(_("このアンケートにはすでにご回答いただいています。ご協力ありがとうございました。"))
    if survey.expires_at is None:  # not sent yet: nobody outside the desk has the link
        raise SurveyError(_("このアンケートはまだ受け付けていません。"))
    if (now or timezone.now()) >= survey.expires_at:
        raise SurveyError(_("このアンケートの回答期限が過ぎています。ご意見はお問い合わせ窓口までお寄せください。"))
    return survey


def _parse_int(raw: str | None, low: int, high: int, label: str, required: bool) -> int | None:
    raw = (raw or "").strip()
    if not raw:
        if required:
            raise SurveyError(_("%(label)sを選んでください。") % {"label": _(label)})
        return None
    try:
        value = int(raw)
    except ValueError as error:
        raise SurveyError(_("%(label)sは%(low)s〜%(high)sの数字で選んでください。") % {"label": _(label), "low": low, "high": high}) from error
    if not low <= value <= high:
        raise SurveyError(_("%(label)sは%(low)s〜%(high)sの数字で選んでください。") % {"label": _(label), "low": low, "high": high})
    return value


@transaction.atomic
def do_answer(token: str, *, rating: str | None, nps: str | None, comment: str, now: dt.datetime | None = None) -> Survey:
    now = now or timezone.now()
    survey = survey_from_token(token, now)
    survey = Survey.objects.select_for_update(of=("self",)).select_related("case__team__lead", "case__assignee").get(pk=survey.pk)
    if survey.answered_at is not None:  # answered in another tab meanwhile
        raise SurveyError(_("このアンケートにはすでにご回答いただいています。ご協力ありがとうございました。"))
    survey.rating = _parse_int(rating, 1, 5, gettext_noop("満足度"), True)
    survey.nps = _parse_int(nps, 0, 10, gettext_noop("おすすめ度"), False)
    survey.comment = comment.strip()[:2000]
    survey.answered_at = now
    survey.save()
    case = survey.case
    if survey.rating is not None and survey.rating <= LOW_RATING:
        _follow_up(case, survey)
    mark_dirty(case.received_at)
    return survey


def _follow_up(case: Case, survey: Survey) -> FollowUp:
    leads = approvers_for(case.assignee, case.team)
    follow_up = FollowUp.objects.create(case=case, survey=survey, assigned_to=leads[0] if leads else None)
    do_notify(leads, kind="survey_low", case=case,
              message=gettext_noop("%(case)s アンケートで満足度%(rating)sの回答がありました。フォローをお願いします。"),
              params={"case": case.number, "rating": survey.rating})
    note = f"満足度アンケート: {survey.rating}（5段階）。コメント: {survey.comment or '（なし）'}"
    do_add_interaction(case, actor=None, kind=InteractionKind.NOTE, channel=case.channel, body=note, occurred_at=survey.answered_at)
    return follow_up


@transaction.atomic
def closes_follow_up(user: Any, follow_up: FollowUp) -> bool:
    if user.is_admin or follow_up.assigned_to_id == user.pk:
        return True
    team = follow_up.case.team
    return bool(user.is_lead and team is not None and team.lead_id == user.pk)


def do_close_follow_up(follow_up: FollowUp, *, actor, note: str) -> FollowUp:
    if follow_up.done_at is not None:
        raise SurveyError(_("このフォローはすでに完了しています。"))
    if not closes_follow_up(actor, follow_up):
        raise SurveyError(_("このフォローを完了にできるのは、割り当てられた人、案件のチームのリーダー、管理者です。"))
    follow_up.done_at = timezone.now()
    follow_up.done_by = actor
    follow_up.note = note.strip()[:2000]
    follow_up.save()
    return follow_up
