"""The daily summary mail for team leads (issue 22 item 7): at each lead's chosen time (JST,
default 9:00) one mail with, for every team they lead, the open cases, the SLA breaches of the
last 24 hours, the promises due today and the low satisfaction scores still to follow up.

The minute job (`notifications.tasks.daily_summary_job`) sends what is due: a lead whose time
has come and who got no summary on this day of the shop. `MailPreference.summary_sent_on` is
claimed by one conditional UPDATE in the transaction that puts the mail in the outbox (whose
`dedupe_key` is the lead and the day), so the summary goes once a day however many workers
run the job; a desk that was down at 9:00 sends it when it is back, the same day.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import transaction
from django.db.models import Count
from django.utils import timezone, translation
from django.utils.translation import gettext

from madoguchi.figures import stamp
from madoguchi.notifications.mailing import case_url, footer, preference_of
from madoguchi.notifications.models import MailPreference

if TYPE_CHECKING:
    from madoguchi.accounts.models import Team, User

LIST_LIMIT = 10  # cases listed under each heading; the count says how many in all


def leads() -> list[User]:
    from madoguchi.accounts.models import User

    return list(User.objects.filter(is_active=True, led_teams__isnull=False).exclude(email="").distinct().order_by("pk"))


def due_leads(now: dt.datetime) -> list[tuple[User, MailPreference]]:
    local = timezone.localtime(now)
    due = []
    for user in leads():
        preference = preference_of(user)
        if preference.daily_summary and local.time() >= preference.summary_time and preference.summary_sent_on != local.date():
            due.append((user, preference))
    return due


def send_daily_summaries(now: dt.datetime | None = None) -> int:
    from madoguchi.mail.outbound import queue_staff_mail

    now = now or timezone.now()
    today = timezone.localtime(now).date()
    sent = 0
    for user, preference in due_leads(now):
        with transaction.atomic():
            MailPreference.objects.get_or_create(user=user)
            if not MailPreference.objects.filter(user=user).exclude(summary_sent_on=today).update(summary_sent_on=today):
                continue  # another worker sent it
            subject, body = render_summary(user, preference, now)
            sent += bool(queue_staff_mail(to=user.email, subject=subject, body=body, case=None,
                                          dedupe_key=f"summary:{user.pk}:{today.isoformat()}"))
    return sent


def _section(title: str, count: int, lines: list[str]) -> list[str]:
    out = [f"■ {title}: {gettext('%(count)s件') % {'count': count}}"]
    out += lines
    if count > LIST_LIMIT:
        out.append("  " + gettext("ほか %(more)s件") % {"more": count - LIST_LIMIT})
    return [*out, ""]


def _team_lines(team: Team, now: dt.datetime) -> list[str]:
    from madoguchi.cases.models import ACTIVE_STATUSES, Case, Commitment, CommitmentState, Status
    from madoguchi.metrics.models import FollowUp, SlaBreach

    local = timezone.localtime(now)
    day_start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    day_end = day_start + dt.timedelta(days=1)
    lines = [f"【{team.name}】"]

    by_status = dict(Case.objects.filter(team=team, status__in=ACTIVE_STATUSES).values_list("status")
                     .annotate(n=Count("pk")).order_by())
    open_total = sum(by_status.values())
    lines.append(f"■ {gettext('対応中の案件')}: {gettext('%(count)s件') % {'count': open_total}}"
                 + (" (" + " / ".join(f"{Status(s).label} {by_status[s]}" for s in ACTIVE_STATUSES if by_status.get(s)) + ")"
                    if open_total else ""))
    lines.append("")

    breaches = (SlaBreach.objects.filter(case__team=team, breached_at__gte=now - dt.timedelta(hours=24))
                .select_related("case").order_by("-breached_at"))
    breach_count = breaches.count()
    lines += _section(gettext("SLA の超過（24時間以内）"), breach_count, [
        f"  - {b.case.number} {b.case.subject} / {b.get_target_display()} / {gettext('期限')} {stamp(b.due_at)}\n    {case_url(b.case)}"
        for b in breaches[:LIST_LIMIT]])

    promises = (Commitment.objects.filter(case__team=team, state=CommitmentState.OPEN, due_at__gte=day_start, due_at__lt=day_end)
                .select_related("case", "owner").order_by("due_at", "pk"))
    promise_count = promises.count()
    lines += _section(gettext("今日が期限の約束"), promise_count, [
        f"  - {stamp(c.due_at)} {c.case.number} {c.description} / {c.owner or c.department or '-'}\n    {case_url(c.case)}"
        for c in promises[:LIST_LIMIT]])

    follow_ups = (FollowUp.objects.filter(case__team=team, done_at__isnull=True).select_related("case", "survey")
                  .order_by("created_at", "pk"))
    follow_count = follow_ups.count()
    lines += _section(gettext("フォローが必要な低評価"), follow_count, [
        f"  - {f.case.number} {f.case.subject} / {gettext('満足度 %(rating)s') % {'rating': f.survey.rating}}\n    {case_url(f.case)}"
        for f in follow_ups[:LIST_LIMIT]])
    return lines


def render_summary(user: User, preference: MailPreference, now: dt.datetime) -> tuple[str, str]:
    from madoguchi.accounts.models import Team

    teams = list(Team.objects.filter(lead=user).order_by("name"))
    with translation.override(preference.language or settings.LANGUAGE_CODE):
        day = timezone.localtime(now).date()
        subject = gettext("【毎日のまとめ】%(date)s の窓口") % {"date": day.strftime("%Y/%m/%d")}
        lines = [gettext("%(name)s さん") % {"name": str(user)}, "",
                 gettext("%(time)s 時点のチームの状況です。") % {"time": stamp(now)}, ""]
        for team in teams:
            lines += _team_lines(team, now)
        lines += ["--", footer()]
        return subject[:300], "\n".join(lines) + "\n"
