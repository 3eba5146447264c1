"""What an agent waits for over HTTP (issue 16): every page with every fragment it loads after it.

Starts `madoguchi serve` on the desk that bench/generate_desk.py made (the same data as
bench/desk_bench.py: /tmp/bench-desk[-SIZE]/ or the PostgreSQL database bench_desk[_SIZE]),
logs in over HTTP as an agent (and as a team lead for the dashboard), and loads each page as
a browser does: the page, then every element the page (or a fragment) asks htmx to load when
it appears (hx-get with an hx-trigger of "load"), up to 6 at a time on their own keep-alive
connections. For each page: "page" (the page's own last byte), "complete" (the last
fragment's last byte) and each fragment on its own; p50/p95/p99 over interleaved rounds
(every page once per round, in a new order each round; warm-up rounds dropped).

Modes: embedded (one `madoguchi serve`, its worker in a child process, as `bin/start` runs it)
and scale (PostgreSQL + Redis, several `serve --no-worker` on their own ports and one
`madoguchi worker`; the client spreads the requests over the processes as a load balancer
would). With --helpdesk, django-helpdesk 2.6.1 (bench/helpdesk_peer.py: its own venv,
project and tickets made from the same cases) is loaded in the same rounds and each figure
gets a ratio.

    nice -n 15 .venv/bin/python bench/http_bench.py --db sqlite --size 10000 --generate --helpdesk
    .venv/bin/python bench/http_bench.py --db postgres --size 100000 --mode scale --processes 3 --helpdesk

Output: one JSON line per figure (--out, default /tmp/bench-desk[-SIZE]/http-<db>-<mode>.jsonl)
and a markdown table on stdout. Only loopback addresses; every loop is bounded.
"""

from __future__ import annotations

import argparse
import gzip
import http.client
import json
import os
import random
import re
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]
MADOGUCHI = str(Path(sys.executable).with_name("madoguchi"))
PASSWORD = "bench-窓口-2026"  # every generated user's (generate_desk.generate)
AGENT, LEAD = "bench-agent1-1", "bench-lead1"
CONNECTIONS = 6  # a browser's connections per host
from madoguchi.server_timing import header_values  # noqa: E402

SEARCH_HITS = ["配送", "割れ", "返金 クーポン"]
SEARCH_NONE = ["炊飯器", "ランプシェード 修理"]


# --- A browser's loading of a page and its fragments ----------------------------------------

class _LoadTriggers(HTMLParser):
    """hx-get URLs of elements that htmx requests as soon as they are in the page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        url, trigger = values.get("hx-get"), values.get("hx-trigger") or ""
        if url and any(part.strip().split(" ")[0] == "load" for part in trigger.split(",")):
            self.urls.append(url)


def load_triggered(html: str) -> list[str]:
    parser = _LoadTriggers()
    parser.feed(html)
    return parser.urls


@dataclass
class Fetch:
    path: str
    status: int
    started: float
    ended: float
    body: str
    # The server's own account (madoguchi/server_timing.py): app, cpu, db ms and queries.
    timing: dict[str, float] = field(default_factory=dict)

    @property
    def ms(self) -> float:
        return (self.ended - self.started) * 1000


class Browser:
    """One logged-in agent: cookies, and up to CONNECTIONS keep-alive connections per server.
    Requests go round-robin over the servers (`bases`), as behind a load balancer."""

    def __init__(self, bases: list[str]):
        self.bases = bases
        self.cookies: dict[str, str] = {}
        self.local = threading.local()
        self.turn = 0
        self.lock = threading.Lock()
        self.pool = ThreadPoolExecutor(CONNECTIONS)

    def _next_base(self) -> str:
        with self.lock:
            self.turn += 1
            return self.bases[self.turn % len(self.bases)]

    def _connection(self, base: str) -> http.client.HTTPConnection:
        conns = self.local.__dict__.setdefault("conns", {})
        if base not in conns:
            parts = urllib.parse.urlsplit(base)
            conns[base] = http.client.HTTPConnection(parts.hostname, parts.port, timeout=120)
        return conns[base]

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None,
                base: str | None = None) -> Fetch:
        base = base or self._next_base()
        sent = {"Accept-Encoding": "gzip", "Accept": "text/html,*/*", **(headers or {})}
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        for attempt in (1, 2):  # a keep-alive connection the server closed is opened again once
            conn = self._connection(base)
            started = time.perf_counter()
            try:
                conn.request(method, path, body=body, headers=sent)
                response = conn.getresponse()
                raw = response.read()
                break
            except (http.client.HTTPException, ConnectionError):
                conn.close()
                if attempt == 2:
                    raise
        ended = time.perf_counter()
        for header, value in response.getheaders():
            if header.lower() == "set-cookie":
                name, _sep, rest = value.partition("=")
                with self.lock:
                    self.cookies[name.strip()] = rest.split(";", 1)[0]
        if response.getheader("Content-Encoding") == "gzip":
            raw = gzip.decompress(raw)
        return Fetch(path, response.status, started, ended, raw.decode("utf-8", "replace"),
                     header_values(response.getheader("Server-Timing") or ""))

    def login(self, username: str, password: str, login_path: str = "/login/") -> None:
        base = self.bases[0]
        page = self.request("GET", login_path, base=base)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.body)
        assert token, f"no CSRF token on {login_path}"
        form = urllib.parse.urlencode({"username": username, "password": password,
                                       "csrfmiddlewaretoken": token.group(1)}).encode()
        done = self.request("POST", login_path, body=form, base=base, headers={
            "Content-Type": "application/x-www-form-urlencoded", "Referer": base + login_path})
        assert done.status == 302, f"login of {username} failed: {done.status}"

    def load(self, path: str, extra: Callable[[str, str], list[str]] | None = None) -> dict[str, Any]:
        """The page, then what it loads (htmx load triggers, found again in every fragment, and
        `extra` requests a page's own script makes), up to CONNECTIONS at a time."""
        page = self.request("GET", path)
        assert page.status == 200, (path, page.status)
        fragments: list[Fetch] = []
        lock = threading.Lock()
        pending: list[Any] = []

        def fetch(url: str) -> None:
            got = self.request("GET", url, headers={"HX-Request": "true", "HX-Current-URL": path})
            assert got.status == 200, (url, got.status)
            with lock:
                fragments.append(got)
                for inner in load_triggered(got.body):
                    pending.append(self.pool.submit(fetch, inner))

        with lock:
            for url in load_triggered(page.body) + (extra(path, page.body) if extra else []):
                pending.append(self.pool.submit(fetch, url))
        while True:
            with lock:
                waiting = [f for f in pending if not f.done()]
                if not waiting:
                    break
            for future in waiting:
                future.result()
        for future in pending:
            future.result()  # raises what a fragment raised
        last = max([page.ended, *(f.ended for f in fragments)])
        return {"page": page.ms, "complete": (last - page.started) * 1000, "server": page.timing,
                "fragments": {_fragment_name(f.path): f.ms for f in fragments}, "bytes": len(page.body)}


def _fragment_name(path: str) -> str:
    """/cases/12/part/side/ → cases/part/side (ids and queries out, so cases group together)."""
    clean = urllib.parse.urlsplit(path).path
    return "/".join(part for part in clean.strip("/").split("/") if not part.isdigit()) or "/"


# --- The desk: data, servers, pages ---------------------------------------------------------

def desk_pages(size: int) -> tuple[dict[str, tuple[str, str]], dict[str, int]]:
    """{page name: (path, user)} on the generated desk, with the deep keyset cursors found
    in-process once (desk_bench.deep_cursor)."""
    from desk_bench import deep_cursor
    from django.db.models import Count
    from django.urls import reverse
    from generate_desk import BENCH_CASE_EVERY

    from madoguchi.accounts.models import User
    from madoguchi.cases.models import Case
    from madoguchi.customers.models import Customer

    agent = User.objects.get(username=AGENT)
    inbox = reverse("cases:inbox")
    pages: dict[str, tuple[str, str]] = {}
    depths: dict[str, int] = {}
    for code in ("mine", "team", "unassigned", "all"):
        pages[f"inbox {code} first"] = (f"{inbox}?{urllib.parse.urlencode({'queue': code})}", AGENT)
        cursor, depths[code] = deep_cursor(code, agent)
        pages[f"inbox {code} deep"] = (f"{inbox}?{urllib.parse.urlencode({'queue': code, 'cursor': cursor})}", AGENT)
    big = [pk for pk in range(BENCH_CASE_EVERY, size + 1, max(size // 5 // BENCH_CASE_EVERY, 1) * BENCH_CASE_EVERY)][:5]
    for pk in big:
        pages[f"case 50 messages #{pk}"] = (reverse("cases:detail", args=[pk]), AGENT)
    rnd = random.Random(16)
    for pk in rnd.sample(range(1, size + 1), 5):
        if pk % BENCH_CASE_EVERY:
            pages[f"case typical #{pk}"] = (reverse("cases:detail", args=[pk]), AGENT)
    search = reverse("knowledge:search")
    for q in SEARCH_HITS:
        pages[f"search hits {q}"] = (f"{search}?{urllib.parse.urlencode({'q': q})}", AGENT)
    for q in SEARCH_NONE:
        pages[f"search none {q}"] = (f"{search}?{urllib.parse.urlencode({'q': q})}", AGENT)
    busiest = Case.objects.values("customer").annotate(n=Count("id")).order_by("-n").first()
    customer = busiest["customer"] if busiest else Customer.objects.values_list("pk", flat=True).first()
    pages["customer busiest"] = (reverse("customers:detail", args=[customer]), AGENT)
    pages["customer typical"] = (reverse("customers:detail", args=[max(customer // 2, 1)]), AGENT)
    pages["dashboard"] = (reverse("metrics:dashboard"), LEAD)
    return pages, depths


def group_of(name: str) -> str:
    """Pages of one kind are reported together: 'case 50 messages #1000' → 'case 50 messages'."""
    name = re.sub(r" #\d+$", "", name)
    for prefix in ("search hits", "search none", "ticket search hits", "ticket search none"):
        if name.startswith(prefix):
            return prefix
    return name


@dataclass
class Servers:
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)
    bases: list[str] = field(default_factory=list)
    logs: list[Any] = field(default_factory=list)

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
        for log in self.logs:
            log.close()


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_up(base: str, process: subprocess.Popen[bytes], path: str = "/login/", seconds: float = 300) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args} exited with {process.returncode}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", int(base.rsplit(":", 1)[1]), timeout=5)
            conn.request("GET", path)
            conn.getresponse().read()
            return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError(f"{base} did not start")


def start_desk(mode: str, processes: int, data_dir: Path, redis_db: int) -> Servers:
    env = {k: v for k, v in os.environ.items() if k not in ("MADOGUCHI_TASKS_IMMEDIATE", "DJANGO_ALLOW_ASYNC_UNSAFE")}
    env.update(MADOGUCHI_SMTP_PORT="0", MADOGUCHI_LOG_LEVEL="WARNING", PYTHONUNBUFFERED="1",
               MADOGUCHI_ALLOWED_HOSTS="127.0.0.1,localhost", MADOGUCHI_SERVER_TIMING="true")
    env.pop("REDIS_URL", None)
    servers = Servers()
    if mode == "scale":
        import redis

        env["REDIS_URL"] = f"redis://127.0.0.1:6379/{redis_db}"
        redis.Redis.from_url(env["REDIS_URL"]).flushdb()
        log = open(data_dir / "worker.log", "ab")  # noqa: SIM115 (closed in Servers.stop)
        servers.logs.append(log)
        servers.processes.append(subprocess.Popen([MADOGUCHI, "worker", "--workers", "2"], env=env, stdout=log,
                                                  stderr=subprocess.STDOUT))
    for n in range(processes if mode == "scale" else 1):
        port = free_port()
        args = [MADOGUCHI, "serve", "--port", str(port)] + (["--no-worker"] if mode == "scale" else [])
        log = open(data_dir / f"serve-{n}.log", "ab")  # noqa: SIM115
        servers.logs.append(log)
        servers.processes.append(subprocess.Popen(args, env=env, stdout=log, stderr=subprocess.STDOUT))
        servers.bases.append(f"http://127.0.0.1:{port}")
    try:
        for base, process in zip(servers.bases, servers.processes[-len(servers.bases):], strict=True):
            wait_up(base, process)
    except BaseException:
        servers.stop()
        raise
    return servers


# --- Rounds and figures -----------------------------------------------------------------------

def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, int(round(share * len(ordered) + 0.5)) - 1))]


def stats(values: list[float]) -> dict[str, float]:
    return {"p50": round(statistics.median(values), 1), "p95": round(percentile(values, 0.95), 1),
            "p99": round(percentile(values, 0.99), 1), "n": len(values)}


@dataclass
class Target:
    """One product under test: its browsers (one per user) and its pages."""

    name: str
    browsers: dict[str, Browser]
    pages: dict[str, tuple[str, str]]
    extra: Callable[[str, str], list[str]] | None = None
    samples: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def load(self, page: str) -> dict[str, Any]:
        path, user = self.pages[page]
        return self.browsers[user].load(path, self.extra)


def settle(seconds: int) -> None:
    """A desk just started runs every minute job at once, and trains its message reader if the
    data folder has none yet: measuring then would time the start, not the desk."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        time.sleep(min(15, max(0.0, end - time.monotonic())))
        print(f"  settling, load {os.getloadavg()[0]:.1f}", flush=True)


def run_rounds(targets: list[Target], rounds: int, warmup: int, comparable: dict[str, str]) -> None:
    """Every page of every target once per round, in a new order each round; a compared page
    of the peer right after (or before, alternately) ours."""
    rnd = random.Random(2026)
    ours = targets[0]
    names = list(ours.pages)
    for round_no in range(warmup + rounds):
        rnd.shuffle(names)
        for n, name in enumerate(names):
            order = [ours] + [t for t in targets[1:] if comparable.get(name) in t.pages]
            if (round_no + n) % 2:
                order.reverse()
            for target in order:
                page = name if target is ours else comparable[name]
                result = target.load(page)
                if round_no >= warmup:
                    target.samples.setdefault(page, []).append(result)
        state = "warm-up" if round_no < warmup else "measured"
        print(f"  round {round_no + 1}/{warmup + rounds} ({state}), load {os.getloadavg()[0]:.1f}", flush=True)


def figures(target: Target) -> dict[str, dict[str, Any]]:
    """{group: {"page": stats, "complete": stats, "fragments": {name: stats}}}."""
    grouped: dict[str, list[dict[str, Any]]] = {}
    for page in target.pages:  # in the order the pages were listed
        results = target.samples.get(page)
        if not results:
            continue
        grouped.setdefault(group_of(page), []).extend(results)
    out: dict[str, dict[str, Any]] = {}
    for group, results in grouped.items():
        fragments: dict[str, list[float]] = {}
        for result in results:
            for name, ms in result["fragments"].items():
                fragments.setdefault(name, []).append(ms)
        server = {key: stats([r["server"][key] for r in results]) for key in ("app", "cpu", "db", "queries")
                  if all(key in r.get("server", {}) for r in results)}
        out[group] = {"page": stats([r["page"] for r in results]), "complete": stats([r["complete"] for r in results]),
                      "server": server,
                      "fragments": {name: stats(values) for name, values in fragments.items()},
                      "fragments_per_load": round(sum(len(r["fragments"]) for r in results) / len(results), 1)}
    return out


def report(ours: dict[str, dict[str, Any]], peer: dict[str, dict[str, Any]], comparable: dict[str, str],
           meta: dict[str, Any], out: Path) -> None:
    lines = []
    peer_of = {group_of(mine): group_of(theirs) for mine, theirs in comparable.items()}
    with out.open("a") as f:
        for group, fig in ours.items():
            rows = [("page", fig["page"]), ("complete", fig["complete"])]
            rows += [(f"page's server {key}", value) for key, value in fig.get("server", {}).items()]
            rows += [(f"↳ {name}", value) for name, value in fig["fragments"].items()]
            peer_group = peer_of.get(group)
            theirs = peer.get(peer_group) if peer_group else None
            for what, value in rows:
                line = {**meta, "page": group, "figure": what, **value}
                if theirs and what in ("page", "complete"):
                    line["peer"] = {"page": peer_group, **theirs[what]}
                    line["ratio_p50"] = round(theirs[what]["p50"] / value["p50"], 1)
                    line["ratio_p95"] = round(theirs[what]["p95"] / value["p95"], 1)
                f.write(json.dumps(line, ensure_ascii=False) + "\n")
                lines.append(line)
    print(f"\n{meta['db']} · {meta['mode']} · {meta['cases']:,} cases · {meta['rounds']} rounds · load {meta['load']}")
    head = "| page | figure | p50 ms | p95 ms | p99 ms | n |"
    sep = "|---|---|---:|---:|---:|---:|"
    if peer:
        head += " django-helpdesk page | its p50 / p95 ms | × p50 | × p95 |"
        sep += "---|---:|---:|---:|"
    print(head)
    print(sep)
    for line in lines:
        row = f"| {line['page']} | {line['figure']} | {line['p50']} | {line['p95']} | {line['p99']} | {line['n']} |"
        if peer:
            if "peer" in line:
                p = line["peer"]
                row += f" {p['page']} ({line['figure']}) | {p['p50']} / {p['p95']} | {line['ratio_p50']} | {line['ratio_p95']} |"
            else:
                row += " | | | |"
        print(row)
    print(f"\nwritten {out}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=["sqlite", "postgres"], required=True)
    parser.add_argument("--size", type=int, default=100_000, help="number of cases (the generated desk's size)")
    parser.add_argument("--generate", action="store_true", help="drop and generate the desk first")
    parser.add_argument("--mode", choices=["embedded", "scale"], default="embedded")
    parser.add_argument("--processes", type=int, default=3, help="scale mode: serve --no-worker processes")
    parser.add_argument("--redis-db", type=int, default=13, help="scale mode: Redis database number (flushed)")
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--settle", type=int, default=90,
                        help="seconds to let the started desk's worker run its first periodic jobs before the rounds")
    parser.add_argument("--helpdesk", action="store_true", help="also django-helpdesk 2.6.1, in the same rounds")
    parser.add_argument("--helpdesk-workers", type=int, default=0,
                        help="gunicorn processes (default: as many as Madoguchi's web processes)")
    parser.add_argument("--out", help="JSON lines file (appended)")
    parser.add_argument("--database-name", help="PostgreSQL: this database instead of bench_desk[_SIZE]")
    parser.add_argument("--drop-after", action="store_true", help="PostgreSQL: drop the databases at the end")
    args = parser.parse_args()
    if args.mode == "scale" and args.db != "postgres":
        parser.error("the scale mode runs on PostgreSQL (--db postgres)")

    from desk_bench import build, configure, refresh_other_apps, reset_database

    data_dir, url = configure(args.db, args.size)
    if args.db == "postgres" and args.database_name:
        url = f"{url.rsplit('/', 1)[0]}/{args.database_name}"
        os.environ["DATABASE_URL"] = url
    os.environ.pop("MADOGUCHI_ALLOWED_HOSTS", None)
    if args.generate:
        reset_database(args.db, data_dir, url)
        for stale in (data_dir / "helpdesk").glob(".loaded-*"):  # the peer's tickets are made again too
            stale.unlink()
    import django

    django.setup()
    if args.generate:
        build(args.db, args.size, data_dir, url)
    refresh_other_apps()
    pages, depths = desk_pages(args.size)
    peer_target: Target | None = None
    comparable: dict[str, str] = {}
    peer_servers = None
    from django.db import connections

    connections.close_all()
    servers = start_desk(args.mode, args.processes, data_dir, args.redis_db)
    try:
        browsers = {user: Browser(servers.bases) for user in {u for _p, u in pages.values()}}
        for user, browser in browsers.items():
            browser.login(user, PASSWORD)
        targets = [Target("madoguchi", browsers, pages)]
        if args.helpdesk:
            import helpdesk_peer

            workers = args.helpdesk_workers or len(servers.bases)
            peer_servers, peer_pages, comparable, extra = helpdesk_peer.start(
                args.db, args.size, data_dir, url, pages, depths, workers, PASSWORD)
            peer_browser = Browser(peer_servers.bases)
            peer_browser.login(helpdesk_peer.USER, PASSWORD, helpdesk_peer.LOGIN)
            peer_target = Target("django-helpdesk", {helpdesk_peer.USER: peer_browser}, peer_pages, extra)
            targets.append(peer_target)
        settle(args.settle)
        load_before = os.getloadavg()[0]
        run_rounds(targets, args.rounds, args.warmup, comparable)
        meta = {"db": args.db, "mode": args.mode, "processes": len(servers.bases), "cases": args.size,
                "rounds": args.rounds, "load": [round(load_before, 1), round(os.getloadavg()[0], 1)],
                "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
        out = Path(args.out) if args.out else data_dir / f"http-{args.db}-{args.mode}.jsonl"
        report(figures(targets[0]), figures(peer_target) if peer_target else {}, comparable, meta, out)
    finally:
        servers.stop()
        if peer_servers is not None:
            peer_servers.stop()
        if args.drop_after and args.db == "postgres":
            drop_databases(url, data_dir, args.helpdesk)


def drop_databases(url: str, data_dir: Path, helpdesk: bool) -> None:
    import psycopg
    from django.db import connections

    connections.close_all()
    if helpdesk:
        import helpdesk_peer

        helpdesk_peer.drop("postgres", data_dir, url)
    name = url.rsplit("/", 1)[1]
    with psycopg.connect(f"{url.rsplit('/', 1)[0]}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    print(f"dropped {name}" + (f" and {name}_helpdesk" if helpdesk else ""))


if __name__ == "__main__":
    main()
