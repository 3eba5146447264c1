"""The rollup rows add up to exactly what the cases say: any combination of filters, every
breakdown, a period of whole months plus edge days, and after a day is rebuilt in place."""

from __future__ import annotations

import datetime as dt
import io
import itertools
from collections import defaultdict

import pytest
import time_machine

from madoguchi.cases import services
from madoguchi.cases.models import Status
from madoguchi.metrics import definitions as d
from madoguchi.metrics.dashboard import BREAKDOWN_MEASURES, Period, breakdown, build
from madoguchi.metrics.models import Cell
from madoguchi.metrics.rollup import (
    DIMS,
    case_rows,
    live_figures,
    pack,
    period_figures,
    rebuild_day,
    rebuild_month,
    refresh_dirty,
)
from madoguchi.metrics.tasks import mark_recent_side_changes
from madoguchi.metrics.tests.conftest import jst
from madoguchi.testing.factories import CustomerFactory, TeamFactory, UserFactory, category

pytestmark = pytest.mark.django_db

DAYS = [(2026, 10, 31), (2026, 11, 2), (2026, 11, 17), (2026, 11, 30), (2026, 12, 1)]
PERIOD = Period(dt.date(2026, 10, 31), dt.date(2026, 12, 1))  # Nov whole + two edge days


@pytest.fixture
def desk():
    """Two teams, three agents (one without a team), chat/email/phone, three categories,
    cases on days around a whole month; some answered, resolved, rated, reopened."""
    teams = [TeamFactory(), TeamFactory()]
    agents = [UserFactory(team=teams[0]), UserFactory(team=teams[1]), UserFactory(team=None)]
    categories = [category("delivery"), category("defect"), category("billing")]
    combos = itertools.cycle(itertools.product(agents + [None], ["chat", "email", "phone"], categories))
    cases = []
    for n, day in enumerate(DAYS):
        for i in range(7):
            agent, channel, cat = next(combos)
            received = jst(*day, 10, 0) + dt.timedelta(minutes=7 * i)
            with time_machine.travel(received, tick=False) as clock:
                case = services.do_create_case(actor=agent, customer=CustomerFactory(), subject="問い合わせ",
                                               channel=channel, category=cat, complaint="届きません",
                                               assignee=agent, team=None if agent else teams[i % 2])
                if agent and (i + n) % 3:
                    clock.move_to(received + dt.timedelta(seconds=40 + 55 * i + 13 * n))
                    services.do_send_reply(case, actor=agent, body="確認いたします")
                if agent and (i + n) % 2:
                    clock.move_to(received + dt.timedelta(hours=1 + i))
                    case.refresh_from_db()
                    services.do_update_case(case, actor=agent, expected_version=case.version,
                                            changes={"status": Status.RESOLVED})
                    if i == 3:
                        clock.move_to(received + dt.timedelta(hours=2 + i))
                        services.do_add_interaction(case, actor=None, kind="inbound", channel=channel,
                                                    body="まだ届きません")
            cases.append(case)
    refresh_dirty()
    return {"teams": teams, "agents": agents, "categories": categories, "cases": cases}


def _filter_sets(desk):
    values = {
        "team": [str(t.pk) for t in desk["teams"]],
        "agent": [str(a.pk) for a in desk["agents"]],
        "channel": ["chat", "email", "phone"],
        "category": [str(c.pk) for c in desk["categories"]],
    }
    for size in range(0, 5):
        for names in itertools.combinations(DIMS, size):
            for chosen in itertools.product(*(values[n] for n in names)):
                yield dict(zip(names, chosen, strict=True))


def test_every_combination_of_filters_equals_the_cases_themselves(desk):
    checked = 0
    for filters in _filter_sets(desk):
        for first, last in [(PERIOD.first, PERIOD.last), (dt.date(2026, 11, 1), dt.date(2026, 11, 30)),
                            (dt.date(2026, 11, 2), dt.date(2026, 11, 17))]:
            rolled = period_figures(first, last, filters)
            live = live_figures(first, last, filters)
            assert rolled.to_json() == live.to_json(), (filters, first, last)
            checked += 1
    assert checked > 300


def test_two_filters_read_the_cells_and_match_by_hand(desk):
    team, agent = desk["teams"][0], desk["agents"][0]
    f = period_figures(PERIOD.first, PERIOD.last, {"team": str(team.pk), "channel": "chat"})
    by_hand = [c for c in desk["cases"] if c.team_id == team.pk and c.channel == "chat"]
    assert f.cases == len(by_hand) > 0
    assert f.agents == [agent.pk]
    board = build(PERIOD, {"team": str(team.pk), "channel": "chat"}, with_breakdowns=False)
    assert {r.code: r.value for r in board.rows}["cases"] == len(by_hand)
    assert board.trend["cases"]  # two filters now have a trend too


def _live_breakdown(period, dim, filters):
    groups = defaultdict(list)
    for dims, row in case_rows(period.first, period.last, filters):
        if dims[dim] is not None:
            groups[str(dims[dim])].append(row)
    result = {}
    for value, rows in groups.items():
        f = d.figures_of(rows)
        result[value] = {c: d.MEASURES_BY_CODE[c].value(f) for c in BREAKDOWN_MEASURES}
        # …and the n each rate stands on, shown beside it.
        result[value] |= {f"n:{c}": float(n) for c in BREAKDOWN_MEASURES if (n := d.sample(c, f)) is not None}
    return result


@pytest.mark.parametrize("dim", DIMS)
def test_every_breakdown_equals_the_cases_themselves_with_and_without_filters(desk, dim):
    for filters in [{}, {"channel": "chat"}, {"team": str(desk["teams"][1].pk), "category": str(desk["categories"][0].pk)}]:
        assert dict(breakdown(PERIOD, dim, filters)) == _live_breakdown(PERIOD, dim, filters), filters


def test_a_changed_case_moves_between_cells_and_the_month_stays_the_sum_of_its_days(desk):
    case = next(c for c in desk["cases"] if c.received_at.astimezone().date() == dt.date(2026, 11, 17))
    case.refresh_from_db()
    agent = case.assignee or desk["agents"][0]
    with time_machine.travel(jst(2026, 11, 20, 9), tick=False):
        services.do_update_case(case, actor=agent, expected_version=case.version,
                                changes={"category": category("other")})
        # No signal for a category change: the minute job finds it in the audit log.
        assert refresh_dirty() == 0
        mark_recent_side_changes()
    assert refresh_dirty() == 1
    for filters in [{}, {"category": str(category("other").pk)}, {"channel": case.channel, "category": str(category("other").pk)},
                    {"channel": case.channel, "category": str(case.category_id)}]:
        assert period_figures(PERIOD.first, PERIOD.last, filters).to_json() == \
            live_figures(PERIOD.first, PERIOD.last, filters).to_json(), filters
    # The month rows corrected by differences equal the month summed again from its days.
    incremental = _rows("m", dt.date(2026, 11, 1))
    rebuild_month(dt.date(2026, 11, 1))
    assert _rows("m", dt.date(2026, 11, 1)) == incremental
    assert rebuild_day(dt.date(2026, 11, 17)) == 0  # nothing changed: nothing written


def _rows(grain, day):
    return sorted(
        tuple(bytes(v) if isinstance(v, memoryview) else v for v in row)
        for row in Cell.objects.filter(grain=grain, day=day).values_list(
            "kind", "team", "agent", "channel", "category", *d.SCALARS, *d.HISTOGRAMS)
    )


def test_cell_has_a_column_for_every_figure_and_packs_histograms_losslessly():
    names = {f.name for f in Cell._meta.get_fields()}
    assert set(d.SCALARS) | set(d.HISTOGRAMS) <= names
    from madoguchi.metrics.rollup import add_packed

    total: dict[int, int] = {}
    add_packed(total, pack({"600": 2, "5": 1, "90000": 3}))
    assert total == {5: 1, 600: 2, 90000: 3}


def test_rebuild_rollups_command_builds_the_same_rows_from_nothing(desk):
    from django.core.management import call_command

    before = _rows("m", dt.date(2026, 11, 1)), _rows("d", dt.date(2026, 11, 17))
    Cell.objects.all().delete()
    call_command("rebuild_rollups", stdout=io.StringIO())
    assert (_rows("m", dt.date(2026, 11, 1)), _rows("d", dt.date(2026, 11, 17))) == before
    assert period_figures(PERIOD.first, PERIOD.last, {}).to_json() == live_figures(PERIOD.first, PERIOD.last, {}).to_json()


def test_a_handover_reaches_the_agent_rows_through_the_minute_job(desk):
    case = next(c for c in desk["cases"] if c.assignee_id == desk["agents"][0].pk)
    case.refresh_from_db()
    to = desk["agents"][1]
    with time_machine.travel(jst(2026, 12, 2, 9), tick=False):
        services.do_hand_over(case, actor=desk["agents"][0], expected_version=case.version,
                              note="配送状況の確認をお願いします", to_user=to)
        mark_recent_side_changes()
    assert refresh_dirty() == 1
    for filters in [{"agent": str(to.pk)}, {"agent": str(desk["agents"][0].pk)}, {"team": str(to.team_id), "channel": case.channel}]:
        assert period_figures(PERIOD.first, PERIOD.last, filters).to_json() == \
            live_figures(PERIOD.first, PERIOD.last, filters).to_json(), filters
