"""The notification list: marking read, and malformed ids that must not fail or mark all."""

from __future__ import annotations

import pytest

from madoguchi.notifications.models import Notification
from madoguchi.notifications.services import do_notify
from madoguchi.testing.factories import CaseFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("bad", ["²", "abc", "1" * 40, "-1"])
def test_a_malformed_id_marks_nothing_and_is_no_error(client, bad):
    user = UserFactory()
    do_notify([user], kind="approval", case=CaseFactory(), message="承認依頼があります")
    client.force_login(user)
    response = client.post("/notifications/read/", {"id": bad})
    assert response.status_code == 302
    assert Notification.objects.filter(user=user, read_at__isnull=True).count() == 1


def test_marking_one_notification_read(client):
    user = UserFactory()
    case = CaseFactory()
    do_notify([user], kind="approval", case=case, message="一件目")
    do_notify([user], kind="approval", case=case, message="二件目")
    first = Notification.objects.get(message="一件目")
    client.force_login(user)
    client.post("/notifications/read/", {"id": str(first.pk)})
    assert list(Notification.objects.filter(read_at__isnull=True).values_list("message", flat=True)) == ["二件目"]
