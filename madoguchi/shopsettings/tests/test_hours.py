"""営業時間と休業日 on the desk: weekly spans, closed-day ranges, the year's holiday calendar."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from madoguchi.accounts.models import SettingsChange
from madoguchi.businesshours import calendar, is_open
from madoguchi.businesshours.models import CalendarOptions, ClosedDay, WeeklyHours

pytestmark = pytest.mark.django_db
JST = ZoneInfo("Asia/Tokyo")
WEEKDAYS_9_18 = {f"day{d}": "9:00-18:00" for d in range(5)} | {"day5": "", "day6": "", "closed_on_public_holidays": "on"}


def spans() -> list[tuple[int, str, str]]:
    return [(r.weekday, f"{r.opens:%H:%M}", f"{r.closes:%H:%M}") for r in WeeklyHours.objects.order_by("weekday", "opens")]


def test_the_page_shows_the_hours_the_closed_days_and_the_years_holidays(admin_client):
    page = admin_client.get("/settings/hours/?year=2027").content.decode()
    assert 'value="9:00-18:00"' in page
    assert "年末年始" in page and "12/29 – 1/3" in page  # the seeded six days are one range now
    assert "2027/1/11" in page and "成人の日" in page  # public holidays of the year shown
    assert "2027/1/1" in page and "店舗の休業日" in page


def test_a_bad_year_says_so_in_japanese_and_shows_this_year(admin_client):
    response = admin_client.get("/settings/hours/?year=abc")
    assert response.status_code == 200
    assert "年は 2000 から 2099 までで指定してください。" in response.content.decode()


def test_weekly_hours_with_a_lunch_break_are_saved_and_audited(admin_client):
    before = spans()
    data = WEEKDAYS_9_18 | {"day0": "９:００-12:00、13:00〜18:00", "day5": "10:00-15:00"}
    assert admin_client.post("/settings/hours/weekly/", data).status_code == 302
    after = spans()
    assert after != before
    assert (0, "09:00", "12:00") in after and (0, "13:00", "18:00") in after and (5, "10:00", "15:00") in after
    change = SettingsChange.objects.get(target="営業時間")
    assert {c["label"]: (c["old"], c["new"]) for c in change.changes} == {
        "月曜日": ("9:00-18:00", "9:00-12:00, 13:00-18:00"), "土曜日": ("", "10:00-15:00")}
    assert is_open(dt.datetime(2026, 12, 5, 11, tzinfo=JST))  # a Saturday, open at once in this process


@pytest.mark.parametrize(("value", "message"), [
    ("9時から18時", "「9時から18時」は「9:00-18:00」の形で入れてください。"),
    ("18:00-9:00", "「18:00-9:00」: 終了時刻は開始時刻より後にしてください。"),
    ("9:00-13:00, 12:00-18:00", "時間帯が重なっています（12:00-18:00）。"),
    ("25:00-26:00", "「25:00-26:00」の時刻が正しくありません。"),
])
def test_bad_spans_are_refused_in_japanese_and_nothing_is_saved(admin_client, value, message):
    before = spans()
    response = admin_client.post("/settings/hours/weekly/", WEEKDAYS_9_18 | {"day2": value})
    assert response.status_code == 400
    assert message in response.content.decode()
    assert value in response.content.decode()  # what was typed is kept in the form
    assert spans() == before and not SettingsChange.objects.exists()


def test_a_week_with_no_hours_at_all_is_refused(admin_client):
    before = spans()
    data = {f"day{d}": "" for d in range(7)}
    response = admin_client.post("/settings/hours/weekly/", data)
    assert response.status_code == 400 and "少なくとも1つの曜日に営業時間を入れてください。" in response.content.decode()
    assert spans() == before


def test_public_holidays_can_be_switched_to_open(admin_client):
    data = {k: v for k, v in WEEKDAYS_9_18.items() if k != "closed_on_public_holidays"}
    assert admin_client.post("/settings/hours/weekly/", data).status_code == 302
    assert CalendarOptions.objects.get().closed_on_public_holidays is False
    assert is_open(dt.datetime(2026, 11, 23, 10, tzinfo=JST))  # 勤労感謝の日, a Monday


def test_a_closed_range_across_the_years_end_closes_every_day_of_it_and_is_audited(admin_client):
    response = admin_client.post("/settings/hours/closed/", {
        "closed-name": "棚卸し休業", "closed-start": "2027-12-27", "closed-end": "2028-01-05"})
    assert response.status_code == 302
    row = ClosedDay.objects.get(name="棚卸し休業")
    assert (row.year, row.month, row.day, row.end_month, row.end_day) == (2027, 12, 27, 1, 5)
    calendar.forget()
    assert not is_open(dt.datetime(2027, 12, 27, 10, tzinfo=JST))
    assert not is_open(dt.datetime(2028, 1, 5, 10, tzinfo=JST))
    assert is_open(dt.datetime(2028, 1, 6, 10, tzinfo=JST))
    assert is_open(dt.datetime(2026, 12, 28, 10, tzinfo=JST))  # that year only
    change = SettingsChange.objects.get(target="休業日")
    assert change.action == "add" and "棚卸し休業" in change.object_repr


def test_an_every_year_range_recurs(admin_client):
    assert admin_client.post("/settings/hours/closed/", {
        "closed-name": "夏季休業", "closed-start": "2026-08-13", "closed-end": "2026-08-16", "closed-every_year": "on"}).status_code == 302
    calendar.forget()
    assert not is_open(dt.datetime(2030, 8, 14, 10, tzinfo=JST))  # a Wednesday, years later
    assert "夏季休業" in [off.name for off in calendar.days_off(2031) if off.day == dt.date(2031, 8, 13)]


@pytest.mark.parametrize(("data", "message"), [
    ({"closed-name": "休業", "closed-start": "2027-01-10", "closed-end": "2027-01-05"}, "終了日は開始日以降にしてください。"),
    ({"closed-name": "休業", "closed-start": "2027-13-01"}, "日付を正しく入力してください。"),
    ({"closed-name": "", "closed-start": "2027-01-10"}, "このフィールドは必須です。"),
    ({"closed-name": "長期休業", "closed-start": "2027-01-01", "closed-end": "2028-01-01"}, "休業期間は1年未満にしてください。"),
])
def test_bad_closed_days_are_refused_in_japanese_and_nothing_is_saved(admin_client, data, message):
    count = ClosedDay.objects.count()
    response = admin_client.post("/settings/hours/closed/", data)
    assert response.status_code == 400 and message in response.content.decode()
    assert ClosedDay.objects.count() == count and not SettingsChange.objects.exists()


def test_deleting_a_closed_day_is_audited(admin_client):
    row = ClosedDay.objects.get(name="年末年始")
    assert admin_client.post(f"/settings/hours/closed/{row.pk}/delete/").status_code == 302
    assert not ClosedDay.objects.filter(pk=row.pk).exists()
    assert SettingsChange.objects.get(target="休業日").action == "delete"


@pytest.mark.parametrize("who", ["lead_client", "agent_client"])
def test_leads_and_agents_may_not_change_the_hours(request, who):
    client = request.getfixturevalue(who)
    before = spans()
    assert client.get("/settings/hours/").status_code == 403
    assert client.post("/settings/hours/weekly/", WEEKDAYS_9_18 | {"day6": "10:00-12:00"}).status_code == 403
    assert client.post("/settings/hours/closed/", {"closed-name": "x", "closed-start": "2027-01-10"}).status_code == 403
    assert spans() == before and not SettingsChange.objects.exists()


def test_signed_out_visitors_are_sent_to_the_login(client):
    response = client.get("/settings/hours/")
    assert response.status_code == 302 and "/login/" in response["Location"]
