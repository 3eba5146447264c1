"""What admins edit of a mailbox on the settings page: how its mail presents the shop."""

from __future__ import annotations

from django import forms

from madoguchi.mail.models import Mailbox


class MailboxSenderForm(forms.ModelForm):
    """差出人名・店名・署名 of an existing mailbox; a new one needs its address too."""

    class Meta:
        model = Mailbox
        fields = ["name", "address", "shop_name", "signature"]
        widgets = {"signature": forms.Textarea(attrs={"rows": 6})}

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        if self.instance.pk is not None:
            del self.fields["address"]  # where mail arrives: changed in the admin, with IMAP
