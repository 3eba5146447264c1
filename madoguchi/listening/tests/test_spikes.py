"""A spike of complaint posts about one subject in the last hour is flagged to the team leads
once and shown on the queue page; a steady stream, however large, is not a spike."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from madoguchi.accounts.models import Role, Team
from madoguchi.listening.models import ListeningPost, Spike
from madoguchi.listening.spikes import check_spikes
from madoguchi.notifications.models import Notification
from madoguchi.shop.models import Product
from madoguchi.testing.factories import UserFactory

pytestmark = [pytest.mark.django_db]

NOW = dt.datetime(2026, 12, 7, 3, 30, tzinfo=dt.UTC)


def _complaints(count: int, start: dt.datetime, minutes: int, category: str = "delivery", products: list[int] | None = None,
                kind: str = "complaint") -> None:
    ListeningPost.objects.bulk_create([
        ListeningPost(platform="x", post_id=f"{start.timestamp():.0f}-{category}-{kind}-{n}", author_handle=f"u{n}",
                      text="急須がまだ届かない😡", posted_at=start + dt.timedelta(minutes=minutes * n / max(count, 1)),
                      kind=kind, category=category, products=products or [])
        for n in range(count)])


def _steady(per_hour: int, days: int = 7, **kwargs) -> None:
    for hour in range(2, days * 24 + 1):  # hour 1 ends where the last hour begins
        _complaints(per_hour, NOW - dt.timedelta(hours=hour), 59, **kwargs)


@pytest.fixture
def leads():
    team = Team.objects.create(name="窓口1課")
    lead = UserFactory(username="lead", role=Role.LEAD, team=team)
    team_lead = UserFactory(username="kacho", role=Role.AGENT)  # leads a team without the role
    team.lead = team_lead
    team.save()
    UserFactory(username="agent", team=team)
    return {lead, team_lead}


def test_a_burst_of_delivery_complaints_is_flagged_to_the_leads_once(leads) -> None:
    _steady(1)
    _complaints(9, NOW - dt.timedelta(minutes=50), 45)  # the last hour: 9 against about 1 an hour
    _complaints(9, NOW - dt.timedelta(minutes=50), 45, category="billing", kind="praise")  # not complaints
    spikes = check_spikes(NOW)
    assert [(s.subject, s.label, s.count, s.baseline) for s in spikes] == [("category:delivery", "配送", 9, 1.0)]
    told = Notification.objects.filter(kind="listening_spike")
    assert {n.user for n in told} == leads
    assert "「配送」への苦情の投稿が急に増えています（この1時間に 9 件、ふだんは1時間に 1.0 件）" in told[0].text
    # Five minutes later the wave goes on: not flagged again.
    _complaints(3, NOW, 4)
    assert check_spikes(NOW + dt.timedelta(minutes=5)) == []
    assert Notification.objects.filter(kind="listening_spike").count() == 2 and Spike.objects.count() == 1


def test_a_steady_stream_is_not_a_spike_however_large(leads) -> None:
    _steady(8)
    _complaints(8, NOW - dt.timedelta(minutes=59), 58)
    assert check_spikes(NOW) == []
    assert not Spike.objects.exists() and not Notification.objects.exists()


def test_few_complaints_are_not_a_spike_even_on_a_quiet_day(leads) -> None:
    _complaints(4, NOW - dt.timedelta(minutes=30), 20)
    assert check_spikes(NOW) == []


def test_a_product_named_in_many_complaints_is_a_subject(client, leads) -> None:
    pot = Product.objects.create(sku="KY-01", name="常滑焼 急須")
    _steady(1, days=3, category="other")
    _complaints(6, NOW - dt.timedelta(minutes=40), 30, category="other", products=[pot.pk])
    spikes = check_spikes(NOW)
    assert [(s.subject, s.label) for s in spikes] == [(f"product:{pot.pk}", "常滑焼 急須")]

    client.force_login(next(iter(leads)))
    Spike.objects.update(flagged_at=timezone.now())
    html = client.get(reverse("listening:queue")).content.decode()
    assert 'data-testid="spike"' in html and "「常滑焼 急須」への苦情の投稿: この1時間に 6 件" in html
    client.post(reverse("listening:spike_seen", args=[spikes[0].pk]))
    assert Spike.objects.get().seen_at is not None
