"""Seed the defaults: Mon–Fri 9:00–18:00 and the New Year closure 12/29–1/3 (年末年始)."""

import datetime as dt

from django.db import migrations

NEW_YEAR = [(12, 29), (12, 30), (12, 31), (1, 1), (1, 2), (1, 3)]


def seed(apps, schema_editor):
    WeeklyHours = apps.get_model("businesshours", "WeeklyHours")
    ClosedDay = apps.get_model("businesshours", "ClosedDay")
    if not WeeklyHours.objects.exists():
        WeeklyHours.objects.bulk_create(
            [WeeklyHours(weekday=d, opens=dt.time(9), closes=dt.time(18)) for d in range(5)]
        )
    if not ClosedDay.objects.exists():
        ClosedDay.objects.bulk_create([ClosedDay(month=m, day=d, name="年末年始") for m, d in NEW_YEAR])


class Migration(migrations.Migration):
    dependencies = [("businesshours", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
