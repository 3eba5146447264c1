"""The weekly prevention digest (issue 20 item 4; seed 000: share it with everyone): once a week,
on `PREVENTION_DIGEST_WEEKDAY` (0 = Monday) from `PREVENTION_DIGEST_HOUR` (JST), every active
staff member with an address who has not turned it off (`MailPreference.prevention_digest`) gets
one plain-text mail: each countermeasure whose effect is still being checked or whose check ended
in the last week, recorded in the last week, with its root cause, the fix, who did it and when,
the effect check's statement and a link to its report.

The minute job (`prevention.tasks.weekly_digest_job`) sends it when due. The week is claimed by
inserting its `DigestWeek` row in the transaction that puts the mails in the outbox (dedupe key
`prevention:<week>:<user>`), so it goes once however many workers run the job; a desk that was
down at the hour sends it when it is back, the same week."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext

from madoguchi.accounts.models import User
from madoguchi.notifications.mailing import footer
from madoguchi.notifications.models import MailPreference
from madoguchi.prevention import services
from madoguchi.prevention.models import Countermeasure, DigestWeek


def digest_day(now: dt.datetime) -> dt.date:
    """This week's digest day (JST)."""
    today = timezone.localtime(now).date()
    return today - dt.timedelta(days=(today.weekday() - settings.PREVENTION_DIGEST_WEEKDAY) % 7)


def is_due(now: dt.datetime) -> bool:
    local = timezone.localtime(now)
    day = digest_day(now)
    if local.date() == day and local.hour < settings.PREVENTION_DIGEST_HOUR:
        return False
    return not DigestWeek.objects.filter(week=day).exists()


def recipients() -> list[tuple[User, str]]:
    """(person, mail language) of everyone who gets the digest."""
    off = MailPreference.objects.filter(prevention_digest=False).values("user")
    users = list(User.objects.filter(is_active=True).exclude(email="").exclude(pk__in=off).order_by("pk"))
    languages = dict(MailPreference.objects.filter(user__in=users).values_list("user", "language"))
    return [(user, languages.get(user.pk) or settings.LANGUAGE_CODE) for user in users]


def countermeasures_for(day: dt.date) -> list[Countermeasure]:
    """Those still being checked, whose check ended within the last week, or recorded within it."""
    week_ago = day - dt.timedelta(days=7)
    rows = (Countermeasure.objects.filter(done_on__lte=day)
            .select_related("done_by", "category", "product", "passage", "rule", "article")
            .filter(Q(created_at__gte=services.day_start(week_ago)) | Q(done_on__gte=day - dt.timedelta(days=84 + 7)))
            .order_by("-done_on", "-pk"))
    return [c for c in rows if c.check_until() >= week_ago or c.created_at >= services.day_start(week_ago)]


def report_url(countermeasure: Countermeasure) -> str:
    return f"{settings.SITE_URL}{reverse('prevention:report', args=[countermeasure.pk])}"


def render(day: dt.date, items: list[tuple[Countermeasure, services.Report]], language: str) -> tuple[str, str]:
    with translation.override(language):
        subject = gettext("【再発防止の週報】%(date)s") % {"date": day.strftime("%Y/%m/%d")}
        lines = [gettext("今週の再発防止策と、その効果の確認です。"), ""]
        for countermeasure, report in items:
            lines.append(f"■ {countermeasure.title}")
            lines.append("  " + gettext("根本原因: %(cause)s") % {"cause": countermeasure.get_cause_display()})
            who = str(countermeasure.done_by) if countermeasure.done_by else "-"
            lines.append("  " + gettext("実施: %(date)s（%(who)s）") % {"date": countermeasure.done_on.strftime("%Y/%m/%d"), "who": who})
            for label, value in services.link_labels(countermeasure):
                lines.append(f"  {label}: {value}")
            if countermeasure.detail:
                lines.append("  " + gettext("対策の内容: %(detail)s") % {"detail": countermeasure.detail.replace("\n", " ")[:300]})
            lines.append("  " + gettext("もとになった案件: %(count)s件") % {"count": report.case_count})
            lines.append("  " + gettext("効果: %(statement)s") % {"statement": report.effect.statement()})
            lines.append(f"  {report_url(countermeasure)}")
            lines.append("")
        lines += ["--", footer()]
        return subject, "\n".join(lines) + "\n"


def send_weekly_digest(now: dt.datetime | None = None) -> int:
    """Put this week's digest in the outbox for everyone, once. Returns the mails queued."""
    from madoguchi.mail.outbound import queue_staff_mail

    now = now or timezone.now()
    if not is_due(now):
        return 0
    day = digest_day(now)
    items = [(c, services.report(c, timezone.localtime(now).date())) for c in countermeasures_for(day)]
    sent = 0
    try:
        with transaction.atomic():
            DigestWeek.objects.create(week=day)  # the claim: a second worker fails here
            if items:
                for user, language in recipients():
                    subject, body = render(day, items, language)
                    sent += bool(queue_staff_mail(to=user.email, subject=subject, body=body, case=None,
                                                  dedupe_key=f"prevention:{day.isoformat()}:{user.pk}"))
            DigestWeek.objects.filter(week=day).update(recipients=sent)
    except IntegrityError:
        return 0
    return sent
