"""In-app notifications for staff (overdue promises, approvals waiting, handovers)."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from madoguchi.figures import stamp, yen


class Notification(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    case = models.ForeignKey("cases.Case", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=30)
    # With params, `message` is the Japanese msgid (gettext_noop at the call) and the text is put
    # together in the reader's language when shown (`text`); without, it is the text itself.
    message = models.CharField(_("内容"), max_length=300)
    params = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("通知")
        verbose_name_plural = _("通知")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["user", "-created_at"], name="notification_unread", condition=Q(read_at__isnull=True))]

    def __str__(self) -> str:
        return self.text

    @property
    def text(self) -> str:
        """The message in the active language: a param named *_yen is an amount, *_label a word
        of the desk's catalogue (a choice's label), *_at a time (ISO 8601, shown in the shop's zone)."""
        if not self.params:
            return self.message
        return gettext(self.message) % {key: _param(key, value) for key, value in self.params.items()}


def _param(key: str, value: object) -> str:
    if key.endswith("_yen"):
        return yen(value)  # type: ignore[arg-type]
    if key.endswith("_label"):
        return gettext(str(value))
    if key.endswith("_at"):
        return stamp(dt.datetime.fromisoformat(str(value)))  # as the list's own time column
    return str(value)
