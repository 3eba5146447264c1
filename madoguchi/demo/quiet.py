"""The demo writes history, not live events: while it loads, receivers that react to live
events (after-hours auto replies, mail delivery, search indexing row by row) are muted, and
the search index is rebuilt once at the end by the app that owns it."""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager

from django.core.management import call_command, get_commands
from django.db.models.signals import post_save
from django.dispatch import Signal

from madoguchi.cases import signals

MUTED: list[Signal] = [
    signals.case_created, signals.interaction_added, signals.case_status_changed,
    signals.commitment_overdue, signals.compensation_decided, post_save,
]


@contextmanager
def live_receivers_muted() -> Iterator[None]:
    saved = [(signal, signal.receivers) for signal in MUTED]
    try:
        for signal in MUTED:
            signal.receivers = []
            signal.sender_receivers_cache.clear()
        yield
    finally:
        for signal, receivers in saved:
            signal.receivers = receivers
            signal.sender_receivers_cache.clear()


def rebuild_search_index() -> None:
    """Whatever app provides `madoguchi reindex` rebuilds its index from the tables."""
    if "reindex" in get_commands():
        call_command("reindex", verbosity=0, stdout=io.StringIO())


def rebuild_customer_figures() -> None:
    """Whatever app provides `madoguchi rebuild-customer-figures` recounts from the tables
    (the demo's orders and cases were written with the receivers muted)."""
    if "rebuild-customer-figures" in get_commands():
        call_command("rebuild-customer-figures", verbosity=0, stdout=io.StringIO())
