"""The REST API, version 1 (`/api/v1/`, OpenAPI 3 at `/api/v1/openapi.json`, docs at
`/api/v1/docs`). Thin like the desk's views: each endpoint checks the token's scope, then
calls the same functions the desk's pages call (cases.services, queues, customers.services,
shop.importer, knowledge.services), so the API has the desk's rules and no others:
every staff member reads and works every case (as in the inbox); orders are written by admins
(as the order import on /settings/orders/); compensation requests wait for approval above the
requester's authority and are decided by the case team's lead or an admin (as /approvals/)."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from typing import Any

from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.db import DataError, transaction
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from ninja import NinjaAPI, Query, Router, Status
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.renderers import JSONRenderer
from ninja.security import HttpBearer

from madoguchi.accounts.models import User
from madoguchi.api import schemas, tokens
from madoguchi.api.errors import ApiError
from madoguchi.api.models import ApiToken, Resource
from madoguchi.cases import queues, services
from madoguchi.cases.models import (
    Case,
    Category,
    Commitment,
    Compensation,
    Interaction,
    InteractionKind,
)
from madoguchi.customers.models import Customer, IdentityKind
from madoguchi.customers.services import customer_for_call, normalise_identity
from madoguchi.knowledge import services as knowledge
from madoguchi.knowledge.models import Article
from madoguchi.shop import importer
from madoguchi.shop.models import Order
from madoguchi.shop.order_files import Item, ParsedOrder

ERRORS: dict[int | str, Any] = {code: schemas.Error for code in (400, 401, 403, 404, 409)}


class JapaneseJSON(JSONRenderer):
    json_dumps_params = {"ensure_ascii": False}  # Japanese as written, not as \\u escapes


class TokenAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> ApiToken | None:
        return tokens.find(token)


api = NinjaAPI(
    title="Madoguchi API", version="1", urls_namespace="api-v1", auth=TokenAuth(), renderer=JapaneseJSON(),
    description="窓口 (Madoguchi) REST API. `Authorization: Bearer <token>`; tokens are made on 個人設定 → API トークン. "
                "Errors: `{\"code\", \"message\"}`; messages in Japanese, in English with `Accept-Language: en`.",
)


def _error(request: HttpRequest, status: int, code: str, message: str, errors: list[dict[str, Any]] | None = None) -> HttpResponse:
    return api.create_response(request, ApiError(status, code, message, errors).body(), status=status)


@api.exception_handler(ApiError)
def _on_api_error(request: HttpRequest, exc: ApiError) -> HttpResponse:
    return api.create_response(request, exc.body(), status=exc.status)


@api.exception_handler(NinjaValidationError)
def _on_invalid(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
    details = [{"loc": [str(part) for part in error.get("loc", [])], "msg": str(error.get("msg", "")),
                "type": str(error.get("type", ""))} for error in exc.errors]
    return _error(request, 400, "invalid_input", _("入力に誤りがあります。errors の各項目を確認してください。"), details)


@api.exception_handler(AuthenticationError)
def _on_unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return _error(request, 401, "unauthorized", _("API トークンがないか、無効です（取り消されたトークンは使えません）。"))


@api.exception_handler(Http404)
def _on_not_found(request: HttpRequest, exc: Exception) -> HttpResponse:
    return _error(request, 404, "not_found", _("見つかりません。"))


@api.exception_handler(ObjectDoesNotExist)
def _on_missing(request: HttpRequest, exc: Exception) -> HttpResponse:
    return _error(request, 404, "not_found", _("見つかりません。"))


@api.exception_handler(PermissionDenied)
def _on_forbidden(request: HttpRequest, exc: Exception) -> HttpResponse:
    return _error(request, 403, "forbidden", _("この操作の権限がありません。"))


@api.exception_handler(HttpError)
def _on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    if exc.status_code == 400:  # the body is not JSON
        return _error(request, 400, "invalid_json", _("本文を JSON として読めません。"))
    code = {405: "method_not_allowed", 413: "too_large"}.get(exc.status_code, "error")
    return _error(request, exc.status_code, code, _("リクエストを処理できません。"))


@api.exception_handler(OverflowError)
def _on_overflow(request: HttpRequest, exc: Exception) -> HttpResponse:
    return _error(request, 400, "invalid_input", _("数値が大きすぎます。"))


@api.exception_handler(DataError)
def _on_data_error(request: HttpRequest, exc: Exception) -> HttpResponse:
    # PostgreSQL refusing a value (an id beyond bigint): the client's input, not our fault.
    return _error(request, 400, "invalid_input", _("数値が大きすぎます。"))


@api.exception_handler(services.CaseConflict)
def _on_conflict(request: HttpRequest, exc: services.CaseConflict) -> HttpResponse:
    return _error(request, 409, "conflict", str(exc))


@api.exception_handler(services.CaseError)
def _on_rule(request: HttpRequest, exc: services.CaseError) -> HttpResponse:
    return _error(request, 400, "rule_violation", str(exc))


def _user(request: HttpRequest, resource: str, write: bool = False) -> User:
    """The token's user, if the token may reach `resource` (and write, for a write)."""
    row = request.auth  # type: ignore[attr-defined]
    assert isinstance(row, ApiToken)
    if not tokens.allows(row, resource, write):
        raise ApiError(403, "insufficient_scope", _("このトークンの権限では使えません（%(need)s）。")
                       % {"need": f"{resource}:{'write' if write else 'read'}"})
    return row.user


BAD_CURSOR = gettext_noop("cursor が正しくありません。前のページの next_cursor をそのまま渡してください。")


MAX_ID = 2**63  # ids are 64-bit integers


def _decoded(cursor: str) -> str:
    """An API cursor is a keyset position in URL-safe Base64 (no "+" to lose in a URL)."""
    try:
        return base64.urlsafe_b64decode(cursor.encode("ascii") + b"=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeError, ValueError):
        return ""


def _cursor_in(cursor: str) -> str:
    """The desk's keyset cursor (queues.encode_cursor) inside an API cursor; "" for none."""
    raw = _decoded(cursor) if cursor else ""
    position = queues.decode_cursor(raw) if raw else None
    if cursor and (position is None or not 0 < position[1] < MAX_ID):
        raise ApiError(400, "invalid_cursor", _(BAD_CURSOR))
    return raw


def _id_cursor(cursor: str) -> int | None:
    raw = _decoded(cursor) if cursor else ""
    if cursor and not (raw.isascii() and raw.isdigit() and 0 < int(raw) < MAX_ID):
        raise ApiError(400, "invalid_cursor", _(BAD_CURSOR))
    return int(raw) if raw else None


def _cursor_out(raw: str) -> str:
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _category(code: str) -> Category:
    category = Category.objects.filter(code=code).first()
    if category is None:
        raise ApiError(400, "unknown_category", _("分類「%(code)s」はありません。") % {"code": code[:50]})
    return category


def _staff(pk: int, what: str) -> User:
    user = User.objects.filter(pk=pk, is_active=True).first()
    if user is None:
        raise ApiError(400, "unknown_user", _("%(what)sに指定したユーザー（%(id)s）はいません。") % {"what": what, "id": pk})
    return user


# --- cases -------------------------------------------------------------------------------------

cases = Router(tags=["cases"])
LIST_ONLY = ("id", "subject", "status", "channel", "priority", "category__code", "customer_id", "assignee_id",
             "team_id", "order_id", "received_at", "updated_at", "resolved_at", "version")


@cases.get("/cases", response={200: schemas.CasePage, **ERRORS}, summary="案件の一覧（更新の新しい順、キーセットページング）")
def list_cases(
    request: HttpRequest,
    status: schemas.CaseStatus | None = None,
    assignee: int | None = Query(None, ge=1, le=2**63 - 1),  # type: ignore[type-arg]  # an id the database can hold
    category: str | None = None,
    channel: schemas.CaseChannel | None = None,
    updated_since: dt.datetime | None = None,
    cursor: str = "",
    limit: int = Query(50, ge=1, le=100),  # type: ignore[type-arg]
) -> dict[str, Any]:
    user = _user(request, Resource.CASES)
    position = _cursor_in(cursor)
    filters: dict[str, Any] = {"status": status, "assignee": assignee, "channel": channel,
                               "category": _category(category).pk if category else None}
    rows = queues.apply_filters(queues.queue_queryset("all", user), filters)
    if updated_since is not None:
        if updated_since.tzinfo is None:
            raise ApiError(400, "invalid_input", _("日時にはタイムゾーンを付けてください（例: 2025-04-01T09:00:00+09:00）。"))
        rows = rows.filter(updated_at__gte=updated_since)
    rows = queues.keyset(rows, "updated_at", True, position)
    found = list(rows.select_related("category").only(*LIST_ONLY).order_by("-updated_at", "-id")[: limit + 1])
    next_cursor = case_cursor(found[limit - 1]) if len(found) > limit else None
    return {"items": found[:limit], "next_cursor": next_cursor}


def case_cursor(case: Case) -> str:
    """The cursor of the case list's page that starts after `case`."""
    return _cursor_out(queues.encode_cursor(case, "updated_at"))


def _case(pk: int) -> Case:
    return Case.objects.select_related("category").get(pk=pk)


@cases.get("/cases/{case_id}", response={200: schemas.CaseDetailOut, **ERRORS}, summary="案件")
def read_case(request: HttpRequest, case_id: int) -> Case:
    _user(request, Resource.CASES)
    return _case(case_id)


@cases.post("/cases", response={201: schemas.CaseDetailOut, **ERRORS}, summary="案件の登録")
def create_case(request: HttpRequest, payload: schemas.CaseIn) -> Status[Case]:
    user = _user(request, Resource.CASES, write=True)
    if (payload.customer_id is None) == (payload.customer is None):
        raise ApiError(400, "invalid_input", _("customer_id か customer のどちらか一方を指定してください。"))
    category = _category(payload.category)
    assignee = _staff(payload.assignee_id, _("担当者")) if payload.assignee_id is not None else None
    with transaction.atomic():
        if payload.customer is not None:
            given = payload.customer
            if not given.name.strip():
                raise ApiError(400, "invalid_input", _("お客様の名前を入力してください。"))
            customer = customer_for_call(name=given.name, kana=given.kana, phone=given.phone, email=given.email,
                                         channel=payload.channel, by=user)
        else:
            assert payload.customer_id is not None
            customer = Customer.objects.filter(pk=payload.customer_id).first()  # type: ignore[assignment]
            if customer is None:
                raise ApiError(400, "unknown_customer", _("お客様（%(id)s）はいません。") % {"id": payload.customer_id})
        case = services.do_create_case(
            actor=user, customer=customer, subject=payload.subject.strip(), channel=payload.channel, category=category,
            priority=payload.priority, complaint=payload.complaint, received_at=payload.received_at, assignee=assignee,
        )
    return Status(201, _case(case.pk))


@cases.get("/cases/{case_id}/messages", response={200: list[schemas.MessageOut], **ERRORS}, summary="案件のやりとり（古い順、最大500件）")
def list_messages(request: HttpRequest, case_id: int) -> list[Interaction]:
    _user(request, Resource.CASES)
    case = Case.objects.only("pk").get(pk=case_id)
    return list(Interaction.objects.filter(case=case).order_by("occurred_at", "id")[:500])


@cases.post("/cases/{case_id}/messages", response={201: schemas.MessageOut, **ERRORS},
            summary="やりとりの追加（お客様への返信・社内メモ・お客様からの受信）")
def add_message(request: HttpRequest, case_id: int, payload: schemas.MessageIn) -> Status[Interaction]:
    user = _user(request, Resource.CASES, write=True)
    case = _case(case_id)
    if payload.kind == "reply":
        # As the case page's reply form: the channel's app delivers it (mail: the outbox).
        return Status(201, services.do_send_reply(case, actor=user, body=payload.body))
    kind = InteractionKind.NOTE if payload.kind == "note" else InteractionKind.INBOUND
    channel = payload.channel if payload.kind == "inbound" and payload.channel else case.channel
    return Status(201, services.do_add_interaction(case, actor=user, kind=kind, channel=channel, body=payload.body))


@cases.post("/cases/{case_id}/status", response={200: schemas.CaseDetailOut, **ERRORS}, summary="案件の状態の変更")
def change_status(request: HttpRequest, case_id: int, payload: schemas.StatusIn) -> Case:
    user = _user(request, Resource.CASES, write=True)
    case = _case(case_id)
    version = payload.version if payload.version is not None else case.version
    services.do_update_case(case, actor=user, expected_version=version, changes={"status": payload.status})
    return _case(case_id)


# --- customers ---------------------------------------------------------------------------------

customers = Router(tags=["customers"])


@customers.get("/customers", response={200: schemas.CustomerPage, **ERRORS}, summary="お客様の一覧（新しい順）・メールアドレスか電話番号で検索")
def list_customers(request: HttpRequest, email: str = "", phone: str = "", cursor: str = "",
                   limit: int = Query(50, ge=1, le=100)) -> dict[str, Any]:  # type: ignore[type-arg]
    _user(request, Resource.CUSTOMERS)
    before = _id_cursor(cursor)
    rows = Customer.objects.all()
    for kind, value in ((IdentityKind.EMAIL, email), (IdentityKind.PHONE, phone)):
        if value:
            rows = rows.filter(identities__kind=kind, identities__value=normalise_identity(kind, value))
    if before is not None:
        rows = rows.filter(pk__lt=before)
    found = list(rows.prefetch_related("identities").order_by("-pk")[: limit + 1])
    next_cursor = _cursor_out(str(found[limit - 1].pk)) if len(found) > limit else None
    return {"items": found[:limit], "next_cursor": next_cursor}


@customers.get("/customers/{customer_id}", response={200: schemas.CustomerOut, **ERRORS}, summary="お客様")
def read_customer(request: HttpRequest, customer_id: int) -> Customer:
    _user(request, Resource.CUSTOMERS)
    return Customer.objects.prefetch_related("identities").get(pk=customer_id)


@customers.post("/customers", response={201: schemas.CustomerOut, **ERRORS},
                summary="お客様の登録（電話番号、次にメールアドレスで既存のお客様を探し、いなければ作成）")
def create_customer(request: HttpRequest, payload: schemas.NewCustomer) -> Status[Customer]:
    user = _user(request, Resource.CUSTOMERS, write=True)
    if not payload.name.strip():
        raise ApiError(400, "invalid_input", _("お客様の名前を入力してください。"))
    customer = customer_for_call(name=payload.name, kana=payload.kana, phone=payload.phone, email=payload.email,
                                 channel="other", by=user)
    return Status(201, Customer.objects.prefetch_related("identities").get(pk=customer.pk))


# --- orders ------------------------------------------------------------------------------------

orders = Router(tags=["orders"])
ORDER_FIELDS = ("ordered_at", "status", "shipped_at", "cancelled_at", "carrier", "tracking_number", "amount_yen",
                "refunded_yen")


def _order(number: str) -> Order:
    return Order.objects.prefetch_related("items").get(number=number)


@orders.get("/orders/{number}", response={200: schemas.OrderOut, **ERRORS}, summary="注文（注文番号で）")
def read_order(request: HttpRequest, number: str) -> Order:
    _user(request, Resource.ORDERS)
    return _order(number)


@orders.put("/orders/{number}", response={200: schemas.OrderWrite, 201: schemas.OrderWrite, **ERRORS},
            summary="注文の登録・更新（注文番号で。管理者のみ。取り込みと同じ処理）")
def put_order(request: HttpRequest, number: str, payload: schemas.OrderIn) -> Status[dict[str, Any]]:
    user = _user(request, Resource.ORDERS, write=True)
    if not user.is_admin:  # as the order import on /settings/orders/ (admins only)
        raise ApiError(403, "forbidden", _("注文の登録・更新は管理者だけができます。"))
    number = number.strip()
    if not number or len(number) > 50:
        raise ApiError(400, "invalid_input", _("注文番号は1〜50文字で指定してください。"))
    given = payload.model_dump(exclude_unset=True)
    fields = {name: given[name] for name in ORDER_FIELDS if name in given}
    if "ordered_at" in fields and fields["ordered_at"] is None:
        raise ApiError(400, "invalid_input", _("注文日時は空にできません。"))
    fields = {name: ("" if value is None and name in ("carrier", "tracking_number") else value)
              for name, value in fields.items()}
    source, external_id = payload.source, payload.external_id or number
    existing = Order.objects.filter(source=source, external_id=external_id).first() or \
        Order.objects.filter(number=number).first()
    if existing is None and "ordered_at" not in fields:
        raise ApiError(400, "invalid_input", _("新しい注文には注文日時（ordered_at）が必要です。"))
    if payload.items is not None:
        items = [Item(sku=i.sku, name=i.name, quantity=i.quantity, unit_price_yen=i.unit_price_yen) for i in payload.items]
    else:  # items not given: kept as they are
        items = [Item(sku=i.sku, name=i.name, quantity=i.quantity, unit_price_yen=i.unit_price_yen)
                 for i in (existing.items.order_by("pk") if existing else [])]
    parsed = ParsedOrder(line=1, external_id=external_id, number=number, customer_name=payload.customer_name,
                         email=payload.email, phone=payload.phone, fields=fields, items=items,
                         customer_kana=payload.customer_kana)
    summary = importer.do_upsert_order(parsed, source)
    if summary.problems:
        raise ApiError(409, "order_conflict", summary.problems[0].reason)
    result = "created" if summary.created else "updated" if summary.updated else "unchanged"
    return Status(201 if summary.created else 200, {"result": result, "order": _order(number)})


# --- promises and compensation -----------------------------------------------------------------

promises = Router(tags=["commitments"])


@promises.get("/cases/{case_id}/commitments", response={200: list[schemas.CommitmentOut], **ERRORS}, summary="案件の約束")
def list_commitments(request: HttpRequest, case_id: int) -> list[Commitment]:
    _user(request, Resource.COMMITMENTS)
    case = Case.objects.only("pk").get(pk=case_id)
    return list(Commitment.objects.filter(case=case).order_by("due_at", "id")[:500])


@promises.post("/cases/{case_id}/commitments", response={201: schemas.CommitmentOut, **ERRORS}, summary="約束の登録")
def add_commitment(request: HttpRequest, case_id: int, payload: schemas.CommitmentIn) -> Status[Commitment]:
    user = _user(request, Resource.COMMITMENTS, write=True)
    case = _case(case_id)
    owner = _staff(payload.owner_id, _("担当者")) if payload.owner_id is not None else None
    return Status(201, services.do_add_commitment(case, actor=user, description=payload.description,
                                                  due_at=payload.due_at, owner=owner, department=payload.department))


@promises.post("/commitments/{commitment_id}/close", response={200: schemas.CommitmentOut, **ERRORS},
               summary="約束を完了にする（守った・守れなかった）")
def close_commitment(request: HttpRequest, commitment_id: int, payload: schemas.CloseIn) -> Commitment:
    user = _user(request, Resource.COMMITMENTS, write=True)
    commitment = Commitment.objects.select_related("case").get(pk=commitment_id)
    return services.do_close_commitment(commitment, actor=user, kept=payload.kept)


compensations = Router(tags=["compensations"])


@compensations.get("/cases/{case_id}/compensations", response={200: list[schemas.CompensationOut], **ERRORS},
                   summary="案件の補償")
def list_compensations(request: HttpRequest, case_id: int) -> list[Compensation]:
    _user(request, Resource.COMPENSATIONS)
    case = Case.objects.only("pk").get(pk=case_id)
    return list(Compensation.objects.filter(case=case).order_by("created_at", "id")[:500])


@compensations.post("/cases/{case_id}/compensations", response={201: schemas.CompensationOut, **ERRORS},
                    summary="補償の申請（権限の上限を超えると承認待ち）")
def request_compensation(request: HttpRequest, case_id: int, payload: schemas.CompensationIn) -> Status[Compensation]:
    user = _user(request, Resource.COMPENSATIONS, write=True)
    case = _case(case_id)
    return Status(201, services.do_request_compensation(case, actor=user, kind=payload.kind,
                                                        amount_yen=payload.amount_yen, reason=payload.reason))


@compensations.get("/compensations/pending", response={200: list[schemas.CompensationOut], **ERRORS},
                   summary="承認待ちの補償（リーダー: 自分のチーム、管理者: すべて）")
def pending_compensations(request: HttpRequest) -> list[Compensation]:
    user = _user(request, Resource.COMPENSATIONS)
    if not queues.sees_approvals(user):
        raise ApiError(403, "forbidden", _("承認はチームリーダーと管理者が行います。"))
    return list(queues.approvals_for(user).order_by("created_at", "id")[:200])


@compensations.post("/compensations/{compensation_id}/decision", response={200: schemas.CompensationOut, **ERRORS},
                    summary="補償の承認・却下")
def decide_compensation(request: HttpRequest, compensation_id: int, payload: schemas.DecisionIn) -> Compensation:
    user = _user(request, Resource.COMPENSATIONS, write=True)
    compensation = Compensation.objects.get(pk=compensation_id)
    try:
        return services.do_decide_compensation(compensation, actor=user, approve=payload.approve, note=payload.note)
    except services.CaseError as error:  # not theirs to decide, or decided already
        raise ApiError(403 if compensation.state == "pending" else 409,
                       "forbidden" if compensation.state == "pending" else "already_decided", str(error)) from error


# --- knowledge ---------------------------------------------------------------------------------

articles = Router(tags=["articles"])


@articles.get("/articles", response={200: schemas.ArticlePage, **ERRORS}, summary="記事（新しい順）")
def list_articles(request: HttpRequest, cursor: str = "",
                  limit: int = Query(50, ge=1, le=100)) -> dict[str, Any]:  # type: ignore[type-arg]
    _user(request, Resource.ARTICLES)
    before = _id_cursor(cursor)
    rows = Article.objects.all() if before is None else Article.objects.filter(pk__lt=before)
    found = list(rows.select_related("category").prefetch_related("tags").order_by("-pk")[: limit + 1])
    next_cursor = _cursor_out(str(found[limit - 1].pk)) if len(found) > limit else None
    return {"items": found[:limit], "next_cursor": next_cursor}


@articles.get("/articles/{article_id}", response={200: schemas.ArticleOut, **ERRORS}, summary="記事")
def read_article(request: HttpRequest, article_id: int) -> Article:
    _user(request, Resource.ARTICLES)
    return Article.objects.select_related("category").prefetch_related("tags").get(pk=article_id)


@articles.post("/articles", response={201: schemas.ArticleOut, **ERRORS}, summary="記事の作成")
def create_article(request: HttpRequest, payload: schemas.ArticleIn) -> Status[Article]:
    user = _user(request, Resource.ARTICLES, write=True)
    category = _category(payload.category) if payload.category else None
    try:
        article = knowledge.do_save_article(None, actor=user, title=payload.title, body=payload.body,
                                            visibility=payload.visibility, state=payload.state, category=category,
                                            tags=knowledge.parse_tags(",".join(payload.tags)))
    except knowledge.KnowledgeError as error:
        raise ApiError(403 if not knowledge.can_publish(user) else 400, "rule_violation", str(error)) from error
    return Status(201, Article.objects.select_related("category").prefetch_related("tags").get(pk=article.pk))


for router in (cases, customers, orders, promises, compensations, articles):
    api.add_router("", router)


def not_found(request: HttpRequest, rest: str = "") -> HttpResponse:
    """Any other address under /api/: the API's JSON 404, not the desk's HTML page."""
    return JsonResponse(ApiError(404, "not_found", _("見つかりません。")).body(), status=404,
                        json_dumps_params={"ensure_ascii": False})
