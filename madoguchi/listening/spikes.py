"""Spikes: many complaint posts about one subject in the last hour.

A subject is a category the reader found (not 「その他」) or a product the post names. Its count
in the last hour is compared with its hourly mean over the previous days
(`LISTENING_BASELINE_DAYS`, or since the first post the desk holds if that is later): a count of
at least `LISTENING_SPIKE_MIN_POSTS` and at least `LISTENING_SPIKE_FACTOR` times the mean is a
spike. Each is kept (`Spike`), shown on the queue page and told to the team leads once: a subject
flagged within the last QUIET_HOURS is not flagged again while the wave lasts.

Run by the periodic job every 5 minutes and after each import. An import of old posts does not
raise alarms for hours long past: only the hour before now is looked at."""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter
from typing import TYPE_CHECKING

from django.conf import settings
from django.db.models import Count, Min, Q
from django.utils import timezone
from django.utils.translation import gettext_noop

from madoguchi.listening.models import ListeningPost, Spike
from madoguchi.triage.models import MessageKind

if TYPE_CHECKING:
    from madoguchi.accounts.models import User

WINDOW = dt.timedelta(hours=1)
QUIET_HOURS = 3
IGNORED_CATEGORIES = ("", "other")


def leads() -> list[User]:
    """Who hears of a spike: the team leads (by role or as a team's lead), else the admins."""
    from madoguchi.accounts.models import Role, User

    found = list(User.objects.filter(Q(role=Role.LEAD) | Q(led_teams__isnull=False), is_active=True).distinct())
    return found or list(User.objects.filter(Q(role=Role.ADMIN) | Q(is_superuser=True), is_active=True))


def _labels(subjects: list[str]) -> dict[str, str]:
    from madoguchi.cases.models import Category
    from madoguchi.shop.models import Product

    codes = [s.split(":", 1)[1] for s in subjects if s.startswith("category:")]
    ids = [int(s.split(":", 1)[1]) for s in subjects if s.startswith("product:")]
    names = {f"category:{code}": name for code, name in Category.objects.filter(code__in=codes).values_list("code", "name")}
    names.update({f"product:{pk}": name for pk, name in Product.objects.filter(pk__in=ids).values_list("pk", "name")})
    return {subject: names.get(subject, subject.split(":", 1)[1]) for subject in subjects}


def _counts(posts: list[tuple[str, list[int]]]) -> Counter[str]:
    counts: Counter[str] = Counter()
    for category, products in posts:
        if category not in IGNORED_CATEGORIES:
            counts[f"category:{category}"] += 1
        for pk in set(products or []):
            counts[f"product:{pk}"] += 1
    return counts


def check_spikes(now: dt.datetime | None = None) -> list[Spike]:
    """Flag the subjects whose complaints of the last hour are a spike; returns the new ones."""
    now = now or timezone.now()
    start = now - WINDOW
    complaints = ListeningPost.objects.filter(kind=MessageKind.COMPLAINT)
    recent = _counts(list(complaints.filter(posted_at__gte=start, posted_at__lt=now).values_list("category", "products")))
    minimum = settings.LISTENING_SPIKE_MIN_POSTS
    candidates = {subject: count for subject, count in recent.items() if count >= minimum}
    if not candidates:
        return []
    first = complaints.filter(posted_at__lt=start).aggregate(first=Min("posted_at"))["first"]
    base_start = max(now - dt.timedelta(days=settings.LISTENING_BASELINE_DAYS), first or start)
    hours = max((start - base_start).total_seconds() / 3600, 1.0)
    before = complaints.filter(posted_at__gte=base_start, posted_at__lt=start)
    base: Counter[str] = Counter({f"category:{code}": n for code, n in before.values_list("category").annotate(n=Count("pk")).order_by()})
    if any(subject.startswith("product:") for subject in candidates):
        for products in before.exclude(products=[]).values_list("products", flat=True).iterator(chunk_size=2000):
            for pk in set(products or []):
                base[f"product:{pk}"] += 1
    quiet = set(Spike.objects.filter(subject__in=list(candidates), window_end__gt=now - dt.timedelta(hours=QUIET_HOURS))
                .values_list("subject", flat=True))
    spikes: list[Spike] = []
    labels = _labels(list(candidates))
    for subject, count in sorted(candidates.items(), key=lambda item: -item[1]):
        mean = base[subject] / hours
        if subject in quiet or count < math.ceil(settings.LISTENING_SPIKE_FACTOR * mean):
            continue
        spikes.append(Spike.objects.create(subject=subject, label=labels[subject][:200], window_start=start, window_end=now,
                                           count=count, baseline=round(mean, 2)))
    if spikes:
        _tell_leads(spikes)
    return spikes


def _tell_leads(spikes: list[Spike]) -> None:
    from madoguchi.notifications.services import do_notify

    who = leads()
    for spike in spikes:
        do_notify(who, kind="listening_spike",
                  message=gettext_noop("SNSで「%(subject)s」への苦情の投稿が急に増えています（この1時間に %(count)s 件、ふだんは1時間に %(baseline)s 件）。ソーシャルの声の画面で確かめてください。"),
                  params={"subject": spike.label, "count": spike.count, "baseline": f"{spike.baseline:.1f}"})
