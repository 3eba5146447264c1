"""Durations, amounts and dates in the active language (madoguchi.figures), in every template
without a {% load %} (a builtin library, settings.TEMPLATES), and the desk's punctuation."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.html import conditional_escape
from django.utils.safestring import mark_safe
from django.utils.translation import pgettext

from madoguchi import figures

register = template.Library()

register.filter("duration", figures.duration)
register.filter("yen", figures.yen)
register.filter("long_date", figures.long_date)
register.filter("stamp", figures.stamp)


register.simple_tag(figures.sep, name="sep")


@register.filter(is_safe=True)
def paren(value: Any) -> str:
    """A note in brackets after what it is about: 「（サポート1課）」 / " (Support 1)"."""
    return mark_safe(pgettext("括弧", "（%(text)s）") % {"text": conditional_escape(value)})  # noqa: S308 - escaped above


@register.filter(is_safe=True)
def quoted(value: Any) -> str:
    """Quoted words: 「荷物受付」 / “荷物受付”."""
    return mark_safe(pgettext("引用", "「%(text)s」") % {"text": conditional_escape(value)})  # noqa: S308 - escaped above
