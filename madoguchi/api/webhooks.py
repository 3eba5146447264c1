"""Outbound webhooks: desk events sent to the URLs an admin registered, signed, queued,
retried, logged.

1. The desk sends its signals (cases/signals.py) inside the writing transaction. The receivers
   here only note the event on the connection (`after_commit.collect`): no query, no write in
   the desk's transaction. After the commit, if some active endpoint wants one of the events
   (a per-process list, read at most every ENDPOINTS_SECONDS and at once after a change in
   this process), one Huey task (`tasks.fan_out_task`) is queued for the transaction.
2. The worker builds each event's payload from the committed rows (with the API's own
   schemas) and writes one `WebhookDelivery` per endpoint, then queues `deliver_task` for each.
3. Each attempt POSTs the JSON with `X-Madoguchi-Timestamp` (Unix seconds) and
   `X-Madoguchi-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<body>" with the endpoint's
   secret>`, and is logged (`WebhookAttempt`: status code, the first RESPONSE_KEPT characters
   of the answer or the error). A 2xx delivers it. A 5xx, 408, 429, a timeout or a refused
   connection is retried after WEBHOOK_RETRY_SECONDS × 2^(n−1) (30 s, 1, 2, 4 … min) until
   WEBHOOK_MAX_ATTEMPTS (8) attempts, then given up; any other answer (a 4xx: the receiver
   refuses it) is given up at once. Redirects are not followed.
4. A delivery whose task was lost (a worker killed) is sent again by the minute sweep.
   An attempt claims its delivery with one conditional UPDATE, so two workers never send it at
   the same moment; the receiver may still see a delivery twice (a worker killed after the POST):
   `X-Madoguchi-Delivery` is the same on every attempt of one delivery.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import logging
import secrets
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Hashable
from typing import Any

from cryptography.fernet import Fernet
from django.conf import settings
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.utils import timezone

from madoguchi import after_commit
from madoguchi.api.models import (
    DeliveryState,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)
from madoguchi.cases import signals

log = logging.getLogger(__name__)

ENDPOINTS_SECONDS = 10.0
RESPONSE_KEPT = 1000
RETRYABLE = {408, 429}
MAX_DELAY = dt.timedelta(hours=6)
USER_AGENT = "Madoguchi-Webhook/1"


# --- the secret ----------------------------------------------------------------------------------


def _fernet() -> Fernet:
    digest = hashlib.sha256(f"madoguchi.api.webhook-secret:{settings.SECRET_KEY}".encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def seal(secret: str) -> str:
    return _fernet().encrypt(secret.encode()).decode()


def secret_of(endpoint: WebhookEndpoint) -> str:
    return _fernet().decrypt(endpoint.secret_encrypted.encode()).decode()


def signature(secret: str, timestamp: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


# --- which events somebody wants (per process) ---------------------------------------------------

_wanted: dict[str, Any] = {}
_wanted_lock = threading.Lock()


def forget_endpoints(**_kwargs: Any) -> None:
    with _wanted_lock:
        _wanted.clear()


post_save.connect(forget_endpoints, sender=WebhookEndpoint, dispatch_uid="api-webhooks-endpoints-save")
post_delete.connect(forget_endpoints, sender=WebhookEndpoint, dispatch_uid="api-webhooks-endpoints-delete")


def wanted_events() -> set[str]:
    now = time.monotonic()
    with _wanted_lock:
        if _wanted.get("until", 0.0) > now:
            return set(_wanted["events"])
    events: set[str] = set()
    for listed in WebhookEndpoint.objects.filter(active=True).values_list("events", flat=True):
        events.update(listed or [])
    with _wanted_lock:
        _wanted.update(events=events, until=now + ENDPOINTS_SECONDS)
    return events


# --- from the desk's signals to the queue --------------------------------------------------------

Event = tuple[str, int, str, str]  # (event, object id, extra as JSON, when it happened)


def _note(event: str, pk: int, **extra: Any) -> None:
    item: Hashable = (event, pk, json.dumps(extra, sort_keys=True, default=str), timezone.now().isoformat())
    after_commit.collect("api.webhooks", [item], _flush)


def _flush(items: list[Event]) -> None:
    try:
        if not {item[0] for item in items} & wanted_events():
            return
        from madoguchi.api.tasks import fan_out_task

        fan_out_task(sorted(items, key=lambda item: item[3]))
    except Exception:  # noqa: BLE001 - the desk's write is committed; the event is what is lost
        log.exception("webhooks: could not queue %d events", len(items))


def _actor_id(actor: Any) -> int | None:
    return getattr(actor, "pk", None)


def _on_case_created(sender: Any, case: Any, actor: Any = None, **_kwargs: Any) -> None:
    _note(WebhookEvent.CASE_CREATED, case.pk, actor_id=_actor_id(actor))


def _on_status_changed(sender: Any, case: Any, old: str, new: str, actor: Any = None, **_kwargs: Any) -> None:
    _note(WebhookEvent.CASE_STATUS_CHANGED, case.pk, old=str(old), new=str(new), actor_id=_actor_id(actor))


def _on_interaction(sender: Any, interaction: Any, actor: Any = None, **_kwargs: Any) -> None:
    _note(WebhookEvent.MESSAGE_ADDED, interaction.pk, actor_id=_actor_id(actor))


def _on_overdue(sender: Any, commitment: Any, **_kwargs: Any) -> None:
    _note(WebhookEvent.PROMISE_OVERDUE, commitment.pk)


def _on_compensation(sender: Any, compensation: Any, actor: Any = None, **_kwargs: Any) -> None:
    _note(WebhookEvent.COMPENSATION_DECIDED, compensation.pk, actor_id=_actor_id(actor))


def connect() -> None:
    signals.case_created.connect(_on_case_created, dispatch_uid="api-webhooks-case-created")
    signals.case_status_changed.connect(_on_status_changed, dispatch_uid="api-webhooks-status")
    signals.interaction_added.connect(_on_interaction, dispatch_uid="api-webhooks-message")
    signals.commitment_overdue.connect(_on_overdue, dispatch_uid="api-webhooks-overdue")
    signals.compensation_decided.connect(_on_compensation, dispatch_uid="api-webhooks-compensation")


# --- in the worker ------------------------------------------------------------------------------


def event_data(event: str, pk: int, extra: dict[str, Any]) -> dict[str, Any] | None:
    """The event's `data`, from the committed rows, as the API shows them (None: the row is gone)."""
    from madoguchi.api import schemas
    from madoguchi.cases.models import Case, Commitment, Compensation, Interaction

    data: dict[str, Any]
    if event in (WebhookEvent.CASE_CREATED, WebhookEvent.CASE_STATUS_CHANGED):
        case = Case.objects.select_related("category").filter(pk=pk).first()
        if case is None:
            return None
        data = {"case": schemas.CaseOut.from_orm(case).model_dump(mode="json")}
        if event == WebhookEvent.CASE_STATUS_CHANGED:
            data.update(old_status=extra.get("old"), new_status=extra.get("new"))
    elif event == WebhookEvent.MESSAGE_ADDED:
        interaction = Interaction.objects.filter(pk=pk).first()
        if interaction is None:
            return None
        data = {"message": schemas.MessageOut.from_orm(interaction).model_dump(mode="json")}
    elif event == WebhookEvent.PROMISE_OVERDUE:
        commitment = Commitment.objects.filter(pk=pk).first()
        if commitment is None:
            return None
        data = {"promise": schemas.CommitmentOut.from_orm(commitment).model_dump(mode="json")}
    elif event == WebhookEvent.COMPENSATION_DECIDED:
        compensation = Compensation.objects.filter(pk=pk).first()
        if compensation is None:
            return None
        data = {"compensation": schemas.CompensationOut.from_orm(compensation).model_dump(mode="json")}
    else:
        return None
    data["actor_id"] = extra.get("actor_id")
    return data


def fan_out(items: list[Event]) -> list[int]:
    """One delivery per event and endpoint that wants it; returns the new deliveries' ids."""
    endpoints = list(WebhookEndpoint.objects.filter(active=True))
    created: list[WebhookDelivery] = []
    for event, pk, extra, at in items:
        targets = [endpoint for endpoint in endpoints if event in (endpoint.events or [])]
        if not targets:
            continue
        data = event_data(event, pk, json.loads(extra))
        if data is None:
            continue
        for endpoint in targets:
            delivery_id = str(uuid.uuid4())
            created.append(WebhookDelivery(
                endpoint=endpoint, event=event, delivery_id=delivery_id,
                payload={"id": delivery_id, "event": event, "occurred_at": at, "data": data},
            ))
    with transaction.atomic():
        WebhookDelivery.objects.bulk_create(created)
    return [delivery.pk for delivery in created]


def retry_delay(attempts: int) -> dt.timedelta:
    """The wait after the `attempts`-th failed attempt: base × 2^(attempts−1), at most 6 hours."""
    seconds = float(settings.WEBHOOK_RETRY_SECONDS) * (2 ** max(attempts - 1, 0))
    return min(dt.timedelta(seconds=seconds), MAX_DELAY)


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # a 3xx is the receiver's answer, logged as it is


_opener = urllib.request.build_opener(_NoRedirects)


def _post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int | None, str, str]:
    """(status code or None, the start of the answer, the error) of one POST."""
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with _opener.open(request, timeout=settings.WEBHOOK_TIMEOUT_SECONDS) as response:
            return response.status, response.read(RESPONSE_KEPT * 4).decode("utf-8", "replace")[:RESPONSE_KEPT], ""
    except urllib.error.HTTPError as answer:
        try:
            text = answer.read(RESPONSE_KEPT * 4).decode("utf-8", "replace")[:RESPONSE_KEPT]
        except Exception:  # noqa: BLE001 - the body of an error answer is a courtesy
            text = ""
        return answer.code, text, ""
    except (urllib.error.URLError, TimeoutError, OSError, ValueError) as error:
        reason = getattr(error, "reason", error)
        return None, "", f"{type(error).__name__}: {reason}"[:300]


def attempt(pk: int, now: dt.datetime | None = None) -> dt.timedelta | None:
    """Send delivery `pk` once if it is due and nobody else is sending it. Returns how long to
    wait before the next attempt, or None when there is nothing more to do (delivered, given
    up, not due, taken by another worker)."""
    now = now or timezone.now()
    hold = now + dt.timedelta(seconds=settings.WEBHOOK_TIMEOUT_SECONDS * 3 + 60)
    from django.db.models import F, Q

    claimed = WebhookDelivery.objects.filter(
        Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now), pk=pk, state=DeliveryState.PENDING,
    ).update(next_attempt_at=hold, attempts=F("attempts") + 1)
    if not claimed:
        return None
    delivery = WebhookDelivery.objects.select_related("endpoint").get(pk=pk)
    endpoint = delivery.endpoint
    body = json.dumps(delivery.payload, ensure_ascii=False, separators=(",", ":")).encode()
    stamp = str(int(now.timestamp()))
    started = time.monotonic()
    if endpoint.active:
        code, text, error = _post(endpoint.url, body, {
            "Content-Type": "application/json; charset=utf-8", "User-Agent": USER_AGENT,
            "X-Madoguchi-Event": delivery.event, "X-Madoguchi-Delivery": delivery.delivery_id,
            "X-Madoguchi-Timestamp": stamp, "X-Madoguchi-Signature": signature(secret_of(endpoint), stamp, body),
        })
    else:
        code, text, error = None, "", "endpoint turned off"
    WebhookAttempt.objects.create(delivery=delivery, number=delivery.attempts, status_code=code, response=text,
                                  error=error, duration_ms=int((time.monotonic() - started) * 1000))
    finished = timezone.now()
    if code is not None and 200 <= code < 300:
        _finish(delivery, DeliveryState.DELIVERED, finished)
        return None
    retryable = endpoint.active and (code is None or code >= 500 or code in RETRYABLE)
    if not retryable or delivery.attempts >= settings.WEBHOOK_MAX_ATTEMPTS:
        _finish(delivery, DeliveryState.GAVE_UP, finished)
        return None
    delay = retry_delay(delivery.attempts)
    WebhookDelivery.objects.filter(pk=pk).update(next_attempt_at=finished + delay)
    return delay


def _finish(delivery: WebhookDelivery, state: str, at: dt.datetime) -> None:
    WebhookDelivery.objects.filter(pk=delivery.pk).update(state=state, finished_at=at, next_attempt_at=None)


def overdue(now: dt.datetime | None = None, grace: dt.timedelta = dt.timedelta(seconds=60), limit: int = 500) -> list[int]:
    """Pending deliveries whose attempt is this late: their queued task was lost."""
    now = now or timezone.now()
    from django.db.models import Q

    return list(WebhookDelivery.objects.filter(
        Q(next_attempt_at__isnull=True, created_at__lte=now - grace) | Q(next_attempt_at__lte=now - grace),
        state=DeliveryState.PENDING,
    ).order_by("pk").values_list("pk", flat=True)[:limit])
