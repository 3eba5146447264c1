from __future__ import annotations

import pytest

from madoguchi.accounts.models import Role
from madoguchi.testing.factories import UserFactory


@pytest.fixture
def admin_user(db):
    return UserFactory(username="kimura", display_name="店長 木村", role=Role.ADMIN, email="kimura@example.jp")


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


@pytest.fixture
def lead_client(client, db):
    client.force_login(UserFactory(username="sato", role=Role.LEAD))
    return client


@pytest.fixture
def agent_client(client, db):
    client.force_login(UserFactory(username="tanaka", role=Role.AGENT))
    return client
