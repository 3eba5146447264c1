import pytest

from madoguchi.businesshours import calendar


@pytest.fixture(autouse=True)
def fresh_calendar():
    """Each test reads the calendar from its own (rolled back) database rows."""
    calendar.forget()
    yield
    calendar.forget()
