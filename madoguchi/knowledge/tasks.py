"""Background work of the knowledge app: search indexing and after-hours answers, deferred by
the writes that cause them (jobs.work: recorded with the write, done until done)."""

from __future__ import annotations

from madoguchi.jobs import work
from madoguchi.knowledge import afterhours, indexing, suggestions


@work.handler(indexing.INDEX_WORK)
def index_docs(refs: list[tuple[str, int]]) -> int:
    return indexing.index_refs(refs)


@work.handler(afterhours.AFTER_HOURS_WORK)
def answer_after_hours(interaction_pks: list[int]) -> int:
    """Each answer in its own transaction; one that fails does not stop the others (it raises
    at the end, so the work is tried again; answers already sent are not sent again: once per
    case, AfterHoursReply)."""
    sent, errors = 0, []
    for pk in interaction_pks:
        try:
            sent += afterhours.answer_after_hours(pk) is not None
        except Exception as error:  # noqa: BLE001 - retried as a whole below
            errors.append(error)
    if errors:
        raise errors[0]
    return sent


@work.handler(suggestions.SUGGEST_WORK)
def refresh_suggestions(case_pks: list[int]) -> int:
    return suggestions.refresh_cases(case_pks)
