from __future__ import annotations

from django.contrib import admin

from madoguchi.accounts.admin_audit import ReadOnlyAdmin
from madoguchi.line.models import LineOutbound, LineRawEvent, LineUser


@admin.register(LineRawEvent)
class LineRawEventAdmin(ReadOnlyAdmin):
    list_display = ["webhook_event_id", "event_type", "user_id", "occurred_at", "processed_at", "unsent_at", "error"]
    list_filter = ["event_type"]
    search_fields = ["webhook_event_id", "user_id", "message_id"]


@admin.register(LineOutbound)
class LineOutboundAdmin(ReadOnlyAdmin):
    list_display = ["case", "to_user_id", "state", "method", "attempts", "created_at", "sent_at"]
    list_filter = ["state"]


@admin.register(LineUser)
class LineUserAdmin(ReadOnlyAdmin):
    list_display = ["display_name", "user_id", "customer", "blocked_at", "created_at"]
    search_fields = ["display_name", "user_id"]
