import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from madoguchi.businesshours import calendar

JST = ZoneInfo("Asia/Tokyo")


def jst(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=JST)


@pytest.fixture(autouse=True)
def fresh_calendar():
    """Each test reads the calendar and the cached breakdowns of its own rolled-back rows."""
    from django.core.cache import cache

    calendar.forget()
    cache.clear()
    yield
    calendar.forget()
    cache.clear()
