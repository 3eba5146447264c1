"""Events of the case desk that other capabilities react to (mail sends a reply, search
indexes a message, metrics starts an SLA clock, …).

Sent synchronously from cases/services.py inside the writing transaction, so receivers must
be cheap: the mail worker files 100 mails per transaction and every receiver runs for each.
Work that can wait (search indexing, the after-hours answer, the SLA clocks of cases a batch
opens) is noted with `madoguchi.after_commit.collect` and handed to the worker as one Huey task
per transaction, after the commit, so the worker sees the committed rows (in tests:
pytest-django's `django_capture_on_commit_callbacks(execute=True)`). Work a transaction needs
once (marking a day dirty) can use `after_commit.first_in_transaction`.
Receivers are connected in each app's AppConfig.ready().
"""

from django.dispatch import Signal

# kwargs: case, actor
case_created = Signal()
# kwargs: interaction, actor  (inbound, outbound replies, notes)
interaction_added = Signal()
# kwargs: case, old, new, actor
case_status_changed = Signal()
# kwargs: case, changes ({field: [old, new]} as audited), actor  (a person edited the record)
case_updated = Signal()
# kwargs: commitment, recipients  (a promise passed its due date unkept)
commitment_overdue = Signal()
# kwargs: compensation, actor  (granted within the requester's authority, or approved or
# rejected by a lead or an admin; a request that waits for approval is not decided yet)
compensation_decided = Signal()
# kwargs: record (cases.MergeRecord), undone (False: just merged; True: the merge was undone),
# actor. Interactions changed case in bulk (no interaction_added): a search index keyed by case
# refreshes both cases here.
cases_merged = Signal()
