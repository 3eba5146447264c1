"""Records of what happened cannot be forged through Django's admin, even by a superuser.

The change history of a case, the messages, granted compensations and the customers' survey
answers are listed and viewed in the admin; adding, changing or deleting them there is refused
(corrections go through the desk, which writes the case's change history).
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from django.contrib import admin
from django.db import models
from django.utils import timezone

from madoguchi.accounts.models import Role
from madoguchi.cases.models import (
    AuditEvent,
    Compensation,
    CompensationKind,
    CompensationState,
    Interaction,
)
from madoguchi.metrics.models import Survey
from madoguchi.testing.factories import CaseFactory, InteractionFactory, UserFactory

pytestmark = pytest.mark.django_db


def form_data(obj: models.Model, prefix: str = "") -> dict[str, Any]:
    """What the admin's form for `obj` posts: every editable field with its current value."""
    data: dict[str, Any] = {}
    for field in obj._meta.concrete_fields:
        if field.primary_key or not field.editable:
            continue
        value = getattr(obj, field.attname)
        name = prefix + field.name
        if isinstance(field, models.DateTimeField):
            local = timezone.localtime(value) if value else None
            data[name + "_0"] = local.date().isoformat() if local else ""
            data[name + "_1"] = local.strftime("%H:%M:%S") if local else ""
        elif isinstance(field, models.BooleanField):
            if value:
                data[name] = "on"
        elif isinstance(field, models.JSONField):
            data[name] = json.dumps(value)
        else:
            data[name] = "" if value is None else str(value)
    return data


@pytest.fixture
def superuser_client(client):
    client.force_login(UserFactory(username="owner", role=Role.ADMIN, is_staff=True, is_superuser=True))
    return client


@pytest.fixture
def case():
    return CaseFactory(subject="マグカップが割れて届きました")


def _audit_event(case) -> AuditEvent:
    return AuditEvent.objects.create(case=case, actor=UserFactory(username="sato"), action="status", changes={"status": ["new", "in_progress"]})


def _compensation(case) -> Compensation:
    return Compensation.objects.create(case=case, kind=CompensationKind.COUPON, amount_yen=500,
                                       reason="配送遅延のお詫び", state=CompensationState.GRANTED,
                                       requested_by=UserFactory(username="sato"))


def _survey(case) -> Survey:
    now = timezone.now()
    return Survey.objects.create(case=case, nonce="n" * 32, sent_at=now, expires_at=now + dt.timedelta(days=14),
                                 answered_at=now, rating=2, nps=3, comment="対応が遅かったです。")


RECORDS = {
    "cases/auditevent": (_audit_event, {"action": "assign", "changes": json.dumps({"assignee": [None, "偽の担当者"]})}),
    "cases/compensation": (_compensation, {"amount_yen": "50000", "reason": "改ざんした理由"}),
    "metrics/survey": (_survey, {"rating": "5", "nps": "10", "comment": "大変満足しました！"}),
}


def _row(obj: models.Model) -> dict[str, Any]:
    return {k: v for k, v in type(obj)._default_manager.filter(pk=obj.pk).values().get().items()}


@pytest.mark.parametrize("path", list(RECORDS))
def test_a_record_cannot_be_added_in_the_admin(superuser_client, case, path):
    make, forged = RECORDS[path]
    template = make(CaseFactory())  # a real row to copy the fields from
    model = type(template)
    count = model._default_manager.count()
    data = form_data(template) | {"case": str(case.pk)} | forged
    if isinstance(template, Survey):
        data["nonce"] = "f" * 32
    response = superuser_client.post(f"/admin/{path}/add/", data)
    assert response.status_code in (403, 404)
    assert model._default_manager.count() == count
    assert not model._default_manager.filter(case=case).exists()


@pytest.mark.parametrize("path", list(RECORDS))
def test_a_record_cannot_be_changed_in_the_admin(superuser_client, case, path):
    make, forged = RECORDS[path]
    record = make(case)
    before = _row(record)
    response = superuser_client.post(f"/admin/{path}/{record.pk}/change/", form_data(record) | forged)
    assert response.status_code in (403, 404)
    assert _row(record) == before


@pytest.mark.parametrize("path", list(RECORDS))
def test_a_record_cannot_be_deleted_in_the_admin(superuser_client, case, path):
    make, _forged = RECORDS[path]
    record = make(case)
    before = _row(record)
    response = superuser_client.post(f"/admin/{path}/{record.pk}/delete/", {"post": "yes"})
    assert response.status_code in (403, 404)
    assert _row(record) == before
    # nor by the list's bulk action
    response = superuser_client.post(f"/admin/{path}/", {"action": "delete_selected", "_selected_action": [record.pk], "post": "yes"})
    assert _row(record) == before


@pytest.mark.parametrize("path", list(RECORDS))
def test_records_stay_visible_in_the_admin(superuser_client, case, path):
    make, _forged = RECORDS[path]
    record = make(case)
    assert superuser_client.get(f"/admin/{path}/").status_code == 200
    assert superuser_client.get(f"/admin/{path}/{record.pk}/change/").status_code == 200


def test_a_message_body_cannot_be_rewritten_through_the_case_page(superuser_client, case):
    """What the customer wrote is kept verbatim: not even the case's admin page can rewrite it."""
    message = InteractionFactory(case=case, body="届いたマグカップの取っ手が割れていました。交換をお願いします。")
    data = form_data(case) | {
        "interactions-TOTAL_FORMS": "1", "interactions-INITIAL_FORMS": "1",
        "interactions-MIN_NUM_FORMS": "0", "interactions-MAX_NUM_FORMS": "1000",
        "interactions-0-id": str(message.pk), "interactions-0-case": str(case.pk),
    } | form_data(message, "interactions-0-") | {"interactions-0-body": "満足しています。交換は不要です。"}
    response = superuser_client.post(f"/admin/cases/case/{case.pk}/change/", data)
    assert response.status_code in (403, 404)
    message.refresh_from_db()
    assert message.body == "届いたマグカップの取っ手が割れていました。交換をお願いします。"
    assert superuser_client.post("/admin/cases/interaction/add/", form_data(message) | {"body": "偽の返信"}).status_code in (403, 404)
    assert Interaction.objects.filter(case=case).count() == 1


def test_the_admins_own_log_is_not_editable(superuser_client):
    """Django's record of admin actions (LogEntry) has no admin page to write it through."""
    assert superuser_client.get("/admin/admin/logentry/").status_code == 404
    assert superuser_client.post("/admin/admin/logentry/add/", {"change_message": "偽"}).status_code == 404


def test_every_admin_page_is_read_only_or_audited():
    """A model added later gets one of the two kinds of admin, or this fails."""
    from madoguchi.accounts.admin_audit import AuditedAdmin, ReadOnlyAdmin, ReadOnlyInline

    for model, model_admin in admin.site._registry.items():
        assert isinstance(model_admin, ReadOnlyAdmin | AuditedAdmin), model
        if isinstance(model_admin, ReadOnlyAdmin):  # an audited admin records its inline rows too
            for inline in model_admin.inlines:
                assert issubclass(inline, ReadOnlyInline), inline


def test_every_admin_list_and_page_opens(superuser_client, case):
    """Read-only pages still list and show their rows; audited pages still offer their forms."""
    from madoguchi.accounts.admin_audit import AuditedAdmin

    InteractionFactory(case=case)
    _audit_event(case), _compensation(case), _survey(case)
    for model, model_admin in admin.site._registry.items():
        base = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
        assert superuser_client.get(base).status_code == 200, base
        row = model._default_manager.first()
        if row is not None:
            assert superuser_client.get(f"{base}{row.pk}/change/").status_code == 200, base
        expected = 200 if isinstance(model_admin, AuditedAdmin) else 403
        assert superuser_client.get(f"{base}add/").status_code == expected, base
