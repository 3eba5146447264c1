"""Nothing lost after a crash: a real `madoguchi serve` is killed with SIGKILL twice while new
customers' mails arrive over SMTP, and started again each time. When it has caught up, every
accepted mail is a case, every customer got exactly one automatic answer (the receipt, or the
after-hours answer when the shop is closed) at the shop's outgoing mail server, and every
message is in the search index.

Before deferred work was recorded with its write (jobs.work), the after-hours answers,
the indexing and the SLA clocks of the mails being filed when the process died were lost for
good, and `serve` never ran the mail sweep that sends what the outbox still holds."""

from __future__ import annotations

from pathlib import Path

from madoguchi.chat.tests.servers import own_database
from madoguchi.testing.desk_process import MailSink, ServedDesk, crash_run


def test_two_kill9_while_mail_arrives_lose_no_answer_and_no_index_entry(tmp_path: Path) -> None:
    with own_database() as database_url, MailSink() as sink:
        # The sweeps take work left for 5 s (not 60), work a dead worker held for 15 s (not 120),
        # mail left for 10 s (not 300) and a send a dead worker began 20 s ago (not 120), so the
        # test waits seconds, not minutes; the path is the one the desk always takes.
        desk = ServedDesk.create(tmp_path / "data", database_url, sink.port, MADOGUCHI_WORK_GRACE_SECONDS="5",
                                 MADOGUCHI_WORK_CLAIM_SECONDS="15", MADOGUCHI_MAIL_SWEEP_AFTER_SECONDS="10",
                                 MADOGUCHI_MAIL_SEND_LEASE_SECONDS="20")
        try:
            result = crash_run(desk, sink, count=120, kills=2, settle_seconds=240)
        finally:
            desk.stop()
    print(result)
    assert result["accepted"] == 120, result
    assert result["raw"] == 120 and result["raw_pending"] == 0 and result["raw_failed"] == 0, result
    assert result["cases"] == 120, result
    assert result["not_answered"] == 0 and result["answered_twice_or_more"] == 0, result
    assert result["messages_not_indexed"] == 0 and result["pending_work"] == 0, result
    assert result["sink_duplicate_message_ids"] == 0, result
