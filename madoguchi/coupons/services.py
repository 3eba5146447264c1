"""Issuing a coupon from a case: one compensation in the ledger (with its authority rule, via
cases.services.do_request_compensation, not a copy of it) plus the coupon's own terms."""

from __future__ import annotations

import datetime as dt
import re
import secrets
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import OuterRef
from django.utils import timezone
from django.utils.translation import gettext as _

from madoguchi.accounts.models import User
from madoguchi.cases.models import Case, CompensationKind, CompensationState
from madoguchi.cases.services import MAX_COMPENSATION_YEN, CaseError, do_request_compensation
from madoguchi.coupons.models import Coupon, CouponKind, PlatformState
from madoguchi.coupons.signals import coupon_issued, coupon_platform_retry

CODE_PATTERN = re.compile(r"^[A-Z0-9][A-Z0-9_-]{3,39}$")
# No 0/O or 1/I/L: a customer reads the code aloud on the phone or types it from a printed mail.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
MAX_VALIDITY_DAYS = 3 * 366


class CouponError(CaseError):
    """Bad terms for a coupon; the message is shown as it is (Japanese)."""


def generate_code() -> str:
    return "MDG-" + "".join(secrets.choice(CODE_ALPHABET) for _i in range(8))


def clean_code(code: str) -> str:
    """Upper case, half width; empty means: generate one."""
    import unicodedata

    code = unicodedata.normalize("NFKC", code or "").strip().upper()
    if not code:
        return ""
    if not CODE_PATTERN.match(code):
        raise CouponError(_("クーポンコードは半角の英数字・ハイフン・アンダースコアで4〜40文字にしてください。"))
    return code


def check_terms(kind: str, value: int | None, expires_on: dt.date | None, ledger_yen: int | None,
                today: dt.date | None = None) -> int:
    """Check the terms; returns the yen the compensation ledger records (and the authority
    limit counts): the amount itself, or for a rate the amount the agent expects it to be worth."""
    today = today or timezone.localdate()
    if kind not in CouponKind.values:
        raise CouponError(_("割引の種類を選んでください。"))
    if value is None or value <= 0:
        raise CouponError(_("割引は1以上の数で入力してください。"))
    if kind == CouponKind.PERCENT and value > 100:
        raise CouponError(_("割引率は100%以下で入力してください。"))
    if kind == CouponKind.YEN and value > MAX_COMPENSATION_YEN:
        raise CouponError(_("金額が大きすぎます（上限 %(limit)s 円）。") % {"limit": f"{MAX_COMPENSATION_YEN:,}"})
    if expires_on is None:
        raise CouponError(_("有効期限を入力してください。"))
    if expires_on < today:
        raise CouponError(_("有効期限が過去の日付です。今日（%(today)s）以降の日付を入力してください。")
                          % {"today": today.strftime("%Y/%m/%d")})
    if expires_on > today + dt.timedelta(days=MAX_VALIDITY_DAYS):
        raise CouponError(_("有効期限は3年以内にしてください。"))
    if kind == CouponKind.YEN:
        return value
    if ledger_yen is None or ledger_yen <= 0:
        raise CouponError(_("割引率のクーポンは、補償の記録と権限の確認のため、見込みの割引額（円）を1円以上で入力してください。"))
    if ledger_yen > MAX_COMPENSATION_YEN:
        raise CouponError(_("金額が大きすぎます（上限 %(limit)s 円）。") % {"limit": f"{MAX_COMPENSATION_YEN:,}"})
    return ledger_yen


@transaction.atomic
def do_issue_coupon(case: Case, *, actor: User, kind: str, value: int | None, expires_on: dt.date | None,
                    reason: str, code: str = "", ledger_yen: int | None = None) -> Coupon:
    """Record a coupon as a compensation of the case. Within the agent's authority it is
    granted and `coupon_issued` is sent now; above it, it waits for the lead like any
    compensation (cases.services.do_request_compensation) and is issued when approved
    (receivers.issue_when_approved). The coupon's `compensation.hold_reason` says why it waits."""
    amount = check_terms(kind, value, expires_on, ledger_yen)
    code = clean_code(code)
    if code and Coupon.objects.filter(code=code).exists():
        raise CouponError(_("クーポンコード %(code)s はすでに使われています。別のコードにしてください。") % {"code": code})
    compensation = do_request_compensation(case, actor=actor, kind=CompensationKind.COUPON, amount_yen=amount,
                                           reason=reason)
    assert expires_on is not None and value is not None  # checked above
    for _attempt in range(5):
        try:
            with transaction.atomic():
                coupon = Coupon.objects.create(compensation=compensation, code=code or generate_code(), kind=kind,
                                               value=value, expires_on=expires_on)
            break
        except IntegrityError as error:
            if code:  # typed by the agent and taken in the meantime
                raise CouponError(_("クーポンコード %(code)s はすでに使われています。別のコードにしてください。")
                                  % {"code": code}) from error
    else:  # pragma: no cover - five random codes of 31^8 taken in a row
        raise CouponError(_("クーポンコードを作れませんでした。もう一度お試しください。"))
    if compensation.state == CompensationState.GRANTED:
        coupon_issued.send(sender=Coupon, coupon=coupon, actor=actor)
    return coupon


@transaction.atomic
def do_record_platform_result(coupon_id: int, *, platform: str, external_id: str = "", error: str = "") -> Coupon:
    """For a shop-platform app that received `coupon_issued`: the code was created there
    (`external_id`), or could not be (`error`, shown to the agent as the platform said it)."""
    coupon = Coupon.objects.select_for_update().get(pk=coupon_id)
    coupon.platform = platform[:20]
    coupon.platform_state = PlatformState.FAILED if error else PlatformState.CREATED
    coupon.platform_id = external_id[:200]
    coupon.platform_error = error[:500]
    coupon.platform_at = timezone.now()
    coupon.save(update_fields=["platform", "platform_state", "platform_id", "platform_error", "platform_at"])
    return coupon


@transaction.atomic
def do_mark_platform_pending(coupon_id: int, *, platform: str, note: str = "") -> Coupon:
    """For a shop-platform app: the code is being created there (作成待ち); `note` says why it
    is taking longer (the platform is down, retried later), shown to the agent."""
    coupon = Coupon.objects.select_for_update().get(pk=coupon_id)
    if coupon.platform_state == PlatformState.CREATED:
        return coupon  # created already: nothing to wait for
    coupon.platform = platform[:20]
    coupon.platform_state = PlatformState.PENDING
    coupon.platform_error = note[:500]
    coupon.platform_at = timezone.now()
    coupon.save(update_fields=["platform", "platform_state", "platform_error", "platform_at"])
    return coupon


def can_retry_platform(coupon: Coupon) -> bool:
    return (coupon.platform_state == PlatformState.FAILED and coupon.compensation.state == CompensationState.GRANTED
            and not coupon.expired())


@transaction.atomic
def do_retry_platform(coupon_id: int, *, actor: User) -> Coupon:
    """An agent asks the shop platform to create a coupon whose creation failed, once more:
    作成待ち again, and the platform app (receiving `coupon_platform_retry`) tries again."""
    coupon = Coupon.objects.select_for_update().select_related("compensation__case").get(pk=coupon_id)
    if coupon.platform_state != PlatformState.FAILED:
        raise CouponError(_("このクーポンはショップへの作成に失敗していないため、再試行できません。"))
    if coupon.compensation.state != CompensationState.GRANTED:
        raise CouponError(_("発行されていないクーポンはショップに作成できません。"))
    if coupon.expired():
        raise CouponError(_("有効期限が過ぎたクーポンはショップに作成できません。"))
    coupon.platform_state = PlatformState.PENDING
    coupon.platform_error = ""
    coupon.platform_at = timezone.now()
    coupon.save(update_fields=["platform_state", "platform_error", "platform_at"])
    coupon_platform_retry.send(sender=Coupon, coupon=coupon, actor=actor)
    return coupon


def state_label(coupon: Coupon, today: dt.date | None = None) -> str:
    state = coupon.compensation.state
    if state == CompensationState.PENDING:
        return _("承認待ち")
    if state == CompensationState.REJECTED:
        return _("却下")
    if coupon.expired(today):
        return _("期限切れ")
    return _("発行済み")


def with_states(coupons: list[Coupon]) -> list[Any]:
    today = timezone.localdate()
    for coupon in coupons:
        coupon.state_label = state_label(coupon, today)  # type: ignore[attr-defined]
        coupon.state_code = ("expired" if coupon.compensation.state == CompensationState.GRANTED  # type: ignore[attr-defined]
                             and coupon.expired(today) else coupon.compensation.state)
    return coupons


def coupons_of_case(case_id: int) -> list[Any]:
    return with_states(list(Coupon.objects.filter(compensation__case_id=case_id).select_related("compensation")
                            .order_by("-created_at", "-pk")))


def coupons_of_page_case() -> Any:
    """coupons_of_case's rows, for the case page's case query (cases.page.CASE_PAGE_EXISTS)."""
    return Coupon.objects.filter(compensation__case_id=OuterRef("pk"))


def coupons_of_customer(customer_id: int, limit: int = 50) -> list[Any]:
    return with_states(list(Coupon.objects.filter(compensation__case__customer_id=customer_id)
                            .select_related("compensation").order_by("-created_at", "-pk")[:limit]))
