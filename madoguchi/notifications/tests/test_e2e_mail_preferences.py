"""End to end in Chromium: a person turns a kind of mail off on their own settings page, it
stays off after a reload, the change is in the settings audit, and a handover then mails
nothing; a lead sets the time of the daily summary, and a wrong time is refused in Japanese."""

from __future__ import annotations

import pytest

from madoguchi.accounts.models import Role, SettingsChange
from madoguchi.conftest import login, screenshot
from madoguchi.notifications.mailing import plan
from madoguchi.notifications.models import MailEvent, MailPreference
from madoguchi.testing.factories import TeamFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_an_agent_turns_handover_mail_off_and_it_stays_off(new_page):
    agent = UserFactory(username="tanaka", display_name="田中 健太", email="tanaka@shop.example.jp")
    page = new_page()
    login(page, "tanaka")
    page.goto("/settings/me/")
    section = page.locator("[data-testid=mail-notifications]")
    assert section.get_by_label("自分への引き継ぎ").is_checked()  # every kind on by default
    assert section.get_by_label("まとめを送る時刻（日本時間）").count() == 0  # the summary is for leads
    section.get_by_label("自分への引き継ぎ").uncheck()
    section.get_by_role("button", name="メール通知を保存").click()
    page.wait_for_selector("[data-testid=mail-saved]")
    screenshot(page, "mail-preferences-saved")

    page.reload()
    section = page.locator("[data-testid=mail-notifications]")
    assert not section.get_by_label("自分への引き継ぎ").is_checked()
    assert section.get_by_label("担当案件へのお客様の返信").is_checked()
    preference = MailPreference.objects.get(user=agent)
    assert (preference.handover, preference.customer_reply) == (False, True)
    assert SettingsChange.objects.filter(actor=agent, target__contains="メール通知").exists()

    assert plan([agent], kind="handover", key="e2e:1", message="引き継ぎ") == []
    assert not MailEvent.objects.exists()


def test_a_lead_sets_the_summary_time_and_a_wrong_time_is_refused(new_page):
    lead = UserFactory(username="sato", display_name="佐藤 花子", role=Role.LEAD, email="sato@shop.example.jp")
    TeamFactory(name="お客様サポート課", lead=lead)
    page = new_page()
    login(page, "sato")
    page.goto("/settings/me/")
    section = page.locator("[data-testid=mail-notifications]")
    time_field = section.get_by_label("まとめを送る時刻（日本時間）")
    assert time_field.input_value() == "09:00"
    time_field.fill("17:30")
    section.get_by_role("button", name="メール通知を保存").click()
    page.wait_for_selector("[data-testid=mail-saved]")
    assert str(MailPreference.objects.get(user=lead).summary_time) == "17:30:00"

    # A browser without a time picker sends what was typed: a Japanese message, nothing lost.
    page.evaluate("document.querySelector('#id_summary_time').type = 'text'")
    section.get_by_label("まとめを送る時刻（日本時間）").fill("25:99")
    section.get_by_label("自分への引き継ぎ").uncheck()
    section.get_by_role("button", name="メール通知を保存").click()
    page.wait_for_selector("text=時刻は 09:00 のように入力してください。")
    assert not section.get_by_label("自分への引き継ぎ").is_checked()  # what was chosen is kept on the form
    preference = MailPreference.objects.get(user=lead)
    assert str(preference.summary_time) == "17:30:00" and preference.handover
