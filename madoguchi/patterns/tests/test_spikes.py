"""A spike (this week against the eight before) is flagged, shown, and told to the team leads
once; flat or merely noisy weeks are not a spike."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import translation

from madoguchi.accounts.models import Role
from madoguchi.mail.models import OutboundMessage
from madoguchi.notifications.mailing import send_due
from madoguchi.notifications.models import MailEvent, Notification
from madoguchi.patterns import services
from madoguchi.patterns.models import Cluster, Spike
from madoguchi.patterns.tests.helpers import complaint_case, weeks_ago
from madoguchi.testing.factories import TeamFactory, UserFactory

pytestmark = pytest.mark.django_db

LATE = "到着予定日を過ぎても荷物が届きません。配送状況を確認してください。"


def weekly_cases(counts: list[int], carrier: str = "yamato") -> Cluster:
    """counts[0] is eight weeks ago … counts[-1] this week; all one cluster."""
    ids = []
    for index, count in enumerate(counts):
        ago = len(counts) - 1 - index
        ids += [complaint_case(LATE, carrier=carrier, received_at=weeks_ago(ago, hours=1 + i)).pk for i in range(count)]
    services.assign_cases(ids)
    clusters = Cluster.objects.filter(carrier=carrier)
    assert clusters.count() == 1
    return clusters.get()


def test_the_spike_test() -> None:
    assert services.spike_test(12, [2, 1, 3, 2, 2, 1, 2, 3]).flagged
    assert not services.spike_test(4, [0] * 8).flagged  # too few to be anything
    assert services.spike_test(5, [0] * 8).flagged
    assert not services.spike_test(7, [5] * 8).flagged  # within a Poisson count's noise
    assert not services.spike_test(14, [2, 12, 3, 10, 1, 11, 4, 9]).flagged  # a jumpy cluster
    test = services.spike_test(20, [5] * 8)
    assert test.flagged and test.mean == 5 and test.spread == 0


def test_a_spike_is_flagged_and_the_leads_are_told_once() -> None:
    team = TeamFactory()
    lead = UserFactory(username="lead1", role=Role.LEAD, team=team, email="lead@example.jp")
    team.lead = lead
    team.save()
    agent = UserFactory(username="agent1", email="agent@example.jp")
    cluster = weekly_cases([2, 1, 3, 2, 2, 1, 2, 3, 12])
    result = services.refresh_clusters()
    assert result["spikes"] == 1 and result["notified"] == 1
    cluster.refresh_from_db()
    assert cluster.spike_week == services.this_week() and cluster.this_week == 12 and cluster.recent == 28
    spike = Spike.objects.get(cluster=cluster)
    assert (spike.count, spike.mean) == (12, 2.0)
    note = Notification.objects.get(user=lead, kind="pattern_spike")
    assert note.text.startswith("苦情の急増: 配送 / ヤマト運輸「") and "今週 12 件（前の8週は平均 2 件）" in note.text
    assert note.text.endswith(f"/patterns/{cluster.pk}/")
    with translation.override("en"):
        assert "Yamato Transport" in note.text  # the carrier in the reader's language
    assert MailEvent.objects.filter(user=lead, kind="spike").count() == 1
    assert send_due() == 1  # the lead's mail goes to the outbox
    mail = OutboundMessage.objects.get(to_address="lead@example.jp")
    assert "苦情の急増" in mail.subject and f"/patterns/{cluster.pk}/" in mail.body
    assert not Notification.objects.filter(user=agent).exists()
    # The job runs again (every minute): the spike stays, nobody is told twice.
    services.assign_cases([complaint_case(LATE, carrier="yamato", received_at=weeks_ago(0, hours=13)).pk])
    assert services.refresh_clusters()["notified"] == 0
    assert Notification.objects.filter(kind="pattern_spike").count() == 1
    assert Spike.objects.count() == 1


def test_flat_weeks_flag_nothing() -> None:
    UserFactory(username="lead2", role=Role.LEAD, email="lead2@example.jp")
    cluster = weekly_cases([5, 5, 5, 5, 5, 5, 5, 5, 6])
    assert services.refresh_clusters()["spikes"] == 0
    cluster.refresh_from_db()
    assert cluster.spike_week is None and cluster.this_week == 6 and cluster.recent == 46
    assert not Spike.objects.exists() and not Notification.objects.exists()


def test_a_cluster_with_nothing_in_twelve_weeks_drops_out_of_the_list() -> None:
    cluster = weekly_cases([3])
    services.refresh_clusters()
    cluster.refresh_from_db()
    assert cluster.recent == 3
    # Thirteen weeks later the same cases are old: counted from a later "today".
    later = services.this_week() + dt.timedelta(weeks=13)
    services.refresh_clusters(today=later)
    cluster.refresh_from_db()
    assert (cluster.recent, cluster.this_week, cluster.spike_week) == (0, 0, None)
