"""End to end in Chromium (issue 22 item 8): an admin adds a closed-day range (年末年始 of a
year) on the desk's settings and invites a new agent; the invitation leaves through the outbox
to a real SMTP server (aiosmtpd); the invitee opens the mailed link, sets a password and logs in."""

from __future__ import annotations

import datetime as dt
import re
import time
from email.message import Message
from zoneinfo import ZoneInfo

import pytest

from madoguchi.accounts.models import Role, SettingsChange, User
from madoguchi.businesshours import calendar, is_open
from madoguchi.businesshours.models import ClosedDay
from madoguchi.conftest import login, screenshot
from madoguchi.testing.desk_process import MailSink
from madoguchi.testing.factories import TeamFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("huey_immediate")]
JST = ZoneInfo("Asia/Tokyo")
PASSWORD = "komorebi-madoguchi-2027"


@pytest.fixture
def sink(settings, live_server):
    with MailSink() as running:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_USE_TLS = "127.0.0.1", running.port, False
        settings.SITE_URL = live_server.url
        yield running


def wait_for_mail(sink: MailSink, to: str, timeout: float = 15) -> Message:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with sink._lock:
            found = [m for m in sink.messages if to in str(m.get("To", ""))]
        if found:
            return found[0]
        time.sleep(0.1)
    raise AssertionError(f"no mail to {to}")


def body_of(message: Message) -> str:
    part = message.get_payload(decode=True)
    assert isinstance(part, bytes)
    return part.decode(message.get_content_charset() or "utf-8")


def test_an_admin_closes_the_new_year_and_invites_an_agent_who_sets_a_password_and_logs_in(new_page, sink):
    UserFactory(username="kimura", display_name="店長 木村", role=Role.ADMIN)
    TeamFactory(name="お客様サポート課")
    admin = new_page()
    login(admin, "kimura")
    admin.goto("/settings/")
    admin.click("a[href='/settings/hours/']")

    # A range that ends before it starts is refused in Japanese, and what was typed stays.
    admin.fill("#id_closed-name", "年末年始（2027）")
    admin.fill("#id_closed-start", "2028-01-04")
    admin.fill("#id_closed-end", "2027-12-28")
    admin.click("#add-closed button.primary")
    assert "終了日は開始日以降にしてください。" in admin.locator("#add-closed").inner_text()
    assert admin.input_value("#id_closed-name") == "年末年始（2027）"
    assert not ClosedDay.objects.filter(name="年末年始（2027）").exists()

    admin.fill("#id_closed-start", "2027-12-28")
    admin.fill("#id_closed-end", "2028-01-04")
    admin.click("#add-closed button.primary")
    admin.wait_for_url("**/settings/hours/")
    assert "休業日「年末年始（2027）」を追加しました。" in admin.locator(".messages").inner_text()
    admin.goto("/settings/hours/?year=2028")
    calendar_text = admin.locator("#year-calendar").inner_text()
    assert "2028/1/4" in calendar_text and "年末年始（2027）" in calendar_text and "元日" in calendar_text
    screenshot(admin, "e2e-settings-closed-range")
    calendar.forget()
    assert not is_open(dt.datetime(2028, 1, 4, 10, tzinfo=JST)) and is_open(dt.datetime(2028, 1, 5, 10, tzinfo=JST))

    admin.click("a[href='/settings/users/']")
    admin.fill("#id_invite-email", "yamada@example.jp")
    admin.fill("#id_invite-username", "yamada")
    admin.fill("#id_invite-display_name", "山田 太郎")
    admin.select_option("#id_invite-role", "agent")
    admin.select_option("#id_invite-team", label="お客様サポート課")
    admin.click("#invite button.primary")
    admin.wait_for_url("**/settings/users/")
    assert "yamada@example.jp に招待メールを送りました。" in admin.locator(".messages").inner_text()
    assert "招待中" in admin.locator("[data-testid=user-yamada]").inner_text()
    screenshot(admin, "e2e-settings-invited")

    mail = wait_for_mail(sink, "yamada@example.jp")
    text = body_of(mail)
    match = re.search(r"https?://\S+/settings/password/\S+/", text)
    assert match, text
    link = match.group(0)

    invitee = new_page()
    invitee.goto(link)
    assert "ユーザー名: yamada" in invitee.locator("#set-password").inner_text()
    invitee.fill("#id_new_password1", PASSWORD)
    invitee.fill("#id_new_password2", PASSWORD + "x")
    invitee.click("#set-password button.primary")
    assert "確認用パスワードが一致しません" in invitee.locator("#set-password").inner_text()
    invitee.fill("#id_new_password1", PASSWORD)
    invitee.fill("#id_new_password2", PASSWORD)
    invitee.click("#set-password button.primary")
    invitee.wait_for_url("**/login/**")
    assert "パスワードを設定しました。" in invitee.locator(".messages").inner_text()
    login(invitee, "yamada", PASSWORD)
    assert "/login/" not in invitee.url
    screenshot(invitee, "e2e-settings-invitee-logged-in")

    # The link worked once.
    again = new_page()
    again.goto(link)
    assert "このリンクは使えません" in again.locator("h1").inner_text()
    user = User.objects.get(username="yamada")
    assert user.team.name == "お客様サポート課" and user.last_login is not None
    assert set(SettingsChange.objects.values_list("target", "action")) >= {("休業日", "add"), ("利用者", "add")}
