"""The 「メール通知」 section of a person's own settings page (accounts/me.html includes it with
`{% mail_preferences %}`; the form posts to notifications:mail_preferences)."""

from __future__ import annotations

from typing import Any

from django import template

from madoguchi.notifications.services import mail_preference_form

register = template.Library()


@register.inclusion_tag("notifications/_mail_preferences.html", takes_context=True)
def mail_preferences(context: template.Context) -> dict[str, Any]:
    request = context["request"]
    return {"mail_form": mail_preference_form(request.user, language=getattr(request, "LANGUAGE_CODE", "")),
            "request": request, "csrf_token": context.get("csrf_token")}
