"""The case list's keyset pagination, its constant cost, bad input answered as JSON errors with
a stable code (Japanese, or English on request), and the OpenAPI document the app serves."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from openapi_spec_validator import validate

from madoguchi.api.tests.conftest import Staff, caller_for
from madoguchi.cases.models import Case, Channel, Status
from madoguchi.testing.factories import CaseFactory, CustomerFactory, category

pytestmark = pytest.mark.django_db


def _pages(call, query: str = "", limit: int = 3) -> list[list[int]]:  # type: ignore[no-untyped-def]
    pages, cursor = [], ""
    for _ in range(50):
        response = call("GET", f"/cases?limit={limit}{query}" + (f"&cursor={cursor}" if cursor else ""))
        assert response.status_code == 200, response.content.decode()
        body = response.json()
        pages.append([row["id"] for row in body["items"]])
        cursor = body["next_cursor"]
        if not cursor:
            return pages
    raise AssertionError("the pages never ended")


def test_keyset_pages_cover_every_case_once_even_when_updated_at_the_same_moment(staff: Staff) -> None:
    customer = CustomerFactory()
    cases = [CaseFactory(customer=customer) for _ in range(11)]
    same = timezone.now() - dt.timedelta(hours=1)
    # Seven cases share one updated_at (a batch), so a page boundary falls inside the tie.
    Case.objects.filter(pk__in=[c.pk for c in cases[2:9]]).update(updated_at=same)
    Case.objects.filter(pk__in=[c.pk for c in cases[:2]]).update(updated_at=same + dt.timedelta(seconds=1))
    Case.objects.filter(pk__in=[c.pk for c in cases[9:]]).update(updated_at=same - dt.timedelta(seconds=1))
    pages = _pages(caller_for(staff.agent))
    seen = [pk for page in pages for pk in page]
    expected = list(Case.objects.order_by("-updated_at", "-id").values_list("pk", flat=True))
    assert seen == expected and len(set(seen)) == 11
    assert [len(page) for page in pages] == [3, 3, 3, 2]


def test_filters_and_updated_since(staff: Staff) -> None:
    customer = CustomerFactory()
    mine = CaseFactory(customer=customer, assignee=staff.agent, status=Status.OPEN, channel=Channel.PHONE,
                       category=category("defect"))
    CaseFactory(customer=customer, status=Status.NEW)
    old = CaseFactory(customer=customer, assignee=staff.agent, status=Status.OPEN)
    Case.objects.filter(pk=old.pk).update(updated_at=timezone.now() - dt.timedelta(days=3))
    call = caller_for(staff.lead)
    assert _pages(call, f"&assignee={staff.agent.pk}&status=open") == [[mine.pk, old.pk]]
    assert _pages(call, "&channel=phone&category=defect") == [[mine.pk]]
    since = (timezone.now() - dt.timedelta(days=1)).isoformat().replace("+", "%2B")
    assert old.pk not in _pages(call, f"&updated_since={since}")[0]


def test_the_list_costs_the_same_statements_on_any_page(staff: Staff) -> None:
    customer = CustomerFactory()
    for _ in range(40):
        CaseFactory(customer=customer)
    call = caller_for(staff.agent)
    call("GET", "/cases")  # the token's last use is written on the first call, not on each
    counts, cursor = [], ""
    for _page in range(4):
        with CaptureQueriesContext(connection) as queries:
            response = call("GET", "/cases?limit=10" + (f"&cursor={cursor}" if cursor else ""))
        cursor = response.json()["next_cursor"]
        counts.append(len(queries.captured_queries))
    assert counts == [counts[0]] * 4 and counts[0] <= 2, counts  # the token, the page


@pytest.mark.parametrize(("method", "path", "body", "status", "code"), [
    ("GET", "/cases?cursor=bm90LWEtY3Vyc29y", None, 400, "invalid_cursor"),
    ("GET", "/cases?status=lost", None, 400, "invalid_input"),
    ("GET", "/cases?limit=0", None, 400, "invalid_input"),
    ("GET", "/cases?updated_since=yesterday", None, 400, "invalid_input"),
    ("GET", "/cases?updated_since=2026-01-01T00:00:00", None, 400, "invalid_input"),
    ("GET", "/cases?category=nothing", None, 400, "unknown_category"),
    ("GET", "/cases/not-a-number", None, 400, "invalid_input"),
    ("GET", "/cases/99999999", None, 404, "not_found"),
    ("GET", "/customers?cursor=%%%", None, 400, "invalid_cursor"),
    ("GET", "/orders/NO-SUCH-ORDER", None, 404, "not_found"),
    ("POST", "/cases", {"subject": "件名"}, 400, "invalid_input"),
    ("POST", "/cases", {"subject": "件名", "complaint": "本文", "category": "delivery"}, 400, "invalid_input"),
    ("POST", "/cases", {"subject": "件名", "complaint": "本文", "category": "delivery", "customer_id": 99999}, 400,
     "unknown_customer"),
    ("POST", "/cases", {"subject": "件名", "complaint": "本文", "category": "delivery", "customer": {"name": "山田"},
                        "assignee_id": 99999}, 400, "unknown_user"),
    ("POST", "/cases", {"subject": "件名", "complaint": "本文", "category": "delivery", "customer": {"name": "山田"},
                        "received_at": "2099-01-01T00:00:00+09:00"}, 400, "rule_violation"),
    ("POST", "/cases", "[1, 2", 400, "invalid_json"),
    ("POST", "/cases", [1, 2], 400, "invalid_input"),
    ("POST", "/cases/{case}/messages", {"kind": "shout", "body": "x"}, 400, "invalid_input"),
    ("POST", "/cases/{case}/messages", {"kind": "note", "body": "　 "}, 400, "rule_violation"),
    ("POST", "/cases/{case}/status", {"status": "gone"}, 400, "invalid_input"),
    ("POST", "/cases/{case}/commitments", {"description": "折り返す", "due_at": "2020-01-01T00:00:00+09:00"}, 400,
     "rule_violation"),
    ("POST", "/cases/{case}/compensations", {"kind": "refund", "amount_yen": -5, "reason": "x"}, 400, "invalid_input"),
    ("POST", "/cases/{case}/compensations", {"kind": "refund", "amount_yen": 10**12, "reason": "x"}, 400, "invalid_input"),
    ("PUT", "/orders/5001", {"amount_yen": 100}, 400, "invalid_input"),
    ("PUT", "/orders/5001", {"ordered_at": "2026-11-01T09:00:00+09:00", "status": "lost"}, 400, "invalid_input"),
    ("PUT", "/orders/5001", {"ordered_at": "2026-11-01T09:00:00+09:00", "items": [{"quantity": 0}]}, 400, "invalid_input"),
    ("POST", "/articles", {"title": "t", "body": "b", "category": "none"}, 400, "unknown_category"),
    ("GET", "/cases/99999999999999999999999", None, 404, "not_found"),
    ("GET", "/customers?cursor=OTk5OTk5OTk5OTk5OTk5OTk5OTk5OQ", None, 400, "invalid_cursor"),
    ("GET", "/cases?cursor=MjAyNi0wMS0wMVQwMDowMDowMCswMDowMHw5OTk5OTk5OTk5OTk5OTk5OTk5OTk5OQ", None, 400, "invalid_cursor"),
    ("GET", "/cases?assignee=99999999999999999999999", None, 400, "invalid_input"),
    ("POST", "/cases", {"subject": "件名", "complaint": "本文", "category": "delivery", "customer_id": 10**30}, 400,
     "unknown_customer"),
])
def test_bad_input_is_a_json_error_with_a_stable_code(staff: Staff, method: str, path: str, body: object,
                                                      status: int, code: str) -> None:
    case = CaseFactory()
    call = caller_for(staff.admin)
    raw = body if isinstance(body, str) else None
    response = call(method, path.replace("{case}", str(case.pk)), None if raw else body, raw=raw)
    assert response.status_code == status, response.content.decode()
    assert response["Content-Type"].startswith("application/json")
    data = response.json()
    assert data["code"] == code
    assert any("\u3040" <= ch <= "\u30ff" or "\u4e00" <= ch <= "\u9fff" for ch in data["message"])  # Japanese


def test_messages_are_english_when_the_client_asks(staff: Staff) -> None:
    case = CaseFactory()
    call = caller_for(staff.agent)
    response = call("POST", f"/cases/{case.pk}/messages", {"kind": "note", "body": "  "}, language="en-US,en;q=0.9")
    assert response.json() == {"code": "rule_violation", "message": "The content is empty."}
    japanese = call("POST", f"/cases/{case.pk}/messages", {"kind": "note", "body": "  "}, language="ja,en;q=0.5")
    assert japanese.json()["message"] == "内容が空です。"


def test_no_token_or_a_malformed_one_is_401(staff: Staff) -> None:
    client = Client()
    for headers in ({}, {"HTTP_AUTHORIZATION": "Bearer "}, {"HTTP_AUTHORIZATION": "Bearer mdg_" + "x" * 43},
                    {"HTTP_AUTHORIZATION": "Basic dXNlcjpwYXNz"}, {"HTTP_AUTHORIZATION": "Bearer " + "é" * 5000}):
        response = client.get("/api/v1/cases", **headers)
        assert response.status_code == 401 and response.json()["code"] == "unauthorized"


def test_the_openapi_document_validates_and_the_docs_page_is_served(db: None) -> None:
    client = Client()
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    document = json.loads(response.content)
    validate(document)
    assert document["info"]["version"] == "1"
    assert {"/api/v1/cases", "/api/v1/orders/{number}", "/api/v1/compensations/{compensation_id}/decision"} <= set(document["paths"])
    docs = client.get("/api/v1/docs")
    assert docs.status_code == 200 and b"openapi.json" in docs.content
    assert b"cdn.jsdelivr" not in docs.content  # the bundled Swagger UI, no outside request
