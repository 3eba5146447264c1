"""Who gets a case nobody has: the team's rule (none / round robin / least loaded), among the
team's active members whose status is 対応可能 (away and on-vacation members are skipped).

Called by `services.new_case` for every case that arrives with a team and no assignee (mail,
chat, forms), inside the writing transaction. Round robin locks the team's row (PostgreSQL FOR
UPDATE; SQLite's IMMEDIATE transactions are serialised anyway), so two cases arriving at once
go to two people, not the same one."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count

from madoguchi.accounts.models import AssignmentRule, Availability, Team, User
from madoguchi.cases.models import ACTIVE, Case


def candidates(team: Team) -> list[User]:
    """The members a case may go to now, in a stable order (by id)."""
    return list(User.objects.filter(team=team, is_active=True, availability=Availability.AVAILABLE).order_by("id"))


def pick(team: Team | None) -> User | None:
    """The member the team's rule gives the next case to; None when the rule is off or nobody
    is available (the case then waits in 未割り当て as before)."""
    if team is None or team.assignment_rule == AssignmentRule.NONE:
        return None
    if team.assignment_rule == AssignmentRule.ROUND_ROBIN:
        return _round_robin(team)
    return _least_loaded(team)


def _round_robin(team: Team) -> User | None:
    last = Team.objects.select_for_update().filter(pk=team.pk).values_list("last_assigned_id", flat=True).first()
    people = candidates(team)
    if not people:
        return None
    chosen = next((person for person in people if last is not None and person.pk > last), people[0])
    Team.objects.filter(pk=team.pk).update(last_assigned=chosen)
    team.last_assigned = chosen
    return chosen


def _least_loaded(team: Team) -> User | None:
    """The available member with the fewest open cases (新規・対応中・返答待ち); on a tie the
    lowest id. One query for the members, one for their counts (index case_active_assignee)."""
    people = candidates(team)
    if not people:
        return None
    load = dict(Case.objects.filter(ACTIVE, assignee__in=people).values("assignee").annotate(n=Count("id"))
                .values_list("assignee", "n"))
    return min(people, key=lambda person: (load.get(person.pk, 0), person.pk))


@dataclass(frozen=True)
class Member:
    user: User
    open_cases: int


@dataclass(frozen=True)
class TeamRow:
    team: Team
    members: list[Member]


def team_overview(viewer: User) -> list[TeamRow]:
    """The teams a lead leads (an admin: every team) with each active member's status and open
    cases, for the lead's チームの状況 page: one query for the people, one for the counts."""
    teams = Team.objects.all() if viewer.is_admin else Team.objects.filter(lead=viewer)
    people = list(User.objects.filter(team__in=teams, is_active=True).select_related("team").order_by("team__name", "id"))
    load = dict(Case.objects.filter(ACTIVE, assignee__in=people).values("assignee").annotate(n=Count("id"))
                .values_list("assignee", "n")) if people else {}
    rows: dict[int, TeamRow] = {}
    for person in people:
        assert person.team is not None
        row = rows.setdefault(person.team.pk, TeamRow(person.team, []))
        row.members.append(Member(person, load.get(person.pk, 0)))
    return list(rows.values())
