"""`/healthz` says whether the desk can do its work: in the process users run, and when a part
is missing (no worker running the periodic jobs, Redis gone, a database error)."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from madoguchi.testing.desk_process import MailSink, ServedDesk


def health(url: str) -> tuple[int, dict[str, Any]]:
    try:
        with urllib.request.urlopen(url + "/healthz", timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


@pytest.fixture
def desk(tmp_path: Path) -> Iterator[ServedDesk]:
    with MailSink() as sink:
        served = ServedDesk.create(tmp_path / "data", f"sqlite:///{tmp_path / 'data' / 'desk.sqlite3'}", sink.port)
        try:
            yield served
        finally:
            served.stop()


@pytest.mark.own_database
def test_a_started_desk_whose_worker_runs_the_jobs_is_healthy(desk: ServedDesk) -> None:
    desk.start()
    deadline = time.monotonic() + 90
    status, body = health(desk.url)
    while status != 200 and time.monotonic() < deadline:
        time.sleep(1)
        status, body = health(desk.url)
    assert status == 200, body
    assert body["checks"]["jobs"]["late"] == [] and body["checks"]["queue"]["pending"] is not None


@pytest.mark.own_database
def test_a_desk_whose_jobs_nobody_runs_is_not_healthy(desk: ServedDesk) -> None:
    desk.start(180, "--no-worker")
    status, body = health(desk.url)
    assert status == 503 and body["status"] == "fail"
    assert "escalate_overdue_commitments_job" in body["checks"]["jobs"]["late"]
    assert body["checks"]["database"]["ok"] is True


@pytest.mark.django_db
def test_redis_gone_is_reported(client: Client, settings: Any) -> None:
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["checks"]["channel_layer"] == {"ok": False, "backend": "redis", "error": "ConnectionError"}


@pytest.mark.django_db
def test_the_answer_names_no_customer_data_and_needs_no_login(client: Client) -> None:
    from madoguchi.testing.factories import CaseFactory

    CaseFactory(subject="山田様の急須が割れていた件")
    response = client.get("/healthz")
    assert response.status_code in (200, 503) and response["Cache-Control"].startswith("max-age=0")
    assert "山田" not in response.content.decode() and "急須" not in response.content.decode()
