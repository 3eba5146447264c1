"""On the process users run: a lead uploads a posts file to `madoguchi serve` over HTTP (a real
login and a multipart form), the embedded worker imports it while the run's page reports its
progress, the reader reads every post, and the burst of delivery complaints in it is flagged
to the lead."""

from __future__ import annotations

import datetime as dt
import re
import time
import urllib.request
import uuid

import pytest

from madoguchi.chat.tests.servers import PASSWORD, login_cookie
from madoguchi.listening.tests import samples
from madoguchi.testing.desk_process import ServedDesk
from madoguchi.triage.tests.test_in_serve import desk

__all__ = ["desk"]  # the served desk of the triage test: `madoguchi serve` on SQLite with the starter model

SETUP = f"""
from madoguchi.accounts.models import Role, User
User.objects.create_user(username="lead", password={PASSWORD!r}, display_name="佐藤 リーダー", role=Role.LEAD)
"""
STATE = ("from madoguchi.listening.models import PostImport, ListeningPost\n"
         "r = PostImport.objects.first()\n"
         "print(r and f'{r.state} {r.created} {r.skipped} {ListeningPost.objects.exclude(kind=\"\").count()}')")
TOLD = ("from madoguchi.notifications.models import Notification\n"
        "print(sum('配送' in n.text for n in Notification.objects.filter(user__username='lead', kind='listening_spike')))")


def _upload(base: str, cookie: str, name: str, content: bytes) -> str:
    page = urllib.request.urlopen(urllib.request.Request(base + "/listening/import/", headers={"Cookie": cookie}), timeout=30)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.read().decode()).group(1)  # type: ignore[union-attr]
    boundary = uuid.uuid4().hex
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"csrfmiddlewaretoken\"\r\n\r\n{token}\r\n"
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n"
            "Content-Type: text/csv\r\n\r\n").encode() + content + f"\r\n--{boundary}--\r\n".encode()
    request = urllib.request.Request(base + "/listening/import/", data=body, headers={
        "Cookie": cookie, "Referer": base + "/listening/import/", "Content-Type": f"multipart/form-data; boundary={boundary}"})
    with urllib.request.urlopen(request, timeout=60) as answer:
        return str(answer.url)


@pytest.mark.own_database
def test_an_uploaded_file_is_imported_by_serve_and_its_spike_flagged(desk: ServedDesk) -> None:
    start = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=50)
    rows = list(samples.posts(2000, start=start - dt.timedelta(days=2)))  # two days of ordinary talk
    burst = list(samples.posts(20, seed=7, start=start))
    for number, row in enumerate(burst):
        row["id"], row["text"] = f"burst-{number}", f"注文した急須がまだ届かない。{3 + number % 5}日も待ってるんだけど😡 #窓口茶舗"
        row["posted_at"] = (start + dt.timedelta(minutes=2 * number)).strftime("%Y-%m-%d %H:%M:%S+00:00")
    for row in rows:
        row["posted_at"] = dt.datetime.strptime(row["posted_at"], "%Y-%m-%d %H:%M:%S").strftime("%Y-%m-%d %H:%M:%S+09:00")
    rows[3]["text"] = ""
    desk.shell(SETUP)
    cookie = login_cookie(desk.url, "lead")
    run_url = _upload(desk.url, cookie, "listening.csv", samples.csv_file(rows + burst))
    assert re.search(r"/listening/import/\d+/$", run_url)

    deadline = time.monotonic() + 180
    state = ""
    while time.monotonic() < deadline:
        html = urllib.request.urlopen(urllib.request.Request(run_url, headers={"Cookie": cookie}), timeout=30).read().decode()
        state = re.search(r'data-state="(\w+)"', html).group(1)  # type: ignore[union-attr]
        if state in ("done", "failed"):
            break
        assert "<progress" in html
        time.sleep(0.5)
    assert state == "done", desk.log_path.read_text()[-3000:]
    assert 'data-count="created">2019<' in html and 'data-count="skipped">1<' in html
    assert desk.shell(STATE) == "done 2019 1 2019"
    assert desk.shell(TOLD) == "1"
