"""Opening hours and closed days, editable by admins in the Django admin."""

from __future__ import annotations

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
    """A day the shop is closed besides public holidays. Without a year it recurs every
    year (年末年始 12/29–1/3 are seeded that way); with a year it is that date only."""

    month = models.PositiveSmallIntegerField(_("月"))
    day = models.PositiveSmallIntegerField(_("日"))
    year = models.PositiveSmallIntegerField(_("年（空欄は毎年）"), null=True, blank=True)
    name = models.CharField(_("名称"), max_length=100)

    class Meta:
        verbose_name = _("休業日")
        verbose_name_plural = _("休業日")
        ordering = ["year", "month", "day"]

    def __str__(self) -> str:
        prefix = f"{self.year}/" if self.year else _("毎年 ")
        return f"{prefix}{self.month}/{self.day} {self.name}"

    def clean(self) -> None:
        import datetime as dt

        try:
            dt.date(self.year or 2024, self.month, self.day)  # 2024: a leap year allows 2/29
        except (TypeError, ValueError) as error:
            raise ValidationError(_("存在しない日付です。")) from error


class CalendarOptions(models.Model):
    """Whether public holidays close the shop (a single row; absent = yes)."""

    closed_on_public_holidays = models.BooleanField(_("祝日は休業"), default=True)

    class Meta:
        verbose_name = _("営業日の設定")
        verbose_name_plural = _("営業日の設定")

    def __str__(self) -> str:
        return str(_("営業日の設定"))
