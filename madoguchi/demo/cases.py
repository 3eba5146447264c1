"""Turning a story into a case through the desk's own services, so audit events and
notifications exist, then dating everything back to when it happened in the story."""

from __future__ import annotations

import datetime as dt
import random
import unicodedata
from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from madoguchi.accounts.models import Team, User
from madoguchi.cases import services
from madoguchi.cases.models import (
    AuditEvent,
    Case,
    Category,
    Channel,
    Commitment,
    Compensation,
    CompensationKind,
    Handover,
    Interaction,
    Priority,
    Status,
)
from madoguchi.cases.steps import CHECKLIST_ITEMS
from madoguchi.demo.phrases import AGENT, Ctx, md
from madoguchi.demo.replay import replay, status_moves
from madoguchi.demo.story import Story
from madoguchi.demo.timeline import Beat, conversation
from madoguchi.notifications.models import Notification
from madoguchi.shop.models import Passage, Product

ACTIVE = (Status.OPEN, Status.WAITING_CUSTOMER, Status.WAITING_DEPT)
DONE = (Status.RESOLVED, Status.CLOSED)
# How far along the checklist a case in this status has got.
DEPTH: dict[str, int] = {Status.NEW: 0, Status.OPEN: 3, Status.WAITING_CUSTOMER: 4, Status.WAITING_DEPT: 5, Status.RESOLVED: 5, Status.CLOSED: 6}
CHECKS = [code for code, _label in CHECKLIST_ITEMS]


@dataclass
class Staff:
    team: Team
    lead: User
    agents: list[User]  # the lead answers cases too, less often

    def pick(self, rng: random.Random, other_than: User | None = None) -> User:
        choices = [a for a in self.agents if a != other_than]
        weights = [1 if a == self.lead else 3 for a in choices]
        return rng.choices(choices, weights)[0]


@dataclass
class Plan:
    category: Category
    status: str
    received_at: dt.datetime
    story: Story
    ctx: Ctx
    product: Product | None
    handover: bool


class Builder:
    def __init__(self, rng: random.Random, staff: Staff, started: dt.datetime) -> None:
        self.rng, self.staff, self.started = rng, staff, started
        self.now = timezone.now()

    def _date(self, case: Case, when: dt.datetime, notified: bool = False) -> None:
        """What the services just wrote for this case gets the story's time instead of now."""
        AuditEvent.objects.filter(case=case, at__gte=self.started).update(at=when)
        if notified:
            Notification.objects.filter(case=case, created_at__gte=self.started).update(created_at=when)

    def build(self, plan: Plan, customer: object) -> Case:
        rng, story, status = self.rng, plan.story, plan.status
        first = None if status == Status.NEW else self.staff.pick(rng)
        phone_taker = first or self.staff.pick(rng)
        case = services.do_create_case(
            actor=phone_taker if plan.ctx.channel == Channel.PHONE else None,
            customer=customer, subject=story.subject, channel=plan.ctx.channel, category=plan.category,
            complaint=story.complaint, received_at=plan.received_at, assignee=first,
            team=self.staff.team if first or rng.random() < 0.5 else None,
            priority=self._priority(plan), **self._facts(plan),
        )
        self._date(case, plan.received_at)
        due = self._open_due(status, plan.received_at)
        due_text = f"{md(due)} {timezone.localtime(due):%H}時" if due else ""
        beats = conversation(plan.ctx, story, status, due_text)
        times = self._times(plan.received_at, beats)
        owner = first
        entries = []
        for beat, when in zip(beats, times, strict=True):
            if beat.handover_point and plan.handover and owner is not None:
                moment = _awake(when - dt.timedelta(minutes=rng.randint(5, 90)), True, rng)
                owner = self._hand_over(case, owner, plan, min(moment, when - dt.timedelta(minutes=1)))
            entries.append(self._entry(case, beat, owner or phone_taker, when))
        Interaction.objects.bulk_create(entries)
        last = times[-1] if times else plan.received_at
        self._commitments(case, plan, owner, due, last)
        self._compensation(case, plan, owner, last)
        resolved = self._finish(case, plan, owner, last)
        first_status = Status.OPEN if first else Status.NEW
        case.status, case.resolved_at = status, resolved
        replay(case, entries, first_status, status_moves(first_status, status, resolved, last))
        return case

    def _priority(self, plan: Plan) -> int:
        priority = plan.story.priority
        if plan.ctx.channel == Channel.X and priority < Priority.URGENT:
            priority += 1  # said in public: answer sooner
        return priority

    def _facts(self, plan: Plan) -> dict[str, Any]:
        story, ctx, status = plan.story, plan.ctx, plan.status
        gathered = status != Status.NEW or ctx.channel == Channel.PHONE
        told = story.tells_order and ctx.order is not None
        number = ctx.order.number if told and ctx.order else ""
        if number and self.rng.random() < 0.15:
            number = unicodedata.normalize("NFKC", number).translate(_FULL_WIDTH)  # typed in full width
        found = ctx.order is not None and (told or status not in (Status.NEW, Status.OPEN))
        passage = None
        if story.passage and plan.product and status != Status.NEW:
            passage = Passage.objects.filter(product=plan.product, position=story.passage).first()
        return {
            "fact_order_number": number,
            "fact_product": story.fact_product if gathered or self.rng.random() < 0.5 else "",
            "fact_what_happened": story.what_happened if gathered else "",
            "fact_when": story.when if gathered else "",
            "order": ctx.order if found else None,
            "product": plan.product if gathered and story.fact_product else None,
            "passage": passage,
        }

    def _open_due(self, status: str, received: dt.datetime) -> dt.datetime | None:
        """A promise due today, tomorrow, in a few days, or already overdue (SPEC §4)."""
        if status not in ACTIVE:
            return None
        local = timezone.localtime(self.now)
        bucket = self.rng.choice(["overdue", "today", "tomorrow", "later"])
        if bucket == "overdue":
            due = (local - dt.timedelta(days=self.rng.randint(1, 3))).replace(hour=self.rng.choice([11, 13, 15, 17]), minute=0)
            if due > received + dt.timedelta(hours=20):
                return due.replace(second=0, microsecond=0)
            bucket = "tomorrow"  # too young a case to have missed a promise already
        if bucket == "today" and local.hour < 17:  # promises fall due in office hours
            return local.replace(hour=self.rng.randint(local.hour + 1, 18), minute=0, second=0, microsecond=0)
        days = self.rng.randint(2, 5) if bucket == "later" else 1
        return (local + dt.timedelta(days=days)).replace(hour=self.rng.choice([11, 13, 15, 17]), minute=0, second=0, microsecond=0)

    def _times(self, start: dt.datetime, beats: list[Beat]) -> list[dt.datetime]:
        """One moment per beat after `start`: agents write in office hours, nobody at 3 a.m.,
        nothing in the future."""
        limit = self.now - dt.timedelta(minutes=20)
        times, moment = [], start
        for beat in beats:
            if beat.soon:
                gap = dt.timedelta(minutes=self.rng.randint(3, 12))
            elif beat.later:
                gap = dt.timedelta(days=self.rng.randint(3, 7), hours=self.rng.randint(0, 5))
            else:
                gap = dt.timedelta(hours=self.rng.choice([0.5, 1, 2, 3, 5, 20, 26, 44]), minutes=self.rng.randint(0, 50))
            office = (beat.agent or beat.channel == Channel.PHONE) and not beat.soon
            candidate = _awake(moment + gap, office, self.rng)
            if candidate >= limit:  # squeeze the rest of the story in before now
                squeezed = moment + (limit - moment) * self.rng.uniform(0.2, 0.6)
                awake = _awake(squeezed, office, self.rng)
                candidate = awake if awake < limit else squeezed
            moment = candidate
            times.append(moment)
        return times

    def _entry(self, case: Case, beat: Beat, agent: User, when: dt.datetime) -> Interaction:
        body = beat.body.replace(AGENT, str(agent).split(" ")[0])  # signed with the family name
        return Interaction(
            case=case, kind=beat.kind, channel=beat.channel, body=body, occurred_at=when,
            author=agent if beat.agent else None,
        )

    def _hand_over(self, case: Case, owner: User, plan: Plan, when: dt.datetime) -> User:
        rng, story = self.rng, plan.story
        to_lead = owner != self.staff.lead and rng.random() < 0.25
        target = self.staff.lead if to_lead else self.staff.pick(rng, other_than=owner)
        reason = rng.choice(["明日から休暇のため", "シフトの都合で", "担当替えのため", "担当の案件が多いため"])
        why = "お怒りが強いため、リーダー対応をお願いします。" if to_lead else f"{reason}引き継ぎます。"
        note = (
            f"{plan.ctx.name}様「{story.subject}」の件。{why}\n{story.what_happened.rstrip('。')}。\n"
            "お詫びと今後の流れのご説明は済んでいます。お客様に同じことを再度お聞きしないようお願いします。"
        )
        version = Case.objects.values_list("version", flat=True).get(pk=case.pk)
        services.do_hand_over(case, actor=owner, expected_version=version, note=note, to_user=target)
        Handover.objects.filter(case=case, created_at__gte=self.started).update(created_at=when)
        self._date(case, when, notified=True)
        return target

    def _commitments(self, case: Case, plan: Plan, owner: User | None, due: dt.datetime | None, last: dt.datetime) -> None:
        story, status = plan.story, plan.status
        if owner is None or status == Status.NEW:
            return
        if due is not None:
            dept = status == Status.WAITING_DEPT
            commitment = services.do_add_commitment(
                case, actor=owner, due_at=max(due, self.now + dt.timedelta(minutes=1)),
                description=(story.dept_request or story.promise) if dept else story.promise,
                department=(story.dept or "物流部") if dept else "",
            )
            Commitment.objects.filter(pk=commitment.pk).update(due_at=due, created_at=last)
            self._date(case, last)
            return
        if status in DONE:
            self._past_commitment(case, story.promise, owner, plan.received_at, last)

    def _past_commitment(self, case: Case, promise: str, owner: User, start: dt.datetime, last: dt.datetime) -> None:
        """A promise made and then kept (mostly) or broken, inside the case's own timeline."""
        promised = start + (last - start) * self.rng.uniform(0.2, 0.4)
        local = timezone.localtime(promised) + dt.timedelta(days=1)
        due_at = min(local.replace(hour=self.rng.choice([12, 15, 17, 18]), minute=0, second=0, microsecond=0),
                     last - dt.timedelta(hours=1))
        kept = self.rng.random() < 0.82 or due_at <= promised
        closed = due_at - (due_at - promised) / 3 if kept else due_at + (last - due_at) / 2
        commitment = services.do_add_commitment(case, actor=owner, description=promise, due_at=self.now + dt.timedelta(hours=1))
        services.do_close_commitment(commitment, actor=owner, kept=kept)
        Commitment.objects.filter(pk=commitment.pk).update(created_at=promised, due_at=due_at, closed_at=closed)
        self._date(case, promised)
        if not kept:
            Interaction.objects.create(
                case=case, kind="note", channel=case.channel, author=owner, occurred_at=closed,
                body=f"お約束の期限（{md(due_at)} {timezone.localtime(due_at):%H}時）までにご連絡できなかった。お詫びのうえ状況をお伝えした。",
            )

    def _compensation(self, case: Case, plan: Plan, owner: User | None, last: dt.datetime) -> None:
        story, status = plan.story, plan.status
        if owner is None or story.comp is None or status in (Status.NEW, Status.WAITING_CUSTOMER):
            return
        kind, amount, reason = story.comp
        if status in ACTIVE and amount <= 3000 and self.rng.random() < 0.6:
            return  # not offered yet
        if status in DONE and kind == CompensationKind.COUPON and self.rng.random() < 0.35:
            # The agent first asked for a full refund; the lead said no and a coupon was enough.
            full = plan.ctx.order.amount_yen if plan.ctx.order else plan.ctx.item.price
            agent = owner if owner != self.staff.lead else self.staff.agents[1]
            generous = services.do_request_compensation(
                case, actor=agent, kind=CompensationKind.REFUND, amount_yen=full, reason=f"{reason}（全額返金のご要望）",
            ) if full > 3000 else None
            if generous is not None and generous.state == "pending":
                try:
                    services.do_decide_compensation(
                        generous, actor=self.staff.lead, approve=False,
                        note="当店の規定では全額返金の対象外です。クーポンでのお詫びにしてください。",
                    )
                except services.CaseError:
                    pass  # beyond the lead's authority: it waits for the admin
        compensation = services.do_request_compensation(case, actor=owner, kind=kind, amount_yen=amount, reason=reason)
        if compensation.state == "pending" and status in DONE:
            try:
                services.do_decide_compensation(compensation, actor=self.staff.lead, approve=True, note="確認しました。承認します。")
            except services.CaseError:
                pass  # over the lead's total for the period: it waits for the admin, as in a shop
        Compensation.objects.filter(case=case, created_at__gte=self.started).update(created_at=last)
        Compensation.objects.filter(case=case, decided_at__gte=self.started).update(decided_at=last + dt.timedelta(hours=2))
        self._date(case, last, notified=True)

    def _finish(self, case: Case, plan: Plan, owner: User | None, last: dt.datetime) -> dt.datetime | None:
        story, status = plan.story, plan.status
        depth = DEPTH[status]
        checklist = {code: True for code in CHECKS[:depth]}
        if plan.ctx.channel == Channel.PHONE and status == Status.NEW:
            checklist = {"heard_fully": True, "identity_confirmed": True}
        changes: dict[str, object] = {"status": status, "checklist": checklist}
        if status in DONE:
            changes.update(solution=story.solution, landing_point=story.landing)
        elif status == Status.WAITING_DEPT:
            changes["landing_point"] = f"{story.dept or '物流部'}に確認中。回答が来たらお客様へ連絡する。"
        elif status == Status.WAITING_CUSTOMER:
            changes["landing_point"] = "お客様からのご返答を待って、次の対応を決める。"
        version = Case.objects.values_list("version", flat=True).get(pk=case.pk)
        if status != Status.NEW:
            services.do_update_case(case, actor=owner or self.staff.lead, expected_version=version, changes=changes)
        resolved = last if status in DONE else None
        if status == Status.CLOSED:
            resolved = max(plan.received_at, last - dt.timedelta(days=self.rng.randint(2, 6)))
        Case.objects.filter(pk=case.pk).update(resolved_at=resolved, updated_at=last)
        self._date(case, last)
        return resolved


def _awake(moment: dt.datetime, office: bool, rng: random.Random) -> dt.datetime:
    """Move `moment` to when people are awake: 9:30–19:00 for the shop, 7–24 for customers."""
    local = timezone.localtime(moment)
    first, last = (9, 19) if office else (7, 24)
    if first <= local.hour < last:
        return moment
    day = local.date() + dt.timedelta(days=1 if local.hour >= last else 0)
    start = dt.datetime.combine(day, dt.time(first, 30 if office else 0), tzinfo=local.tzinfo)
    return start + dt.timedelta(minutes=rng.randint(0, 120))


_FULL_WIDTH = str.maketrans("0123456789-KB", "０１２３４５６７８９－ＫＢ")
