"""Japanese first: the desk speaks Japanese unless the user chose English.

Django's LocaleMiddleware would follow the browser's Accept-Language, so a Japanese shop's
staff on a computer set up in English would get an English desk they never asked for. Here
only the language the user picked (the language cookie set by /i18n/setlang/) counts.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest
from django.middleware.locale import LocaleMiddleware
from django.utils import translation


def chosen_language(cookie_value: str | None) -> str:
    """The language of the cookie's value if the desk speaks it, else the desk's own; shared with
    the busy page (madoguchi.busy), which answers before any middleware runs."""
    chosen = cookie_value or ""
    return chosen if chosen in dict(settings.LANGUAGES) else str(settings.LANGUAGE_CODE)


class ChosenLanguageMiddleware(LocaleMiddleware):
    def process_request(self, request: HttpRequest) -> None:
        translation.activate(chosen_language(request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)))
        request.LANGUAGE_CODE = translation.get_language()
