"""Record ids typed or sent by people: ASCII digits only.

`str.isdigit()` also accepts characters such as "²" or "١", which `int()` or the database
then refuse with an error. Full-width digits and "＃", as a Japanese keyboard types them,
are folded to ASCII first; nothing else is.
"""

from __future__ import annotations

import re

_ID = re.compile(r"[0-9]{1,18}")
_FULL_WIDTH = str.maketrans("０１２３４５６７８９＃", "0123456789#")


def parse_id(value: object) -> int | None:
    """The positive id in `value`, or None if it is not one."""
    text = str(value or "").translate(_FULL_WIDTH).strip().lstrip("#")
    if not _ID.fullmatch(text):
        return None
    number = int(text)
    return number if number > 0 else None
