"""The SLA timer's HTML is markup in a template, paused or running (not escaped text)."""

from __future__ import annotations

import datetime as dt

from django.template import Context, Template
from django.utils import timezone


def test_a_paused_and_a_running_timer_render_as_elements() -> None:
    template = Template("{% load metrics_tags %}{% sla_timer state %}")
    paused = template.render(Context({"state": {"paused": True}}))
    assert paused.startswith('<span class="sla-timer paused" data-testid="sla-timer">')
    due = timezone.now() + dt.timedelta(hours=3)
    running = template.render(Context({"state": {"paused": False, "due": due, "target": "初回応答", "overdue": False,
                                                 "warning": False}}))
    assert running.startswith('<span class="sla-timer" data-testid="sla-timer"') and "&lt;" not in running
