"""SLA clocks in business time, worked out by hand on the JST calendar (Mon 2026-11-23 is
勤労感謝の日). Standard policy: first 4 h, next 8 h, resolution 27 h, warning at 80 %."""

from __future__ import annotations

import pytest
import time_machine

from madoguchi.cases import services
from madoguchi.cases.models import Status
from madoguchi.metrics import sla
from madoguchi.metrics.models import CaseSla, SlaBreach
from madoguchi.metrics.tests.conftest import jst
from madoguchi.notifications.models import Notification
from madoguchi.testing.factories import CustomerFactory, TeamFactory, UserFactory, category

pytestmark = pytest.mark.django_db
HOUR = 3600


def _status(case, actor, status):
    case.refresh_from_db()
    return services.do_update_case(case, actor=actor, expected_version=case.version, changes={"status": status})


def test_email_case_clocks_pause_while_waiting_and_breach_is_escalated_once():
    lead = UserFactory(role="lead")
    team = TeamFactory(lead=lead)
    agent = UserFactory(team=team)
    with time_machine.travel(jst(2026, 11, 20, 17), tick=False) as clock:  # Friday 17:00
        case = services.do_create_case(
            actor=agent, customer=CustomerFactory(), subject="未着", channel="email",
            category=category("delivery"), complaint="届きません", assignee=agent,
        )
        clocks = CaseSla.objects.get(case=case)
        # Fri 17–18 (1 h), Sat/Sun closed, Mon 23rd holiday, Tue 9:00 + 3 h.
        assert clocks.first_due == jst(2026, 11, 24, 12)
        # 27 h: Fri 1 + Tue 9 + Wed 9 + Thu 8 → Thu 17:00.
        assert clocks.resolution_due == jst(2026, 11, 26, 17)

        clock.move_to(jst(2026, 11, 24, 11))
        services.do_send_reply(case, actor=agent, body="確認いたします。")
        clocks.refresh_from_db()
        assert clocks.first_business_seconds == 3 * HOUR  # Fri 1 h + Tue 2 h
        assert clocks.first_wall_seconds == 90 * HOUR  # Fri 17:00 → Tue 11:00
        assert (clocks.targets_due, clocks.targets_met, clocks.first_due) == (1, 1, None)

        clock.move_to(jst(2026, 11, 24, 12))
        _status(case, agent, Status.WAITING_CUSTOMER)
        clock.move_to(jst(2026, 11, 25, 10))  # the customer answers: clock restarts
        case.refresh_from_db()
        services.do_add_interaction(case, actor=None, kind="inbound", channel="email", body="追跡番号は…")
        clocks.refresh_from_db()
        assert clocks.paused_since is None
        assert clocks.paused_seconds == 7 * HOUR  # Tue 12–18 (6 h) + Wed 9–10 (1 h)
        assert clocks.resolution_due == jst(2026, 11, 27, 15)  # 27 h + 7 h from Fri 17:00
        assert clocks.next_due == jst(2026, 11, 25, 18)  # 8 h from Wed 10:00

        assert sla.check_sla(jst(2026, 11, 25, 16)) == {"warnings": 0, "breaches": 0}
        assert sla.check_sla(jst(2026, 11, 25, 16, 30)) == {"warnings": 1, "breaches": 0}  # 80 % = 16:24
        assert Notification.objects.filter(user=agent, kind="sla_warning").count() == 1
        assert sla.check_sla(jst(2026, 11, 26, 9, 30)) == {"warnings": 0, "breaches": 1}
        assert sla.check_sla(jst(2026, 11, 26, 9, 31)) == {"warnings": 0, "breaches": 0}  # once
        breach = SlaBreach.objects.get(case=case)
        assert breach.target == "next" and breach.due_at == jst(2026, 11, 25, 18)
        assert list(breach.escalated_to.all()) == [lead]
        assert Notification.objects.filter(user=lead, kind="sla_breach").count() == 1

        clock.move_to(jst(2026, 11, 26, 10))
        services.do_send_reply(case, actor=agent, body="お待たせしました。")
        clock.move_to(jst(2026, 11, 27, 14))
        _status(case, agent, Status.RESOLVED)
        clocks.refresh_from_db()
        # Fri 1 + Tue 9 + Wed 9 + Thu 9 + Fri 5 = 33 h (waiting is not taken out here).
        assert clocks.resolution_business_seconds == 33 * HOUR
        assert (clocks.targets_due, clocks.targets_met) == (3, 2)  # first ok, next late, resolution ok

        clock.move_to(jst(2026, 11, 30, 10))
        case.refresh_from_db()
        services.do_add_interaction(case, actor=None, kind="inbound", channel="email", body="また壊れました")
        clocks.refresh_from_db()
        assert clocks.reopen_count == 1 and clocks.resolved_at is None and clocks.paused_since is None


def test_policy_by_priority_channel_and_category_most_specific_wins():
    from madoguchi.metrics.models import SlaPolicy

    special = SlaPolicy.objects.create(name="破損チャット", channel="chat", category=category("defect"),
                                       first_response_minutes=1, next_response_minutes=2, resolution_minutes=60)
    agent = UserFactory()
    with time_machine.travel(jst(2026, 11, 24, 10), tick=False):
        chat = services.do_create_case(actor=agent, customer=CustomerFactory(), subject="割れ", channel="chat",
                                       category=category("defect"), complaint="割れていた")
        urgent = services.do_create_case(actor=agent, customer=CustomerFactory(), subject="至急", channel="email",
                                         category=category("delivery"), complaint="至急", priority=4)
    assert chat.sla.policy == special
    assert chat.sla.first_due == jst(2026, 11, 24, 10, 1)
    assert urgent.sla.policy.name == "緊急"
    assert urgent.sla.first_due == jst(2026, 11, 24, 10, 30)


def test_an_automatic_message_without_author_is_not_a_response():
    agent = UserFactory()
    with time_machine.travel(jst(2026, 11, 24, 10), tick=False) as clock:
        case = services.do_create_case(actor=agent, customer=CustomerFactory(), subject="質問", channel="email",
                                       category=category("delivery"), complaint="教えてください", assignee=agent)
        services.do_add_interaction(case, actor=None, kind="outbound", channel="email", body="自動受付のお知らせ")
        assert CaseSla.objects.get(case=case).first_done_at is None
        clock.move_to(jst(2026, 11, 24, 10, 5))
        services.do_send_reply(case, actor=agent, body="ご連絡ありがとうございます。")
        assert CaseSla.objects.get(case=case).first_wall_seconds == 300


def test_many_customer_messages_in_one_transaction_read_the_clock_once():
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    agent = UserFactory()
    with time_machine.travel(jst(2026, 11, 24, 10), tick=False) as clock:
        case = services.do_create_case(actor=agent, customer=CustomerFactory(), subject="未着", channel="chat",
                                       category=category("delivery"), complaint="荷物が届きません", assignee=agent)
        services.do_send_reply(case, actor=agent, body="お調べいたします。")
        clock.move_to(jst(2026, 11, 24, 10, 5))
        with CaptureQueriesContext(connection) as captured, transaction.atomic():
            for n in range(5):  # a chat writer's batch: five messages from the customer
                services.do_add_interaction(case, actor=None, kind="inbound", channel="chat", body=f"まだですか{n}")
        clock_reads = [q for q in captured if q["sql"].startswith('SELECT') and "metrics_casesla" in q["sql"]]
        assert len(clock_reads) == 1
        assert CaseSla.objects.get(case=case).next_started_at == jst(2026, 11, 24, 10, 5)


def test_a_reply_inside_the_same_transaction_lets_the_next_customer_message_start_the_clock():
    from django.db import transaction

    agent = UserFactory()
    with time_machine.travel(jst(2026, 11, 24, 10), tick=False) as clock:
        case = services.do_create_case(actor=agent, customer=CustomerFactory(), subject="未着", channel="email",
                                       category=category("delivery"), complaint="届きません", assignee=agent)
        with transaction.atomic():
            clock.move_to(jst(2026, 11, 24, 10, 1))
            services.do_add_interaction(case, actor=None, kind="inbound", channel="email", body="追記です")
            clock.move_to(jst(2026, 11, 24, 10, 2))
            services.do_send_reply(case, actor=agent, body="承知しました。")
            clock.move_to(jst(2026, 11, 24, 10, 3))
            services.do_add_interaction(case, actor=None, kind="inbound", channel="email", body="ありがとうございます")
        assert CaseSla.objects.get(case=case).next_started_at == jst(2026, 11, 24, 10, 3)


def test_a_batch_writer_leaves_the_clocks_of_its_customer_messages_to_one_worker_task(
        django_capture_on_commit_callbacks):
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    from madoguchi import after_commit

    agent = UserFactory()
    with time_machine.travel(jst(2026, 11, 24, 10), tick=False) as clock:
        cases = [services.do_create_case(actor=agent, customer=CustomerFactory(), subject=f"未着{n}", channel="chat",
                                         category=category("delivery"), complaint="届きません", assignee=agent)
                 for n in range(3)]
        services.do_send_reply(cases[0], actor=agent, body="お調べいたします。")
        services.do_send_reply(cases[1], actor=agent, body="確認いたします。")
        with django_capture_on_commit_callbacks(execute=True), CaptureQueriesContext(connection) as captured, \
                transaction.atomic(), after_commit.batch():
            for minute in (5, 6):  # the chat writer's batch: each customer writes twice
                clock.move_to(jst(2026, 11, 24, 10, minute))
                for case in cases:
                    services.do_add_interaction(case, actor=None, kind="inbound", channel="chat", body="まだですか")
            in_transaction = [q for q in captured if "metrics_casesla" in q["sql"]]
        assert in_transaction == []  # nothing read or locked while the messages were stored
        # after the commit the worker's task (run at once in the tests) did it for all three
        started = dict(CaseSla.objects.filter(case__in=cases).values_list("case_id", "next_started_at"))
        assert started == {cases[0].pk: jst(2026, 11, 24, 10, 5), cases[1].pk: jst(2026, 11, 24, 10, 5),
                           cases[2].pk: None}  # no reply yet on the third: its first response is still due


def test_a_phone_call_an_agent_logs_is_its_own_first_response():
    agent = UserFactory()
    with time_machine.travel(jst(2026, 11, 24, 10), tick=False):  # Tuesday, open
        case = services.do_create_case(
            actor=agent, customer=CustomerFactory(), subject="破損", channel="phone",
            category=category("defect"), complaint="届いた器が割れていました", assignee=agent,
            received_at=jst(2026, 11, 24, 9, 40),
        )
        clocks = CaseSla.objects.get(case=case)
        assert clocks.first_done_at == jst(2026, 11, 24, 9, 40) and clocks.first_due is None
        assert (clocks.targets_due, clocks.targets_met) == (1, 1)
        assert sla.check_sla(jst(2026, 11, 24, 20)) == {"warnings": 0, "breaches": 0}


def test_no_approaching_warning_for_a_deadline_already_passed():
    agent = UserFactory()
    with time_machine.travel(jst(2026, 11, 24, 10), tick=False):
        case = services.do_create_case(
            actor=agent, customer=CustomerFactory(), subject="未着", channel="email",
            category=category("delivery"), complaint="届きません", assignee=agent,
        )
    # The checker was not running for a day: the first-response deadline (14:00) has passed.
    assert sla.check_sla(jst(2026, 11, 25, 10)) == {"warnings": 0, "breaches": 1}
    assert not Notification.objects.filter(case=case, kind="sla_warning").exists()
