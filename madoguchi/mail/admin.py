from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from madoguchi.accounts.admin_audit import AuditedAdmin, ReadOnlyAdmin
from madoguchi.mail.models import (
    Department,
    Forward,
    HeldReply,
    Mailbox,
    OutboundMessage,
    RawMessage,
)


class MailboxForm(forms.ModelForm):
    imap_password = forms.CharField(
        label=_("IMAPパスワード"), required=False, widget=forms.PasswordInput(render_value=False),
        help_text=_("暗号化して保存します。空欄のままなら変更しません。"),
    )

    class Meta:
        model = Mailbox
        fields = [
            "name", "address", "active", "team", "charset", "send_acknowledgement", "contact_address", "approval",
            "imap_host", "imap_port", "imap_tls",
            "imap_user", "imap_password_env", "imap_folder", "poll_seconds",
        ]


@admin.register(Mailbox)
class MailboxAdmin(AuditedAdmin):
    form = MailboxForm
    list_display = ["name", "address", "team", "imap_host", "active", "last_polled_at"]
    readonly_fields = ["last_polled_at", "last_error"]

    def save_model(self, request: Any, obj: Mailbox, form: Any, change: bool) -> None:
        if form.cleaned_data.get("imap_password"):
            obj.set_imap_password(form.cleaned_data["imap_password"])
        super().save_model(request, obj, form, change)


@admin.register(RawMessage)
class RawMessageAdmin(ReadOnlyAdmin):
    """Mail as it arrived: evidence, never edited. (A failed mail is retried from the desk's
    failed-mail page.)"""

    list_display = ["received_at", "from_address", "subject", "state", "source"]
    list_filter = ["state", "source"]
    exclude = ["raw"]


@admin.register(OutboundMessage)
class OutboundMessageAdmin(ReadOnlyAdmin):
    """Mail the desk sent or is sending: what the customer was told."""

    list_display = ["created_at", "kind", "to_address", "subject", "state", "attempts"]
    list_filter = ["state", "kind"]


@admin.register(Department)
class DepartmentAdmin(AuditedAdmin):
    list_display = ["name", "address", "active"]


@admin.register(HeldReply)
class HeldReplyAdmin(ReadOnlyAdmin):
    """Replies not sent yet (approval, a time to send): decided and changed on the desk (mail.held)."""

    list_display = ["created_at", "case", "author", "state", "send_at"]
    list_filter = ["state"]


@admin.register(Forward)
class ForwardAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "case", "to_address", "answered_at"]
    exclude = ["token"]
