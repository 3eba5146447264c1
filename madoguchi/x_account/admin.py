from __future__ import annotations

from django.contrib import admin

from madoguchi.accounts.admin_audit import ReadOnlyAdmin
from madoguchi.x_account.models import XCursor, XOutbound, XRawItem, XUser


@admin.register(XRawItem)
class XRawItemAdmin(ReadOnlyAdmin):
    list_display = ["kind", "item_id", "author_id", "occurred_at", "processed_at", "error"]
    list_filter = ["kind"]
    search_fields = ["item_id", "author_id"]


@admin.register(XOutbound)
class XOutboundAdmin(ReadOnlyAdmin):
    list_display = ["case", "route", "to_user_id", "state", "attempts", "created_at", "sent_at"]
    list_filter = ["state", "route"]


@admin.register(XUser)
class XUserAdmin(ReadOnlyAdmin):
    list_display = ["username", "name", "user_id", "customer", "created_at"]
    search_fields = ["username", "name", "user_id"]


@admin.register(XCursor)
class XCursorAdmin(ReadOnlyAdmin):
    list_display = ["stream", "since_id", "next_token", "wait_until", "requests_left", "last_run_at", "last_ok_at", "last_error"]
