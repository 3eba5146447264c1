"""Closed days may be ranges (年末年始 12/29–1/3 as one row, edited on the desk's settings)."""

from django.db import migrations, models

NEW_YEAR = [(12, 29), (12, 30), (12, 31), (1, 1), (1, 2), (1, 3)]


def join_new_year(apps, schema_editor):
    """The six seeded 年末年始 rows become one range, when they are still exactly as seeded."""
    ClosedDay = apps.get_model("businesshours", "ClosedDay")
    rows = list(ClosedDay.objects.filter(name="年末年始", year__isnull=True))
    if sorted((r.month, r.day) for r in rows) != sorted(NEW_YEAR) or len(rows) != len(NEW_YEAR):
        return
    ClosedDay.objects.filter(pk__in=[r.pk for r in rows]).delete()
    ClosedDay.objects.create(month=12, day=29, end_month=1, end_day=3, name="年末年始")


class Migration(migrations.Migration):
    dependencies = [("businesshours", "0002_default_calendar")]
    operations = [
        migrations.AddField("closedday", "end_month", models.PositiveSmallIntegerField(null=True, blank=True, verbose_name="終了月")),
        migrations.AddField("closedday", "end_day", models.PositiveSmallIntegerField(null=True, blank=True, verbose_name="終了日")),
        migrations.RunPython(join_new_year, migrations.RunPython.noop),
    ]
