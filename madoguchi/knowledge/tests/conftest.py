from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from madoguchi.cases import services as case_services
from madoguchi.cases.models import Category, Channel
from madoguchi.testing.factories import IdentityFactory, UserFactory

JST = ZoneInfo("Asia/Tokyo")


def jst(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=JST)


@pytest.fixture(autouse=True)
def _jobs_run_inline(huey_immediate: None) -> None:
    """Background jobs run in the test thread (madoguchi/conftest.py huey_immediate)."""


@pytest.fixture
def agent(db: Any) -> Any:
    return UserFactory(username="kb-agent", display_name="佐藤 花子")


@pytest.fixture
def lead(db: Any) -> Any:
    from madoguchi.accounts.models import Role

    return UserFactory(username="kb-lead", display_name="高橋 誠", role=Role.LEAD)


@pytest.fixture
def make_case(agent: Any) -> Any:
    def make(subject: str = "商品がまだ届きません", complaint: str = "注文した商品がまだ届きません。", *,
             category: str = "delivery", channel: str = Channel.EMAIL, received_at: dt.datetime | None = None,
             customer: Any = None, **fields: Any) -> Any:
        return case_services.do_create_case(
            # A customer with an address, as a mail's sender has: automatic answers go by mail.
            actor=agent, customer=customer or IdentityFactory().customer, subject=subject, channel=channel,
            category=Category.objects.get(code=category), complaint=complaint, received_at=received_at, **fields,
        )

    return make
