"""One-time links to set a password (an invitation or a reset), sent by mail through the outbox.

The token is Django's password-reset token with a salt of its own: an HMAC of the user's id,
password hash, last login and e-mail with the time it was made. Setting the password changes the
hash, so a link works once; it expires after MADOGUCHI_PASSWORD_LINK_HOURS
(settings.PASSWORD_RESET_TIMEOUT); nothing secret is stored."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.urls import reverse
from django.utils import translation
from django.utils.encoding import force_bytes, force_str
from django.utils.http import urlsafe_base64_decode, urlsafe_base64_encode
from django.utils.translation import gettext as _

from madoguchi.accounts.models import User


class PasswordLinkTokens(PasswordResetTokenGenerator):
    key_salt = "madoguchi.shopsettings.passwords.PasswordLinkTokens"


tokens = PasswordLinkTokens()


def link_for(user: User) -> str:
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    return settings.SITE_URL + reverse("shopsettings:password", args=[uid, tokens.make_token(user)])


def user_for(uidb64: str, token: str) -> User | None:
    """The active user the link was made for, or None (wrong, used, expired, or stopped)."""
    try:
        pk = int(force_str(urlsafe_base64_decode(uidb64)))
    except (ValueError, TypeError, OverflowError):
        return None
    user = User.objects.filter(pk=pk, is_active=True).first()
    if user is None or not tokens.check_token(user, token):
        return None
    return user


def link_hours() -> int:
    return int(settings.PASSWORD_RESET_TIMEOUT // 3600)


def queue_link_mail(user: User, *, invited_by: User, first: bool) -> None:
    """The mail with the link, in the shop's language, queued in the outbox (sent once the
    transaction commits, with the outbox's retries)."""
    from madoguchi.mail.outbound import queue_staff_mail

    with translation.override(settings.LANGUAGE_CODE):
        params = {"name": str(user), "by": str(invited_by), "username": user.username, "link": link_for(user),
                  "hours": link_hours()}
        if first:
            subject = _("【窓口】アカウントのご案内")
            body = _("%(name)s 様\n\n%(by)s さんが、お客様窓口のアカウントを作成しました。\n"
                     "ユーザー名: %(username)s\n\n"
                     "次のリンクを開いてパスワードを設定してください（%(hours)s 時間有効・1回だけ使えます）。\n%(link)s\n\n"
                     "心当たりがない場合は、このメールを破棄してください。\n") % params
        else:
            subject = _("【窓口】パスワードの再設定")
            body = _("%(name)s 様\n\n%(by)s さんが、パスワードの再設定を依頼しました。\n"
                     "ユーザー名: %(username)s\n\n"
                     "次のリンクを開いて新しいパスワードを設定してください（%(hours)s 時間有効・1回だけ使えます）。\n%(link)s\n\n"
                     "心当たりがない場合は、このメールを破棄してください（今のパスワードのまま使えます）。\n") % params
    queue_staff_mail(to=user.email, subject=subject, body=body, case=None,
                     dedupe_key=f"password-link:{user.pk}:{secrets.token_hex(8)}")
