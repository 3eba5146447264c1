"""The shop's business calendar: weekly opening hours, its own closed days and Japan's
public holidays. `is_open`, `next_open`, `business_seconds_between` and `add_business_seconds`
are the whole interface (see calendar.py)."""

from madoguchi.businesshours.calendar import (  # noqa: F401
    add_business_seconds,
    business_seconds_between,
    is_open,
    next_open,
)
