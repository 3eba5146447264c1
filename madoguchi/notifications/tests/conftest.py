"""Mail goes over real SMTP to an aiosmtpd sink; background jobs run in the test thread."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from madoguchi.mail.tests.conftest import Sink, free_port


@pytest.fixture
def smtp_sink(settings: Any, huey_immediate: None) -> Iterator[Sink]:
    sink = Sink(port=free_port())
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", sink.port, 5
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = False
    settings.SITE_URL = "https://desk.example.jp"
    sink.start()
    yield sink
    sink.stop()
