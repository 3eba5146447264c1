from __future__ import annotations

from typing import Any

from madoguchi.cases.models import CompensationState
from madoguchi.coupons.models import Coupon
from madoguchi.coupons.signals import coupon_issued


def issue_when_approved(sender: Any, compensation: Any, actor: Any, **_kwargs: Any) -> None:
    """A lead approved a coupon that waited: it is issued now (and only now)."""
    if compensation.state != CompensationState.GRANTED or compensation.kind != "coupon":
        return
    coupon = Coupon.objects.filter(compensation_id=compensation.pk).first()
    if coupon is not None:
        coupon.compensation = compensation
        coupon_issued.send(sender=Coupon, coupon=coupon, actor=actor)
