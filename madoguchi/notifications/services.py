"""Creating and reading in-app notifications."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation

from madoguchi.notifications.forms import MailPreferenceForm
from madoguchi.notifications.mailing import plan_notifications
from madoguchi.notifications.models import MailPreference, Notification

if TYPE_CHECKING:
    from madoguchi.accounts.models import User
    from madoguchi.cases.models import Case


def do_notify(users: list[User], *, kind: str, message: str, case: Case | None = None,
              params: dict[str, Any] | None = None, actor: User | None = None) -> list[Notification]:
    """`message` with `params`: a msgid marked with gettext_noop, shown in the reader's language
    (Notification.text says how params are shown). A kind people may get by mail is also noted
    for mail (notifications.mailing), never to `actor`, whose action this is."""
    rows = Notification.objects.bulk_create(
        [Notification(user=user, case=case, kind=kind, message=message[:300], params=params or {}) for user in users]
    )
    plan_notifications(rows, actor=actor)
    return rows


def msgid(label: Any) -> str:
    """The catalogue's msgid of a translated label (a choice's label), to store as a *_label
    param: shown again in the reader's language."""
    with translation.override(None):
        return str(label)


def unread_for(user: User, limit: int = 20) -> list[Notification]:
    return list(
        Notification.objects.filter(user=user, read_at__isnull=True).select_related("case").order_by("-created_at")[:limit]
    )


def do_mark_read(user: User, notification_id: int | None = None) -> int:
    qs = Notification.objects.filter(user=user, read_at__isnull=True)
    if notification_id is not None:
        qs = qs.filter(pk=notification_id)
    return qs.update(read_at=timezone.now())


# --- Notifications by mail: a person's own choices --------------------------------------------------

def leads_a_team(user: User) -> bool:
    return bool(user.is_lead or user.led_teams.exists())


def mail_preference_form(user: User, data: Any = None, *, language: str = "") -> MailPreferenceForm:
    """The form of the person's own mail choices; a person who never saved them sees the
    defaults, with the desk's current language as the mail's."""
    instance = MailPreference.objects.filter(user=user).first()
    if instance is None:
        instance = MailPreference(user=user)
        if language in dict(settings.LANGUAGES):
            instance.language = language
    return MailPreferenceForm(data, instance=instance, leads=leads_a_team(user))


def do_save_mail_preferences(form: MailPreferenceForm, *, actor: User) -> MailPreference:
    """Saved with its settings-audit entry (as the person's signature is), in one transaction."""
    from madoguchi.accounts import audit
    from madoguchi.accounts.models import SettingsSource

    existing = MailPreference.objects.filter(pk=form.instance.user_id).first()  # form.instance holds the new values
    before = audit.snapshot(existing) if existing is not None else None
    with transaction.atomic():
        row: MailPreference = form.save()
        audit.record_saved(actor, row, before, source=SettingsSource.SETTINGS)
    return row
