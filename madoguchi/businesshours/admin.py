from django.contrib import admin

from madoguchi.accounts.admin_audit import AuditedAdmin
from madoguchi.businesshours.models import CalendarOptions, ClosedDay, WeeklyHours


@admin.register(WeeklyHours)
class WeeklyHoursAdmin(AuditedAdmin):
    list_display = ["weekday", "opens", "closes"]


@admin.register(ClosedDay)
class ClosedDayAdmin(AuditedAdmin):
    list_display = ["name", "year", "month", "day"]


@admin.register(CalendarOptions)
class CalendarOptionsAdmin(AuditedAdmin):
    list_display = ["__str__", "closed_on_public_holidays"]
