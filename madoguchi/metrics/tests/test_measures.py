"""Every measure on a hand-made fixture whose right answers are worked out here by hand."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from madoguchi.cases import services
from madoguchi.cases.models import Status
from madoguchi.metrics import definitions as d
from madoguchi.metrics.dashboard import Period, build
from madoguchi.metrics.rollup import period_figures, refresh_dirty
from madoguchi.metrics.tests.conftest import jst
from madoguchi.testing.factories import CustomerFactory, UserFactory, category

HOUR = 3600


def test_bucket_rounds_down_to_5_s_then_1_min_then_10_min_then_1_h():
    assert [d.bucket(s) for s in (0, 4, 119, 120, 599, 600, 659, 7199, 7200, 7799, 86399, 86400, 93599)] == [
        0, 0, 115, 120, 595, 600, 600, 7140, 7200, 7200, 85800, 86400, 90000]


def test_median_of_an_even_count_is_the_mean_of_the_two_middle_values():
    hist: dict[str, int] = {}
    for seconds in (600, 30, 150, 90):
        d.add_to(hist, seconds)
    assert d.median(hist) == (90 + 150) / 2 == 120
    assert d.p90(hist) == 600  # nearest rank: ceil(0.9 × 4) = 4th value
    d.add_to(hist, 60)
    assert d.median(hist) == 90  # odd count: the 3rd of 30, 60, 90, 150, 600
    assert d.median({}) is None and d.p90({}) is None


def _fixture() -> d.Figures:
    a, b = 1, 2
    rows = [
        d.CaseRow("chat", a, first_wall_seconds=30, sla_due=2, sla_met=2, rating=5, nps=10,
                  outcome={"resolved": True, "cancelled": False, "refund_asked": False, "kept": True, "upsell": False},
                  ever_resolved=True, resolution_business_seconds=2 * HOUR),
        d.CaseRow("chat", a, first_wall_seconds=90, sla_due=1, sla_met=0, rating=4, nps=9,
                  outcome={"resolved": True, "cancelled": False, "refund_asked": True, "kept": False, "upsell": True},
                  ever_resolved=True, reopen_count=1, resolution_business_seconds=4 * HOUR,
                  commitments_due=2, commitments_on_time=1, compensation_yen=1500),
        d.CaseRow("chat", b, first_wall_seconds=150, sla_due=1, sla_met=1, rating=2, nps=6,
                  outcome={"resolved": False, "cancelled": True, "refund_asked": True, "kept": False, "upsell": False},
                  ever_resolved=True, resolution_business_seconds=6 * HOUR, compensation_yen=3000),
        d.CaseRow("chat", b, first_wall_seconds=600, sla_due=1, sla_met=1, rating=3, nps=8,
                  outcome={"resolved": True, "cancelled": False, "refund_asked": False, "kept": False, "upsell": False},
                  ever_resolved=True, resolution_business_seconds=33 * HOUR, commitments_due=1, commitments_on_time=1),
        d.CaseRow("email", a, first_business_seconds=HOUR, sla_due=1, sla_met=0),
        d.CaseRow("email", b, first_business_seconds=2 * HOUR),
        d.CaseRow("phone", None),  # unassigned, nothing else
    ]
    return d.figures_of(rows)


def test_every_measure_on_the_fixture():
    f = _fixture()
    value = {m.code: m.value(f) for m in d.MEASURES}
    assert value["cases"] == 7
    assert value["chat_first_answer_median"] == 120  # (90 + 150) / 2
    assert value["chat_first_answer_p90"] == 600
    assert value["email_first_reply_median"] == 1.5 * HOUR  # (1 h + 2 h) / 2
    assert value["email_first_reply_p90"] == 2 * HOUR
    assert value["resolution_median"] == 5 * HOUR  # (4 h + 6 h) / 2
    assert value["resolution_p90"] == 33 * HOUR
    assert value["csat"] == 50  # 5 and 4 of 5, 4, 2, 3
    assert value["nps"] == 25  # promoters 10, 9 (2) − detractors 6 (1) of 4 answers
    assert value["resolution_rate"] == 75  # 3 of 4 outcomes
    assert value["reopen_rate"] == 25  # 1 of 4 ever resolved
    assert value["sla_attainment"] == pytest.approx(100 * 4 / 6)
    assert value["commitments_on_time"] == pytest.approx(100 * 2 / 3)
    assert value["compensation_yen"] == 4500
    assert (value["cancellations"], value["refunds"], value["kept"], value["upsell"]) == (1, 2, 1, 1)
    assert value["cases_per_agent"] == 3  # 6 assigned cases, 2 agents


def test_targets_and_change_against_the_previous_period():
    f = _fixture()
    assert d.meets("lower", d.MEASURES_BY_CODE["chat_first_answer_median"].value(f), 120) is True  # ≤ 120 s
    assert d.meets("higher", d.MEASURES_BY_CODE["csat"].value(f), 85) is False
    assert d.change_percent(1, 2) == -50  # cancellations halved: meets −15 %
    assert d.meets("lower", d.change_percent(1, 2), -15) is True
    assert d.change_percent(3, 0) is None


def test_figures_add_up_like_the_cases_they_come_from():
    whole, half = _fixture(), d.Figures()
    half.add(_fixture())
    half.add(d.Figures.from_json(_fixture().to_json()))
    assert half.cases == 2 * whole.cases and d.median(half.chat_first_answer) == 120
    assert half.agents == whole.agents == [1, 2]


def test_seed_002_impact_arithmetic():
    i = d.impact(100, 75, 52)
    assert i.unhappy_per_day == 25
    assert i.lost_per_month == pytest.approx(390)  # 25 × 52 % × 30: "nearly 400"
    assert i.kept_by_plus_five == pytest.approx(78)  # 100 × 5 % × 52 % × 30


def test_every_measure_is_defined_in_docs_metrics_md():
    from pathlib import Path

    text = (Path(__file__).resolve().parents[3] / "docs" / "metrics.md").read_text(encoding="utf-8")
    for code in [m.code for m in d.MEASURES] + list(d.CHANGE_TARGETS):
        assert f"`{code}`" in text, code


@pytest.mark.django_db
def test_dashboard_figures_from_rollups_match_the_cases_and_reopened_case_counts():
    agent = UserFactory()

    def chat_case(received, reply_after):
        with time_machine.travel(received, tick=False) as clock:
            case = services.do_create_case(actor=agent, customer=CustomerFactory(), subject="質問", channel="chat",
                                           category=category("delivery"), complaint="こんにちは", assignee=agent)
            clock.move_to(received + dt.timedelta(seconds=reply_after))
            services.do_send_reply(case, actor=agent, body="お待たせしました")
        return case

    cases = [chat_case(jst(2026, 11, 24, 10, i), s) for i, s in enumerate((60, 100, 140, 300))]
    with time_machine.travel(jst(2026, 11, 24, 12), tick=False) as clock:
        first = cases[0]
        first.refresh_from_db()
        services.do_update_case(first, actor=agent, expected_version=first.version, changes={"status": Status.RESOLVED})
        clock.move_to(jst(2026, 11, 24, 13))
        first.refresh_from_db()
        services.do_add_interaction(first, actor=None, kind="inbound", channel="chat", body="まだ直りません")
    assert refresh_dirty() >= 1
    f = period_figures(dt.date(2026, 11, 24), dt.date(2026, 11, 24), {})
    # The first reply of case 1 is its reply at 60 s; the survey invitation is not a reply.
    assert d.median(f.chat_first_answer) == 120  # (100 + 140) / 2
    assert (f.ever_resolved, f.reopened) == (1, 1)
    live = period_figures(dt.date(2026, 11, 24), dt.date(2026, 11, 24), {"agent": str(agent.pk), "channel": "chat"})
    assert live.to_json() == f.to_json()  # live path = rollup path
    board = build(Period(dt.date(2026, 11, 24), dt.date(2026, 11, 24)), {})
    row = {r.code: r for r in board.rows}
    assert row["chat_first_answer_median"].value == 120 and row["chat_first_answer_median"].n == 4
    # 4 chats are fewer than the shop's minimum (30): greyed, not judged against the target.
    assert row["chat_first_answer_median"].thin and row["chat_first_answer_median"].ok is None
    from madoguchi.metrics.services import do_set_min_sample

    do_set_min_sample(4)
    board = build(Period(dt.date(2026, 11, 24), dt.date(2026, 11, 24)), {})
    assert {r.code: r for r in board.rows}["chat_first_answer_median"].ok is True
    assert row["reopen_rate"].value == 100


@pytest.mark.django_db
def test_commitment_kept_late_is_picked_up_by_the_minute_job_and_counted_not_on_time():
    from madoguchi.cases.models import Commitment, CommitmentState
    from madoguchi.metrics.models import DirtyDay
    from madoguchi.metrics.tasks import mark_recent_side_changes

    agent = UserFactory()
    with time_machine.travel(jst(2026, 11, 24, 10), tick=False) as clock:
        case = services.do_create_case(actor=agent, customer=CustomerFactory(), subject="返金", channel="email",
                                       category=category("delivery"), complaint="返金してください", assignee=agent)
        refresh_dirty()
        late = services.do_add_commitment(case, actor=agent, description="返金手続き", due_at=jst(2026, 11, 24, 15))
        on_time = services.do_add_commitment(case, actor=agent, description="連絡", due_at=jst(2026, 11, 24, 17))
        clock.move_to(jst(2026, 11, 24, 16))
        services.do_close_commitment(Commitment.objects.get(pk=late.pk), actor=agent, kept=True)
        services.do_close_commitment(Commitment.objects.get(pk=on_time.pk), actor=agent, kept=True)
        assert not DirtyDay.objects.exists()
        mark_recent_side_changes()
        assert DirtyDay.objects.filter(day=dt.date(2026, 11, 24)).exists()
        refresh_dirty()
    f = period_figures(dt.date(2026, 11, 24), dt.date(2026, 11, 24), {})
    assert (f.commitments_due, f.commitments_on_time) == (2, 1)
    assert Commitment.objects.filter(state=CommitmentState.KEPT).count() == 2
