"""Outbound mail: replies from the case page, acknowledgements, mail to staff.

Every mail is first an OutboundMessage row (the outbox) with its Message-ID fixed at
creation; sending marks the row `sending` (committed) before talking to SMTP and `sent`
after. A reply can only have one row (OneToOne on the interaction), so it is sent once; if
the process dies between the SMTP "250" and the `sent` mark, the retry goes out with the
same Message-ID, which mail clients treat as the same mail.
"""

from __future__ import annotations

import datetime as dt
import logging
import smtplib
import socket
from email.utils import format_datetime, formataddr, make_msgid, parseaddr
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import DatabaseError, transaction
from django.db.models import Exists, F, OuterRef, Q, Subquery
from django.utils import timezone

from madoguchi.cases.models import Case, Channel, Interaction, InteractionKind
from madoguchi.customers.models import IdentityKind, MatchState, PossibleMatch
from madoguchi.customers.services import normalise_identity, salutation, unconfirmed_address
from madoguchi.mail import recipients
from madoguchi.mail.charsets import encode_iso2022jp, fold_for_iso2022jp
from madoguchi.mail.models import (
    Charset,
    Mailbox,
    OutboundKind,
    OutboundMessage,
    OutboundState,
    RawMessage,
    RawState,
)
from madoguchi.mail.parsing import clean_subject, decode_header_value, without_case_tokens
from madoguchi.mail.signature import compose as compose_signature
from madoguchi.mail.signature import with_signature

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 8


def backoff(attempts: int) -> dt.timedelta:
    """30 s, 1 min, 2 min, … capped at an hour."""
    return dt.timedelta(seconds=min(30 * 2 ** max(0, attempts - 1), 3600))


def mailbox_for(case: Case | None) -> Mailbox | None:
    """The mailbox of the case's first mail, else the first active one: one query."""
    if case is not None:
        first = RawMessage.objects.filter(case=case, mailbox__isnull=False).order_by("pk").values("mailbox_id")[:1]
        return (Mailbox.objects.filter(Q(pk=Subquery(first)) | Q(~Exists(first), active=True))
                .order_by("pk").first())
    return Mailbox.objects.filter(active=True).order_by("pk").first()


def outbox_rows(case_id: Any) -> Any:
    """The mail sent on a case that its page lists (not the mail to staff)."""
    return OutboundMessage.objects.filter(case=case_id).exclude(kind=OutboundKind.STAFF)


def outbox_of_page_case() -> Any:
    """outbox_rows for the case page's case query (cases.page.CASE_PAGE_EXISTS)."""
    return outbox_rows(OuterRef("pk"))


def contact_address(mailbox: Mailbox | None) -> str:
    """Where the customer's answers go (Reply-To): the mailbox's customer-visible contact
    address when the admin set one, else nothing (their program answers the From address)."""
    return mailbox.contact_address if mailbox is not None else ""


def _from(mailbox: Mailbox | None) -> str:
    if mailbox is None:
        return settings.DEFAULT_FROM_EMAIL
    return formataddr((mailbox.name, mailbox.address)) if mailbox.name else mailbox.address


def signed_reply(case: Case, author: Any, body: str) -> str:
    """A mail to the customer with the signature of the mailbox it goes from and its author's
    (mail.signature), recorded so on the case: cases.services.REPLY_FINISHERS."""
    return with_signature(body, compose_signature(mailbox_for(case), author))


def _domain(address: str) -> str:
    return address.rsplit("@", 1)[-1].strip(">") or "madoguchi.invalid"


def _email_identities(customer: Any) -> list[str]:
    """The customer's e-mail addresses, oldest first: from the identities the case page read
    already (prefetched on the customer, cases.page.customer_context), else one query."""
    loaded = getattr(customer, "_prefetched_objects_cache", {}).get("identities")
    if loaded is not None:
        return [i.value for i in sorted(loaded, key=lambda i: i.pk) if i.kind == IdentityKind.EMAIL]
    return list(customer.identities.filter(kind=IdentityKind.EMAIL).order_by("pk").values_list("value", flat=True))


def customer_address(case: Case) -> str:
    """Where replies go: always an e-mail identity of the case's customer. The customer's
    latest own mail picks which one (they wrote from it last); a mail on the case from any
    other address (there should be none, see threading) never draws the staff's replies.
    A visitor whose typed address is another customer's (unconfirmed, customers.PossibleMatch)
    is answered at that address until staff decide; "" once they judged it someone else's."""
    own = _email_identities(case.customer)
    if not own:
        # A visitor who typed (chat, forms) the address of another customer has no identity of
        # their own: the reply goes to that address, so only its owner reads it (they may well be
        # the visitor), until staff judge the visitor to be someone else. Nothing of the owner's
        # is on the visitor's case, so the reply carries nothing of theirs to anybody.
        return unconfirmed_address(case.customer)
    latest = (
        RawMessage.objects.filter(case=case, auto_reason__in=["", "imported"]).exclude(from_address="")
        .order_by("-pk").values_list("from_address", flat=True)
    )
    for address in latest[:20]:
        if normalise_identity(IdentityKind.EMAIL, address) in own:
            return address
    return own[0]


def reaches_by_mail(case: Case) -> bool:
    """Whether a mail the desk sends by itself on the case has somewhere to go
    (cases.automatic: the survey invitation, the after-hours answer)."""
    return bool(customer_address(case))


MAX_REFERENCES = 20  # the first mail of the thread and the newest ones (RFC 5322 sets no limit)


def _customer_mails(case: Case) -> list[tuple[dt.datetime, str]]:
    """(time, Message-ID) of the mails on the case the customer wrote: only mails filed as a
    message of the case. Auto-replies and bounces kept beside the case (state ignored) are
    not part of the conversation, and a reply "to" them would thread under a robot's mail."""
    return list(
        RawMessage.objects.filter(case=case, state=RawState.PARSED, interaction__isnull=False).exclude(message_id="")
        .values_list("interaction__occurred_at", "message_id")
    )


def _our_mails(case: Case) -> list[tuple[dt.datetime, str]]:
    """(time, Message-ID) of what the desk sent the customer on the case (replies and the
    acknowledgement, which a customer's answer may reply to), not the mails to staff."""
    return list(
        OutboundMessage.objects.filter(case=case, kind__in=[OutboundKind.REPLY, OutboundKind.ACK])
        .values_list("created_at", "message_id")
    )


def _thread_headers(case: Case) -> tuple[str, str]:
    """(In-Reply-To, References): the customer's latest real mail is the parent; References
    is the thread up to it, oldest first and the parent last (RFC 5322 3.6.4), cut to the
    first mail and the newest ones."""
    inbound = sorted(_customer_mails(case))
    parent = inbound[-1] if inbound else None
    thread = sorted(inbound + _our_mails(case))
    if parent is not None:
        # Only the parent's ancestors precede it; our own later mails are not its ancestors.
        thread = [entry for entry in thread if entry < parent and entry[1] != parent[1]] + [parent]
    ids = list(dict.fromkeys(mid for _at, mid in thread))
    if len(ids) > MAX_REFERENCES:
        ids = ids[:1] + ids[-(MAX_REFERENCES - 1):]
    return (parent[1] if parent else ""), " ".join(ids)


def _subject_of(case: Case, message_id: str) -> str | None:
    """The subject of the customer's mail a reply answers ("" if it had none), or None when the
    reply answers no mail of theirs."""
    if not message_id:
        return None
    subject = RawMessage.objects.filter(case=case, message_id=message_id).values_list("subject", flat=True).first()
    return subject or ""


def reply_subject(case: Case, mailbox: Mailbox | None = None, *, answers: str | None = None) -> str:
    """A reply to the customer's mail (`answers`: its subject): 「Re: <that subject> [#n]」, as
    mail programs expect (one 「Re:」). The first mail of a case that began elsewhere (a call, a
    form, a chat) answers no mail, so no 「Re:」: 「【店名】お問い合わせの件 [#n]」, never the
    case's title (staff's words for it, or a form's first line a stranger typed). The [#n] token
    lets an answer join the case even from a mail program that drops In-Reply-To (mail.threading)."""
    token = f"[#{case.pk}]"
    if answers is not None:
        topic = clean_subject(without_case_tokens(answers)) or case.subject
        return f"Re: {topic} {token}"[:300]
    shop = mailbox.shop_name.strip() if mailbox is not None else ""
    return f"{f'【{shop}】' if shop else ''}お問い合わせの件 {token}"[:300]


def automatic_subject(case: Case, mailbox: Mailbox | None, what: str) -> str:
    """The subject of a mail nobody wrote (acknowledgement, after-hours answer, survey): never
    the customer's subject. These go to whatever address a mail claimed to come from, so
    repeating a stranger's words (「【重要】アカウント停止 https://evil.example/…」) would send
    them from the shop's address (issue 21, finding 1). In-Reply-To still threads it."""
    shop = mailbox.shop_name.strip() if mailbox is not None else ""
    return f"{f'【{shop}】' if shop else ''}{what} [#{case.pk}]"[:300]


def _create(**fields: object) -> OutboundMessage:
    row = OutboundMessage.objects.create(**fields)
    transaction.on_commit(lambda: _enqueue(row.pk))
    return row


def _enqueue(pk: int, delay: dt.timedelta | None = None) -> None:
    from madoguchi.mail.tasks import send_outbound_task

    try:
        if delay:
            send_outbound_task.schedule((pk,), delay=int(delay.total_seconds()))
        else:
            send_outbound_task(pk)
    except Exception:  # noqa: BLE001 - the periodic sweep sends it instead
        log.exception("mail: could not queue outbound %s", pk)


def queue_reply(interaction: Interaction) -> OutboundMessage | None:
    """The agent's reply on an email case becomes one outbox row (once per interaction)."""
    case = interaction.case
    if interaction.kind != InteractionKind.OUTBOUND or interaction.channel != Channel.EMAIL:
        return None
    existing = OutboundMessage.objects.filter(interaction=interaction).first()
    if existing is not None:
        return existing
    mailbox = mailbox_for(case)
    sender = _from(mailbox)
    in_reply_to, references = _thread_headers(case)
    to = customer_address(case)
    delivery = getattr(interaction, "delivery", None) or {}  # cases.services.do_send_reply's
    return _create(
        kind=OutboundKind.REPLY, case=case, interaction=interaction, mailbox=mailbox, from_address=sender,
        to_address=to, body=interaction.body, cc=recipients.join(delivery.get("cc", [])),
        bcc=recipients.join(delivery.get("bcc", [])), reply_to=contact_address(mailbox),
        subject=(reply_subject(case, mailbox, answers=_subject_of(case, in_reply_to)) if interaction.author_id
                 else automatic_subject(case, mailbox, "お問い合わせの件")),
        charset=mailbox.charset if mailbox else Charset.UTF8,
        message_id=make_msgid(idstring=f"case{case.pk}", domain=_domain(sender)),
        in_reply_to=in_reply_to, references=references,
        state=OutboundState.PENDING if to else OutboundState.FAILED,
        last_error="" if to else no_address_reason(case),
    )


def no_address_reason(case: Case) -> str:
    if PossibleMatch.objects.filter(customer=case.customer_id, kind=IdentityKind.EMAIL, state=MatchState.DISMISSED).exists():
        return ("入力されたメールアドレスは既存の別のお客様のもので、この方はご本人ではないと判断されたため、"
                "このアドレスには送信しません。")
    return "お客様のメールアドレスが登録されていないため、送信できません。"


# --- Acknowledgement ------------------------------------------------------------------------------

def _ack_allowed(address: str, mailbox: Mailbox | None) -> bool:
    if mailbox is not None and not mailbox.send_acknowledgement:
        return False
    if not settings.MAIL_SEND_ACKNOWLEDGEMENT:
        return False
    return automatic_mail_allowed(address)


def automatic_mail_allowed(address: str) -> bool:
    """At most MAIL_ACK_PER_SENDER_PER_HOUR automatic mails an hour to one address, whichever
    sends them: acknowledgements and replies nobody wrote (the knowledge app's after-hours
    answer). One limit for all, so a robot mailing us in a loop, or somebody sending mail in
    another's name, gets a few mails back, not one per mail whichever kind it is."""
    if not address:
        return False
    since = timezone.now() - dt.timedelta(hours=1)
    automatic = Q(kind=OutboundKind.ACK) | Q(kind=OutboundKind.REPLY, interaction__author__isnull=True)
    recent = OutboundMessage.objects.filter(automatic, created_at__gte=since)
    if recent.filter(to_address=address).count() >= settings.MAIL_ACK_PER_SENDER_PER_HOUR:
        return False
    # Forged senders vary the address, not the domain (issue 21, finding 1), and a flood from
    # everywhere must not turn the shop's address into a mass mailer.
    domain = address.rpartition("@")[2]
    if recent.filter(to_address__iendswith=f"@{domain}").count() >= settings.MAIL_ACK_PER_DOMAIN_PER_HOUR:
        log.warning("mail: automatic mails to @%s held back: %s an hour reached", domain, settings.MAIL_ACK_PER_DOMAIN_PER_HOUR)
        return False
    if recent.count() >= settings.MAIL_ACK_TOTAL_PER_HOUR:
        log.warning("mail: automatic mails held back: %s an hour reached", settings.MAIL_ACK_TOTAL_PER_HOUR)
        return False
    return True


def receipt_allowed(address: str) -> bool:
    """Receipts of the public forms: as many per address an hour as acknowledgements."""
    if not address:
        return False
    since = timezone.now() - dt.timedelta(hours=1)
    # Receipts are the automatic (authorless) mails on form and chat cases.
    recent = OutboundMessage.objects.filter(to_address=address, created_at__gte=since, interaction__author__isnull=True,
                                            case__channel__in=["form", "chat"]).count()
    return recent < settings.MAIL_ACK_PER_SENDER_PER_HOUR


def reply_due(received: dt.datetime) -> dt.datetime:
    from madoguchi.businesshours.calendar import add_business_seconds

    return add_business_seconds(received, settings.MAIL_ACK_REPLY_WITHIN_BUSINESS_HOURS * 3600)


# Lines other apps add to the receipt, as case → text ("" for none): the customer's status page
# (madoguchi.progress). Registered in their AppConfig.ready(); mail never imports them.
ACK_LINES: list[Any] = []


def receipt_extras(case: Case) -> str:
    """What other apps add to a receipt (this acknowledgement, the after-hours answer by mail,
    a web form's receipt): each paragraph ends with a blank line."""
    return "".join(str(line(case)) for line in ACK_LINES)


def acknowledgement_text(case: Case, due: dt.datetime) -> str:
    extra = receipt_extras(case)
    local = timezone.localtime(due)
    weekday = "月火水木金土日"[local.weekday()]
    return (
        f"{salutation(case.customer)}\n\n"
        "お問い合わせいただき、ありがとうございます。以下の内容で受け付けました。\n\n"
        f"  受付番号: #{case.pk}\n\n"
        "担当者が内容を確認し、"
        f"{local:%Y年%m月%d日}（{weekday}）{local:%H:%M} までにご連絡いたします"
        "（土日祝日・休業日を除く営業時間内に順に対応しています）。\n"
        "追加の情報や写真がございましたら、このメールにそのまま返信してください。"
        "件名の受付番号はそのままでお願いいたします。\n\n"
        f"{extra}"
        "※このメールは自動で送信しています。\n"
    )


def after_hours_answer_goes(case: Case) -> bool:
    """Out of business hours the knowledge app's after-hours answer (sent by its worker) is
    the acknowledgement: it carries the case number and the reply instructions too."""
    from django.apps import apps

    if not apps.is_installed("madoguchi.knowledge"):
        return False
    from madoguchi.knowledge.afterhours import answers

    return answers(Channel.EMAIL, case.received_at)


def queue_acknowledgement(case: Case, raw: RawMessage) -> OutboundMessage | None:
    """Tell the customer the case number, what happens next and by when. Never to an
    auto-reply, a list or a daemon (ingest filters those), and at most N an hour per sender.
    Not when the after-hours answer goes instead (one automatic mail, not two)."""
    if not settings.MAIL_SEND_ACKNOWLEDGEMENT or after_hours_answer_goes(case):
        return None
    mailbox = raw.mailbox or mailbox_for(case)
    address = raw.from_address
    if not _ack_allowed(address, mailbox):
        return None
    sender = _from(mailbox)
    return _create(
        kind=OutboundKind.ACK, case=case, mailbox=mailbox, from_address=sender, to_address=address,
        reply_to=contact_address(mailbox),
        subject=automatic_subject(case, mailbox, "お問い合わせを受け付けました"),
        body=with_signature(acknowledgement_text(case, reply_due(case.received_at)), compose_signature(mailbox, None)),
        charset=mailbox.charset if mailbox else Charset.UTF8,
        message_id=make_msgid(idstring=f"ack{case.pk}", domain=_domain(sender)),
        in_reply_to=raw.message_id, references=raw.message_id,
    )


def queue_staff_mail(*, to: str, subject: str, body: str, case: Case | None, dedupe_key: str) -> OutboundMessage | None:
    if not to or OutboundMessage.objects.filter(dedupe_key=dedupe_key).exists():
        return None
    sender = settings.DEFAULT_FROM_EMAIL
    return _create(
        kind=OutboundKind.STAFF, case=case, from_address=sender, to_address=to, subject=subject[:300], body=body,
        message_id=make_msgid(idstring="staff", domain=_domain(sender)), dedupe_key=dedupe_key,
    )


def queue_forward(case: Case, *, to: str, subject: str, body: str) -> OutboundMessage:
    """A case forwarded to another department (mail.forwarding): from the case's mailbox, with
    Reply-To its own address, so the department's answer comes back to the desk and threads to
    the case by this mail's Message-ID (or the token in the subject)."""
    mailbox = mailbox_for(case)
    sender = _from(mailbox)
    return _create(
        kind=OutboundKind.FORWARD, case=case, mailbox=mailbox, from_address=sender, to_address=to, subject=subject[:300],
        body=body, charset=mailbox.charset if mailbox else Charset.UTF8,
        reply_to=mailbox.address if mailbox is not None else settings.DEFAULT_FROM_EMAIL,
        message_id=make_msgid(idstring="fw", domain=_domain(sender)),  # short: a folded Message-ID confuses some programs
    )


# --- Sending -------------------------------------------------------------------------------------

def build_email(row: OutboundMessage) -> EmailMessage:
    # In the shop's time zone (+0900), not Django's default "-0000", which says the sender's
    # zone is unknown and makes some Japanese mail programs show the time nine hours off.
    headers = {"Message-ID": row.message_id, "Date": format_datetime(timezone.localtime())}
    if row.in_reply_to:
        headers["In-Reply-To"] = row.in_reply_to
    if row.references:
        headers["References"] = row.references
    if row.reply_to:
        headers["Reply-To"] = row.reply_to
    if row.kind == OutboundKind.FORWARD:
        pass  # a person sent it
    elif row.kind != OutboundKind.REPLY:
        headers["Auto-Submitted"] = "auto-replied" if row.kind == OutboundKind.ACK else "auto-generated"
    elif row.interaction is not None and row.interaction.author_id is None:
        # Written by the desk itself (after-hours answer, survey): other robots must not answer it.
        headers["Auto-Submitted"] = "auto-generated"
    message_class = JisEmailMessage if row.charset == Charset.ISO2022JP else EmailMessage
    # BCC: envelope recipients only (Django never writes a Bcc header).
    email = message_class(subject=row.subject, body=row.body, from_email=row.from_address, to=[row.to_address], headers=headers,
                          cc=recipients.split(row.cc), bcc=recipients.split(row.bcc))
    email.encoding = "utf-8"
    return email


def _jis_words(text: str) -> str:
    # Short encoded words, each a complete ISO-2022-JP run, so a header folds cleanly.
    import base64

    chunks = [text[i:i + 12] for i in range(0, len(text), 12)] or [""]
    return " ".join(f"=?ISO-2022-JP?B?{base64.b64encode(encode_iso2022jp(chunk)).decode()}?=" for chunk in chunks)


class JisEmailMessage(EmailMessage):
    """ISO-2022-JP with the Windows characters kept (Python's codec would drop ①㈱Ⅳ～)."""

    def message(self):  # type: ignore[no-untyped-def]
        msg = super().message()
        for name in ("Content-Type", "Content-Transfer-Encoding", "Subject"):
            del msg[name]
        msg["Content-Type"] = 'text/plain; charset="ISO-2022-JP"'
        msg["Content-Transfer-Encoding"] = "7bit"
        msg["Subject"] = _jis_words(self.subject)
        msg.set_payload(encode_iso2022jp(fold_for_iso2022jp(self.body)).decode("ascii"))
        name, address = parseaddr(self.from_email)
        if name:
            del msg["From"]
            msg["From"] = f"{_jis_words(decode_header_value(name))} <{address}>"
        return msg


TEMPORARY_ERRORS = (smtplib.SMTPException, OSError, socket.timeout)


def is_permanent(error: Exception) -> bool:
    """The server refused this mail for good (a 5xx reply to MAIL FROM or DATA, RFC 5321
    4.2.1): sending it again gets the same answer, so it fails at once instead of eight times
    over a day. A refused login or connection stays temporary: that is the desk's own setup,
    and once fixed the waiting mails go out by themselves."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return True
    if isinstance(error, (smtplib.SMTPDataError, smtplib.SMTPSenderRefused)):
        return 500 <= error.smtp_code < 600
    return False


def _claim(pk: int, now: dt.datetime) -> OutboundMessage | None:
    """Mark the row `sending` (committed) so no other worker sends it at the same time: one
    conditional UPDATE, so of two workers (the mail's own task and the minute sweep) exactly
    one wins, on SQLite too, where SELECT ... FOR UPDATE locks nothing."""
    due = Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
    taken = OutboundMessage.objects.filter(due, pk=pk, state__in=[OutboundState.PENDING, OutboundState.SENDING]).update(
        state=OutboundState.SENDING, attempts=F("attempts") + 1,
        next_attempt_at=now + dt.timedelta(seconds=settings.MAIL_SEND_LEASE_SECONDS),
    )
    return OutboundMessage.objects.filter(pk=pk).first() if taken else None


def send_outbound(pk: int, now: dt.datetime | None = None) -> OutboundMessage | None:
    now = now or timezone.now()
    row = _claim(pk, now)
    if row is None:
        return None
    try:
        _send_and_mark_sent(build_email(row), pk)
    except TEMPORARY_ERRORS as error:
        final = row.attempts >= MAX_ATTEMPTS or is_permanent(error)
        reason = f"送信できませんでした（{row.attempts}回目）: {type(error).__name__}: {error}"
        if is_permanent(error):
            reason += " — メールサーバーがこのメールの受け取りを拒否したため、自動では再送しません。内容や宛先を確認してから「再送する」を押してください。"
        elif not final:
            reason += f" — {int(backoff(row.attempts).total_seconds())}秒後に再送します。"
        OutboundMessage.objects.filter(pk=pk).update(
            state=OutboundState.FAILED if final else OutboundState.PENDING, last_error=reason[:2000],
            next_attempt_at=None if final else now + backoff(row.attempts),
        )
        if not final:
            _enqueue(pk, delay=backoff(row.attempts))
        _log_failure(pk, error)
    except DatabaseError:
        raise  # the row stays leased; the sweep sends it once the database is back
    except Exception as error:  # noqa: BLE001 - a mail that cannot even be built (a CR/LF in an address)
        # would fail the same way on every try: failed at once with the reason, never left "sending".
        reason = (f"送信できませんでした（{row.attempts}回目）: {type(error).__name__}: {error}"
                  " — このメールは宛先や内容に問題があるため送れません。宛先を確認してください。")
        OutboundMessage.objects.filter(pk=pk).update(state=OutboundState.FAILED, last_error=reason[:2000], next_attempt_at=None)
        log.exception("mail: outbound %s cannot be sent", pk)
    row.refresh_from_db()
    return row


RELAY_DOWN_LOG_EVERY = dt.timedelta(minutes=10)
_relay_down_logged: dt.datetime | None = None


def _log_failure(pk: int, error: Exception) -> None:
    """A relay that refuses connections fails every waiting mail the same way (a first desk on
    a laptop with no mail server: a console full of one line per mail). Said once, with what to
    do, then again every RELAY_DOWN_LOG_EVERY while it lasts; each mail's reason stays on its row."""
    global _relay_down_logged
    if not isinstance(error, ConnectionRefusedError):
        log.warning("mail: outbound %s failed: %s", pk, error)
        return
    now = timezone.now()
    if _relay_down_logged is not None and now - _relay_down_logged < RELAY_DOWN_LOG_EVERY:
        log.debug("mail: outbound %s failed: %s", pk, error)
        return
    _relay_down_logged = now
    log.warning("mail: the relay %s:%s refuses connections; replies wait and are sent once it is up "
                "(MADOGUCHI_SMTP_HOST / MADOGUCHI_SMTP_OUT_PORT). First waiting: outbound %s",
                settings.EMAIL_HOST, settings.EMAIL_PORT, pk)


def _send_and_mark_sent(message: EmailMessage, pk: int) -> None:
    """A mail goes twice only if the process dies after the relay's "250" and before `sent` is
    committed: keep that gap to microseconds. The connection (connect, EHLO, TLS, login: where a
    relay that is down fails) is opened first; then one transaction holds the write lock (SQLite
    IMMEDIATE; on PostgreSQL the row) while the relay takes the message, so marking it sent never
    waits behind another writer (a mail batch) after the relay said yes."""
    connection = get_connection(timeout=settings.EMAIL_TIMEOUT or 20)
    connection.open()
    try:
        with transaction.atomic():
            OutboundMessage.objects.filter(pk=pk).update(last_error="")  # takes the lock before the relay does
            message.connection = connection
            message.send(fail_silently=False)
            OutboundMessage.objects.filter(pk=pk).update(state=OutboundState.SENT, sent_at=timezone.now(), last_error="",
                                                         next_attempt_at=None)
    finally:
        connection.close()


def send_due(now: dt.datetime | None = None, batch: int = 100) -> int:
    """Send what is due: retries whose backoff passed, and `sending` rows whose worker died."""
    now = now or timezone.now()
    due = (OutboundMessage.objects.filter(state__in=[OutboundState.PENDING, OutboundState.SENDING])
           .exclude(next_attempt_at__gt=now).order_by("pk").values_list("pk", flat=True)[:batch])
    sent = 0
    for pk in list(due):
        row = send_outbound(pk, now=now)
        sent += bool(row and row.state == OutboundState.SENT)
    return sent


def do_retry_outbound(row: OutboundMessage) -> None:
    """The agent pressed 再送: a failed mail goes back into the outbox."""
    OutboundMessage.objects.filter(pk=row.pk, state=OutboundState.FAILED).update(
        state=OutboundState.PENDING, next_attempt_at=None, attempts=0
    )
    transaction.on_commit(lambda: _enqueue(row.pk))
