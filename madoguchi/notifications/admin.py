from django.contrib import admin

from madoguchi.notifications.models import Notification

admin.site.register(Notification, list_display=("user", "kind", "message", "created_at", "read_at"), raw_id_fields=("case",))
