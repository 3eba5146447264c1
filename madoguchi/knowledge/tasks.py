"""Background jobs of the knowledge app (Huey): search indexing and after-hours answers,
each enqueued once per committed transaction with the ids it collected."""

from __future__ import annotations

from huey.contrib.djhuey import db_task

from madoguchi.knowledge import afterhours, indexing


@db_task(retries=3, retry_delay=10)
def index_docs_task(refs: list[tuple[str, int]]) -> int:
    return indexing.index_refs(refs)


@db_task(retries=3, retry_delay=30)
def answer_after_hours_task(interaction_pks: list[int]) -> int:
    """Each answer in its own transaction; one that fails does not stop the others (it raises
    at the end, so Huey retries; answers already sent are not sent again: once per case)."""
    sent, errors = 0, []
    for pk in interaction_pks:
        try:
            sent += afterhours.answer_after_hours(pk) is not None
        except Exception as error:  # noqa: BLE001 - retried as a whole below
            errors.append(error)
    if errors:
        raise errors[0]
    return sent
