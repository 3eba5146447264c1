"""Personal data of one customer (APPI, issue 21): everything the desk holds about a person as
JSON (`export_customer`), and erasure (`do_erase_customer`) that keeps the cases' facts (category,
channel, dates, status, amounts, promises and their state) and removes the person: name and
identities, the words of every message and mail (「（削除済み）」), the raw mails, attachments and
uploads (files deleted), chat and form details, survey comments, what they sent on X and LINE (raw
items and events emptied, the X and LINE user rows deleted), their posts on the listening
queue (those turned into their cases and those under their X handle), and the search index entries.

A person is the customer record and every record merged into it (`merged_into`). Both write an
access-log entry (accounts/access_log.py); erasure also notes itself on each case's history.
Like the backup, this module reaches into every app's tables on purpose: it is the one place that
must know where a person's data lies. A new model holding personal data is added here.
"""

from __future__ import annotations

import datetime as dt
import decimal
import logging
from typing import Any

from django.db import models, transaction
from django.db.models import Q
from django.utils import timezone

from madoguchi.accounts import access_log
from madoguchi.accounts.models import AccessKind, User
from madoguchi.cases.models import AuditEvent, Case, CaseLink, Handover, Interaction
from madoguchi.chat.models import ChatMessage, ChatSession, ChatUpload, Feedback, FormAttachment
from madoguchi.customers.models import (
    Customer,
    CustomerMerge,
    Identity,
    IdentityKind,
    PossibleMatch,
)
from madoguchi.customers.services import normalise_identity
from madoguchi.knowledge.models import CustomerFlag, DocKind, SearchDoc
from madoguchi.line.models import LineAttachment, LineOutbound, LineRawEvent, LineUser
from madoguchi.listening.services import posts_of
from madoguchi.mail.models import Attachment, Forward, HeldReply, OutboundMessage, RawMessage
from madoguchi.metrics.models import Survey
from madoguchi.prevention.models import CaseRootCause
from madoguchi.progress.models import LateNotice, StatusLink
from madoguchi.shop.models import Order
from madoguchi.x_account.models import XOutbound, XRawItem, XUser

log = logging.getLogger(__name__)
ERASED = "（削除済み）"


class PrivacyError(ValueError):
    """Shown as it is (Japanese)."""


def find_person(key: str) -> Customer:
    """A customer by number (id) or by any of their identities (email, phone …), followed to the
    record it was merged into."""
    key = key.strip()
    customer: Customer | None = None
    if key.isdigit():
        customer = Customer.objects.filter(pk=int(key)).first()
    if customer is None and key:
        kinds = [IdentityKind.EMAIL] if "@" in key else list(IdentityKind.values)
        for kind in kinds:
            identity = Identity.objects.select_related("customer").filter(kind=kind, value=normalise_identity(kind, key)).first()
            if identity is not None:
                customer = identity.customer
                break
    if customer is None:
        raise PrivacyError(f"お客様が見つかりません: {key}")
    seen = {customer.pk}
    while customer.merged_into_id is not None and customer.merged_into_id not in seen:
        seen.add(customer.merged_into_id)
        customer = Customer.objects.get(pk=customer.merged_into_id)
    return customer


def person_records(customer: Customer) -> list[Customer]:
    """The customer and every record merged into it, at any depth."""
    found = [customer]
    frontier = [customer.pk]
    while frontier:
        more = list(Customer.objects.filter(merged_into_id__in=frontier).exclude(pk__in=[c.pk for c in found]))
        found += more
        frontier = [c.pk for c in more]
    return found


def _value(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, bytes | memoryview):
        return None
    return value


def _row(obj: models.Model, skip: tuple[str, ...] = ()) -> dict[str, Any]:
    """Every stored field of a row (a file as its name and size, raw bytes left out)."""
    out: dict[str, Any] = {}
    for field in obj._meta.concrete_fields:
        if field.name in skip or isinstance(field, models.BinaryField):
            continue
        if isinstance(field, models.FileField):
            stored = getattr(obj, field.name)
            out[field.name] = stored.name or ""
            continue
        out[field.attname] = _value(getattr(obj, field.attname))
    return out


def export_customer(customer: Customer, actor: User | None = None, address: str = "") -> dict[str, Any]:
    """Everything the desk holds about the person, as plain JSON-ready data."""
    records = person_records(customer)
    ids = [c.pk for c in records]
    cases = list(Case.objects.filter(customer_id__in=ids).select_related("category").order_by("received_at", "id"))
    case_ids = [c.pk for c in cases]
    out: dict[str, Any] = {
        "exported_at": timezone.now().isoformat(),
        "customer": _row(customer),
        "merged_records": [_row(c) for c in records[1:]],
        "identities": [_row(i) for i in Identity.objects.filter(customer_id__in=ids).order_by("id")],
        "orders": [{**_row(o), "items": [_row(i) for i in o.items.all()]}
                   for o in Order.objects.filter(customer_id__in=ids).prefetch_related("items").order_by("ordered_at")],
        "cases": [],
        "chat_sessions": [],
        "feedback": [_row(f) for f in Feedback.objects.filter(case_id__in=case_ids)],
        "flags": [_row(f) for f in CustomerFlag.objects.filter(customer_id__in=ids)],
        "x_users": [_row(u) for u in XUser.objects.filter(customer_id__in=ids).order_by("id")],
        "x_received": [_row(r) for r in _x_items(ids, case_ids).order_by("id")],
        "social_posts": [_row(p) for p in posts_of(ids).order_by("posted_at", "id")],
        "line_users": [_row(u) for u in LineUser.objects.filter(customer_id__in=ids).order_by("id")],
        "line_received": [_row(e, skip=("reply_token",)) for e in _line_events(ids, case_ids).order_by("id")],
    }
    for case in cases:
        mails = list(RawMessage.objects.filter(case=case).order_by("id"))
        attachments = [
            {"source": "mail", "name": a.filename, "content_type": a.content_type, "size": a.size, "file": a.file.name or ""}
            for a in Attachment.objects.filter(raw_message__in=mails).order_by("id")
        ] + [
            {"source": "form", "name": f.name, "content_type": f.content_type, "size": f.size, "file": f.file.name}
            for f in FormAttachment.objects.filter(case=case).order_by("id")
        ] + [
            {"source": "chat", "name": u.name, "content_type": u.content_type, "size": u.size, "file": u.file.name}
            for u in ChatUpload.objects.filter(session__case=case).order_by("id")
        ] + [
            {"source": "line", "name": a.filename, "content_type": a.content_type, "size": a.size, "file": a.file.name or ""}
            for a in LineAttachment.objects.filter(event__interaction__case=case).order_by("id")
        ]
        survey = Survey.objects.filter(case=case).first()
        out["cases"].append({
            **_row(case), "number": case.number, "category_name": case.category.name,
            "interactions": [_row(i) for i in Interaction.objects.filter(case=case).order_by("occurred_at", "id")],
            "commitments": [_row(c) for c in case.commitments.order_by("id")],
            "compensations": [_row(c) for c in case.compensations.order_by("id")],
            "mails_received": [_row(m, skip=("visible_text", "quoted_text", "html")) | {"raw_size": m.size} for m in mails],
            "mails_sent": [_row(m) for m in OutboundMessage.objects.filter(case=case).order_by("id")],
            "replies_held": [_row(h) for h in HeldReply.objects.filter(case=case).order_by("id")],
            "forwards": [_row(f, skip=("token",)) for f in Forward.objects.filter(case=case).order_by("id")],
            "late_notices": [_row(n) for n in LateNotice.objects.filter(case=case).order_by("id")],
            "x_replies": [_row(r) for r in XOutbound.objects.filter(case=case).order_by("id")],
            "line_replies": [_row(r, skip=("reply_token", "retry_key")) for r in LineOutbound.objects.filter(case=case).order_by("id")],
            "attachments": attachments,
            "survey": _row(survey, skip=("nonce",)) if survey else None,
        })
    for session in ChatSession.objects.filter(case_id__in=case_ids).order_by("id"):
        out["chat_sessions"].append({**_row(session, skip=("token",)),
                                     "messages": [_row(m) for m in ChatMessage.objects.filter(session=session).order_by("id")]})
    access_log.record(AccessKind.EXPORT, user=None, username="", address=address, actor=actor,
                      detail=f"お客様 #{customer.pk} の個人データ（案件 {len(cases)} 件）")
    return out


def _x_items(customer_ids: list[int], case_ids: list[int]) -> Any:
    """What the person sent on X: their posts and DMs, filed on their cases or not yet filed."""
    authors = XUser.objects.filter(customer_id__in=customer_ids).values_list("user_id", flat=True)
    return XRawItem.objects.filter(Q(author_id__in=list(authors)) | Q(interaction__case_id__in=case_ids))


def _line_events(customer_ids: list[int], case_ids: list[int]) -> Any:
    """What the person sent on LINE: their events, filed on their cases or not (yet) filed."""
    users = LineUser.objects.filter(customer_id__in=customer_ids).values_list("user_id", flat=True)
    return LineRawEvent.objects.filter(Q(user_id__in=list(users)) | Q(interaction__case_id__in=case_ids))


def _delete_files(rows: Any, field: str = "file") -> int:
    count = 0
    for row in rows:
        stored = getattr(row, field)
        if stored and stored.name:
            stored.delete(save=False)
            count += 1
    return count


def do_erase_customer(customer: Customer, actor: User | None = None, address: str = "") -> dict[str, int]:
    """Remove the person, keep the facts (see the module's docstring). Returns what was done."""
    records = person_records(customer)
    ids = [c.pk for c in records]
    files: list[Any] = []
    with transaction.atomic():
        cases = list(Case.objects.select_for_update().filter(customer_id__in=ids))
        case_ids = [c.pk for c in cases]
        interactions = Interaction.objects.filter(case_id__in=case_ids)
        interaction_ids = list(interactions.values_list("id", flat=True))
        done = {"cases": len(cases), "messages": interactions.update(body=ERASED)}
        for case in cases:
            case.subject = ERASED
            for name in ("complaint", "solution", "landing_point", "fact_what_happened"):
                setattr(case, name, ERASED if getattr(case, name) else "")
            case.fact_order_number = case.fact_product = case.fact_when = ""
            case.version += 1
            case.save(update_fields=["subject", "complaint", "solution", "landing_point", "fact_what_happened",
                                     "fact_order_number", "fact_product", "fact_when", "version", "updated_at"])
        Handover.objects.filter(case_id__in=case_ids).update(note=ERASED)
        # A link's note between one of these cases and another may name the customer.
        CaseLink.objects.filter(Q(case_a_id__in=case_ids) | Q(case_b_id__in=case_ids)).exclude(note="").update(note=ERASED)
        AuditEvent.objects.filter(case_id__in=case_ids).update(changes={})
        mails = RawMessage.objects.filter(case_id__in=case_ids)
        attachments = list(Attachment.objects.filter(raw_message__in=mails))
        files += attachments
        done["mails"] = mails.update(raw=b"", subject=ERASED, from_address="", envelope_sender="", visible_text="",
                                     quoted_text="", html="", message_id="")
        Attachment.objects.filter(pk__in=[a.pk for a in attachments]).delete()
        OutboundMessage.objects.filter(case_id__in=case_ids).update(to_address="", subject=ERASED, body=ERASED, cc="", bcc="")
        HeldReply.objects.filter(case_id__in=case_ids).update(body=ERASED, cc="", bcc="", comment="")
        Forward.objects.filter(case_id__in=case_ids).update(note=ERASED)
        LateNotice.objects.filter(case_id__in=case_ids).update(body=ERASED)
        # The root cause stays (a fact for prevention); its free-text note may name the customer.
        CaseRootCause.objects.filter(case_id__in=case_ids).exclude(note="").update(note=ERASED)
        StatusLink.objects.filter(case_id__in=case_ids, revoked_at__isnull=True).update(revoked_at=timezone.now())
        sessions = ChatSession.objects.filter(case_id__in=case_ids)
        uploads = list(ChatUpload.objects.filter(session__in=sessions))
        form_files = list(FormAttachment.objects.filter(case_id__in=case_ids))
        files += uploads + form_files
        ChatMessage.objects.filter(session__in=sessions).update(text=ERASED, upload=None)
        ChatUpload.objects.filter(pk__in=[u.pk for u in uploads]).delete()
        FormAttachment.objects.filter(pk__in=[f.pk for f in form_files]).delete()
        sessions.update(name="", email="", order_number="", page_url="", origin="")
        Feedback.objects.filter(case_id__in=case_ids).update(comment=ERASED, email="", order_number="", page_url="")
        Survey.objects.filter(case_id__in=case_ids).exclude(comment="").update(comment=ERASED)
        CustomerFlag.objects.filter(customer_id__in=ids).update(reason=ERASED)
        done["x_received"] = _x_items(ids, case_ids).update(raw="{}", conversation_id="")
        XOutbound.objects.filter(case_id__in=case_ids).update(body=ERASED, last_error="")
        XUser.objects.filter(customer_id__in=ids).delete()
        line_events = _line_events(ids, case_ids)
        line_files = list(LineAttachment.objects.filter(event__in=line_events))
        files += line_files
        LineAttachment.objects.filter(pk__in=[a.pk for a in line_files]).delete()
        done["line_received"] = line_events.update(raw="{}", reply_token="", error="")
        LineOutbound.objects.filter(case_id__in=case_ids).update(body=ERASED, last_error="", reply_token="")
        LineUser.objects.filter(customer_id__in=ids).delete()
        CustomerMerge.objects.filter(models.Q(source_id__in=ids) | models.Q(target_id__in=ids)).update(note=ERASED)
        PossibleMatch.objects.filter(models.Q(customer_id__in=ids) | models.Q(existing_id__in=ids)).delete()
        # Before the identities go: their X handles find the person's posts.
        done["social_posts"] = posts_of(ids).update(text=ERASED, author_handle="", author_name="", url="", raw={},
                                                    reply_url="", note="")
        done["identities"] = Identity.objects.filter(customer_id__in=ids).delete()[0]
        Customer.objects.filter(pk__in=ids).update(name=ERASED, kana="", note="", name_confirmed=False,
                                                   name_confirmed_by=None, name_confirmed_at=None)
        SearchDoc.objects.filter(
            models.Q(kind=DocKind.CASE, ref_id__in=case_ids) | models.Q(kind=DocKind.MESSAGE, ref_id__in=interaction_ids)
            | models.Q(kind=DocKind.CUSTOMER, ref_id__in=ids) | models.Q(case_id__in=case_ids)
        ).delete()
        done["attachments"] = len(files)
        summary = (f"お客様 #{customer.pk} の個人データを消去（案件 {done['cases']} 件、メッセージ {done['messages']} 件、"
                   f"添付 {done['attachments']} 件、連絡先 {done['identities']} 件）")
        for case in cases:
            AuditEvent.objects.create(case=case, actor=actor, action="personal_data_erased", changes={})
        access_log.record(AccessKind.ERASE, actor=actor, address=address, detail=summary)
        transaction.on_commit(lambda: _delete_files(files))
    log.info("erased customer #%s: %s", customer.pk, done)
    return done
