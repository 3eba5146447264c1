"""A database the desk cannot reach answers 503 in Japanese with Retry-After, not the generic
500 (issue 21); any other error is still the 500 page. The outage itself, with a real database
server stopped, is in test_database_outage.py."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import OperationalError
from django.http import HttpRequest, HttpResponse
from django.test import Client, override_settings
from django.urls import path


def unreachable(request: HttpRequest) -> HttpResponse:
    raise OperationalError('connection failed: connection to server at "127.0.0.1", port 5432 failed: Connection refused')


def broken(request: HttpRequest) -> HttpResponse:
    raise ValueError("a bug")


urlpatterns = [path("unreachable/", unreachable), path("broken/", broken)]
handler500 = "madoguchi.errors.server_error"


@pytest.fixture
def client_without_raising(db: Any) -> Client:
    return Client(raise_request_exception=False)


@override_settings(ROOT_URLCONF=__name__)
def test_an_unreachable_database_is_a_503_in_japanese_with_retry_after(client_without_raising: Client) -> None:
    response = client_without_raising.get("/unreachable/")
    assert response.status_code == 503
    assert response["Retry-After"] == "15"
    assert "ただいまデータベースに接続できません。" in response.content.decode()


@override_settings(ROOT_URLCONF=__name__)
def test_any_other_error_is_still_the_500_page(client_without_raising: Client) -> None:
    response = client_without_raising.get("/broken/")
    assert response.status_code == 500
    assert "申し訳ありません。問題が発生しました。" in response.content.decode()
