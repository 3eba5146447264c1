"""Login throttling (issue 21, finding 2): 200 wrong passwords at 4/s, then the right one, used
to log in. Now failures bring increasing delays per account and per address, the tenth locks the
account (the user and the admins are told), every failure is logged without the password, and
an admin lifts a lock on /settings/ (audited)."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

import pytest
from django.test import Client

from madoguchi.accounts.models import LoginFailure, Role, SettingsChange, User
from madoguchi.notifications.models import Notification
from madoguchi.testing.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db
WRONG = "chigau-password-123"


def try_login(client: Client, username: str, password: str, address: str = "198.51.100.7") -> Any:
    return client.post("/login/", {"username": username, "password": password}, REMOTE_ADDR=address)


def logged_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def let_time_pass(seconds: float) -> None:
    """The throttle measures from the failures' times: move them into the past."""
    for failure in LoginFailure.objects.all():
        failure.at -= dt.timedelta(seconds=seconds)
        failure.save(update_fields=["at"])


def fail(client: Client, username: str, times: int, address: str = "198.51.100.7") -> None:
    for _ in range(times):
        let_time_pass(301)  # past any delay, well inside the hour
        response = try_login(client, username, WRONG, address)
        assert "ユーザー名またはパスワードが違います" in response.content.decode()


def test_the_tenth_failure_locks_the_account_even_against_the_right_password(client: Client) -> None:
    user = UserFactory(username="tanaka", role=Role.AGENT)
    admin = UserFactory(username="owner", role=Role.ADMIN)
    fail(client, "tanaka", 10)
    let_time_pass(301)
    response = try_login(client, "tanaka", PASSWORD)
    assert not logged_in(client)
    assert "ロックされています" in response.content.decode()
    user.refresh_from_db()
    assert user.login_locked_until is not None
    told = set(Notification.objects.filter(kind="login_locked").values_list("user__username", flat=True))
    assert told == {"tanaka", admin.username}


def test_a_delay_follows_the_third_failure_and_doubles(client: Client) -> None:
    UserFactory(username="suzuki")
    fail(client, "suzuki", 3)  # the third just now
    response = try_login(client, "suzuki", PASSWORD)
    assert not logged_in(client) and "2 秒待って" in response.content.decode()
    assert LoginFailure.objects.count() == 3, "a refused try is not a failure"
    let_time_pass(2)
    try_login(client, "suzuki", WRONG)
    assert "4 秒待って" in try_login(client, "suzuki", PASSWORD).content.decode()
    let_time_pass(4)
    try_login(client, "suzuki", PASSWORD)
    assert logged_in(client)


def test_a_good_login_starts_the_count_anew(client: Client) -> None:
    UserFactory(username="yamada")
    fail(client, "yamada", 2)
    let_time_pass(301)
    try_login(client, "yamada", PASSWORD)
    assert logged_in(client)
    client.logout()
    fail(client, "yamada", 2)
    let_time_pass(301)
    try_login(client, "yamada", PASSWORD)
    assert logged_in(client)


def test_one_address_trying_many_accounts_is_delayed_but_others_are_not(client: Client) -> None:
    UserFactory(username="kato")
    for n in range(20):
        try_login(client, f"guess{n}", WRONG, address="203.0.113.9")
    assert "秒待って" in try_login(client, "kato", PASSWORD, address="203.0.113.9").content.decode()
    assert not logged_in(client)
    try_login(client, "kato", PASSWORD, address="192.0.2.44")
    assert logged_in(client)


def test_every_failure_is_logged_with_name_and_address_never_the_password(client: Client, caplog: pytest.LogCaptureFixture) -> None:
    UserFactory(username="ito")
    with caplog.at_level(logging.INFO, logger="madoguchi.accounts.login"):
        fail(client, "ito", 4)
        try_login(client, "nobody", "秘密のパスワード")
    text = "\n".join(record.getMessage() for record in caplog.records)
    assert text.count("login failed for 'ito' from 198.51.100.7") == 4
    assert "login failed for 'nobody'" in text
    assert WRONG not in text and "秘密のパスワード" not in text and PASSWORD not in text
    assert not LoginFailure.objects.filter(username__contains="パスワード").exists()


def test_the_admin_login_is_throttled_too(client: Client) -> None:
    UserFactory(username="root", role=Role.ADMIN, is_staff=True, is_superuser=True)
    fail(client, "root", 10)
    let_time_pass(301)
    response = client.post("/admin/login/", {"username": "root", "password": PASSWORD}, REMOTE_ADDR="198.51.100.7")
    assert not logged_in(client)
    assert "ロックされています" in response.content.decode()


def test_an_admin_lifts_a_lock_and_it_is_audited_an_agent_cannot(client: Client) -> None:
    locked = UserFactory(username="sato", role=Role.LEAD)
    fail(client, "sato", 10)
    agent = UserFactory(username="agent-x", role=Role.AGENT)
    client.force_login(agent)
    assert client.post(f"/settings/users/{locked.pk}/unlock/").status_code == 403
    admin = UserFactory(username="owner", role=Role.ADMIN)
    client.force_login(admin)
    assert "ロック中" in client.get("/settings/").content.decode()
    assert client.post(f"/settings/users/{locked.pk}/unlock/").status_code == 302
    assert User.objects.get(pk=locked.pk).login_locked_until is None
    assert SettingsChange.objects.filter(object_id=str(locked.pk), target="ログインのロック").exists()
    client.logout()
    try_login(client, "sato", PASSWORD)
    assert logged_in(client)
