from django.contrib import admin

from madoguchi.accounts.admin_audit import ReadOnlyAdmin
from madoguchi.coupons.models import Coupon


@admin.register(Coupon)
class CouponAdmin(ReadOnlyAdmin):
    list_display = ["code", "kind", "value", "expires_on", "platform_state", "created_at"]
    search_fields = ["code"]
