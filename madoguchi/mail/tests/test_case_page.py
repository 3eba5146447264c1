"""The mail parts of the case page cost a fixed number of queries, whatever the history."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from madoguchi.mail.ingest import do_ingest_raw
from madoguchi.mail.tests.helpers import japanese_mail
from madoguchi.testing.factories import UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("shop_open")]


def page_queries(client, case_id: int) -> int:  # type: ignore[no-untyped-def]
    with CaptureQueriesContext(connection) as captured:
        assert client.get(f"/cases/{case_id}/").status_code == 200
    return len(captured)


def test_case_page_queries_do_not_grow_with_mail_history(client, django_capture_on_commit_callbacks, settings) -> None:
    settings.MAIL_SEND_ACKNOWLEDGEMENT = False
    client.force_login(UserFactory(username="mail-page"))
    with django_capture_on_commit_callbacks(execute=True):
        first, _created = do_ingest_raw(japanese_mail(body="一通目\n\n> 引用"), "smtp")
    first.refresh_from_db()
    page_queries(client, first.case_id)  # the session's first request also checks its sign-in (2FA) once
    small = page_queries(client, first.case_id)
    for number in range(15):
        with django_capture_on_commit_callbacks(execute=True):
            do_ingest_raw(japanese_mail(subject=f"Re: 商品が届きません [#{first.case_id}]", body=f"{number}通目\n\n> 引用"), "smtp")
    assert page_queries(client, first.case_id) == small
    page = client.get(f"/cases/{first.case_id}/").content.decode()
    assert page.count("引用・署名を表示") == 16
