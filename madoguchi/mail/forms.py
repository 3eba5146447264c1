"""Forms of the mail channel: how a mailbox presents the shop (settings), what a reply by mail
adds to the case page's reply form (CC, BCC, when to send), held replies, forwards."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from madoguchi.accounts.models import User
from madoguchi.cases.forms import local_datetime_field
from madoguchi.cases.models import Case
from madoguchi.mail import held, recipients
from madoguchi.mail.models import ApprovalRule, Department, HeldReply, Mailbox


class MailboxSenderForm(forms.ModelForm):  # type: ignore[type-arg]
    """差出人名・店名・署名, the customer-visible contact address and the approval rule of an
    existing mailbox; a new one needs its address too."""

    class Meta:
        model = Mailbox
        fields = ["name", "address", "shop_name", "signature", "contact_address", "approval"]
        widgets = {"signature": forms.Textarea(attrs={"rows": 6})}

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        if self.instance.pk is not None:
            del self.fields["address"]  # where mail arrives: changed in the admin, with IMAP
        self.fields["contact_address"].error_messages["invalid"] = _("連絡先アドレスがメールアドレスとして正しくありません。")
        self.fields["approval"].required = False  # a post without it keeps the mailbox's rule

    def clean_approval(self) -> str:
        value: str = self.cleaned_data.get("approval") or self.instance.approval or ApprovalRule.FLAGGED
        return value

    def clean_contact_address(self) -> str:
        value: str = self.cleaned_data.get("contact_address") or ""
        return value.strip()


def _addresses(form: forms.Form, name: str, label: str) -> list[str]:
    try:
        return recipients.parse(form.cleaned_data.get(name) or "", label=label)
    except ValidationError as error:
        form.add_error(name, error)
        return []


WHEN_NOW, WHEN_NEXT_MORNING, WHEN_AT = "now", "next_business", "at"


def next_business_morning(now: dt.datetime | None = None) -> dt.datetime:
    """翌営業日の始業時刻: the first opening of a day after today (the shop's calendar), else
    tomorrow 9:00 JST when no hours are set."""
    from madoguchi.businesshours.calendar import next_open

    local = timezone.localtime(now or timezone.now())
    tomorrow = (local + dt.timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    try:
        return next_open(tomorrow)
    except ValueError:
        return tomorrow.replace(hour=9)


class _SendingFields(forms.Form):
    cc = forms.CharField(label=_("CC"), max_length=2000, required=False,
                         help_text=_("複数のときはカンマで区切ります。"), widget=forms.TextInput(attrs={"autocomplete": "off"}))
    bcc = forms.CharField(label=_("BCC"), max_length=2000, required=False,
                          help_text=_("お客様にもCCの方にも見えません（社内の記録には残ります）。"),
                          widget=forms.TextInput(attrs={"autocomplete": "off"}))
    when = forms.ChoiceField(label=_("送信"), initial=WHEN_NOW, required=False, choices=[  # missing: now
        (WHEN_NOW, _("すぐに送信")), (WHEN_NEXT_MORNING, _("翌営業日の始業時刻に送信")), (WHEN_AT, _("日時を指定して送信")),
    ])
    send_at = local_datetime_field(_("送信日時（日本時間）"), required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        self.cc_list = _addresses(self, "cc", gettext("CC"))
        self.bcc_list = _addresses(self, "bcc", gettext("BCC"))
        when = data.get("when") or WHEN_NOW
        self.send_time: dt.datetime | None = None
        if when == WHEN_NEXT_MORNING:
            self.send_time = next_business_morning()
        elif when == WHEN_AT:
            if not data.get("send_at"):
                if "send_at" not in self.errors:
                    self.add_error("send_at", gettext("送信する日時を入力してください。"))
            else:
                self.send_time = data["send_at"]
        if self.send_time is not None:
            try:
                held.check_send_at(self.send_time)
            except held.HeldError as error:
                self.add_error("send_at", str(error))
        return data


class ReplyMailOptions(_SendingFields):
    """The mail part of the case page's reply form (cases.services.REPLY_OPTIONS["email"])."""

    def __init__(self, data: Any = None, *, case: Case, actor: User, mailbox: Mailbox | None | bool = False) -> None:
        super().__init__(data, prefix="mo")
        self.case, self.actor = case, actor
        from madoguchi.mail.outbound import mailbox_for

        # `mailbox`: the case's, when the caller read it already (the case page reads it once).
        self.mailbox = mailbox_for(case) if mailbox is False else mailbox
        self.approval = held.needs_approval(actor, self.mailbox if isinstance(self.mailbox, Mailbox) else None)

    @property
    def delivery(self) -> dict[str, list[str]]:
        return {"cc": self.cc_list, "bcc": self.bcc_list}

    def problems(self) -> list[str]:
        return [str(message) for errors in self.errors.values() for message in errors]

    def hold(self, case: Case, actor: User, body: str) -> str | None:
        """Keep the reply back when it needs approval or has a time; the message says what happens."""
        if not self.approval and self.send_time is None:
            return None
        row = held.do_hold_reply(case, author=actor, body=body, cc=self.cc_list, bcc=self.bcc_list,
                                 send_at=self.send_time, approval=self.approval)
        if row.needs_approval:
            return gettext("返信をリーダーの承認待ちにしました。承認されると送信されます。")
        when = timezone.localtime(row.send_at).strftime("%Y/%m/%d %H:%M") if row.send_at else ""
        return gettext("返信を %(when)s に送信する予定にしました。送信前なら変更・取り消しができます。") % {"when": when}


class HeldEditForm(_SendingFields):
    body = forms.CharField(label=_("お客様への返信"), max_length=20000, widget=forms.Textarea(attrs={"rows": 6}),
                           error_messages={"required": _("返信の本文を入力してください。")})
    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["when"].initial = WHEN_NOW

    @classmethod
    def for_held(cls, row: HeldReply) -> HeldEditForm:
        at = timezone.localtime(row.send_at).replace(tzinfo=None) if row.send_at else None
        return cls(prefix=f"hr{row.pk}", initial={"body": row.body, "cc": row.cc, "bcc": row.bcc, "version": row.version,
                                                   "when": WHEN_AT if at else WHEN_NOW, "send_at": at})

    def clean_body(self) -> str:
        value: str = self.cleaned_data["body"]
        if not value.strip():
            raise ValidationError(gettext("返信の本文を入力してください。"))
        return value


class ReturnForm(forms.Form):
    comment = forms.CharField(label=_("差し戻すコメント"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2}),
                              error_messages={"required": _("差し戻す理由（コメント）を入力してください。")})
    version = forms.IntegerField(widget=forms.HiddenInput)

    def clean_comment(self) -> str:
        value: str = self.cleaned_data["comment"]
        if not value.strip():
            raise ValidationError(gettext("差し戻す理由（コメント）を入力してください。"))
        return value


class ForwardForm(forms.Form):
    department = forms.ModelChoiceField(label=_("転送先の部署"), queryset=Department.objects.filter(active=True), required=False,
                                        empty_label=_("（一覧から選ぶ）"))
    address = forms.CharField(label=_("または宛先を入力"), max_length=254, required=False)
    note = forms.CharField(label=_("依頼内容"), max_length=5000, widget=forms.Textarea(attrs={"rows": 3}),
                           error_messages={"required": _("依頼内容を入力してください。")},
                           help_text=_("何を確認してほしいか。このメールへの返信が、この案件に社内の記録として入ります。"))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        typed = _addresses(self, "address", gettext("宛先")) if data.get("address") else []
        if len(typed) > 1:
            self.add_error("address", gettext("宛先は1件だけ入力してください。"))
        department = data.get("department")
        if department is None and not typed and "address" not in self.errors:
            raise ValidationError(gettext("転送先の部署を選ぶか、宛先のメールアドレスを入力してください。"))
        self.to_address = department.address if department is not None else (typed[0] if typed else "")
        if "note" in data and not data["note"].strip():
            self.add_error("note", gettext("依頼内容を入力してください。"))
        return data


class DepartmentForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = Department
        fields = ["name", "address", "active"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["address"].error_messages["invalid"] = _("メールアドレスとして正しくありません。")
        self.fields["name"].error_messages["unique"] = _("同じ名前の部署がすでにあります。")

    def clean_name(self) -> str:
        value: str = self.cleaned_data["name"].strip()
        if not value:
            raise ValidationError(gettext("部署名を入力してください。"))
        return value
