"""Complaint cases as the desk has them after the reader read their first message."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from madoguchi.cases.models import Case, Category, Channel, Interaction, InteractionKind
from madoguchi.customers.models import Customer
from madoguchi.triage.models import MessageReading


def complaint_case(text: str, *, category: str = "delivery", carrier: str = "", product: Any = None,
                   passage: Any = None, received_at: dt.datetime | None = None, customer: Customer | None = None,
                   kind: str = "complaint") -> Case:
    at = received_at or timezone.now()
    case = Case.objects.create(
        subject=text[:30], channel=Channel.EMAIL, category=Category.objects.get(code=category),
        customer=customer or Customer.objects.create(name="山田 太郎"), received_at=at, complaint=text,
        product=product if passage is None else passage.product, passage=passage,
    )
    interaction = Interaction.objects.create(case=case, kind=InteractionKind.INBOUND, channel=Channel.EMAIL,
                                             occurred_at=at, body=text)
    MessageReading.objects.create(interaction=interaction, kind=kind, category=category, anger=2.0,
                                  carriers=[carrier] if carrier else [], products=[])
    return case


def weeks_ago(weeks: int, *, hours: int = 1) -> dt.datetime:
    """A moment in the JST week `weeks` before this one (Monday + hours)."""
    from madoguchi.patterns.services import midnight, this_week

    return midnight(this_week() - dt.timedelta(weeks=weeks)) + dt.timedelta(hours=hours)
