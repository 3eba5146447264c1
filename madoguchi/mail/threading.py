"""Which case a mail belongs to: the headers first, then a [#1234] token, then the sender's
open case (Japanese webmail often drops In-Reply-To and References).

Headers and token join a case only when the sender's address is an identity of that case's
customer: case numbers are guessable and Message-IDs travel in quoted mail, and whoever writes
into a case receives the staff's replies. Any other sender's mail opens a case of its own, with
a note naming the case it referred to (`Lookups.thread`).

`Lookups` answers these questions for a whole batch of mails with a few queries (the
Message-IDs the batch refers to, the case numbers in its subjects, its senders and their
open cases) and learns from each mail the batch files, so a reply to a mail earlier in the
same batch still joins that mail's case, even before that case is inserted (the bulk path of
ingest writes a batch's cases together at the end: `filed` accepts an unsaved case). What it
did not read up front it asks the database for, exactly like a batch of one; `find_case` is
that batch of one.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings

from madoguchi.accounts.models import Team
from madoguchi.accounts.services import default_team
from madoguchi.cases.models import ACTIVE_STATUSES, Case, Category
from madoguchi.customers.models import Customer, Identity, IdentityKind
from madoguchi.customers.services import normalise_identity
from madoguchi.mail.models import Mailbox, OutboundKind, OutboundMessage, RawMessage
from madoguchi.mail.parsing import ParsedMessage, case_numbers_in

MAX_THREAD_IDS = 50


class Lookups:
    def __init__(self) -> None:
        self.customers: dict[str, Customer | None] = {}  # normalised address → customer
        self.outbound_ids: dict[str, int | None] = {}  # Message-ID → case id (our mail)
        self.inbound_ids: dict[str, int | None] = {}  # Message-ID → case id (earlier inbound mail)
        self.cases: dict[int, Case | None] = {}
        self.filed_ids: dict[str, Case] = {}  # Message-ID → case, of mails this batch filed
        self.forward_ids: set[str] = set()  # Message-IDs of our forwards to other departments
        self.open_cases: dict[int, Case | None] = {}  # customer id → newest open case
        self._own: set[str] | None = None
        self._category: Category | None = None
        self._teams: dict[int | None, Team | None] | None = None

    # --- read up front --------------------------------------------------------------------------

    @classmethod
    def for_batch(cls, messages: Iterable[ParsedMessage]) -> Lookups:
        messages = list(messages)
        lookups = cls()
        addresses = {normalise_identity(IdentityKind.EMAIL, m.from_address) for m in messages if m.from_address}
        lookups._read_customers(addresses)
        lookups._read_thread_ids({mid for m in messages for mid in m.thread_ids[:MAX_THREAD_IDS]})
        numbers = {n for m in messages for n in case_numbers_in(m.subject)}
        wanted = {pk for pk in (*lookups.outbound_ids.values(), *lookups.inbound_ids.values()) if pk} | numbers
        lookups._read_cases(wanted)
        lookups._read_open_cases({c.pk for c in lookups.customers.values() if c is not None})
        return lookups

    def _read_customers(self, addresses: set[str]) -> None:
        addresses -= self.customers.keys()
        if not addresses:
            return
        self.customers.update(dict.fromkeys(addresses))
        for identity in Identity.objects.filter(kind=IdentityKind.EMAIL, value__in=addresses).select_related("customer"):
            self.customers[identity.value] = identity.customer

    def _read_thread_ids(self, ids: set[str]) -> None:
        ids -= self.outbound_ids.keys()
        if not ids:
            return
        self.outbound_ids.update(dict.fromkeys(ids))
        self.inbound_ids.update(dict.fromkeys(ids))
        for mid, case_id, kind in (OutboundMessage.objects.filter(message_id__in=ids, case__isnull=False)
                                   .values_list("message_id", "case_id", "kind")):
            self.outbound_ids[mid] = case_id
            if kind == OutboundKind.FORWARD:
                self.forward_ids.add(mid)
        for mid, case_id in RawMessage.objects.filter(message_id__in=ids, case__isnull=False).values_list("message_id", "case_id"):
            if self.inbound_ids.get(mid) is None:
                self.inbound_ids[mid] = case_id

    def _read_cases(self, pks: set[int]) -> None:
        pks -= self.cases.keys()
        if not pks:
            return
        self.cases.update(dict.fromkeys(pks))
        merged: dict[int, int] = {}
        for case in Case.objects.filter(pk__in=pks):
            self.cases[case.pk] = case
            if case.merged_into_id is not None:
                merged[case.pk] = case.merged_into_id
        # A case merged into another (cases.services.do_merge_cases) lives on in that case: a
        # reply to the old thread, or the old [#n] token, joins the case it was merged into.
        for _depth in range(10):
            if not merged:
                break
            missing = set(merged.values()) - self.cases.keys()
            found = {case.pk: case for case in Case.objects.filter(pk__in=missing)}
            further: dict[int, int] = {}
            for pk, into in merged.items():
                target = self.cases.get(into) or found.get(into)
                if target is None:
                    continue
                self.cases[pk] = target
                if target.merged_into_id is not None and target.merged_into_id != pk:
                    further[pk] = target.merged_into_id
            merged = further

    def _read_open_cases(self, customer_ids: set[int]) -> None:
        customer_ids -= self.open_cases.keys()
        if not customer_ids:
            return
        self.open_cases.update(dict.fromkeys(customer_ids))
        found = Case.objects.filter(customer_id__in=customer_ids, status__in=ACTIVE_STATUSES).order_by(
            "customer_id", "-received_at", "-id"
        )
        for case in found:
            if self.open_cases[case.customer_id] is None:
                self.open_cases[case.customer_id] = self.cases.setdefault(case.pk, case) or case

    # --- questions ------------------------------------------------------------------------------

    def answers_forward(self, parsed: ParsedMessage) -> bool:
        """The mail may be a department's answer to a forward (mail.forwarding), by its subject's
        token or its headers: no query beyond the thread ids the batch reads anyway."""
        from madoguchi.mail.forwarding import mentions_forward

        self._read_thread_ids(set(parsed.thread_ids[:MAX_THREAD_IDS]))
        return mentions_forward(parsed, self.forward_ids)

    def own_addresses(self) -> set[str]:
        if self._own is None:
            self._own = {a.lower() for a in Mailbox.objects.values_list("address", flat=True)}
            self._own.add(settings.DEFAULT_FROM_EMAIL.lower())
        return self._own

    def default_category(self) -> Category:
        if self._category is None:
            code = settings.MAIL_DEFAULT_CATEGORY
            found = Category.objects.filter(code=code).first() or Category.objects.order_by("position").first()
            # A case needs a category; an emptied list must not make mail fail.
            self._category = found or Category.objects.get_or_create(code="other", defaults={"name": "その他"})[0]
        return self._category

    def team_for(self, mailbox_id: int | None) -> Team | None:
        """The team a new case from this mailbox gets: the mailbox's, else the shop's first
        team. Read once per batch, when the batch opens its first case."""
        if self._teams is None:
            self._teams = {None: default_team()}
            for mailbox in Mailbox.objects.filter(team__isnull=False).select_related("team").only("pk", "team"):
                self._teams[mailbox.pk] = mailbox.team
        return self._teams.get(mailbox_id) or self._teams[None]

    def customer(self, address: str) -> Customer | None:
        key = normalise_identity(IdentityKind.EMAIL, address)
        self._read_customers({key})
        return self.customers[key]

    def case(self, pk: int) -> Case | None:
        self._read_cases({pk})
        return self.cases[pk]

    def _is_customer_of(self, case: Case, customer: Customer | None) -> bool:
        """The sender's address is an identity of the case's customer (the customer record an
        address belongs to is looked up by its normalised form, as customers/services does)."""
        return customer is not None and customer.pk == case.customer_id

    def referred_cases(self, parsed: ParsedMessage) -> list[Case]:
        """The cases a mail refers to, in order: by its headers (the closest ancestor first; our
        own mail before an inbound one), then by the [#1234] tokens in its subject."""
        ids = parsed.thread_ids[:MAX_THREAD_IDS]
        self._read_thread_ids(set(ids))
        found: list[Case] = []
        for mid in ids:
            case = self._case_of(mid)
            if case is not None and case not in found:
                found.append(case)
        for number in case_numbers_in(parsed.subject):
            case = self.case(number)
            if case is not None and case not in found:
                found.append(case)
        return found

    def _case_of(self, mid: str) -> Case | None:
        """The case a Message-ID belongs to: our own mail before an inbound one."""
        case_id = self.outbound_ids.get(mid)
        if case_id:
            return self.case(case_id)
        if mid in self.filed_ids:
            return self.filed_ids[mid]
        case_id = self.inbound_ids.get(mid)
        return self.case(case_id) if case_id else None

    def case_by_headers(self, message_ids: list[str], customer: Customer | None = None) -> Case | None:
        """The case these Message-IDs belong to, if the sender is that case's customer."""
        ids = message_ids[:MAX_THREAD_IDS]
        self._read_thread_ids(set(ids))
        for mid in ids:  # the closest ancestor wins; our own mail before an inbound one
            case = self._case_of(mid)
            if case is not None and self._is_customer_of(case, customer):
                return case
        return None

    def case_by_token(self, parsed: ParsedMessage, customer: Customer | None) -> Case | None:
        """A [#1234] token joins only if the sender is that case's customer: case numbers are
        easy to guess, and whoever writes into a case receives the staff's replies."""
        for number in case_numbers_in(parsed.subject):
            case = self.case(number)
            if case is not None and self._is_customer_of(case, customer):
                return case
        return None

    def case_by_sender(self, customer: Customer | None) -> Case | None:
        if customer is None:
            return None
        self._read_open_cases({customer.pk})
        return self.open_cases[customer.pk]

    def thread(self, parsed: ParsedMessage, customer: Customer | None) -> tuple[Case | None, Case | None]:
        """(case, refused): the case the mail joins, and the case it referred to (headers or
        token) but may not join because the sender is not that case's customer. Every case it
        refers to is tried, and it joins the first that is the sender's; if none is, it goes
        where a mail without headers or token goes, the sender's open case (case None: a new
        case of its own sender), and `refused` names the first case it referred to, for the note."""
        referred = self.referred_cases(parsed)
        for case in referred:
            if self._is_customer_of(case, customer):
                return case, None
        return self.case_by_sender(customer), (referred[0] if referred else None)

    def find_case(self, parsed: ParsedMessage, customer: Customer | None) -> Case | None:
        """`customer`: the sender's customer record, if the address is known."""
        return self.thread(parsed, customer)[0]

    # --- learning from the batch ------------------------------------------------------------------

    def filed(self, message_id: str, address: str, customer: Customer | None, case: Case | None) -> None:
        """A mail of the batch was filed (its savepoint released, or its writes planned by the
        bulk path, `case` then maybe not inserted yet): later mails see it."""
        if customer is not None and address:
            self.customers[normalise_identity(IdentityKind.EMAIL, address)] = customer
        if case is None:
            return
        self.saved([case])
        if message_id and not self.inbound_ids.get(message_id) and message_id not in self.filed_ids:
            self.filed_ids[message_id] = case
            self.outbound_ids.setdefault(message_id, None)
        if case.status in ACTIVE_STATUSES and case.customer_id in self.open_cases:
            newest = self.open_cases[case.customer_id]
            if newest is None or _newest_first(case) >= _newest_first(newest):
                self.open_cases[case.customer_id] = case

    def new_customer(self, address: str, customer: Customer) -> None:
        """A customer record created for a new sender: it has no case yet."""
        self.customers[normalise_identity(IdentityKind.EMAIL, address)] = customer
        self.open_cases[customer.pk] = None

    def saved(self, cases: Iterable[Case]) -> None:
        """These cases have their numbers now (a [#n] token finds them)."""
        for case in cases:
            if case.pk is not None:
                self.cases[case.pk] = case

    def forget_customer(self, address: str) -> None:
        self.customers.pop(normalise_identity(IdentityKind.EMAIL, address), None)

    def forget_cases(self) -> None:
        """A mail failed after changing cases in memory (status, version): read them again."""
        for mid, case in list(self.filed_ids.items()):
            if case.pk is not None:
                self.inbound_ids[mid] = case.pk
                del self.filed_ids[mid]
        self.cases.clear()
        self.open_cases.clear()


def _newest_first(case: Case) -> tuple:
    """Sort key of a customer's open cases; a case not inserted yet is the newest of its time."""
    return (case.received_at, case.pk if case.pk is not None else float("inf"))


def find_case(parsed: ParsedMessage, customer: Customer | None) -> Case | None:
    return Lookups().find_case(parsed, customer)
