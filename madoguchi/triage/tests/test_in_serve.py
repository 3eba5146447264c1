"""On the process users run: a mail sent to `madoguchi serve`'s SMTP receiver is filed by the
embedded worker, then read by it, and its case gets the category the reader found."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from madoguchi.testing.desk_process import (
    MailSink,
    Sending,
    ServedDesk,
    customer_mail,
    send_until_accepted,
)
from madoguchi.tests.test_embedded_worker import wait_until
from madoguchi.triage.tests.conftest import put_model

READ = (
    "from madoguchi.triage.models import MessageReading\n"
    "r = MessageReading.objects.select_related('interaction__case__category').first()\n"
    "print(r and f'{r.kind} {r.interaction.case.category.code} {r.orders}')"
)


@pytest.fixture
def desk(tmp_path: Path, starter_model_bytes: bytes) -> Iterator[ServedDesk]:
    if os.environ.get("DATABASE_URL", "").startswith("postgres"):
        pytest.skip("the process layout is the same on both databases")
    with MailSink() as sink:
        served = ServedDesk.create(tmp_path / "data", f"sqlite:///{tmp_path / 'data' / 'desk.sqlite3'}", sink.port,
                                   MADOGUCHI_MAIL_ACK="false")
        put_model(tmp_path / "data", starter_model_bytes)
        served.start()
        try:
            yield served
        finally:
            served.stop()


@pytest.mark.own_database
def test_a_mail_to_serve_is_read_and_its_case_categorised(desk: ServedDesk) -> None:
    progress = Sending()
    send_until_accepted(desk.smtp_port, [customer_mail(7)], progress, seconds=90)
    assert progress.accepted == 1
    wait_until(lambda: desk.shell(READ) != "None", 120, "the mail read by the worker")
    assert desk.shell(READ) == "complaint delivery ['KM-100007']"
