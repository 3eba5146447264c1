import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from madoguchi.businesshours import calendar

JST = ZoneInfo("Asia/Tokyo")


def jst(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=JST)


@pytest.fixture(autouse=True)
def fresh_calendar():
    calendar.forget()
    yield
    calendar.forget()
