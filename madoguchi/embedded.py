"""Listeners that run beside the web server on the embedded default.

Each channel app that needs a listener (the SMTP receiver, …) adds a function to STARTERS by
name here. `serve` runs them in its embedded worker process (`madoguchi.worker_process`),
or in its own process with `--no-worker`.
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


def run_starters() -> dict[str, OSError]:
    """Start every listener; the ones that could not (a port taken) by name, for the banner.
    One that cannot bind must not take the whole desk down."""
    failed: dict[str, OSError] = {}
    for start in embedded_starters():
        try:
            start()
        except OSError as error:
            failed[start.__name__] = error
    return failed
