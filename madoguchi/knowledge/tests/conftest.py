from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from madoguchi.cases import services as case_services
from madoguchi.cases.models import Category, Channel
from madoguchi.testing.factories import CustomerFactory, UserFactory

JST = ZoneInfo("Asia/Tokyo")


def jst(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=JST)


@pytest.fixture
def agent(db: Any) -> Any:
    return UserFactory(username="kb-agent", display_name="佐藤 花子")


@pytest.fixture
def make_case(agent: Any) -> Any:
    def make(subject: str = "商品がまだ届きません", complaint: str = "注文した商品がまだ届きません。", *,
             category: str = "delivery", channel: str = Channel.EMAIL, received_at: dt.datetime | None = None,
             customer: Any = None, **fields: Any) -> Any:
        return case_services.do_create_case(
            actor=agent, customer=customer or CustomerFactory(), subject=subject, channel=channel,
            category=Category.objects.get(code=category), complaint=complaint, received_at=received_at, **fields,
        )

    return make
