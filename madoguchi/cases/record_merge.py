"""Merging two agents' edits of one case record (the seed 000 fields and the facts).

The edit form carries, beside the version it was opened at, a short fingerprint of every field as
it was then (`base`). When the case changed in between, the fields the agent did change are
compared three ways: a field only the agent changed is written; a field only the other person
changed keeps their value; a field both changed to different values is a clash, and then nothing
is written and the agent decides. So a note added to the timeline, or a colleague fixing the
subject, never blocks saving the solution, and a stale form never writes back old values.
"""
from __future__ import annotations

import hashlib
import json
from typing import Any

from .models import Case

# The fields of the case record form (`CaseEditForm.changes()`), in the order the form shows them.
RECORD_FIELDS = (
    "subject", "category", "priority", "status", "complaint", "solution", "landing_point",
    "fact_order_number", "fact_product", "fact_what_happened", "fact_when", "checklist",
)


def _comparable(value: Any) -> Any:
    if isinstance(value, dict):  # the checklist: only the ticked items count
        return sorted(code for code, done in value.items() if done)
    if isinstance(value, str):  # a browser sends a textarea back with CRLF line ends
        return value.replace("\r\n", "\n").strip()
    if hasattr(value, "pk"):
        return value.pk
    return value


def fingerprint(value: Any) -> str:
    text = json.dumps(_comparable(value), ensure_ascii=False, sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def current_value(case: Case, name: str) -> Any:
    return case.category_id if name == "category" else getattr(case, name)


def fingerprints_of(case: Case) -> dict[str, str]:
    return {name: fingerprint(current_value(case, name)) for name in RECORD_FIELDS}


def changed_by_agent(changes: dict[str, Any], base: dict[str, str]) -> dict[str, Any]:
    """The fields the agent changed since the form was opened. Without a base (a client that
    sends none), every field counts as changed, so any difference is treated as a clash."""
    return {name: value for name, value in changes.items() if base.get(name) != fingerprint(value)}


def clashes(current: Case, mine: dict[str, Any], base: dict[str, str]) -> list[str]:
    """Fields the agent changed that somebody else also changed, to something else."""
    found = []
    for name, value in mine.items():
        theirs = fingerprint(current_value(current, name))
        if theirs != base.get(name) and theirs != fingerprint(value):
            found.append(name)
    return found
