"""The shop in the desk (issue 18): finding a customer's order from the case page or the
phone-intake form, pointing a case at an order, its lines, the product and the misread
passage (with how the customer understood it), the automatic link from a customer's message
that names their order, and what the case page and the customer panel show of it.

Every write goes through `cases.services.do_point_case`, which audits it on the case. The
case page calls `case_card` once (a fixed number of indexed queries, whatever the order)."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from madoguchi.cases.models import Case, Channel, Interaction, InteractionKind, Status
from madoguchi.cases.services import CaseError, do_point_case
from madoguchi.customers.models import Customer, Identity, IdentityKind
from madoguchi.customers.services import normalise_identity
from madoguchi.shop.models import CaseShop, Order, OrderItem, OrderStatus, Passage
from madoguchi.shop.tracking import clean_number, sites_for, tracking_of

# --- numbers -------------------------------------------------------------------------------

# What people write before an order number: 「注文番号：」, "No.", "#", "Order #".
_PREFIX = re.compile(r"^(?:ご?注文(?:番号|no\.?)?|order(?:\s*(?:no\.?|number|#))?|no\.?|n°|#)[\s.:#-]*", re.IGNORECASE)
# A word that may be an order or tracking number: letters, digits and hyphens, with digits.
_WORD = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9]))*")
# A tracking number printed in groups (1234 5678 9012, 1234-5678-9012).
_GROUPED = re.compile(r"(?<![0-9])\d{4}[ \-]\d{4}[ \-]\d{4}(?![0-9])")
MIN_DIGITS = 3
MAX_WORDS = 200  # a long mail is read for this many candidate numbers at most


def normalise_number(text: str) -> str:
    """An order number as typed (「＃１００１」, "No.1001", 「注文番号：1001」) as the shop writes it
    ("1001"): half-width, without the words and marks before it."""
    folded = unicodedata.normalize("NFKC", text).strip()
    return _PREFIX.sub("", folded).strip()


def number_keys(text: str) -> set[str]:
    """The spellings an order number may be stored under (as typed, upper case, without
    hyphens, Shopify's "#1001")."""
    number = normalise_number(text)
    if not number:
        return set()
    keys = {number, number.upper(), number.replace("-", ""), number.upper().replace("-", "")}
    return keys | {f"#{key}" for key in keys}


def _digits(word: str) -> int:
    return sum(ch.isdigit() for ch in word)


def numbers_in(text: str) -> tuple[list[str], list[str]]:
    """The words of a message that may be an order number, and those that may be a tracking
    number (hyphens and spaces joined), in the order they appear."""
    folded = unicodedata.normalize("NFKC", text)
    tracking = [re.sub(r"[ \-]", "", match) for match in _GROUPED.findall(folded)]
    orders: list[str] = []
    for match in _WORD.finditer(folded):
        word = match.group()
        if _digits(word) < MIN_DIGITS:
            continue
        orders.append(word)
        tracking.append(word.replace("-", ""))
        if len(orders) >= MAX_WORDS:
            break
    return list(dict.fromkeys(orders)), list(dict.fromkeys(tracking))


# --- lookup --------------------------------------------------------------------------------

LOOKUP_LIMIT = 30
RECENT_ORDERS = 20


@dataclass
class Lookup:
    query: str
    mine: list[Order] = field(default_factory=list)  # the case customer's orders
    others: list[Order] = field(default_factory=list)  # other customers' (picked only deliberately)


def _customers_named(query: str) -> Q:
    """Customers whose name or kana starts with the query (full- or half-width spaces alike)."""
    name = unicodedata.normalize("NFKC", query).strip()
    spellings = {name, name.replace(" ", "　"), name.replace(" ", "")}
    found = Q()
    for spelling in spellings:
        found |= Q(name__startswith=spelling) | Q(kana__startswith=spelling)
    return found


def _order_query(query: str) -> Q:
    """Orders an agent's search words find: the order number, the tracking number, or the
    customer's phone, e-mail address or name."""
    text = unicodedata.normalize("NFKC", query).strip()
    found = Q(number__in=number_keys(text))
    tracking = clean_number(text)
    if _digits(tracking) >= MIN_DIGITS:
        found |= Q(tracking_number=tracking)
    customers: list[int] = []
    if "@" in text:
        customers += Identity.objects.filter(kind=IdentityKind.EMAIL, value=normalise_identity(IdentityKind.EMAIL, text)).values_list("customer_id", flat=True)
    phone = normalise_identity(IdentityKind.PHONE, text)
    if _digits(phone) >= 6 and len(phone) == len(re.sub(r"[^\d+]", "", phone)) and "@" not in text:
        customers += Identity.objects.filter(kind=IdentityKind.PHONE, value=phone).values_list("customer_id", flat=True)
    if not re.fullmatch(r"[#\d\s\-+.]*", text):
        customers += Customer.objects.filter(_customers_named(text)).values_list("pk", flat=True)[:LOOKUP_LIMIT]
    if customers:
        found |= Q(customer_id__in=customers)
    return found


def lookup(query: str, customer: Customer) -> Lookup:
    """What the lookup shows for the case of `customer`: with no query, the customer's latest
    orders; with one, the orders it finds, the customer's first and other customers' apart."""
    result = Lookup(query=query.strip())
    orders = Order.objects.select_related("customer")
    if not result.query:
        result.mine = list(orders.filter(customer=customer).order_by("-ordered_at", "-id")[:RECENT_ORDERS])
        return result
    for order in orders.filter(_order_query(result.query)).order_by("-ordered_at", "-id")[:LOOKUP_LIMIT]:
        (result.mine if order.customer_id == customer.pk else result.others).append(order)
    return result


def find_orders(query: str) -> list[Order]:
    """The phone-intake lookup: any customer's orders (no case yet to belong to)."""
    if not query.strip():
        return []
    return list(Order.objects.select_related("customer").filter(_order_query(query))
                .order_by("-ordered_at", "-id")[:LOOKUP_LIMIT])


def order_for_new_case(customer: Customer, number: str) -> Order | None:
    """The order a new case names (the phone-intake form's 注文番号), if it is this customer's.
    Another customer's order is never linked by a number alone."""
    keys = number_keys(number)
    if not keys:
        return None
    return Order.objects.filter(customer=customer, number__in=keys).order_by("-ordered_at").first()


def other_customers_order(customer: Customer, number: str) -> Order | None:
    keys = number_keys(number)
    if not keys:
        return None
    return Order.objects.select_related("customer").filter(number__in=keys).exclude(customer=customer).first()


# --- linking -------------------------------------------------------------------------------


def shop_link_of(case: Case) -> CaseShop | None:
    try:
        return case.shop_link  # type: ignore[attr-defined, no-any-return]
    except CaseShop.DoesNotExist:
        return None


def _item_names(items: list[OrderItem]) -> list[str]:
    return [str(item) for item in items]


@transaction.atomic
def do_link_order(
    case: Case, *, actor: Any, order: Order, items: list[OrderItem] | None = None, passage: Passage | None = None,
    understood_as: str = "", other_customer_confirmed: bool = False,
) -> Case:
    """Point the case at `order` (and the lines it is about, the product, the misread passage
    with how the customer understood it). Another customer's order only when the agent
    confirmed it after the warning; the audit entry then names that customer."""
    items = items or []
    if any(item.order_id != order.pk for item in items):
        raise CaseError(_("選んだ明細はこの注文のものではありません。"))
    other = order.customer_id != case.customer_id
    if other and not other_customer_confirmed:
        raise CaseError(_("この注文は別のお客様（%(name)s 様）のものです。間違いないことを確かめてから、確認の欄にチェックを入れてください。")
                        % {"name": order.customer.name})
    if len(understood_as) > 5000:
        raise CaseError(_("お客様の受け取り方は5,000文字以内で入力してください。"))
    product = passage.product if passage is not None else None
    if product is None:
        products = {item.product_id: item.product for item in items if item.product_id}
        product = next(iter(products.values())) if len(products) == 1 else case.product
    link = CaseShop.objects.select_for_update().filter(case=case).first() or CaseShop(case=case)
    before_items = _item_names(list(link.items.order_by("pk"))) if link.pk else []
    note: dict[str, Any] = {}
    after_items = _item_names(sorted(items, key=lambda item: item.pk))
    if after_items != before_items:
        note["items"] = [before_items, after_items]
    if understood_as.strip() != link.understood_as:
        note["understood_as"] = [link.understood_as, understood_as.strip()]
    if other:
        note["other_customer"] = order.customer.name
    current = do_point_case(case, actor=actor, changes={"order": order, "product": product, "passage": passage},
                            action="order_linked_other_customer" if other else "order_linked", note=note)
    link.understood_as = understood_as.strip()
    link.auto_linked_order = None  # an agent's link is not the desk's guess any more
    link.auto_linked_at = None
    link.save()
    link.items.set(items)
    return current


@transaction.atomic
def do_unlink_order(case: Case, *, actor: Any) -> Case:
    """Take the order (and its lines, product and passage) off the case. Undoing the desk's own
    link also keeps it from linking that order again."""
    link = CaseShop.objects.select_for_update().filter(case=case).first()
    undo = link is not None and link.auto_linked_order_id is not None and link.auto_linked_order_id == case.order_id
    current = do_point_case(case, actor=actor, changes={"order": None, "product": None, "passage": None},
                            action="order_auto_link_undone" if undo else "order_unlinked")
    if link is not None:
        if undo and case.order_id not in link.refused_orders:
            link.refused_orders = [*link.refused_orders, case.order_id]
        link.auto_linked_order = None
        link.auto_linked_at = None
        link.understood_as = ""
        link.save()
        link.items.clear()
    return current


# --- the automatic link --------------------------------------------------------------------

AUTO_LINK_WORK = "shop.auto_link"
# Channels on which the customer writes in their own words (a phone call is typed by an agent,
# who links the order by hand).
AUTO_LINK_CHANNELS = {Channel.EMAIL, Channel.CHAT, Channel.FORM, Channel.LINE}
_HAS_NUMBER = re.compile(r"[0-9０-９]{3}")


def on_interaction(sender: Any, interaction: Interaction, **kwargs: Any) -> None:
    """A customer's message that may name an order: looked at by the worker after the commit
    (jobs.work), never in the request or the mail batch that stored it."""
    if interaction.kind != InteractionKind.INBOUND or interaction.channel not in AUTO_LINK_CHANNELS:
        return
    case = interaction.case
    if case.order_id is not None:
        return
    if any(_HAS_NUMBER.search(text) for text in (interaction.body, case.subject, case.fact_order_number)):
        from madoguchi.jobs import work

        work.defer(AUTO_LINK_WORK, [interaction.pk])


def _named_order(case: Case, text: str) -> Order | None:
    """The first order of the case's own customer the text names, by order or tracking number."""
    words, tracking = numbers_in(text)
    if not words and not tracking:
        return None
    keys = set().union(*(number_keys(word) for word in words)) if words else set()
    candidates = list(Order.objects.filter(Q(number__in=keys) | Q(tracking_number__in=tracking), customer_id=case.customer_id)
                      .order_by("-ordered_at")[:20])
    if not candidates:
        return None

    def position(order: Order) -> int:
        places = [i for i, word in enumerate(words) if order.number in number_keys(word)]
        places += [len(words) + i for i, number in enumerate(tracking) if number == order.tracking_number]
        return min(places, default=len(words) + len(tracking))

    return min(candidates, key=position)


def auto_link(interaction_pks: list[int]) -> int:
    """The handler of AUTO_LINK_WORK: link each message's case to the order it names, if the
    case has none yet, the order is the case customer's and no agent undid that link before.
    Idempotent (a case that has an order is left alone)."""
    linked = 0
    rows = (Interaction.objects.filter(pk__in=interaction_pks, kind=InteractionKind.INBOUND)
            .select_related("case").order_by("occurred_at", "pk"))
    for interaction in rows:
        case = interaction.case
        if case.order_id is not None:
            continue
        # The form's and the chat's 注文番号 field (fact_order_number) first, then the words.
        order = _named_order(case, f"{case.fact_order_number}\n{case.subject}\n{interaction.body}")
        if order is None:
            continue
        with transaction.atomic():
            current = Case.objects.select_for_update().get(pk=case.pk)
            link = CaseShop.objects.filter(case=current).first()
            if current.order_id is not None or (link is not None and order.pk in link.refused_orders):
                continue
            if order.customer_id != current.customer_id:  # merged or moved meanwhile
                continue
            do_point_case(current, actor=None, changes={"order": order}, action="order_auto_linked",
                          note={"message": interaction.pk, "number": order.number})
            link = link or CaseShop(case=current)
            link.auto_linked_order = order
            link.auto_linked_at = timezone.now()
            link.save()
            linked += 1
    return linked


# --- what the desk shows -------------------------------------------------------------------


@dataclass
class OrderView:
    order: Order
    status_label: str
    tracking: Any
    items: list[OrderItem]
    cases: list[Any] = field(default_factory=list)


def status_label(order: Order) -> str:
    return str(OrderStatus(order.status).label) if order.status in OrderStatus.values else order.status


LINES_PER_ORDER = 20  # the customer panel's lines per order (an order card shows all of its own)


def page_lines(case: Case, orders: list[Order]) -> dict[int, list[OrderItem]] | None:
    """The lines of the case's order and of the customer's orders the panel shows, read in ONE
    query for both parts of the case page (the order card and the customer panel read them
    twice otherwise): order id → its lines in id order, those the case is about marked
    (`picked`) when the case has a shop row. None when the read reached its cap, so an order's
    lines may be cut: the order card then reads its own in full."""
    ids = {order.pk for order in orders}
    if case.order_id is not None:
        ids.add(case.order_id)
    found: dict[int, list[OrderItem]] = {pk: [] for pk in ids}
    if not ids:
        return found
    cap = len(ids) * LINES_PER_ORDER
    lines = OrderItem.objects.filter(order_id__in=ids).order_by("pk")
    if shop_link_of(case) is not None:  # the lines the case is about, marked in the same query
        lines = lines.annotate(picked=Exists(CaseShop.items.through.objects.filter(
            caseshop_id=case.pk, orderitem_id=OuterRef("pk"))))
    rows = list(lines[:cap])
    if len(rows) >= cap:
        return None
    for item in rows:
        found[item.order_id].append(item)
    return found


def case_card(case: Case, lines: dict[int, list[OrderItem]] | None = None) -> dict[str, Any]:
    """The order part of the case page: the linked order with its lines (those the case is
    about marked), tracking link and delivery state, product, passage and how the customer
    understood it, and whether the desk linked it by itself. One query when an order is linked
    (its lines, those the case is about marked; a second only for a carrier the admin added),
    none otherwise:
    the order, product, passage and the case's shop row come with the case (CASE_PAGE_RELATED)."""
    link = shop_link_of(case)
    order = case.order
    view = None
    if order is not None:
        if lines is not None and order.pk in lines:  # read with the customer panel's (page_lines)
            items = lines[order.pk]
        else:
            query = OrderItem.objects.filter(order=order).order_by("pk")
            if link is not None:  # the lines the case is about, marked in the same query
                query = query.annotate(picked=Exists(CaseShop.items.through.objects.filter(
                    caseshop_id=case.pk, orderitem_id=OuterRef("pk"))))
            items = list(query)
        view = OrderView(order, status_label(order), tracking_of(order, sites_for({order.carrier})), items)
    return {
        "case": case,
        "view": view,
        "link": link,
        "auto_linked": link is not None and order is not None and link.auto_linked_order_id == order.pk,
        "other_customer": order is not None and order.customer_id != case.customer_id,
    }


def order_rows(orders: list[Order]) -> list[OrderView]:
    """Orders as the lookup lists them: status and tracking link, without their lines."""
    sites = sites_for({order.carrier for order in orders})
    return [OrderView(order, status_label(order), tracking_of(order, sites), []) for order in orders]


ORDERS_SHOWN = 10
CASES_PER_ORDER = 5


def order_views(orders: list[Order], known_cases: list[Any] | None = None,
                lines: dict[int, list[OrderItem]] | None = None) -> list[OrderView]:
    """Orders with their lines and their cases: one query for the lines (plus one for an admin's
    carrier), none when `lines` has them (page_lines). Their cases are read in one more query,
    or taken from `known_cases` (case rows with pk, order_id, subject and status the page read
    already: the customer panel's past cases and the case itself), so the case page pays only
    for the lines, read once with the order card's."""
    ids = [order.pk for order in orders]
    items: dict[int, list[OrderItem]] = {pk: [] for pk in ids}
    cases: dict[int, list[dict[str, Any]]] = {pk: [] for pk in ids}
    labels = dict(Status.choices)
    if lines is not None and all(pk in lines for pk in ids):
        items = {pk: lines[pk] for pk in ids}
    elif ids:
        for item in OrderItem.objects.filter(order_id__in=ids).order_by("pk")[:len(ids) * LINES_PER_ORDER]:
            items[item.order_id].append(item)
    if ids:
        rows: Any = known_cases
        if rows is None:
            rows = (Case.objects.filter(order_id__in=ids).order_by("-received_at")
                    .only("pk", "order_id", "subject", "status")[:len(ids) * CASES_PER_ORDER])
        for row in rows:
            shown = cases.get(row.order_id)
            if shown is not None and len(shown) < CASES_PER_ORDER and all(c["pk"] != row.pk for c in shown):
                shown.append({"pk": row.pk, "subject": row.subject, "status_label": labels.get(row.status, row.status)})
    sites = sites_for({order.carrier for order in orders})
    return [OrderView(order, status_label(order), tracking_of(order, sites), items[order.pk], cases[order.pk])
            for order in orders]


def intake_initial(order_pk: str | None) -> dict[str, Any]:
    """The phone-intake form filled from the order picked in the lookup: the customer's name,
    phone, e-mail address and the order number (the case then links that order)."""
    if not order_pk or not str(order_pk).isdigit():
        return {}
    order = Order.objects.select_related("customer").filter(pk=int(order_pk)).first()
    if order is None:
        return {}
    initial: dict[str, Any] = {"customer_name": order.customer.name, "customer_kana": order.customer.kana,
                               "fact_order_number": order.number}
    for identity in order.customer.identities.filter(kind__in=[IdentityKind.PHONE, IdentityKind.EMAIL]).order_by("pk"):
        initial.setdefault(str(identity.kind), identity.display)
    return initial
