"""SLA policies are read once per transaction when many clocks start in it, and a policy
changed in between is seen at once."""

from __future__ import annotations

import pytest
from django.db import transaction

from madoguchi.metrics import sla
from madoguchi.metrics.models import SlaPolicy

pytestmark = pytest.mark.django_db


def test_policies_are_read_once_per_transaction_and_a_changed_policy_is_read_again(django_assert_num_queries) -> None:
    with transaction.atomic():
        first = sla._policies()
        with django_assert_num_queries(0):
            assert sla._policies() is first
        SlaPolicy.objects.create(name="新しい方針", channel="chat", first_response_minutes=5, next_response_minutes=5,
                                 resolution_minutes=60)
        with django_assert_num_queries(1):
            assert "新しい方針" in [p.name for p in sla._policies()]

