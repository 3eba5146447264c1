from django.apps import AppConfig


class BusinessHoursConfig(AppConfig):
    name = "madoguchi.businesshours"
    label = "businesshours"
    verbose_name = "営業日・営業時間"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from madoguchi.businesshours import calendar, models

        # An admin's edit takes effect at once in this process; other processes reload
        # within calendar.CACHE_SECONDS.
        for model in (models.WeeklyHours, models.ClosedDay, models.CalendarOptions):
            post_save.connect(calendar.forget, sender=model, dispatch_uid=f"bh-save-{model.__name__}")
            post_delete.connect(calendar.forget, sender=model, dispatch_uid=f"bh-del-{model.__name__}")
