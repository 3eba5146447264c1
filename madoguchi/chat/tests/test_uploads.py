"""Files sent from the widget: size and type limits, and who may fetch them."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from madoguchi.cases.models import Interaction
from madoguchi.chat import services
from madoguchi.chat.models import ChatUpload

pytestmark = pytest.mark.django_db

JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 100


@pytest.fixture
def session():
    return services.do_customer_message(services.start_session(), client_id="c1", text="写真を送ります").session


def upload(client, session, content: bytes, name: str = "photo.jpg", client_id: str = "u1"):
    return client.post(
        reverse("chat:widget_upload"),
        {"token": session.token, "client_id": client_id, "file": SimpleUploadedFile(name, content)},
        HTTP_ORIGIN="http://shop.example.jp",
    )


def test_an_image_is_stored_and_added_to_the_case_timeline(client, session):
    response = upload(client, session, JPEG)
    assert response.status_code == 200 and response.json()["message"]["upload"]["is_image"] is True
    stored = ChatUpload.objects.get()
    assert stored.content_type == "image/jpeg"
    assert Interaction.objects.filter(case=session.case, body__contains="添付ファイル: photo.jpg").exists()
    mine = client.get(reverse("chat:widget_file", args=[stored.pk]), {"token": session.token})
    assert mine.status_code == 200 and mine.headers["Content-Type"] == "image/jpeg"
    assert client.get(reverse("chat:widget_file", args=[stored.pk]), {"token": "guess"}).status_code == 404


def test_an_oversized_file_is_refused(client, session, settings):
    settings.MADOGUCHI_CHAT_MAX_UPLOAD_BYTES = 1024 * 1024
    response = upload(client, session, JPEG + b"\x00" * (1024 * 1024))
    assert response.status_code == 400 and "ファイルが大きすぎます（1MBまで）" in response.json()["error"]
    assert not ChatUpload.objects.exists()


def test_a_disallowed_file_type_is_refused_whatever_its_name(client, session):
    response = upload(client, session, b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\xff\xff\x00\x00", name="invoice.pdf")
    assert response.status_code == 400 and "この種類のファイルは送れません" in response.json()["error"]
    html = upload(client, session, b"<html><script>alert(1)</script></html>", name="note.txt", client_id="u2")
    assert html.status_code == 400
    assert not ChatUpload.objects.exists()


def test_an_upload_with_a_stale_token_is_refused(client):
    response = client.post(
        reverse("chat:widget_upload"), {"token": "stale", "client_id": "u1", "file": SimpleUploadedFile("a.jpg", JPEG)},
        HTTP_ORIGIN="http://shop.example.jp",
    )
    assert response.status_code == 400 and "見つかりませんでした" in response.json()["error"]
