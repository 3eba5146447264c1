"""Contact, feedback and leave-a-message: cases from the public, with a receipt by e-mail.

No HTTP here. Spam checks (honeypot, time to submit, per-address rate) are in spam.py.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from madoguchi.cases.models import Case, Category, Channel, InteractionKind
from madoguchi.cases.services import do_add_interaction, do_send_reply
from madoguchi.chat.models import Feedback, FormAttachment
from madoguchi.chat.services import customer_for, open_case, subject_from, web_url
from madoguchi.customers.services import salutation

LOW_RATING = 2  # feedback at or below this, with words, is a complaint someone must answer


def receipt_text(case: Case, what: str) -> str:
    # Anyone can type any address into a public form: the receipt repeats nothing they wrote
    # (name, message), so the shop's mail cannot carry a stranger's words to someone else; only a
    # name staff confirmed is used (customers.services.salutation).
    from madoguchi.mail.outbound import receipt_extras

    return (
        f"{salutation(case.customer)}\n\n{what}を受け付けました。受付番号は {case.number} です。\n"
        "担当者が内容を確認のうえ、このメールアドレスにご連絡いたします。\n"
        "このメールにご返信いただくと、同じ受付番号でやりとりを続けられます。\n\n"
        f"{receipt_extras(case)}"
        "お心当たりのない場合は、このメールを破棄してください。"
    )


def send_receipt(case: Case, what: str) -> None:
    """The receipt is an outbound e-mail interaction; the mail app delivers it. A few per
    address an hour at most (as mail acknowledgements), whatever IP the forms come from."""
    from madoguchi.mail.outbound import customer_address, receipt_allowed

    if not receipt_allowed(customer_address(case)):
        do_add_interaction(case, actor=None, kind=InteractionKind.NOTE, channel=Channel.FORM,
                           body="同じメールアドレスへの受付メールが短時間に続いたため、受付メールは送っていません。")
        return
    do_send_reply(case, actor=None, body=receipt_text(case, what), channel=Channel.EMAIL)  # type: ignore[arg-type]


@transaction.atomic
def do_contact(*, name: str, email: str, category: Category | None, order_number: str, message: str,
               files: list[tuple[Any, str]] | None = None) -> Case:
    """A contact-form message becomes a case (channel: form) and the customer gets a receipt."""
    case = open_case(
        customer=customer_for(name, email, channel=Channel.FORM), channel=Channel.FORM, subject=subject_from("お問い合わせ: ", message),
        complaint=message.strip(), order_number=order_number, category=category,
    )
    for upload, content_type in files or []:
        FormAttachment.objects.create(
            case=case, file=upload, name=upload.name[:200], content_type=content_type, size=upload.size
        )
    send_receipt(case, "お問い合わせ")
    return case


@transaction.atomic
def do_leave_message(*, name: str, email: str, order_number: str, message: str, page_url: str = "") -> Case:
    """The chat widget's form when nobody can chat: a case answered by e-mail."""
    page_url = web_url(page_url)
    body = message.strip() + (f"\n\n（送信元のページ: {page_url[:500]}）" if page_url else "")
    case = open_case(
        customer=customer_for(name, email, channel=Channel.CHAT), channel=Channel.CHAT, subject=subject_from("チャット（時間外）: ", message),
        complaint=body, order_number=order_number,
    )
    send_receipt(case, "チャットでのお問い合わせ")
    return case


@transaction.atomic
def do_feedback(*, rating: int, comment: str, email: str, order_number: str, page_url: str = "") -> Feedback:
    feedback = Feedback.objects.create(
        rating=rating, comment=comment.strip(), email=email.strip(), order_number=order_number.strip()[:50],
        page_url=web_url(page_url),
    )
    if rating <= LOW_RATING and comment.strip() and email.strip():
        feedback.case = open_case(
            customer=customer_for("", email, channel=Channel.FORM), channel=Channel.FORM, subject=subject_from(f"ご意見（★{rating}）: ", comment),
            complaint=comment.strip(), order_number=order_number,
        )
        feedback.save(update_fields=["case"])
        send_receipt(feedback.case, "ご意見")
    return feedback
