from django.contrib import admin

from madoguchi.accounts.admin_audit import ReadOnlyAdmin
from madoguchi.notifications.models import Notification


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    list_display = ("user", "kind", "message", "created_at", "read_at")
