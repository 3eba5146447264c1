"""Links and notices are records: made, withdrawn, sent or set aside on the case page (audited
there); the admin only shows them."""

from django.contrib import admin

from madoguchi.accounts.admin_audit import ReadOnlyAdmin
from madoguchi.progress.models import LateNotice, StatusLink


@admin.register(StatusLink)
class StatusLinkAdmin(ReadOnlyAdmin):
    list_display = ("case", "created_at", "expires_at", "revoked_at", "last_viewed_at")


@admin.register(LateNotice)
class LateNoticeAdmin(ReadOnlyAdmin):
    list_display = ("case", "commitment", "state", "prepared_at", "decided_by", "decided_at")
