"""More recipients of a reply (CC, BCC) and a forward's address, as staff type them.

Only bare addresses, separated by commas, 「、」, semicolons or spaces; each checked by Django's
e-mail validator; a CR or LF anywhere is refused (it would start a header of its own).
Stored comma-separated (`join`) and read back with `split`.
"""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext as _

MAX_RECIPIENTS = 10
_SEPARATORS = re.compile(r"[,、，;；\s]+")


def parse(text: str, *, label: str) -> list[str]:
    """The addresses in `text` (none for a blank field), or ValidationError in Japanese."""
    if "\r" in text or "\n" in text:
        raise ValidationError(_("%(label)s に改行は使えません。アドレスはカンマで区切って入力してください。") % {"label": label})
    found: list[str] = []
    for part in _SEPARATORS.split(text.strip()):
        if not part:
            continue
        address = part.strip("<>")
        try:
            validate_email(address)
        except ValidationError:
            raise ValidationError(_("%(label)s の「%(address)s」はメールアドレスとして正しくありません。")
                                  % {"label": label, "address": part[:100]}) from None
        if address.lower() not in (known.lower() for known in found):
            found.append(address)
    if len(found) > MAX_RECIPIENTS:
        raise ValidationError(_("%(label)s は%(most)s件までです。") % {"label": label, "most": MAX_RECIPIENTS})
    return found


def join(addresses: list[str]) -> str:
    return ", ".join(addresses)


def split(stored: str) -> list[str]:
    return [part.strip() for part in stored.split(",") if part.strip()]
