"""Events of the case desk that other capabilities react to (mail sends a reply, search
indexes a message, metrics starts an SLA clock, …).

Sent synchronously from cases/services.py inside the writing transaction. A receiver that
starts background work must enqueue it with `transaction.on_commit` so the worker sees the
committed rows (in tests: pytest-django's `django_capture_on_commit_callbacks(execute=True)`).
Receivers are connected in each app's AppConfig.ready().
"""

from django.dispatch import Signal

# kwargs: case, actor
case_created = Signal()
# kwargs: interaction, actor  (inbound, outbound replies, notes)
interaction_added = Signal()
# kwargs: case, old, new, actor
case_status_changed = Signal()
# kwargs: commitment, recipients  (a promise passed its due date unkept)
commitment_overdue = Signal()
