"""Every endpoint, for each role (agent, team lead, admin), for a revoked token and for a token
without the scope it needs. The answers follow the desk's rules: every staff member works every
case; orders are written by admins only (as the order import); pending compensations are seen
and decided by the case team's lead or an admin (as /approvals/)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.utils import timezone

from madoguchi.api import tokens
from madoguchi.api.models import ApiToken
from madoguchi.api.tests.conftest import Staff, caller_for
from madoguchi.cases import services
from madoguchi.cases.models import AuditEvent, Case, CompensationKind, InteractionKind, Status
from madoguchi.knowledge.services import do_save_article
from madoguchi.testing.factories import (
    CaseFactory,
    CommitmentFactory,
    CustomerFactory,
    IdentityFactory,
    OrderFactory,
)

pytestmark = pytest.mark.django_db


@dataclass
class World:
    staff: Staff
    case: Case
    customer_id: int
    order_number: str
    commitment_id: int
    compensation_id: int
    article_id: int


@pytest.fixture
def world(staff: Staff) -> World:
    customer = CustomerFactory()
    IdentityFactory(customer=customer, value="yamada@example.jp")
    order = OrderFactory(customer=customer, number="1024")
    case = CaseFactory(customer=customer, team=staff.agent.team, assignee=staff.agent, status=Status.OPEN, order=order)
    commitment = CommitmentFactory(case=case, owner=staff.agent)
    # Above the agent's ¥3,000: waits for the team's lead.
    pending = services.do_request_compensation(case, actor=staff.agent, kind=CompensationKind.COUPON, amount_yen=5000,
                                               reason="配送の遅れのお詫び")
    article = do_save_article(None, actor=staff.lead, title="配送の遅れへの対応", body="まず問い合わせ番号で追跡します。")
    return World(staff=staff, case=case, customer_id=customer.pk, order_number=order.number,
                 commitment_id=commitment.pk, compensation_id=pending.pk, article_id=article.pk)


SOON = (timezone.now() + dt.timedelta(days=2)).isoformat()

# name: (method, path, body, resource, write, {role: expected status})
ALL_OK = {"agent": 200, "lead": 200, "admin": 200}
CREATED = {"agent": 201, "lead": 201, "admin": 201}
ENDPOINTS: dict[str, tuple[str, Callable[[World], str], Any, str, bool, dict[str, int]]] = {
    "list cases": ("GET", lambda w: "/cases?status=open", None, "cases", False, ALL_OK),
    "read case": ("GET", lambda w: f"/cases/{w.case.pk}", None, "cases", False, ALL_OK),
    "create case": ("POST", lambda w: "/cases", {
        "subject": "マグカップが割れて届きました", "complaint": "箱を開けたら取っ手が折れていました。", "category": "defect",
        "channel": "phone", "customer": {"name": "中村 由美", "phone": "090-1234-5678"}}, "cases", True, CREATED),
    "list messages": ("GET", lambda w: f"/cases/{w.case.pk}/messages", None, "cases", False, ALL_OK),
    "add note": ("POST", lambda w: f"/cases/{w.case.pk}/messages", {"kind": "note", "body": "物流部に確認中。"},
                 "cases", True, CREATED),
    "change status": ("POST", lambda w: f"/cases/{w.case.pk}/status", {"status": "waiting_dept"}, "cases", True, ALL_OK),
    "list customers": ("GET", lambda w: "/customers?email=YAMADA@example.jp", None, "customers", False, ALL_OK),
    "read customer": ("GET", lambda w: f"/customers/{w.customer_id}", None, "customers", False, ALL_OK),
    "create customer": ("POST", lambda w: "/customers", {"name": "小林 誠", "email": "kobayashi@example.jp"},
                        "customers", True, CREATED),
    "read order": ("GET", lambda w: f"/orders/{w.order_number}", None, "orders", False, ALL_OK),
    "put order": ("PUT", lambda w: "/orders/2048", {
        "ordered_at": "2026-11-20T10:00:00+09:00", "status": "paid", "amount_yen": 3980, "customer_name": "加藤 恵子",
        "email": "kato@example.jp", "items": [{"sku": "MUG-380", "name": "有田焼 マグカップ 380ml", "quantity": 2,
                                               "unit_price_yen": 1990}]},
                  "orders", True, {"agent": 403, "lead": 403, "admin": 201}),
    "list commitments": ("GET", lambda w: f"/cases/{w.case.pk}/commitments", None, "commitments", False, ALL_OK),
    "add commitment": ("POST", lambda w: f"/cases/{w.case.pk}/commitments",
                       {"description": "代わりの品を発送し、問い合わせ番号をお知らせする", "due_at": SOON},
                       "commitments", True, CREATED),
    "close commitment": ("POST", lambda w: f"/commitments/{w.commitment_id}/close", {"kept": True},
                         "commitments", True, ALL_OK),
    "list compensations": ("GET", lambda w: f"/cases/{w.case.pk}/compensations", None, "compensations", False, ALL_OK),
    "request compensation": ("POST", lambda w: f"/cases/{w.case.pk}/compensations",
                             {"kind": "refund", "amount_yen": 500, "reason": "送料の返金"}, "compensations", True, CREATED),
    "pending compensations": ("GET", lambda w: "/compensations/pending", None, "compensations", False,
                              {"agent": 403, "lead": 200, "admin": 200}),
    "decide compensation": ("POST", lambda w: f"/compensations/{w.compensation_id}/decision",
                            {"approve": True, "note": "お詫びとして妥当"}, "compensations", True,
                            {"agent": 403, "lead": 200, "admin": 200}),
    "list articles": ("GET", lambda w: "/articles", None, "articles", False, ALL_OK),
    "read article": ("GET", lambda w: f"/articles/{w.article_id}", None, "articles", False, ALL_OK),
    "create article": ("POST", lambda w: "/articles", {"title": "割れ物の梱包", "body": "緩衝材を二重にします。",
                                                       "tags": ["梱包", "破損"]}, "articles", True, CREATED),
}


@pytest.mark.parametrize("role", ["agent", "lead", "admin"])
@pytest.mark.parametrize("name", list(ENDPOINTS))
def test_every_endpoint_for_every_role(world: World, role: str, name: str) -> None:
    method, path, body, _resource, _write, expected = ENDPOINTS[name]
    call = caller_for(world.staff.of(role))
    response = call(method, path(world), body)
    assert response.status_code == expected[role], response.content.decode()
    data = response.json()
    if response.status_code >= 400:
        assert data["code"] == "forbidden" and data["message"]
    else:  # the resource itself, not an error
        assert not (isinstance(data, dict) and {"code", "message"} <= set(data))


@pytest.mark.parametrize("name", list(ENDPOINTS))
def test_a_revoked_token_is_refused_everywhere(world: World, name: str) -> None:
    method, path, body, _resource, _write, _expected = ENDPOINTS[name]
    call = caller_for(world.staff.admin)
    assert call(method, path(world), body).status_code < 400 or name == "decide compensation"
    tokens.do_revoke_token(ApiToken.objects.get(user=world.staff.admin))
    response = call(method, path(world), body)
    assert response.status_code == 401
    assert response.json()["code"] == "unauthorized"


@pytest.mark.parametrize("name", list(ENDPOINTS))
def test_a_token_without_the_scope_is_refused(world: World, name: str) -> None:
    method, path, body, resource, write, _expected = ENDPOINTS[name]
    if write:  # a read-only token writes nothing
        call = caller_for(world.staff.admin, scope="read")
    else:  # a token for another resource reads nothing here
        call = caller_for(world.staff.admin, scope="write", resources=("articles" if resource != "articles" else "cases",))
    before = Case.objects.count()
    response = call(method, path(world), body)
    assert response.status_code == 403, response.content.decode()
    assert response.json()["code"] == "insufficient_scope"
    assert Case.objects.count() == before


def test_a_deactivated_users_token_is_refused(world: World) -> None:
    call = caller_for(world.staff.agent)
    world.staff.agent.is_active = False
    world.staff.agent.save()
    assert call("GET", "/cases").status_code == 401


def test_tokens_are_stored_hashed_and_record_their_last_use(world: World) -> None:
    call = caller_for(world.staff.agent)
    row = ApiToken.objects.get(user=world.staff.agent)
    assert call.token not in (row.digest, row.prefix) and row.digest == tokens.digest(call.token)
    assert row.last_used_at is None
    assert call("GET", "/cases").status_code == 200
    row.refresh_from_db()
    assert row.last_used_at is not None


def test_writes_go_through_the_desk_services(world: World) -> None:
    """A reply is an outbound message on the case (the mail app delivers it), a status change
    is audited, a request above the agent's authority waits, an order push is an import."""
    agent = caller_for(world.staff.agent)
    reply = agent("POST", f"/cases/{world.case.pk}/messages", {"kind": "reply", "body": "ご迷惑をおかけしております。"})
    assert reply.status_code == 201
    assert reply.json()["kind"] == InteractionKind.OUTBOUND and reply.json()["author_id"] == world.staff.agent.pk
    moved = agent("POST", f"/cases/{world.case.pk}/status", {"status": "resolved"})
    assert moved.json()["status"] == "resolved" and moved.json()["resolved_at"]
    assert AuditEvent.objects.filter(case=world.case, action="updated", actor=world.staff.agent).exists()
    stale = agent("POST", f"/cases/{world.case.pk}/status", {"status": "open", "version": 1})
    assert stale.status_code == 409 and stale.json()["code"] == "conflict"
    waiting = agent("POST", f"/cases/{world.case.pk}/compensations", {"kind": "refund", "amount_yen": 8000, "reason": "全額返金"})
    assert waiting.json()["state"] == "pending"
    admin = caller_for(world.staff.admin)
    first = admin("PUT", "/orders/3001", {"ordered_at": "2026-11-01T09:00:00+09:00", "amount_yen": 1200,
                                          "email": "yamada@example.jp", "items": [{"sku": "TWL-2", "quantity": 1}]})
    assert first.status_code == 201 and first.json()["result"] == "created"
    assert first.json()["order"]["customer_id"] == world.customer_id  # matched by e-mail, as an import does
    again = admin("PUT", "/orders/3001", {"ordered_at": "2026-11-01T09:00:00+09:00", "amount_yen": 1200})
    assert again.status_code == 200 and again.json()["result"] == "unchanged"
    assert again.json()["order"]["items"] == [{"sku": "TWL-2", "name": "", "quantity": 1, "unit_price_yen": 0}]
    shipped = admin("PUT", "/orders/3001", {"status": "fulfilled", "carrier": "yamato", "tracking_number": "123456789012"})
    assert shipped.json()["result"] == "updated" and shipped.json()["order"]["tracking_number"] == "123456789012"
    assert shipped.json()["order"]["amount_yen"] == 1200  # a field not sent is left alone


def test_a_reply_over_the_api_leaves_by_the_mail_outbox_as_a_reply_from_the_case_page(world: World) -> None:
    from madoguchi.mail.models import OutboundKind, OutboundMessage

    case = CaseFactory(customer=world.case.customer, channel="email", assignee=world.staff.agent, status=Status.OPEN)
    call = caller_for(world.staff.agent)
    reply = call("POST", f"/cases/{case.pk}/messages", {"kind": "reply", "body": "代わりの品を本日発送いたしました。"})
    assert reply.status_code == 201
    mail = OutboundMessage.objects.get(interaction_id=reply.json()["id"])
    assert mail.kind == OutboundKind.REPLY and mail.to_address == "yamada@example.jp"
    assert "代わりの品を本日発送いたしました。" in mail.body


def test_an_unknown_api_address_is_a_json_404(world: World) -> None:
    response = caller_for(world.staff.agent)("GET", "/tickets")
    assert response.status_code == 404 and response.json()["code"] == "not_found"
