"""What the API reads and writes, as JSON. Webhook payloads use the same output schemas, so a
case in a `case.created` event looks exactly like a case from `GET /api/v1/cases/{id}`."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from ninja import Field, Schema
from pydantic import field_validator

from madoguchi.cases.models import (
    Channel,
    CommitmentState,
    CompensationKind,
    CompensationState,
    Status,
)
from madoguchi.knowledge.models import ArticleState, Visibility
from madoguchi.shop.models import Carrier, OrderSource, OrderStatus

CaseStatus = Status  # the desk's choices: pydantic validates them and lists them in the schema
CaseChannel = Channel


def _aware(value: dt.datetime | None) -> dt.datetime | None:
    if value is not None and value.tzinfo is None:
        raise ValueError("timezone")
    return value


class Error(Schema):
    code: str = Field(description="stable machine-readable code, e.g. `not_found`, `invalid_input`")
    message: str = Field(description="Japanese (English with `Accept-Language: en`)")
    errors: list[dict[str, Any]] | None = None


# --- cases -------------------------------------------------------------------------------------


class CaseOut(Schema):
    id: int
    subject: str
    status: str
    channel: str
    priority: int
    category: str = Field(description="category code")
    customer_id: int
    assignee_id: int | None
    team_id: int | None
    order_id: int | None
    received_at: dt.datetime
    updated_at: dt.datetime
    resolved_at: dt.datetime | None
    version: int

    @staticmethod
    def resolve_category(case: Any) -> str:
        return str(case.category.code)


class CaseDetailOut(CaseOut):
    complaint: str
    solution: str
    landing_point: str
    fact_order_number: str
    fact_product: str
    fact_what_happened: str
    fact_when: str


class CasePage(Schema):
    items: list[CaseOut]
    next_cursor: str | None = Field(description="pass as `cursor` for the next page; null on the last page")


class NewCustomer(Schema):
    name: str = Field(max_length=200)
    kana: str = Field("", max_length=200)
    email: str = Field("", max_length=254)
    phone: str = Field("", max_length=30)


class CaseIn(Schema):
    subject: str = Field(min_length=1, max_length=200)
    complaint: str = Field(min_length=1, max_length=30000)
    channel: CaseChannel = Channel.OTHER
    category: str = Field(description="category code (see the categories on /settings/)")
    priority: int = Field(2, ge=1, le=4)
    customer_id: int | None = None
    customer: NewCustomer | None = Field(None, description="found by phone, else e-mail, else created")
    assignee_id: int | None = None
    received_at: dt.datetime | None = None

    _received = field_validator("received_at")(_aware)


class MessageIn(Schema):
    kind: Literal["reply", "note", "inbound"] = Field(
        description="`reply`: to the customer, sent by the case's channel as a reply from the desk; "
                    "`note`: internal note; `inbound`: a message from the customer received elsewhere")
    body: str = Field(min_length=1, max_length=30000)
    channel: CaseChannel | None = Field(None, description="inbound only; default: the case's channel")


class MessageOut(Schema):
    id: int
    case_id: int
    kind: str
    channel: str
    author_id: int | None
    occurred_at: dt.datetime
    body: str


class StatusIn(Schema):
    status: CaseStatus
    version: int | None = Field(None, description="the case version you read; refused with `conflict` if it changed")


# --- customers ---------------------------------------------------------------------------------


class IdentityOut(Schema):
    kind: str
    value: str


class CustomerOut(Schema):
    id: int
    name: str
    kana: str
    identities: list[IdentityOut]

    @staticmethod
    def resolve_identities(customer: Any) -> list[dict[str, str]]:
        return [{"kind": i.kind, "value": i.value} for i in customer.identities.all()]


class CustomerPage(Schema):
    items: list[CustomerOut]
    next_cursor: str | None


# --- orders ------------------------------------------------------------------------------------


class OrderItemIn(Schema):
    sku: str = Field("", max_length=50)
    name: str = Field("", max_length=300)
    quantity: int = Field(1, ge=1, le=1_000_000)
    unit_price_yen: int = Field(0, ge=0, le=100_000_000)


class OrderIn(Schema):
    """Fields left out are left as they are (as in an import)."""

    source: Literal[tuple(OrderSource.values)] = "generic"  # type: ignore[valid-type]
    external_id: str | None = Field(None, max_length=100, description="the order's key in its source; default: the number")
    customer_name: str = Field("", max_length=200)
    customer_kana: str = Field("", max_length=200)
    email: str = Field("", max_length=254)
    phone: str = Field("", max_length=30)
    ordered_at: dt.datetime | None = None
    status: Literal[tuple(OrderStatus.values)] | None = None  # type: ignore[valid-type]
    shipped_at: dt.datetime | None = None
    cancelled_at: dt.datetime | None = None
    carrier: Literal[tuple(Carrier.values)] | None = None  # type: ignore[valid-type]
    tracking_number: str | None = Field(None, max_length=50)
    amount_yen: int | None = Field(None, ge=0, le=2_000_000_000)
    refunded_yen: int | None = Field(None, ge=0, le=2_000_000_000)
    items: list[OrderItemIn] | None = Field(None, max_length=1000)

    _times = field_validator("ordered_at", "shipped_at", "cancelled_at")(_aware)


class OrderItemOut(Schema):
    sku: str
    name: str
    quantity: int
    unit_price_yen: int


class OrderOut(Schema):
    id: int
    number: str
    customer_id: int
    ordered_at: dt.datetime
    status: str
    shipped_at: dt.datetime | None
    cancelled_at: dt.datetime | None
    carrier: str
    tracking_number: str
    amount_yen: int
    refunded_yen: int
    source: str
    external_id: str
    items: list[OrderItemOut]

    @staticmethod
    def resolve_items(order: Any) -> list[dict[str, Any]]:
        return [{"sku": i.sku, "name": i.name, "quantity": i.quantity, "unit_price_yen": i.unit_price_yen}
                for i in order.items.all()]


class OrderWrite(Schema):
    result: Literal["created", "updated", "unchanged"]
    order: OrderOut


# --- promises and compensation -----------------------------------------------------------------


class CommitmentIn(Schema):
    description: str = Field(min_length=1, max_length=300)
    due_at: dt.datetime
    owner_id: int | None = None
    department: str = Field("", max_length=100)

    _due = field_validator("due_at")(_aware)


class CommitmentOut(Schema):
    id: int
    case_id: int
    description: str
    owner_id: int | None
    department: str
    due_at: dt.datetime
    state: Literal[tuple(CommitmentState.values)]  # type: ignore[valid-type]
    closed_at: dt.datetime | None
    escalated_at: dt.datetime | None


class CloseIn(Schema):
    kept: bool


class CompensationIn(Schema):
    kind: Literal[tuple(CompensationKind.values)]  # type: ignore[valid-type]
    amount_yen: int = Field(ge=1, le=10_000_000)
    reason: str = Field(min_length=1, max_length=300)


class CompensationOut(Schema):
    id: int
    case_id: int
    kind: str
    amount_yen: int
    reason: str
    state: Literal[tuple(CompensationState.values)]  # type: ignore[valid-type]
    requested_by_id: int | None
    approved_by_id: int | None
    decided_at: dt.datetime | None
    decision_note: str


class DecisionIn(Schema):
    approve: bool
    note: str = Field("", max_length=300)


# --- knowledge ---------------------------------------------------------------------------------


class ArticleOut(Schema):
    id: int
    title: str
    body: str
    visibility: str
    state: str
    category: str | None
    tags: list[str]
    version: int
    updated_at: dt.datetime

    @staticmethod
    def resolve_category(article: Any) -> str | None:
        return article.category.code if article.category_id else None

    @staticmethod
    def resolve_tags(article: Any) -> list[str]:
        return [tag.name for tag in article.tags.all()]


class ArticlePage(Schema):
    items: list[ArticleOut]
    next_cursor: str | None


class ArticleIn(Schema):
    title: str = Field(min_length=1, max_length=200)
    body: str = Field(min_length=1, max_length=100_000)
    visibility: Literal[tuple(Visibility.values)] = "internal"  # type: ignore[valid-type]
    state: Literal[tuple(ArticleState.values)] = "draft"  # type: ignore[valid-type]
    category: str | None = Field(None, description="category code")
    tags: list[str] = Field(default_factory=list, max_length=50)
