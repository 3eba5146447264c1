from django.contrib import admin

from madoguchi.businesshours.models import CalendarOptions, ClosedDay, WeeklyHours


@admin.register(WeeklyHours)
class WeeklyHoursAdmin(admin.ModelAdmin):
    list_display = ["weekday", "opens", "closes"]


@admin.register(ClosedDay)
class ClosedDayAdmin(admin.ModelAdmin):
    list_display = ["name", "year", "month", "day"]


@admin.register(CalendarOptions)
class CalendarOptionsAdmin(admin.ModelAdmin):
    list_display = ["__str__", "closed_on_public_holidays"]
