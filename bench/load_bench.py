"""Load test (issue 21): many agents browsing and replying, and many chat visitors, at once.

Starts the desk that bench/generate_desk.py made (as bench/http_bench.py does: embedded, or the
scale mode with several `serve --no-worker` processes and a `madoguchi worker` on PostgreSQL
and Redis), then for --seconds:
- each of --agents agents (threads, logged in over HTTP as the generated users) loops: an inbox
  queue, a case page of an active case, and every --reply-every actions a reply on that case
  (the reply goes by mail to an SMTP sink the script runs, so the worker's outbox works too),
  with a think time of --think seconds (5–15) between actions;
- each of --visitors chat visitors (one asyncio loop in a process of its own) opens the widget's WebSocket, says hello,
  and sends a message every 10–20 s, timing each until its ack.
Reports per kind of request: count, errors, throughput and p50/p95/p99, and the load average.
Only loopback addresses; every loop ends at the deadline.

    .venv/bin/python bench/load_bench.py --db postgres --size 100000 --mode scale --processes 3 \\
        --agents 200 --visitors 500 --seconds 600
    .venv/bin/python bench/load_bench.py --db sqlite --size 100000 --agents 50 --visitors 200 --seconds 600
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import multiprocessing
import os
import random
import re
import sys
import threading
import time
import urllib.parse
from collections import defaultdict
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

sys.path[:0] = [str(Path(__file__).resolve().parent.parent), str(Path(__file__).resolve().parent)]

from http_bench import PASSWORD, Browser, percentile, start_desk  # noqa: E402

SHOP = "https://shop.example.jp"
JST = dt.timezone(dt.timedelta(hours=9))


class Tally:
    """Timings and errors per kind of request, from every thread."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.ms: dict[str, list[float]] = defaultdict(list)
        self.errors: dict[str, list[str]] = defaultdict(list)

    def ok(self, kind: str, ms: float) -> None:
        with self.lock:
            self.ms[kind].append(ms)

    def error(self, kind: str, what: str) -> None:
        with self.lock:
            self.errors[kind].append(what[:200])

    def report(self, seconds: float) -> list[dict[str, Any]]:
        rows = []
        for kind in sorted(set(self.ms) | set(self.errors)):
            values = self.ms.get(kind, [])
            rows.append({
                "kind": kind, "count": len(values), "errors": len(self.errors.get(kind, [])),
                "per_second": round(len(values) / seconds, 1),
                "p50": round(percentile(values, 0.5), 1) if values else None,
                "p95": round(percentile(values, 0.95), 1) if values else None,
                "p99": round(percentile(values, 0.99), 1) if values else None,
                "first_errors": self.errors.get(kind, [])[:3],
            })
        return rows


def agent_loop(browser: Browser, cases: list[int], by_mail: set[int], queues: list[str], deadline: float,
               reply_every: int, tally: Tally, seed: int, think: tuple[float, float] = (5, 15)) -> None:
    rng = random.Random(seed)
    actions = 0
    while time.monotonic() < deadline:
        queue = rng.choice(queues)
        _timed(tally, "inbox", browser, "GET", f"/?{urllib.parse.urlencode({'queue': queue})}")
        if time.monotonic() >= deadline:
            break
        time.sleep(rng.uniform(*think))
        case = rng.choice(cases)
        page = _timed(tally, "case page", browser, "GET", f"/cases/{case}/")
        actions += 1
        # Parsed only when replying: the load generator shares the machine's two cores.
        replying = page is not None and case in by_mail and actions % reply_every == 0
        fields = reply_form_fields(page.body, case) if replying else None
        if fields is not None:
            # What the browser would post: the reply form's own fields as the page gave them
            # (the last entry seen, the channel's send options), with the agent's words.
            fields["re-body"] = f"お問い合わせありがとうございます。確認いたします（負荷試験 {seed}-{actions}）。"
            _timed(tally, "reply (POST)", browser, "POST", f"/cases/{case}/reply/",
                   body=urllib.parse.urlencode(fields).encode(), ok=(302, 200),
                   headers={"Content-Type": "application/x-www-form-urlencoded", "Referer": f"{browser.bases[0]}/cases/{case}/"})
        time.sleep(rng.uniform(*think))


class _FormFields(HTMLParser):
    """The name=value pairs a browser would submit from the form whose action is `action`."""

    def __init__(self, action: str) -> None:
        super().__init__()
        self.action, self.inside, self.fields = action, False, {}  # type: tuple[str, bool, dict[str, str]]
        self.select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {key: value or "" for key, value in attrs}
        if tag == "form":
            self.inside = a.get("action") == self.action
        elif not self.inside or "disabled" in a:
            return
        elif tag == "input" and a.get("name"):
            if a.get("type") in ("checkbox", "radio") and "checked" not in a:
                return
            if a.get("type") not in ("submit", "button", "file"):
                self.fields[a["name"]] = a.get("value", "on" if a.get("type") in ("checkbox", "radio") else "")
        elif tag == "select" and a.get("name"):
            self.select = a["name"]
        elif tag == "option" and self.select and (self.select not in self.fields or "selected" in a):
            self.fields[self.select] = a.get("value", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.inside = False
        elif tag == "select":
            self.select = None


def reply_form_fields(html: str, case: int) -> dict[str, str] | None:
    """The case page's reply form as a browser would post it, or None when it has none."""
    parser = _FormFields(f"/cases/{case}/reply/")
    parser.feed(html)
    return parser.fields if "csrfmiddlewaretoken" in parser.fields else None


def _timed(tally: Tally, kind: str, browser: Browser, method: str, path: str, *, body: bytes | None = None,
           headers: dict[str, str] | None = None, ok: tuple[int, ...] = (200,)) -> Any:
    try:
        fetched = browser.request(method, path, body=body, headers=headers)
    except Exception as error:  # noqa: BLE001 - counted as an error of this kind
        tally.error(kind, f"{type(error).__name__}: {error}")
        return None
    if fetched.status not in ok:
        said = re.search(r'<p class="error"[^>]*>([^<]+)<', fetched.body or "")
        tally.error(kind, f"HTTP {fetched.status} {fetched.path}" + (f": {said.group(1)}" if said else ""))
        return None
    tally.ok(kind, fetched.ms)
    return fetched


async def visitor_loop(base: str, deadline: float, tally: Tally, seed: int) -> None:
    import websockets

    rng = random.Random(seed)
    url = base.replace("http", "ws", 1) + "/ws/chat/widget/"
    await asyncio.sleep(rng.uniform(0, 20))  # visitors arrive over the first 20 s
    try:
        started = time.perf_counter()
        async with websockets.connect(url, origin=SHOP, open_timeout=60) as ws:
            await ws.send(json.dumps({"type": "hello", "page_url": f"{SHOP}/items/{seed}"}))
            await _until(ws, "welcome")
            tally.ok("chat: connect + welcome", (time.perf_counter() - started) * 1000)
            n = 0
            while time.monotonic() < deadline:
                n += 1
                client_id = f"load-{seed}-{n}"
                sent = time.perf_counter()
                await ws.send(json.dumps({"type": "message", "client_id": client_id, "text": f"配送について質問です（{n}通目）"}))
                await _until(ws, "ack", client_id)
                tally.ok("chat: message → ack", (time.perf_counter() - sent) * 1000)
                await asyncio.sleep(min(rng.uniform(10, 20), max(0.0, deadline - time.monotonic())))
    except Exception as error:  # noqa: BLE001 - counted
        tally.error("chat: message → ack", f"{type(error).__name__}: {error}")


async def _until(ws: Any, kind: str, client_id: str | None = None, timeout: float = 60) -> dict[str, Any]:
    end = time.monotonic() + timeout
    while True:
        event: dict[str, Any] = json.loads(await asyncio.wait_for(ws.recv(), max(0.1, end - time.monotonic())))
        if event["type"] == "error":
            raise RuntimeError(f"chat error: {event.get('code')} {event.get('message')}")
        if event["type"] == kind and (client_id is None or event.get("client_id") == client_id):
            return event


async def visitors(bases: list[str], count: int, deadline: float, tally: Tally) -> None:
    await asyncio.gather(*(visitor_loop(bases[n % len(bases)], deadline, tally, n) for n in range(count)))


def visitors_process(bases: list[str], count: int, deadline: float, results: Any) -> None:
    """The visitors' loop in a process of its own. In the agents' process, 200 threads reading
    pages held the interpreter lock so long that the visitors' own loop answered nothing in time:
    their websockets library closed the sockets for unanswered keepalive pings and the measured
    acks were the generator's wait, not the desk's. (CLOCK_MONOTONIC is shared by processes.)"""
    tally = Tally()
    asyncio.run(visitors(bases, count, deadline, tally))
    results.put((dict(tally.ms), dict(tally.errors)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=["sqlite", "postgres"], required=True)
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--mode", choices=["embedded", "scale"], default="embedded")
    parser.add_argument("--processes", type=int, default=3)
    parser.add_argument("--redis-db", type=int, default=13)
    parser.add_argument("--agents", type=int, default=200)
    parser.add_argument("--visitors", type=int, default=500)
    parser.add_argument("--seconds", type=int, default=600)
    parser.add_argument("--reply-every", type=int, default=5, help="a reply every N case pages of an agent")
    parser.add_argument("--think", default="5,15", help="an agent's pause between two actions, seconds: min,max. "
                        "5–15 s is already brisk: an agent who reads a complaint and writes its answer opens a "
                        "page about once a minute")
    parser.add_argument("--out", help="JSON file (default /tmp/bench-desk[-SIZE]/load-<db>-<mode>.json)")
    args = parser.parse_args()
    if args.mode == "scale" and args.db != "postgres":
        parser.error("the scale mode runs on PostgreSQL (--db postgres)")
    if not 0 < args.seconds <= 3600:
        parser.error("--seconds: 1 to 3600")

    from desk_bench import configure

    from madoguchi.testing.desk_process import MailSink

    low, high = (float(part) for part in args.think.split(","))
    think = (low, high)
    data_dir, _url = configure(args.db, args.size)
    os.environ.pop("MADOGUCHI_ALLOWED_HOSTS", None)
    import django

    django.setup()
    from django.db import connections

    from madoguchi.cases.models import Case
    from madoguchi.cases.queues import QUEUES

    active = Case.objects.filter(status__in=["new", "open", "waiting_customer"]).order_by("-pk")
    cases = list(active.values_list("pk", flat=True)[:5000])
    # Replies go to mail cases only: the sink receives them. (The generator's X and LINE cases
    # have no X or LINE account to send to, and the desk rightly refuses those with a 400.)
    by_mail = set(active.filter(pk__in=cases, channel="email").values_list("pk", flat=True))
    users = [f"bench-agent{team}-{n}" for team in range(1, 6) for n in range(1, 11)]
    connections.close_all()
    with MailSink() as sink:
        # The load's own settings: replies go to the sink; every visitor comes from 127.0.0.1,
        # so the per-address limit on new chats is lifted (it guards against one address's flood).
        os.environ.update(MADOGUCHI_SMTP_OUT_PORT=str(sink.port), MADOGUCHI_CHAT_ALLOWED_ORIGINS=SHOP,
                          MADOGUCHI_CHAT_BUSINESS_HOURS="false", MADOGUCHI_CHAT_NEW_PER_ADDRESS_PER_HOUR="1000000",
                          MADOGUCHI_MAIL_ACK_PER_DOMAIN_PER_HOUR="1000000", MADOGUCHI_MAIL_ACK_TOTAL_PER_HOUR="1000000")
        servers = start_desk(args.mode, args.processes, data_dir, args.redis_db)
        try:
            browsers = []
            for n in range(args.agents):
                browser = Browser(servers.bases)
                browser.login(users[n % len(users)], PASSWORD)
                browsers.append(browser)
            tally = Tally()
            load_before = os.getloadavg()
            started = time.monotonic()
            deadline = started + args.seconds
            threads = [threading.Thread(target=agent_loop, daemon=True, args=(
                browser, cases, by_mail, [q.code for q in QUEUES], deadline, args.reply_every, tally, n, think))
                for n, browser in enumerate(browsers)]
            results: Any = multiprocessing.get_context("spawn").Queue()
            chatting = multiprocessing.get_context("spawn").Process(
                target=visitors_process, args=(servers.bases, args.visitors, deadline, results), daemon=True)
            chatting.start()
            for thread in threads:
                thread.start()
            chat_ms, chat_errors = results.get(timeout=args.seconds + 300)
            chatting.join(timeout=60)
            for kind, values in chat_ms.items():
                tally.ms[kind].extend(values)
            for kind, errors in chat_errors.items():
                tally.errors[kind].extend(errors)
            for thread in threads:
                thread.join(timeout=120)
            elapsed = time.monotonic() - started
            result = {
                "db": args.db, "mode": args.mode, "processes": len(servers.bases), "cases": args.size,
                "agents": args.agents, "visitors": args.visitors, "think_seconds": list(think), "seconds": round(elapsed),
                "load": [round(load_before[0], 1), round(os.getloadavg()[0], 1)],
                "mails_sent_to_sink": sum(sink.per_recipient().values()),
                "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "rows": tally.report(elapsed),
            }
        finally:
            servers.stop()
    out = Path(args.out) if args.out else data_dir / f"load-{args.db}-{args.mode}.json"
    out.write_text(json.dumps(result, ensure_ascii=False, indent=1))
    print(f"\n{args.db}, {args.mode} ({result['processes']} web processes), {args.size:,} cases: {args.agents} agents, "
          f"{args.visitors} chat visitors, think {low:g}–{high:g} s, {result['seconds']} s; load {result['load']}")
    print("| request | count | errors | per s | p50 ms | p95 ms | p99 ms |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for row in result["rows"]:
        print(f"| {row['kind']} | {row['count']:,} | {row['errors']} | {row['per_second']} | {row['p50']} | {row['p95']} | {row['p99']} |")
        for error in row["first_errors"]:
            print(f"|   ↳ {error} | | | | | | |")
    print(f"\nwritten {out}")


if __name__ == "__main__":
    main()
