"""Generated complaint data with a known drop (or none) around a fix date, with the carrier's orders."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

import pytest
from django.utils import timezone

from madoguchi.accounts.models import Role
from madoguchi.cases.models import Case, Channel
from madoguchi.customers.models import Customer
from madoguchi.notifications.tests.conftest import smtp_sink  # noqa: F401  (real SMTP to an aiosmtpd sink)
from madoguchi.shop.models import Carrier, Order
from madoguchi.testing.factories import TeamFactory, UserFactory, category

FIX_DAYS_AGO = 35  # the fix 35 days ago: its 28-day window is full


def at(day: dt.date, rng: random.Random) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(rng.randrange(8, 22), rng.randrange(60))))


def generate(fix: dt.date, *, before: int, after: int, orders_per_day: int = 40, carrier: str = Carrier.SAGAWA,
             days: int = 28, seed: int = 1, subject: str = "置き配で荷物が雨に濡れていました") -> dict[str, Any]:
    """`before` delivery complaints about `carrier` spread over the 28 days before the fix, `after`
    over the 28 days from it, each on an order shipped by it; `orders_per_day` orders a day."""
    rng = random.Random(seed)
    customer = Customer.objects.create(name="生成 太郎")
    orders = [Order(number=f"G{seed}-{i:06d}", customer=customer, ordered_at=at(fix + dt.timedelta(days=d), rng), carrier=carrier,
                    amount_yen=3300)
              for i, d in enumerate(d for d in range(-days, days) for _ in range(orders_per_day))]
    Order.objects.bulk_create(orders)
    orders = list(Order.objects.filter(number__startswith=f"G{seed}-").order_by("pk"))
    delivery = category("delivery")
    cases = []
    for n, span in ((before, range(-days, 0)), (after, range(0, days))):
        for _ in range(n):
            day = fix + dt.timedelta(days=rng.choice(list(span)))
            cases.append(Case(customer=customer, subject=subject, channel=Channel.EMAIL, category=delivery, complaint=subject,
                              received_at=at(day, rng), order=rng.choice(orders)))
    Case.objects.bulk_create(cases)
    return {"orders": orders, "customer": customer}


@pytest.fixture
def people(db: Any) -> dict[str, Any]:
    team = TeamFactory(name="お客様窓口1課")
    other_team = TeamFactory(name="お客様窓口2課")
    lead = UserFactory(username="lead", display_name="佐藤 リーダー", role=Role.LEAD, team=team, email="lead@shop.example.jp")
    team.lead = lead
    team.save()
    other_lead = UserFactory(username="lead2", display_name="高橋 リーダー", role=Role.LEAD, team=other_team)
    other_team.lead = other_lead
    other_team.save()
    agent = UserFactory(username="agent", display_name="田中 担当", team=team, email="agent@shop.example.jp")
    other = UserFactory(username="other", display_name="鈴木 担当", team=team, email="other@shop.example.jp")
    admin = UserFactory(username="boss", display_name="山本 管理者", role=Role.ADMIN, email="boss@shop.example.jp")
    return {"team": team, "lead": lead, "other_lead": other_lead, "agent": agent, "other": other, "admin": admin}



def cluster_of(carrier: str = Carrier.SAGAWA, label: str = "置き配・濡れる・雨") -> Any:
    """The cluster patterns keys delivery complaints about one carrier by, with every such case
    as its member (what `patterns.services.assign_cases` makes of them once read as complaints)."""
    from madoguchi.patterns.models import Cluster, Member

    delivery = category("delivery")
    cases = list(Case.objects.filter(category=delivery, order__carrier=carrier).order_by("received_at"))
    cluster = Cluster.objects.create(category=delivery, carrier=carrier, key=f"delivery|{carrier}", label=label,
                                     size=len(cases), last_case_at=cases[-1].received_at if cases else None)
    Member.objects.bulk_create([Member(case=case, cluster=cluster, received_at=case.received_at, category=delivery,
                                       carrier=carrier) for case in cases])
    return cluster
