"""The shop's authorisation of Madoguchi on BASE (OAuth 2): the tokens, encrypted at rest."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from madoguchi.sealed import fernet

PURPOSE = "madoguchi.base_shop.token"


class BaseAuthorisation(models.Model):
    """One row: the tokens BASE gave when the shop authorised the app. Never logged, never shown."""

    access_token_encrypted = models.TextField(_("アクセストークン（暗号化）"), blank=True)
    refresh_token_encrypted = models.TextField(_("リフレッシュトークン（暗号化）"), blank=True)
    expires_at = models.DateTimeField(_("アクセストークンの期限"), null=True, blank=True)
    authorised_at = models.DateTimeField(_("認可した日時"), default=timezone.now)
    authorised_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                      related_name="+", verbose_name=_("認可した人"))

    class Meta:
        verbose_name = _("BASE の認可")
        verbose_name_plural = _("BASE の認可")

    def __str__(self) -> str:
        return f"BASE ({self.authorised_at:%Y-%m-%d})"

    def __repr__(self) -> str:  # never the tokens, even encrypted
        return f"<BaseAuthorisation {self.pk}>"

    def token(self) -> dict[str, Any]:
        box = fernet(PURPOSE)
        token: dict[str, Any] = {"token_type": "Bearer",
                                 "access_token": box.decrypt(self.access_token_encrypted.encode()).decode(),
                                 "refresh_token": box.decrypt(self.refresh_token_encrypted.encode()).decode()
                                 if self.refresh_token_encrypted else ""}
        if self.expires_at is not None:
            token["expires_at"] = int(self.expires_at.timestamp())
        return token

    def set_token(self, token: dict[str, Any]) -> None:
        box = fernet(PURPOSE)
        self.access_token_encrypted = box.encrypt(str(token["access_token"]).encode()).decode()
        if token.get("refresh_token"):  # a refresh may not send a new one: keep the old
            self.refresh_token_encrypted = box.encrypt(str(token["refresh_token"]).encode()).decode()
        expires_at = token.get("expires_at")
        if expires_at is None and token.get("expires_in") is not None:
            expires_at = timezone.now().timestamp() + int(token["expires_in"])
        self.expires_at = dt.datetime.fromtimestamp(float(expires_at), dt.UTC) if expires_at is not None else None
