"""The first admin: created once; a password from the environment is never printed."""

from __future__ import annotations

import pytest

from madoguchi.accounts.models import User
from madoguchi.cli import ensure_first_admin

pytestmark = pytest.mark.django_db


def test_a_generated_password_is_shown_once(monkeypatch):
    monkeypatch.delenv("MADOGUCHI_ADMIN_PASSWORD", raising=False)
    username, shown = ensure_first_admin()
    assert User.objects.get(username=username).check_password(shown)
    assert ensure_first_admin() is None


def test_a_password_from_the_environment_is_not_echoed(monkeypatch):
    monkeypatch.setenv("MADOGUCHI_ADMIN_USER", "tencho")
    monkeypatch.setenv("MADOGUCHI_ADMIN_PASSWORD", "s3cret-窓口-from-env")
    username, shown = ensure_first_admin()
    assert username == "tencho" and "s3cret" not in shown
    assert User.objects.get(username="tencho").check_password("s3cret-窓口-from-env")
