"""Live connections to shop platforms, as the shop app sees them: each platform app (shopify,
base_shop) registers its `Connection` in `ready()`; the shop keeps where each sync stands
(`SyncState`), writes what they fetch (orders through importer.write_orders, products and their
passages here) and shows them to admins on /settings/orders/sync/. The shop app never imports
a platform app."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from madoguchi.shop.importer import ImportSummary
from madoguchi.shop.models import Product, SyncState
from madoguchi.shop.passages import do_update_passages
from madoguchi.shop.platform_http import PlatformError

log = logging.getLogger(__name__)

# A sync that began this long ago and never finished died with its worker: another may start.
SYNC_LEASE = dt.timedelta(minutes=15)


@dataclass(frozen=True)
class Connection:
    platform: str  # an OrderSource value
    label: str
    configured: Callable[[], bool]
    queue_sync: Callable[[], None]
    # What an admin must still do (e.g. BASE: authorise the app), with a link; "" when nothing.
    action: Callable[[], tuple[str, str]] = lambda: ("", "")


CONNECTIONS: dict[str, Connection] = {}


def due(platform: str) -> bool:
    """Whether the scheduled sync should run now: the platforms' jobs are checked each minute
    (so a desk that starts syncs at once, and /healthz sees them run), and a platform is
    synced when its last sync, good or failed, ended MADOGUCHI_SHOP_SYNC_MINUTES ago."""
    current = state(platform)
    ended = max(filter(None, [current.last_synced_at, current.last_error_at]), default=None)
    return ended is None or timezone.now() - ended >= dt.timedelta(minutes=settings.MADOGUCHI_SHOP_SYNC_MINUTES)


def register(connection: Connection) -> None:
    CONNECTIONS[connection.platform] = connection


def state(platform: str) -> SyncState:
    return SyncState.objects.get_or_create(platform=platform)[0]


def _claim(platform: str) -> bool:
    """Only one sync of a platform at a time (the schedule and the button may meet)."""
    state(platform)
    now = timezone.now()
    free = Q(last_started_at__isnull=True) | Q(last_started_at__lt=now - SYNC_LEASE)
    return bool(SyncState.objects.filter(Q(platform=platform) & free).update(last_started_at=now))


@dataclass
class SyncResult:
    orders: ImportSummary
    products: int = 0


def run_sync(platform: str, body: Callable[[SyncResult], None]) -> SyncResult | None:
    """Run `body` as this platform's sync: skipped if another is running; the outcome (counts,
    or the Japanese reason it stopped) is kept on the platform's SyncState. What `body` wrote
    before a failure stays written; its cursors moved with it."""
    if not _claim(platform):
        log.info("%s: a sync is already running", platform)
        return None
    result = SyncResult(orders=ImportSummary(file_format=platform))
    fields: dict[str, Any] = {"last_started_at": None}
    try:
        body(result)
    except PlatformError as error:
        log.warning("%s: sync stopped: %s", platform, error)
        fields.update(last_error=str(error), last_error_at=timezone.now())
    except Exception as error:
        fields.update(last_error=f"{type(error).__name__}: {error}"[:2000], last_error_at=timezone.now())
        raise
    else:
        fields.update(last_synced_at=timezone.now(), last_error="")
    finally:
        fields.update(orders_created=result.orders.created, orders_updated=result.orders.updated,
                      products_synced=result.products)
        SyncState.objects.filter(platform=platform).update(**fields)
    return result


def advance(platform: str, **cursors: str) -> None:
    """Move cursors (orders_cursor, products_cursor): call inside the transaction that wrote
    the data they stand for."""
    SyncState.objects.filter(platform=platform).update(**cursors)


def do_sync_product(source: str, external_id: str, *, sku: str, name: str, url: str, passages: list[str],
                    at: dt.datetime | None = None) -> bool:
    """Create or update a platform's product and its passages; True when anything changed.
    A product an order import created from the same product code is taken over."""
    at = at or timezone.now()
    url = url if url.startswith(("http://", "https://")) else ""
    with transaction.atomic():
        product = Product.objects.filter(source=source, external_id=external_id).first()
        if product is None and sku:
            product = Product.objects.filter(sku=sku, external_id="").first()
        if product is None:
            if not sku or Product.objects.filter(sku=sku).exists():
                sku = f"{source}-{external_id}"
            product = Product.objects.create(sku=sku[:50], name=name[:200] or sku, url=url[:200], source=source,
                                             external_id=external_id)
            changed = True
        else:
            wanted = {"name": name[:200] or product.name, "url": url[:200], "source": source, "external_id": external_id}
            differs = [field for field, value in wanted.items() if getattr(product, field) != value]
            for field in differs:
                setattr(product, field, wanted[field])
            if differs:
                product.save(update_fields=differs)
            changed = bool(differs)
        return do_update_passages(product, passages, at) > 0 or changed
