"""The customer page's forms."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from madoguchi.customers.fields import (
    EmailAddressField,
    LineUserIdField,
    PhoneNumberField,
    XHandleField,
)
from madoguchi.customers.models import IdentityKind

# The field that checks a value of each kind, as the new-case form checks it.
VALUE_FIELDS: dict[str, forms.Field] = {
    IdentityKind.EMAIL: EmailAddressField(max_length=254),
    IdentityKind.PHONE: PhoneNumberField(max_length=30),
    IdentityKind.LINE: LineUserIdField(),
    IdentityKind.X: XHandleField(),
}


class IdentityForm(forms.Form):
    """Add a contact of any kind to a customer (the customer page)."""

    kind = forms.ChoiceField(label=_("種類"), choices=IdentityKind.choices)
    value = forms.CharField(label=_("連絡先"), max_length=254)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        kind, value = data.get("kind"), data.get("value")
        if kind and value:
            try:
                data["value"] = VALUE_FIELDS[kind].clean(value)
            except forms.ValidationError as error:
                self.add_error("value", error)
        return data
