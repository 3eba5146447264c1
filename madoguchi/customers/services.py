"""Finding, creating and merging customers. Knows nothing of HTTP."""

from __future__ import annotations

import re
import unicodedata
from typing import TYPE_CHECKING

from django.db import IntegrityError, transaction
from django.db.models import OuterRef, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from madoguchi.customers.models import (
    Customer,
    CustomerMerge,
    Identity,
    IdentityKind,
    MatchState,
    PossibleMatch,
)

if TYPE_CHECKING:
    from madoguchi.accounts.models import User


def normalise_identity(kind: str, value: str) -> str:
    """The form an identity is stored and looked up in.

    Full-width digits and letters become half-width (NFKC), e-mail addresses are lower-cased,
    phone numbers keep only their digits and a leading +, handles lose their @.
    """
    value = unicodedata.normalize("NFKC", value).strip()
    if kind == IdentityKind.EMAIL:
        return value.lower()
    if kind == IdentityKind.PHONE:
        number = re.sub(r"(?!^\+)[^\d]", "", value)
        # +81 90-… and 090-… are the same Japanese number: keep the domestic form, so a caller
        # who gives it either way is found.
        return "0" + number[3:].lstrip("0") if number.startswith("+81") and len(number) > 3 else number
    if kind == IdentityKind.X:
        return value.lstrip("@").lower()
    return value


def find_customer(kind: str, value: str) -> Customer | None:
    normalised = normalise_identity(kind, value)
    if not normalised:  # an empty identity is nobody's: never match on it
        return None
    identity = Identity.objects.select_related("customer").filter(kind=kind, value=normalised).first()
    return identity.customer if identity else None


class CustomerError(ValueError):
    """Shown to the staff member as it is (Japanese)."""


def salutation(customer: Customer) -> str:
    """How a mail the desk writes by itself (receipt, acknowledgement, after-hours answer, survey)
    addresses the customer: 「<name> 様」 only for a name staff wrote or confirmed, else 「お客様」.
    A name from a mail's From header or typed on a public page is whatever a stranger chose
    (「【重要】… https://…」), and these mails go to an address nobody has verified: repeating
    it would let anyone send their words from the shop's address (issue 21, finding 1)."""
    name = customer.name.strip() if customer.name_confirmed else ""
    return f"{name} 様" if name else "お客様"


@transaction.atomic
def do_confirm_customer_name(customer: Customer, *, user: User, name: str) -> Customer:
    """A staff member checked the customer's name (on the phone, against an order) and wrote it
    as it is: from now on the desk's automatic mails address them by it."""
    name = name.strip()
    if not name:
        raise CustomerError(_("お名前を入力してください。"))
    customer.name = name[:200]
    customer.name_confirmed, customer.name_confirmed_by, customer.name_confirmed_at = True, user, timezone.now()
    customer.save(update_fields=["name", "name_confirmed", "name_confirmed_by", "name_confirmed_at"])
    _audit_cases(customer.pk, user, "customer_name_confirmed", {"name": customer.name})
    return customer


@transaction.atomic
def get_or_create_customer(*, name: str, kind: str, value: str, kana: str = "",
                           confirmed_by: User | None = None) -> tuple[Customer, bool]:
    """The customer who owns this identity, or a new one who does (SPEC §10: one profile).
    A value with nothing left after normalising gives a new customer without an identity.
    `confirmed_by`: the staff member who took the name down (a call they logged)."""
    existing = find_customer(kind, value)
    if existing is not None:
        return existing, False
    confirmed = confirmed_by is not None and bool(name.strip())
    customer = Customer.objects.create(name=name.strip() or value, kana=kana, name_confirmed=confirmed,
                                       name_confirmed_by=confirmed_by if confirmed else None,
                                       name_confirmed_at=timezone.now() if confirmed else None)
    normalised = normalise_identity(kind, value)
    if normalised:
        Identity.objects.create(customer=customer, kind=kind, value=normalised)
    return customer, True


@transaction.atomic
def customer_for_call(*, name: str, kana: str, phone: str, email: str, channel: str, by: User | None = None,
                      line: str = "", x: str = "") -> Customer:
    """The customer for a contact an agent logs (a call, a letter, a LINE or X conversation):
    found by the first identity given, in the order phone, e-mail, LINE user ID, X handle. Each
    other identity joins that record if nobody holds it; if another customer holds it, the two
    are linked unconfirmed (`PossibleMatch`) for staff to merge after checking, so what the
    caller gave is neither dropped nor trusted blindly."""
    given = [(kind, value) for kind, value in ((IdentityKind.PHONE, phone), (IdentityKind.EMAIL, email),
                                               (IdentityKind.LINE, line), (IdentityKind.X, x))
             if normalise_identity(kind, value)]
    first_kind, first_value = given[0] if given else (IdentityKind.EMAIL, "")
    customer, _created = get_or_create_customer(name=name, kana=kana, kind=first_kind, value=first_value, confirmed_by=by)
    for kind, value in given[1:]:
        normalised = normalise_identity(kind, value)
        holder = find_customer(kind, value)
        if holder is None:
            Identity.objects.create(customer=customer, kind=kind, value=normalised)
        elif holder.pk != customer.pk:
            PossibleMatch.objects.get_or_create(customer=customer, existing=holder, kind=kind, value=normalised,
                                                defaults={"channel": channel[:20]})
    return customer


@transaction.atomic
def do_add_identity(customer: Customer, *, user: User, kind: str, value: str) -> Identity | PossibleMatch:
    """A staff member adds a contact (e-mail, phone, LINE user ID, X handle) on the customer
    page. One nobody holds becomes this customer's. One another customer holds is a claim like
    an address typed on a public page: it stays that customer's, and the two records are linked
    unconfirmed (`PossibleMatch`) until staff merge them after checking, or dismiss the link.
    Written into the history of each of the customer's cases."""
    normalised = normalise_identity(kind, value)
    if kind not in IdentityKind.values or not normalised:
        raise CustomerError(_("追加する連絡先を入力してください。"))
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    if customer.merged_into_id is not None:
        raise CustomerError(_("このお客様はすでに別のお客様に統合されています。統合先のページで操作してください。"))
    holder = find_customer(kind, normalised)
    if holder is not None and holder.pk == customer.pk:
        raise CustomerError(_("この連絡先はすでにこのお客様に登録されています。"))
    if holder is None:
        try:
            with transaction.atomic():  # a savepoint: the same contact arriving at this moment
                identity = Identity.objects.create(customer=customer, kind=kind, value=normalised)
        except IntegrityError:
            holder = find_customer(kind, normalised)
            if holder is None:
                raise
        else:
            _audit_cases(customer.pk, user, "identity_added", {"identity": [None, f"{kind}:{normalised}"]})
            return identity
    if PossibleMatch.objects.filter(customer=customer, existing=holder, kind=kind, value=normalised,
                                    state=MatchState.UNCONFIRMED).exists():
        raise CustomerError(_("この連絡先は確認待ちとしてすでに登録されています。"))
    match = PossibleMatch.objects.create(customer=customer, existing=holder, kind=kind, value=normalised, channel="")
    _audit_cases(customer.pk, user, "identity_claimed", {"identity": [None, f"{kind}:{normalised}"],
                                                         "customer": [customer.pk, holder.pk]})
    return match


class MergeError(ValueError):
    """Why two customers were not merged; shown to the staff member as it is (Japanese)."""


@transaction.atomic
def do_merge_customers(*, source: Customer, target: Customer, user: User | None, note: str,
                       audit_action: str = "customer_merged") -> Customer:
    """Move everything of `source` onto `target`; `source` stays as a pointer, nothing is lost.
    The merge is kept (CustomerMerge) with who did it and why, and each moved case's history
    says so: from now on the cases' replies go to the survivor's addresses."""
    note = note.strip()
    if not note:
        raise MergeError(_("同じ方と判断した理由を入力してください（例: ご登録の電話番号と直近の注文番号が一致）。"))
    if source.pk == target.pk:
        raise MergeError(_("同じお客様どうしは統合できません。"))
    if source.merged_into_id is not None or target.merged_into_id is not None:
        # Merging into a record that is itself merged away would make a cycle of pointers.
        raise MergeError(_("統合済みのお客様は、もう一度統合できません。"))
    from madoguchi.cases.models import Case
    from madoguchi.shop.models import Order

    _audit_cases(source.pk, user, audit_action, {"customer": [source.pk, target.pk]})
    CustomerMerge.objects.create(source=source, target=target, merged_by=user, note=note[:2000])
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


# --- visitors on public pages: a typed identity is a claim, not a proof ------------------------------


class MatchError(ValueError):
    """Shown to the staff member as it is (Japanese)."""


def customer_for_visitor(*, name: str, kind: str, value: str, channel: str) -> Customer:
    """The customer record for a visitor who typed an identity on a public page (chat, forms).

    An identity nobody holds yet becomes theirs, so a later mail from that address joins them.
    One that already belongs to a customer proves nothing (anyone can type anyone's address):
    the visitor gets a record of their own, without the identity (it is unique per kind), and
    the link to its holder waits unconfirmed (`PossibleMatch`) until staff merge or dismiss it.
    Until then the visitor's case shows nothing of the holder's orders and cases."""
    name = name.strip()
    normalised = normalise_identity(kind, value)
    existing = find_customer(kind, value)
    if existing is None:
        try:
            with transaction.atomic():  # a savepoint: a visitor racing us to the same address
                customer = Customer.objects.create(name=name or value.strip())
                Identity.objects.create(customer=customer, kind=kind, value=normalised)
                return customer
        except IntegrityError:
            existing = find_customer(kind, value)
            if existing is None:
                raise
    customer = Customer.objects.create(name=name or value.strip())
    PossibleMatch.objects.create(customer=customer, existing=existing, kind=kind, value=normalised, channel=channel[:20])
    return customer


def matches_to_show(customer: Customer) -> list[PossibleMatch]:
    """What the warning shows: every link still waiting for staff (a visitor's typed address, a
    contact staff added that another customer holds), newest first; when none waits, the newest
    decided one (a dismissal stays visible). One query."""
    rows = list(PossibleMatch.objects.filter(customer=customer).select_related("existing", "decided_by").order_by("-pk")[:20])
    waiting = [row for row in rows if row.state == MatchState.UNCONFIRMED]
    return waiting or rows[:1]


def matches_of_page_case() -> QuerySet[PossibleMatch]:
    """matches_to_show's rows for the case's customer, for the case page's case query
    (cases.page.CASE_PAGE_EXISTS)."""
    return PossibleMatch.objects.filter(customer=OuterRef("customer_id"))


def unconfirmed_address(customer: Customer) -> str:
    """The e-mail address a visitor typed that belongs to another customer, while nobody has
    decided yet; "" if there is none (or staff judged the visitor to be someone else)."""
    return (PossibleMatch.objects.filter(customer=customer, kind=IdentityKind.EMAIL, state=MatchState.UNCONFIRMED)
            .order_by("-pk").values_list("value", flat=True).first()) or ""


def _decide(match_id: int, user: User) -> PossibleMatch:
    match = PossibleMatch.objects.select_for_update().filter(pk=match_id).first()
    if match is None:
        raise MatchError(_("確認の記録が見つかりません。"))
    if match.state != MatchState.UNCONFIRMED:
        raise MatchError(_("この確認はすでに済んでいます（%(state)s）。") % {"state": match.get_state_display()})
    match.decided_by, match.decided_at = user, timezone.now()
    return match


def _audit_cases(customer_id: int, user: User | None, action: str, changes: dict[str, object]) -> None:
    from madoguchi.cases.models import AuditEvent, Case

    AuditEvent.objects.bulk_create([
        AuditEvent(case_id=pk, actor=user, action=action, changes=changes)
        for pk in Case.objects.filter(customer_id=customer_id).values_list("pk", flat=True)
    ])


@transaction.atomic
def do_confirm_same_person(match_id: int, *, user: User, note: str) -> Customer:
    """Staff verified that the visitor is the customer who holds the identity: merge the
    visitor's record into theirs (their cases, orders and history then show on the case)."""
    note = note.strip()
    if not note:
        raise MatchError(_("どのようにご本人と確認したかを入力してください（例: ご登録の電話番号と直近の注文番号が一致）。"))
    match = _decide(match_id, user)
    source = Customer.objects.select_for_update().get(pk=match.customer_id)
    target = Customer.objects.get(pk=match.existing_id)
    for _hop in range(20):  # the holder may have been merged since; follow to the survivor
        if target.merged_into_id is None:
            break
        target = Customer.objects.get(pk=target.merged_into_id)
    if source.merged_into_id is not None:
        raise MatchError(_("このお客様はすでに別のお客様に統合されています。"))
    try:
        do_merge_customers(source=source, target=target, user=user, note=note, audit_action="same_person_merged")
    except MergeError as error:
        raise MatchError(str(error)) from error
    match.state, match.note = MatchState.MERGED, note[:2000]
    match.save(update_fields=["state", "decided_by", "decided_at", "note"])
    return target


@transaction.atomic
def do_dismiss_same_person(match_id: int, *, user: User, note: str = "") -> PossibleMatch:
    """Staff judged the visitor to be someone else than the holder: no merge, and no mail to the
    holder's address about the visitor's case (see mail.outbound.customer_address)."""
    match = _decide(match_id, user)
    match.state, match.note = MatchState.DISMISSED, note.strip()[:2000]
    match.save(update_fields=["state", "decided_by", "decided_at", "note"])
    _audit_cases(match.customer_id, user, "same_person_dismissed", {"customer": [match.existing_id, None]})
    return match
