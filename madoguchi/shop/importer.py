"""Importing an order file into the desk, in batches: the orders of a batch, their customers,
products and items are read and written with a few statements each, so 100,000 orders take
about a minute (docs/benchmarks.md), not an hour of one-by-one saves.

An order is found again by its source and its key there (Order.source, Order.external_id):
importing the same file twice changes nothing, and an order whose fulfilment, tracking,
cancellation or refund changed is updated. Fields the file has no column for are left as
they are (a tracking number an agent typed survives a Shopify export without one). A new
order's customer is the one who holds its e-mail address, else its phone number, else a new
customer who gets both."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any

from django.db import DatabaseError, connection, models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from madoguchi.customers.models import Customer, Identity, IdentityKind
from madoguchi.customers.services import normalise_identity
from madoguchi.shop.models import (
    CarrierSite,
    ImportRun,
    ImportRunState,
    Order,
    OrderItem,
    OrderSource,
    Product,
)
from madoguchi.shop.order_files import (
    CARRIER_NAMED,
    OrderFile,
    OrderFileError,
    ParsedOrder,
    Problem,
    fold,
    open_order_file,
)
from madoguchi.shop.signals import orders_written

log = logging.getLogger(__name__)

BATCH_ORDERS = 2000
# Problems kept on the ImportRun (a file of 100,000 broken rows would otherwise store them all).
PROBLEMS_KEPT = 1000
ORDER_FIELDS = ("ordered_at", "status", "shipped_at", "delivered_at", "cancelled_at", "carrier", "tracking_number",
                "shipping_prefecture", "delivery_status", "delivery_status_at", "amount_yen", "refunded_yen")
MIN_PHONE_DIGITS, MAX_PHONE_DIGITS = 6, 15  # as customers.fields.PhoneNumberField


@dataclass
class ImportSummary:
    file_format: str = ""
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    problems: list[Problem] = field(default_factory=list)

    @property
    def skipped(self) -> int:
        return len(self.problems)

    def headline(self) -> str:
        return (_("取り込み完了（%(format)s）: 新規 %(created)s 件、更新 %(updated)s 件、変更なし %(unchanged)s 件、取り込めなかった注文 %(skipped)s 件")
                % {"format": OrderSource(self.file_format).label if self.file_format else "—", "created": self.created,
                   "updated": self.updated, "unchanged": self.unchanged, "skipped": self.skipped})

    def lines(self) -> list[str]:
        """The summary as the command prints it (the web page renders the same numbers)."""
        return [self.headline()] + [_("  %(line)s 行目: %(reason)s") % {"line": problem.line, "reason": problem.reason}
                                    for problem in self.problems]


def _insert(model: type[models.Model], columns: list[str], rows: list[tuple[Any, ...]], ignore_conflicts: bool = False) -> None:
    """Plain INSERTs of many rows of plain values (ints and strings) whose ids nobody needs:
    Django's bulk_create builds a model instance and compiles every value of every row, which
    was half of an import's time (order items and identities are most of its rows)."""
    if not rows:
        return
    quote = connection.ops.quote_name
    sql = (f"INSERT INTO {quote(model._meta.db_table)} ({', '.join(quote(column) for column in columns)}) "
           f"VALUES ({', '.join(['%s'] * len(columns))})" + (" ON CONFLICT DO NOTHING" if ignore_conflicts else ""))
    with connection.cursor() as cursor:
        for start in range(0, len(rows), 5000):
            cursor.executemany(sql, rows[start:start + 5000])


def _identity_values(order: ParsedOrder) -> tuple[str, str]:
    """The order's e-mail address and phone number as identities are stored; "" for a value
    that cannot be one (no @, too few digits): it would match strangers."""
    email = normalise_identity(IdentityKind.EMAIL, order.email) if order.email else ""
    if "@" not in email or len(email) > 254:
        email = ""
    phone = normalise_identity(IdentityKind.PHONE, order.phone) if order.phone else ""
    if not MIN_PHONE_DIGITS <= len(phone.lstrip("+")) <= MAX_PHONE_DIGITS:
        phone = ""
    return email, phone


def _customers_for(orders: list[ParsedOrder]) -> tuple[dict[int, int], list[int]]:
    """{index in `orders`: customer id} for new orders, and the customers created or given a
    new identity (to index). Matching is by e-mail first, then phone; within the batch two
    orders of one new person get one customer."""
    values = [_identity_values(order) for order in orders]
    emails = {email for email, _phone in values if email}
    phones = {phone for _email, phone in values if phone}
    by_email: dict[str, int | Customer] = dict(
        Identity.objects.filter(kind=IdentityKind.EMAIL, value__in=emails).values_list("value", "customer_id"))
    by_phone: dict[str, int | Customer] = dict(
        Identity.objects.filter(kind=IdentityKind.PHONE, value__in=phones).values_list("value", "customer_id"))
    chosen: list[int | Customer] = []
    new_customers: list[Customer] = []
    new_identities: list[tuple[int | Customer, str, str]] = []
    for order, (email, phone) in zip(orders, values, strict=True):
        holder = (by_email.get(email) if email else None) or (by_phone.get(phone) if phone else None)
        if holder is None:
            name = order.customer_name or email or phone or _("注文 %(number)s のお客様") % {"number": order.number}
            holder = Customer(name=name[:200], kana=order.customer_kana[:200])
            new_customers.append(holder)
        # An identity nobody holds yet joins this customer, so their next mail or call finds them.
        if email and email not in by_email:
            by_email[email] = holder
            new_identities.append((holder, IdentityKind.EMAIL, email))
        if phone and phone not in by_phone:
            by_phone[phone] = holder
            new_identities.append((holder, IdentityKind.PHONE, phone))
        chosen.append(holder)
    Customer.objects.bulk_create(new_customers)

    def pk(holder: int | Customer) -> int:
        return holder if isinstance(holder, int) else holder.pk

    _insert(Identity, ["customer_id", "kind", "value"],
            [(pk(holder), str(kind), value) for holder, kind, value in new_identities], ignore_conflicts=True)
    touched = {pk(holder) for holder, _kind, _value in new_identities} | {customer.pk for customer in new_customers}
    return {index: pk(holder) for index, holder in enumerate(chosen)}, sorted(touched)


def _products_for(orders: Iterable[ParsedOrder]) -> dict[str, int]:
    """{sku: product id} for every product code in the orders; unknown codes become products."""
    names: dict[str, str] = {}
    for order in orders:
        for item in order.items:
            if item.sku:
                names.setdefault(item.sku, item.name)
    found = dict(Product.objects.filter(sku__in=names).values_list("sku", "pk"))
    missing = [Product(sku=sku, name=(name or sku)[:200]) for sku, name in names.items() if sku not in found]
    if missing:
        Product.objects.bulk_create(missing, ignore_conflicts=True)
        found.update(Product.objects.filter(sku__in=[p.sku for p in missing]).values_list("sku", "pk"))
    return found


def _item_rows(order: ParsedOrder) -> list[tuple[str, str, int, int]]:
    return [(item.sku, item.name[:300], item.quantity, item.unit_price_yen) for item in order.items]


ITEM_COLUMNS = ["order_id", "product_id", "sku", "name", "quantity", "unit_price_yen"]


def _new_items(order_id: int, parsed: ParsedOrder, products: dict[str, int]) -> list[tuple[Any, ...]]:
    return [(order_id, products.get(sku), sku, name, quantity, price) for sku, name, quantity, price in _item_rows(parsed)]


def _same(old: Any, new: Any) -> bool:
    if isinstance(old, dt.datetime) and isinstance(new, dt.datetime):
        return old == new  # aware datetimes compare across zones
    return bool(old == new)


def _write_batch(batch: list[ParsedOrder], source: str, summary: ImportSummary) -> list[tuple[str, int]]:
    """Write one batch (inside the caller's transaction); returns what to index."""
    keys = [order.external_id for order in batch]
    existing = {order.external_id: order for order in Order.objects.filter(source=source, external_id__in=keys)}
    # A number typed by hand before the shop imported (no source key) is taken over by the import.
    new_numbers = [order.number for order in batch if order.external_id not in existing]
    holders = {order.number: order for order in Order.objects.filter(number__in=new_numbers)}
    fresh: list[ParsedOrder] = []
    adopted: set[int] = set()
    for parsed in batch:
        if parsed.external_id in existing:
            continue
        holder = holders.get(parsed.number)
        if holder is None:
            fresh.append(parsed)
        elif holder.source == OrderSource.MANUAL and not holder.external_id:
            holder.source, holder.external_id = source, parsed.external_id
            existing[parsed.external_id] = holder
            adopted.add(holder.pk)
        else:
            summary.problems.append(Problem(parsed.line, _("注文番号 %(number)s は、別の取り込み元（%(source)s）の注文にすでに使われています。")
                                            % {"number": parsed.number, "source": holder.get_source_display()}))
    products = _products_for(batch)
    items_of: dict[int, list[tuple[str, str, int, int]]] = {}
    for order_id, sku, name, quantity, price in OrderItem.objects.filter(
        order_id__in=[order.pk for order in existing.values()]
    ).order_by("pk").values_list("order_id", "sku", "name", "quantity", "unit_price_yen"):
        items_of.setdefault(order_id, []).append((sku, name, quantity, price))

    changed: list[Order] = []
    changed_fields: set[str] = {"source", "external_id"}
    replace_items: list[tuple[Order, ParsedOrder]] = []
    for parsed in batch:
        order = existing.get(parsed.external_id)
        if order is None:
            continue
        differs = [name for name, value in parsed.fields.items()
                   if name in ORDER_FIELDS and not _same(getattr(order, name), value)]
        for name in differs:
            setattr(order, name, parsed.fields[name])
        items_differ = items_of.get(order.pk, []) != _item_rows(parsed)
        if items_differ:
            replace_items.append((order, parsed))
        if differs or items_differ or order.pk in adopted:
            changed.append(order)
            changed_fields.update(differs)
            summary.updated += 1
        else:
            summary.unchanged += 1
    if changed:
        Order.objects.bulk_update(changed, sorted(changed_fields))
    if replace_items:
        OrderItem.objects.filter(order__in=[order for order, _parsed in replace_items]).delete()
        _insert(OrderItem, ITEM_COLUMNS, [item for order, parsed in replace_items for item in _new_items(order.pk, parsed, products)])

    customers, touched = _customers_for(fresh) if fresh else ({}, [])
    created = [
        Order(number=parsed.number, external_id=parsed.external_id, source=source, customer_id=customers[index],
              **{name: value for name, value in parsed.fields.items() if name in ORDER_FIELDS and value is not None})
        for index, parsed in enumerate(fresh)
    ]
    Order.objects.bulk_create(created)
    _insert(OrderItem, ITEM_COLUMNS, [item for order, parsed in zip(created, fresh, strict=True)
                                      for item in _new_items(order.pk, parsed, products)])
    summary.created += len(created)
    orders_written.send(sender=Order, customer_ids={order.customer_id for order in [*created, *changed]})
    from madoguchi.knowledge.models import DocKind

    return ([(str(DocKind.ORDER), order.pk) for order in [*created, *changed]]
            + [(str(DocKind.CUSTOMER), pk) for pk in touched])


def _flush(batch: list[ParsedOrder], source: str, summary: ImportSummary) -> None:
    from madoguchi.jobs import work
    from madoguchi.knowledge.indexing import INDEX_WORK

    try:
        with transaction.atomic():
            work.defer(INDEX_WORK, _write_batch(batch, source, summary))
        return
    except DatabaseError:
        log.warning("order import: batch at line %s failed, writing its orders one by one", batch[0].line, exc_info=True)
    # A batch the database refused (a row over a limit we did not foresee): each order alone,
    # so one bad order costs itself, not the 1,999 others. Counts of the failed try are undone.
    for parsed in batch:
        alone = ImportSummary()
        try:
            with transaction.atomic():
                work.defer(INDEX_WORK, _write_batch([parsed], source, alone))
        except DatabaseError as error:
            summary.problems.append(Problem(parsed.line, _("データベースに書き込めませんでした: %(error)s") % {"error": str(error)[:200]}))
            continue
        summary.created += alone.created
        summary.updated += alone.updated
        summary.unchanged += alone.unchanged
        summary.problems += alone.problems


def write_orders(orders: Iterable[ParsedOrder], source: str, summary: ImportSummary | None = None,
                 progress: Callable[[], None] | None = None) -> ImportSummary:
    """Create or update orders as they are in the shop system: the one way orders come in, from
    a file (import_orders) or a live sync (shopify, base_shop). An order is found by `source` and
    its `external_id`; writing the same orders again changes nothing; a new order's customer is
    found by e-mail or phone, else created. Inside a caller's transaction it commits with it (a
    sync moves its cursor in the same transaction). `progress()` after each batch."""
    summary = summary if summary is not None else ImportSummary(file_format=source)
    batch: list[ParsedOrder] = []
    for parsed in orders:
        batch.append(parsed)
        if len(batch) >= BATCH_ORDERS:
            _flush(batch, source, summary)
            batch = []
            if progress:
                progress()
    if batch:
        _flush(batch, source, summary)
    return summary


def added_carriers() -> dict[str, str]:
    """The carriers an admin added (`CarrierSite`), by their folded name and code: a file that
    names one gets its code, so its tracking numbers link to its page."""
    found: dict[str, str] = {}
    for code, name in CarrierSite.objects.values_list("code", "name"):
        found[fold(name)] = found[fold(code)] = code
    return found


def do_upsert_order(parsed: ParsedOrder, source: str) -> ImportSummary:
    """One order a shop system pushes (the REST API), written exactly as an import writes it:
    found again by its source and key, fields it does not carry left alone, its customer
    matched by e-mail or phone. The summary says created, updated or unchanged, or the problem."""
    return write_orders([parsed], source)


def import_orders(order_file: OrderFile, progress: Callable[[int], None] | None = None) -> ImportSummary:
    """Read every order of the file and write them in batches; `progress(bytes read)` after each."""
    summary = ImportSummary(file_format=order_file.source)
    added = added_carriers()

    def parsed_orders() -> Iterator[ParsedOrder]:
        for parsed in order_file.orders():
            if isinstance(parsed, Problem):
                summary.problems.append(parsed)
                continue
            named = parsed.fields.pop(CARRIER_NAMED, "")
            if named and fold(named) in added:
                parsed.fields["carrier"] = added[fold(named)]
            yield parsed

    write_orders(parsed_orders(), order_file.source, summary,
                 progress=(lambda: progress(order_file.position())) if progress else None)
    if progress:
        progress(order_file.size)
    summary.problems.sort(key=lambda problem: problem.line)
    return summary


def do_import_file(handle: IO[bytes], *, file_name: str, user: Any = None,
                   progress: Callable[[int], None] | None = None, run: ImportRun | None = None) -> tuple[ImportRun, ImportSummary | None]:
    """Import an opened binary file and keep the record of it (ImportRun). A file that cannot be
    read at all gives a FAILED run with the reason in Japanese, and no summary."""

    def read(run: ImportRun) -> ImportSummary:
        order_file = open_order_file(handle)
        run.file_format = order_file.source
        run.save(update_fields=["file_format"])
        return import_orders(order_file, progress)

    return run_file_import(run or ImportRun(user=user, file_name=file_name[:255]), read, unreadable=OrderFileError,
                           interrupted=_("取り込みの途中でエラーが起きました。それまでの注文は取り込まれています: %(error)s"))


def run_file_import(run: Any, read: Callable[[Any], ImportSummary], *, unreadable: type[Exception],
                    interrupted: str) -> tuple[Any, ImportSummary | None]:
    """Keep the record of a file's import (a `shop.models.FileImport`: the order import's, the
    listening posts'): running, then done with the summary's counts and first problems, or failed
    with the reason: `unreadable` (the file is not what it should be: its Japanese message, no
    summary) or any other error (`interrupted` with it, and raised again)."""
    run.state = ImportRunState.RUNNING
    run.save()
    try:
        summary = read(run)
    except unreadable as error:
        run.state, run.error, run.finished_at = ImportRunState.FAILED, str(error), timezone.now()
        run.save(update_fields=["state", "error", "finished_at"])
        return run, None
    except Exception as error:
        run.state, run.finished_at = ImportRunState.FAILED, timezone.now()
        run.error = interrupted % {"error": str(error)[:300]}
        run.save(update_fields=["state", "error", "finished_at"])
        raise
    run.state, run.finished_at = ImportRunState.DONE, timezone.now()
    run.created, run.updated, run.unchanged, run.skipped = summary.created, summary.updated, summary.unchanged, summary.skipped
    run.problems = [[problem.line, problem.reason] for problem in summary.problems[:PROBLEMS_KEPT]]
    run.save()
    return run, summary
