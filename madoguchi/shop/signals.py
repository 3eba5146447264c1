"""Events of the shop's data that other capabilities react to.

`orders_written` is sent by writers that bypass model signals (the order import's bulk
inserts and updates), inside their transaction, with the ids of the customers whose orders
were created or changed. Receivers must be cheap (defer real work with `jobs.work.defer`).
"""

from django.dispatch import Signal

# kwargs: customer_ids (a set of ints)
orders_written = Signal()
