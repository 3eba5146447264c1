"""Services that `madoguchi serve` runs in its own process on the embedded default.

Each channel app that needs a listener (the SMTP receiver, an IMAP poller) adds a function
to STARTERS by name here; `serve` calls them before it starts the web server.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module

STARTERS: list[str] = [
    "madoguchi.mail.smtpd.start_smtp_receiver",
]


def embedded_starters() -> list[Callable[[], None]]:
    found = []
    for dotted in STARTERS:
        module, _, name = dotted.rpartition(".")
        found.append(getattr(import_module(module), name))
    return found
