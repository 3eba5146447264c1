"""Coupons issued on a case become Shopify discount codes (issue 18 item 4).

The desk sends `coupons.signals.coupon_issued` inside the granting transaction; the receiver
here marks the coupon 作成待ち and defers `shopify.discount` work (jobs.work: a row written with
the grant, done by the worker after the commit, redone by the minute sweep after a crash, backed
off 30 s doubling while Shopify is down or throttling). The handler creates the code with
discountCodeBasicCreate: the coupon's code, a fixed amount or a percentage off the whole order,
from its grant to the end of its expiry day (JST), usable once, once per customer, and only by
the case's customer when Shopify knows them by e-mail.

Never two codes for one coupon: the discount's id is kept on `models.Discount` (and on the
coupon, `platform_id`); the moment a create is sent is committed before it is sent, so a later
try (a lost answer, a killed worker) asks Shopify for the code first and takes what it finds. A
code that existed before Madoguchi ever sent a create is somebody else's: the coupon fails with
that reason instead of being tied to another discount."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from madoguchi.cases.models import CompensationState
from madoguchi.coupons.models import Coupon, CouponKind, PlatformState
from madoguchi.coupons.services import do_mark_platform_pending, do_record_platform_result
from madoguchi.customers.models import IdentityKind
from madoguchi.jobs import work
from madoguchi.shop.platform_http import PlatformError, PlatformUnavailable
from madoguchi.shopify import client
from madoguchi.shopify.models import Discount

log = logging.getLogger(__name__)

DISCOUNT_WORK = "shopify.discount"
PLATFORM = "Shopify"
LEASE = dt.timedelta(minutes=5)


def on_coupon_issued(sender: Any, coupon: Coupon, actor: Any = None, **_kwargs: Any) -> None:
    """`coupon_issued` (and `coupon_platform_retry`): inside the granting transaction, so only
    the deferred work is written here; Shopify is called by the worker after the commit."""
    if not client.configured():
        if coupon.platform == PLATFORM:  # retried while the connection is gone
            do_record_platform_result(coupon.pk, platform=PLATFORM, error=_("Shopify の接続が設定されていません。"))
        return
    do_mark_platform_pending(coupon.pk, platform=PLATFORM)
    work.defer(DISCOUNT_WORK, [coupon.pk])


def handle(coupon_ids: list[Any]) -> None:
    """The `shopify.discount` work: each coupon's code created at Shopify (idempotent). Raises
    when Shopify is unreachable or keeps throttling, so the work is tried again later."""
    unavailable: PlatformUnavailable | None = None
    for coupon_id in coupon_ids:
        try:
            create_discount(int(coupon_id))
        except PlatformUnavailable as error:
            unavailable = error
    if unavailable is not None:
        raise unavailable


def _ends_at(expires_on: dt.date) -> dt.datetime:
    """Valid until the expiry day ends in the shop's time zone."""
    midnight = dt.datetime.combine(expires_on + dt.timedelta(days=1), dt.time.min)
    return timezone.make_aware(midnight, timezone.get_default_timezone())


def discount_input(coupon: Coupon, customer_gid: str | None, now: dt.datetime) -> dict[str, Any]:
    """DiscountCodeBasicInput for the coupon (API 2025-01: customerSelection)."""
    value: dict[str, Any] = ({"percentage": round(coupon.value / 100, 4)} if coupon.kind == CouponKind.PERCENT
                             else {"discountAmount": {"amount": str(coupon.value), "appliesOnEachItem": False}})
    starts = min(coupon.created_at or now, now)
    return {
        "title": _("お詫びクーポン %(code)s（案件 #%(case)s）") % {"code": coupon.code, "case": coupon.compensation.case_id},
        "code": coupon.code,
        "startsAt": starts.astimezone(dt.UTC).isoformat(),
        "endsAt": _ends_at(coupon.expires_on).astimezone(dt.UTC).isoformat(),
        "usageLimit": 1,
        "appliesOncePerCustomer": True,
        "customerSelection": {"customers": {"add": [customer_gid]}} if customer_gid else {"all": True},
        "customerGets": {"value": value, "items": {"all": True}},
    }


def _email_of(coupon: Coupon) -> str:
    identity = (coupon.compensation.case.customer.identities.filter(kind=IdentityKind.EMAIL)
                .order_by("pk").values_list("value", flat=True).first())
    return str(identity or "")


def _reason(errors: list[dict[str, Any]], code: str) -> str:
    """Shopify's userErrors as the agent reads them (Japanese, with Shopify's own words)."""
    parts = []
    for error in errors:
        if error.get("code") == "TAKEN" and "code" in (error.get("field") or []):
            parts.append(_("コード %(code)s は Shopify の別の割引ですでに使われています。別のコードでクーポンを発行し直してください。")
                         % {"code": code})
        else:
            field = ".".join(str(part) for part in error.get("field") or [] if part != "basicCodeDiscount")
            parts.append(_("Shopify が受け付けませんでした（%(field)s: %(message)s）。")
                         % {"field": field or "-", "message": str(error.get("message") or "")[:200]})
    return " ".join(parts) or _("Shopify が割引コードを作成しませんでした。")


def _done(record: Discount, coupon: Coupon, discount_id: str) -> None:
    Discount.objects.filter(pk=record.pk).update(discount_id=discount_id, created_at=timezone.now())
    do_record_platform_result(coupon.pk, platform=PLATFORM, external_id=discount_id)


def create_discount(coupon_id: int) -> str:
    """Create the coupon's code at Shopify unless done; returns what happened (for the log)."""
    coupon = Coupon.objects.select_related("compensation__case__customer").filter(pk=coupon_id).first()
    if coupon is None or coupon.compensation.state != CompensationState.GRANTED:
        return "not issued"
    record, _created = Discount.objects.get_or_create(coupon=coupon)
    if record.discount_id:
        if coupon.platform_state != PlatformState.CREATED:
            do_record_platform_result(coupon.pk, platform=PLATFORM, external_id=record.discount_id)
        return "created already"
    now = timezone.now()
    free = Q(lease_until__isnull=True) | Q(lease_until__lt=now)
    if not Discount.objects.filter(free, pk=record.pk).update(lease_until=now + LEASE):
        return "busy"  # another worker is creating it; its own work row stays until it is done
    try:
        return _create(coupon, record, now)
    finally:
        Discount.objects.filter(pk=record.pk).update(lease_until=None)


def _create(coupon: Coupon, record: Discount, now: dt.datetime) -> str:
    try:
        with client.ShopifyClient() as shopify:
            existing = shopify.discount_by_code(coupon.code)
            if existing:
                if record.create_sent_at is None:
                    do_record_platform_result(coupon.pk, platform=PLATFORM, error=_reason(
                        [{"code": "TAKEN", "field": ["basicCodeDiscount", "code"]}], coupon.code))
                    return "taken by another discount"
                _done(record, coupon, existing)  # our earlier create went through; its answer was lost
                return "found"
            email = _email_of(coupon)
            customer_gid = shopify.customer_by_email(email) if email else None
            # Committed before the call: a try after this one looks the code up before creating.
            Discount.objects.filter(pk=record.pk).update(create_sent_at=timezone.now(), attempts=record.attempts + 1)
            discount_id, errors = shopify.create_discount(discount_input(coupon, customer_gid, now))
            if discount_id is None and any(error.get("code") == "TAKEN" for error in errors):
                # A create resent after a lost answer finds its own code: take that discount.
                discount_id = shopify.discount_by_code(coupon.code)
            if discount_id is None:
                do_record_platform_result(coupon.pk, platform=PLATFORM, error=_reason(errors, coupon.code))
                return "refused"
    except PlatformUnavailable as error:
        log.warning("shopify: discount code %s not created yet: %s", coupon.code, error)
        do_mark_platform_pending(coupon.pk, platform=PLATFORM, note=_("Shopify に接続できないため、自動で再試行します: %(error)s")
                                 % {"error": str(error)[:300]})
        raise
    except PlatformError as error:
        do_record_platform_result(coupon.pk, platform=PLATFORM, error=str(error))
        return "failed"
    _done(record, coupon, discount_id)
    return "created"
