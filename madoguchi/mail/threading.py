"""Which case a mail belongs to: the headers first, then a [#1234] token, then the sender's
open case (Japanese webmail often drops In-Reply-To and References)."""

from __future__ import annotations

from madoguchi.cases.models import ACTIVE_STATUSES, Case
from madoguchi.customers.models import Customer
from madoguchi.mail.models import OutboundMessage, RawMessage
from madoguchi.mail.parsing import ParsedMessage, case_number_in, clean_subject


def case_by_headers(message_ids: list[str]) -> Case | None:
    if not message_ids:
        return None
    ids = message_ids[:50]
    found = dict(OutboundMessage.objects.filter(message_id__in=ids, case__isnull=False).values_list("message_id", "case_id"))
    for message_id, case_id in RawMessage.objects.filter(message_id__in=ids, case__isnull=False).values_list("message_id", "case_id"):
        found.setdefault(message_id, case_id)
    for message_id in ids:  # the closest ancestor wins
        if message_id in found:
            return Case.objects.filter(pk=found[message_id]).first()
    return None


def case_by_token(parsed: ParsedMessage, customer: Customer | None) -> Case | None:
    """A [#1234] token joins only if the sender is that case's customer or the subject is the
    case's own: a guessed number from a stranger must not write into someone else's case."""
    number = case_number_in(parsed.subject)
    if number is None:
        return None
    case = Case.objects.filter(pk=number).select_related("customer").first()
    if case is None:
        return None
    if customer is not None and customer.pk == case.customer_id:
        return case
    return case if case.subject and case.subject in clean_subject(parsed.subject) else None


def case_by_sender(customer: Customer | None) -> Case | None:
    if customer is None:
        return None
    return (Case.objects.filter(customer=customer, status__in=ACTIVE_STATUSES)
            .order_by("-received_at", "-id").first())


def find_case(parsed: ParsedMessage, customer: Customer | None) -> Case | None:
    """`customer`: the sender's customer record, if the address is known."""
    return case_by_headers(parsed.thread_ids) or case_by_token(parsed, customer) or case_by_sender(customer)
