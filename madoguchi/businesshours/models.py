"""Opening hours and closed days, edited by admins on the desk's settings (/settings/hours/)."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

WEEKDAYS = [
    (0, _("月曜日")), (1, _("火曜日")), (2, _("水曜日")), (3, _("木曜日")),
    (4, _("金曜日")), (5, _("土曜日")), (6, _("日曜日")),
]


class WeeklyHours(models.Model):
    """One opening span on a weekday (local time). A weekday with no row is closed; two rows
    on one day make a lunch break. Defaults: Mon–Fri 9:00–18:00 (migration 0002)."""

    weekday = models.PositiveSmallIntegerField(_("曜日"), choices=WEEKDAYS)
    opens = models.TimeField(pgettext_lazy("営業時間", "開始"))
    closes = models.TimeField(pgettext_lazy("営業時間", "終了"))

    class Meta:
        verbose_name = _("営業時間")
        verbose_name_plural = _("営業時間")
        ordering = ["weekday", "opens"]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.opens:%H:%M}–{self.closes:%H:%M}"

    def clean(self) -> None:
        if self.closes <= self.opens:
            raise ValidationError(_("終了時刻は開始時刻より後にしてください。"))


class ClosedDay(models.Model):
    """Days the shop is closed besides public holidays: one day, or a range (年末年始 12/29–1/3)
    up to its end day (`end_month`/`end_day`; the range runs to the first such day on or after
    the start, so it may cross the year's end). Without a year it recurs every year (年末年始 is
    seeded that way); with a year it starts in that year only."""

    month = models.PositiveSmallIntegerField(_("月"))
    day = models.PositiveSmallIntegerField(_("日"))
    end_month = models.PositiveSmallIntegerField(_("終了月"), null=True, blank=True)
    end_day = models.PositiveSmallIntegerField(_("終了日"), null=True, blank=True)
    year = models.PositiveSmallIntegerField(_("年（空欄は毎年）"), null=True, blank=True)
    name = models.CharField(_("名称"), max_length=100)

    class Meta:
        verbose_name = _("休業日")
        verbose_name_plural = _("休業日")
        ordering = ["year", "month", "day"]

    def __str__(self) -> str:
        prefix = f"{self.year}/" if self.year else _("毎年 ")
        end = f"–{self.end_month}/{self.end_day}" if self.end_month and self.end_day else ""
        return f"{prefix}{self.month}/{self.day}{end} {self.name}"

    def clean(self) -> None:
        try:
            self.dates_from(self.year or 2024)  # 2024: a leap year allows 2/29
        except (TypeError, ValueError) as error:
            raise ValidationError(_("存在しない日付です。")) from error
        if (self.end_month is None) != (self.end_day is None):
            raise ValidationError(_("終了日は月と日の両方を入れてください。"))

    def dates_from(self, year: int) -> list[dt.date]:
        """The closed dates of the occurrence that starts in `year` (start to end, inclusive)."""
        start = dt.date(year, self.month, self.day)
        if not (self.end_month and self.end_day):
            return [start]
        end = dt.date(year, self.end_month, self.end_day) if _exists(year, self.end_month, self.end_day) else None
        if end is None or end < start:
            next_year = year + 1
            day = self.end_day
            if self.end_month == 2 and day == 29 and not _exists(next_year, 2, 29):
                day = 28
            end = dt.date(next_year, self.end_month, day)
        return [start + dt.timedelta(days=n) for n in range((end - start).days + 1)]


def _exists(year: int, month: int, day: int) -> bool:
    try:
        dt.date(year, month, day)
    except ValueError:
        return False
    return True


class CalendarOptions(models.Model):
    """Whether public holidays close the shop (a single row; absent = yes)."""

    closed_on_public_holidays = models.BooleanField(_("祝日は休業"), default=True)

    class Meta:
        verbose_name = _("営業日の設定")
        verbose_name_plural = _("営業日の設定")

    def __str__(self) -> str:
        return str(_("営業日の設定"))
