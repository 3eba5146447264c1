"""The admins' order import page (/settings/orders/import/): upload, the worker imports, the
run's page shows the same summary as the command; agents are refused; a bad file is answered
in Japanese, never with a 500."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from madoguchi.accounts.models import Role
from madoguchi.shop.models import ImportRun, ImportRunState, Order
from madoguchi.shop.tests.samples import base_file, generic_file, generic_rows
from madoguchi.shop.tests.test_import_orders import _orders
from madoguchi.shop.uploads import upload_path
from madoguchi.testing.factories import UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("huey_immediate")]


@pytest.fixture
def admin_client(client):
    client.force_login(UserFactory(username="tencho", role=Role.ADMIN, display_name="店長 山本"))
    return client


def test_admin_uploads_a_base_file_and_sees_the_summary(admin_client, django_capture_on_commit_callbacks) -> None:
    page = admin_client.get(reverse("accounts:settings"))
    assert reverse("shop:import_orders") in page.content.decode()  # linked from the settings page
    rows = generic_rows(_orders(), {})
    rows[3][15] = "三"
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(reverse("shop:import_orders"),
                                     {"file": SimpleUploadedFile("注文.csv", generic_file(rows, "cp932"), "text/csv")})
    run = ImportRun.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("shop:import_run", args=[run.pk])
    assert (run.state, run.created, run.skipped, run.user.username) == (ImportRunState.DONE, 3, 1, "tencho")
    assert not upload_path(run.pk).exists()  # the kept upload is removed once imported
    html = admin_client.get(response["Location"]).content.decode()
    assert 'data-count="created">3<' in html and 'data-count="skipped">1<' in html
    assert "数量「三」を個数として読めません。" in html and "<td>4</td>" in html
    listing = admin_client.get(reverse("shop:import_orders")).content.decode()
    assert "注文.csv" in listing and "店長 山本" in listing
    # Uploading the same file again changes nothing.
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(reverse("shop:import_orders"),
                          {"file": SimpleUploadedFile("注文.csv", generic_file(rows, "cp932"), "text/csv")})
    again = ImportRun.objects.order_by("-pk").first()
    assert (again.created, again.unchanged, again.skipped) == (0, 3, 1) and Order.objects.count() == 3


def test_a_run_in_progress_polls_for_its_result(admin_client) -> None:
    # Without the commit callbacks the worker has not run yet: the page says so and polls.
    response = admin_client.post(reverse("shop:import_orders"),
                                 {"file": SimpleUploadedFile("order.csv", base_file(_orders()), "text/csv")})
    run = ImportRun.objects.get()
    assert run.state == ImportRunState.QUEUED and upload_path(run.pk).exists()
    html = admin_client.get(response["Location"]).content.decode()
    assert "取り込み中です" in html and 'hx-trigger="every 2s"' in html
    fragment = admin_client.get(response["Location"], headers={"HX-Request": "true"}).content.decode()
    assert fragment.startswith('<section class="card" id="import-run"') and "<html" not in fragment


@pytest.mark.parametrize(("content", "message"), [
    (b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 20, "文字コードを読めません"),
    ("顧客番号,氏名\n1,山田 花子\n".encode("cp932"), "注文ファイルの形式を判別できません"),
    (b"", "空です"),  # Django's own check of an empty upload, in Japanese
])
def test_a_bad_file_is_answered_in_japanese(admin_client, content, message) -> None:
    response = admin_client.post(reverse("shop:import_orders"),
                                 {"file": SimpleUploadedFile("photo.csv", content, "text/csv")})
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not ImportRun.objects.exists()


def test_agents_get_403(client) -> None:
    client.force_login(UserFactory(username="agent-sato", role=Role.AGENT))
    assert client.get(reverse("shop:import_orders")).status_code == 403
    response = client.post(reverse("shop:import_orders"),
                           {"file": SimpleUploadedFile("o.csv", base_file(_orders()), "text/csv")})
    assert response.status_code == 403 and not Order.objects.exists()
    run = ImportRun.objects.create(file_name="o.csv")
    assert client.get(reverse("shop:import_run", args=[run.pk])).status_code == 403
