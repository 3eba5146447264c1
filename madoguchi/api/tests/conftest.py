from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client

from madoguchi.accounts.models import Role, User
from madoguchi.api import tokens, webhooks
from madoguchi.testing.factories import TeamFactory, UserFactory


@dataclass
class Caller:
    """A client of the API with one token."""

    client: Client
    token: str
    user: User

    def __call__(self, method: str, path: str, body: Any = None, language: str = "", raw: str | None = None) -> Any:
        headers = {"HTTP_AUTHORIZATION": f"Bearer {self.token}"}
        if language:
            headers["HTTP_ACCEPT_LANGUAGE"] = language
        data = raw if raw is not None else (None if body is None else body)
        kwargs: dict[str, Any] = {"content_type": "application/json"} if data is not None else {}
        response = getattr(self.client, method.lower())(f"/api/v1{path}", data=data, **kwargs, **headers)
        return response


@dataclass
class Staff:
    agent: User
    lead: User
    admin: User

    def of(self, role: str) -> User:
        return {"agent": self.agent, "lead": self.lead, "admin": self.admin}[role]


@pytest.fixture
def staff(db: Any) -> Staff:
    team = TeamFactory(name="サポート一課")
    lead = UserFactory(username="sato", display_name="佐藤 花子", role=Role.LEAD, team=team)
    team.lead = lead
    team.save()
    agent = UserFactory(username="tanaka", display_name="田中 健太", role=Role.AGENT, team=team)
    admin = UserFactory(username="kanri", display_name="管理 太郎", role=Role.ADMIN)
    return Staff(agent=agent, lead=lead, admin=admin)


def caller_for(user: User, scope: str = "write", resources: tuple[str, ...] = ()) -> Caller:
    _row, token = tokens.do_create_token(user, name="連携テスト", scope=scope, resources=resources)
    return Caller(client=Client(), token=token, user=user)


@pytest.fixture(autouse=True)
def _fresh_endpoint_list() -> Iterator[None]:
    webhooks.forget_endpoints()
    yield
    webhooks.forget_endpoints()
