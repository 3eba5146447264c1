"""Phone numbers as people write them. Stored normalised (digits, domestic 0… form for Japan:
customers.services.normalise_identity); shown grouped by Google's libphonenumber rules
(03-1234-5678, 090-1234-5678, 0120-123-456, 0466-12-3456: the area code's length varies)."""

from __future__ import annotations

import phonenumbers


def phone_display(value: str) -> str:
    """A stored number grouped for reading; anything the library cannot place stays as stored."""
    try:
        number = phonenumbers.parse(value, "JP")
    except phonenumbers.NumberParseException:
        return value
    if not phonenumbers.is_possible_number(number):
        return value
    style = phonenumbers.PhoneNumberFormat.NATIONAL if number.country_code == 81 else phonenumbers.PhoneNumberFormat.INTERNATIONAL
    return phonenumbers.format_number(number, style)
