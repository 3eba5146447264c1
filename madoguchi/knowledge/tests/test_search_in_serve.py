"""Searches over HTTP against a real `madoguchi serve`: the process loads Sudachi's tokenizers
once, not in every request.

Under the ASGI server each sync view runs in a thread of its own, most often a new one; with
a tokenizer cached per thread, nearly every search built one again (dictionary and all,
33-295 ms of the agent's wait). The process logs each tokenizer it builds ("Sudachi tokenizer
built"); after 20 searches by a logged-in agent the log must show at most POOL_SIZE of them."""

from __future__ import annotations

import re
import urllib.parse
import urllib.request

from madoguchi.chat.tests.servers import login_cookie, running_desk
from madoguchi.knowledge.text import POOL_SIZE

CASE = """
from madoguchi.accounts.models import User
from madoguchi.cases import services
from madoguchi.cases.models import Category, Channel
from madoguchi.customers.models import Customer
case = services.do_create_case(actor=User.objects.get(username="chat1"), customer=Customer.objects.create(name="松本 美咲"),
    subject="急須の破損", channel=Channel.EMAIL, category=Category.objects.get(code="defect"),
    complaint="本日届いた急須の注ぎ口が割れていました。交換をお願いできますか。")
print(case.pk)
"""

QUERIES = ["割れ", "急須", "交換", "届かない", "配送", "割れる", "KM-100123", "070-1743-1954", "注ぎ口", "返品"] * 2


def test_twenty_searches_over_http_build_the_tokenizers_once() -> None:
    with running_desk(processes=1, redis=False) as desk:
        case_pk = int(desk.shell(CASE).strip().splitlines()[-1])
        base = desk.urls[0]
        cookie = login_cookie(base, "chat1")
        pages = []
        for query in QUERIES:
            url = f"{base}/knowledge/search/?{urllib.parse.urlencode({'q': query})}"
            with urllib.request.urlopen(urllib.request.Request(url, headers={"Cookie": cookie}), timeout=30) as response:
                assert response.status == 200
                pages.append(response.read().decode())
        assert f'href="/cases/{case_pk}/"' in pages[0]  # 割れ found 割れていました
        desk.logs[0].flush()
        log = open(desk.logs[0].name, encoding="utf-8").read()  # noqa: SIM115 - read once

    built = re.findall(r"Sudachi tokenizer built", log)
    assert 1 <= len(built) <= POOL_SIZE, log


def test_the_desks_worker_ranks_a_new_cases_suggestions_before_it_is_opened() -> None:
    """Issue 16: the case page reads suggestions the worker ranked; in the process `bin/start`
    runs, a case made by another process gets them without anyone opening it."""
    import time

    with running_desk(processes=1, redis=False) as desk:
        case_pk = int(desk.shell(CASE).strip().splitlines()[-1])
        ranked = desk.shell(
            "import time\nfrom madoguchi.knowledge.models import CaseSuggestions\n"
            f"deadline = time.monotonic() + 30\n"
            f"while not CaseSuggestions.objects.filter(case_id={case_pk}).exists() and time.monotonic() < deadline:\n"
            "    time.sleep(0.2)\n"
            f"print(CaseSuggestions.objects.filter(case_id={case_pk}).exists())\n")
        assert ranked.strip().splitlines()[-1] == "True"
        base = desk.urls[0]
        started = time.monotonic()
        request = urllib.request.Request(f"{base}/cases/{case_pk}/", headers={"Cookie": login_cookie(base, "chat1")})
        with urllib.request.urlopen(request, timeout=30) as response:
            page = response.read().decode()
        assert time.monotonic() - started < 10
    assert 'id="kb-suggestions"' in page and "/suggestions/" not in page  # in the page, no request after it
