"""A product's page text as passages a case can point at, each kept as it was worded on a date.

Passages are numbered by their place on the page. When the text at a place changes, the old
row is closed (`valid_to`) and a new row holds the new wording from then on: a complaint
linked to the old row still shows what the customer read."""

from __future__ import annotations

import datetime as dt
import re

from django.db import transaction

from madoguchi.mail.cleaning import html_to_text
from madoguchi.shop.models import Passage, Product

MAX_PASSAGES = 200


def passages_of_html(markup: str) -> list[str]:
    """One passage per block of the description HTML (paragraph, list item, heading)."""
    return passages_of_text(html_to_text(markup or ""))


def passages_of_text(text: str) -> list[str]:
    """One passage per non-empty line of a plain-text description (BASE's `detail`)."""
    lines = (re.sub(r"\s+", " ", line).strip() for line in (text or "").splitlines())
    return [line for line in lines if line][:MAX_PASSAGES]


def do_update_passages(product: Product, texts: list[str], at: dt.datetime) -> int:
    """Make `texts` the product's current passages from `at` on; returns how many places
    changed (0 when the text is as it was). Old wordings are kept, closed at `at`."""
    with transaction.atomic():
        current = {passage.position: passage for passage in Passage.objects.filter(product=product, valid_to__isnull=True)}
        closing: list[Passage] = []
        opening: list[Passage] = []
        for position, text in enumerate(texts, 1):
            old = current.pop(position, None)
            if old is not None and old.text == text:
                continue
            if old is not None:
                closing.append(old)
            opening.append(Passage(product=product, position=position, text=text, valid_from=at))
        closing += current.values()  # places the page no longer has
        if closing:
            Passage.objects.filter(pk__in=[passage.pk for passage in closing]).update(valid_to=at)
        Passage.objects.bulk_create(opening)
    return len({passage.position for passage in [*closing, *opening]})
