"""Finding, creating and merging customers. Knows nothing of HTTP."""

from __future__ import annotations

import re
import unicodedata

from django.db import transaction
from django.utils.translation import gettext as _

from madoguchi.customers.models import Customer, Identity, IdentityKind


def normalise_identity(kind: str, value: str) -> str:
    """The form an identity is stored and looked up in.

    Full-width digits and letters become half-width (NFKC), e-mail addresses are lower-cased,
    phone numbers keep only their digits and a leading +, handles lose their @.
    """
    value = unicodedata.normalize("NFKC", value).strip()
    if kind == IdentityKind.EMAIL:
        return value.lower()
    if kind == IdentityKind.PHONE:
        return re.sub(r"(?!^\+)[^\d]", "", value)
    if kind == IdentityKind.X:
        return value.lstrip("@").lower()
    return value


def find_customer(kind: str, value: str) -> Customer | None:
    identity = (
        Identity.objects.select_related("customer")
        .filter(kind=kind, value=normalise_identity(kind, value))
        .first()
    )
    return identity.customer if identity else None


@transaction.atomic
def get_or_create_customer(*, name: str, kind: str, value: str, kana: str = "") -> tuple[Customer, bool]:
    """The customer who owns this identity, or a new one who does (SPEC §10: one profile)."""
    existing = find_customer(kind, value)
    if existing is not None:
        return existing, False
    customer = Customer.objects.create(name=name.strip() or value, kana=kana)
    Identity.objects.create(customer=customer, kind=kind, value=normalise_identity(kind, value))
    return customer, True


@transaction.atomic
def do_merge_customers(*, source: Customer, target: Customer) -> Customer:
    """Move everything of `source` onto `target`; `source` stays as a pointer, nothing is lost."""
    if source.pk == target.pk:
        raise ValueError(_("同じお客様どうしは統合できません。"))
    if source.merged_into_id is not None or target.merged_into_id is not None:
        # Merging into a record that is itself merged away would make a cycle of pointers.
        raise ValueError(_("統合済みのお客様は、もう一度統合できません。"))
    from madoguchi.cases.models import Case
    from madoguchi.shop.models import Order

    Identity.objects.filter(customer=source).update(customer=target)
    Case.objects.filter(customer=source).update(customer=target)
    Order.objects.filter(customer=source).update(customer=target)
    if source.note:
        target.note = f"{target.note}\n{source.note}".strip()
    if not target.kana and source.kana:
        target.kana = source.kana
    target.save()
    source.merged_into = target
    source.save(update_fields=["merged_into"])
    return target
