"""Chat load: N concurrent widget WebSockets on ONE `madoguchi serve` process, each sending a
message every few seconds for a minute; delivery latency visitor → agent, ack latency and
process memory.

Loopback only; every loop is bounded in count and time and the script stops by itself.

    .venv/bin/python bench/chat_bench.py                       # SQLite, 1,000 visitors, 60 s
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/chathelper .venv/bin/python bench/chat_bench.py
    .venv/bin/python bench/chat_bench.py --visitors 200 --seconds 20   # a quick look

The load generator runs in processes of its own, so it does not share one event loop (and one
GIL) with itself: `--procs` visitor processes (250 sockets each by default) and one agent
process with `--agents` agent sockets, each watching its share of the chats from the start.
Connecting (staggered) and watching happen before the measured minute. Each message carries
its send time (CLOCK_MONOTONIC, which is one clock for every process of the machine) in its
client id, so the agent process measures visitor send → agent receive on its own. The ack
latency is visitor send → that visitor's socket receives the ack (the message is committed).
Client sockets do not negotiate permessage-deflate and send no pings of their own (the
server's pings are answered). After the run the database is counted: every acknowledged
message must be stored exactly once.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing as mp
import os
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "madoguchi.settings")

SETUP = """
import json
from django.utils import timezone
from madoguchi.cases.models import Case, Category
from madoguchi.chat.models import ChatSession
from madoguchi.customers.models import Customer
n = {n}
category = Category.objects.get(code="other")
now = timezone.now()
customers = Customer.objects.bulk_create([Customer(name=f"負荷 {{i}}") for i in range(n)])
cases = Case.objects.bulk_create([
    Case(subject=f"チャット負荷 {{i}}", channel="chat", category=category, customer=c, received_at=now, complaint="こんにちは")
    for i, c in enumerate(customers)
])
sessions = ChatSession.objects.bulk_create([ChatSession(case=c, customer_first_message_at=now) for c in cases])
print(json.dumps([[s.pk, s.token] for s in ChatSession.objects.order_by("id")]))
"""

COUNT = """
from django.db.models import Count
from madoguchi.cases.models import Interaction
from madoguchi.chat.models import ChatMessage
m = ChatMessage.objects.filter(client_id__startswith="v")
i = Interaction.objects.filter(external_id__startswith="v")
print({{"messages": m.count(), "distinct": m.values("session", "client_id").distinct().count(),
       "interactions": i.count(), "interactions_distinct": i.values("case", "external_id").distinct().count()}})
"""


def now_ns() -> int:
    return time.clock_gettime_ns(time.CLOCK_MONOTONIC)


def rss_kib(pid: int) -> tuple[int, int]:
    """(current, peak) resident memory of a process, in KiB, from /proc."""
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values[key] = int(rest.split()[0])
    return values.get("VmRSS", 0), values.get("VmHWM", 0)


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def fast_loop() -> None:
    with contextlib.suppress(ImportError):
        import uvloop

        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())


# --- agent process -----------------------------------------------------------------------------


def agent_process(conn: Any, url: str, cookie: str, session_ids: list[int], agents: int, stop_ns: int) -> None:
    fast_loop()
    conn.send(asyncio.run(_agents(conn, url, cookie, session_ids, agents, stop_ns)))


async def _agents(conn: Any, url: str, cookie: str, session_ids: list[int], agents: int, stop_ns: int) -> dict:
    import websockets

    state: dict[str, Any] = {"relay": [], "stored": 0, "drafts": {}, "watched": 0, "errors": [], "go": None, "stop": stop_ns}

    async def one(share: list[int]) -> None:
        try:
            async with websockets.connect(url + "/ws/chat/agent/", origin=url.replace("ws", "http", 1),
                                          additional_headers={"Cookie": cookie}, max_queue=None,
                                          compression=None, ping_interval=None, open_timeout=60) as ws:
                for session_id in share:
                    await ws.send(json.dumps({"type": "watch", "session_id": session_id}))
                while now_ns() < state["stop"]:
                    try:
                        raw = await asyncio.wait_for(ws.recv(), timeout=1)
                    except TimeoutError:
                        continue
                    received = now_ns()
                    event = json.loads(raw)
                    kind = event["type"]
                    if kind == "message" and event["message"]["sender"] == "customer":
                        client_id = event["message"]["client_id"]
                        if event["message"]["id"] is None:
                            sent = int(client_id.rsplit("-", 1)[1])
                            if state["go"] is not None:
                                state["relay"].append((received - sent) / 1e6)
                            state["drafts"][client_id] = state["drafts"].get(client_id, 0) + 1
                        else:
                            state["stored"] += 1
                    elif kind == "welcome":
                        state["watched"] += 1
                    elif kind == "error":
                        state["errors"].append(f"agent: {event.get('code')} {event.get('message')}")
        except Exception as error:  # noqa: BLE001 - counted and shown
            state["errors"].append(f"agent: {type(error).__name__}: {error}")

    tasks = [asyncio.create_task(one(session_ids[k::agents])) for k in range(agents)]
    while state["watched"] < len(session_ids) and now_ns() < stop_ns:
        await asyncio.sleep(0.1)
    conn.send({"watched": state["watched"]})
    # The parent says when the measured minute starts (messages before it are the warm-up).
    loop = asyncio.get_running_loop()
    go, end = await loop.run_in_executor(None, conn.recv)
    state["go"], state["stop"] = go, end + int(16e9)
    await asyncio.gather(*tasks)
    del state["stop"]
    drafts = state.pop("drafts")
    return {**state, "relayed_distinct": len(drafts), "relayed_twice": sum(1 for v in drafts.values() if v > 1)}


# --- visitor processes ---------------------------------------------------------------------------


def visitor_process(conn: Any, url: str, origin: str, sessions: list[list[Any]], first: int, ramp_per_second: float,
                    interval: float, stop_ns: int, deflate: bool) -> None:
    fast_loop()
    conn.send(asyncio.run(_visitors(conn, url, origin, sessions, first, ramp_per_second, interval, stop_ns, deflate)))


async def _visitors(conn: Any, url: str, origin: str, sessions: list[list[Any]], first: int, ramp: float,
                    interval: float, stop_ns: int, deflate: bool) -> dict:
    import websockets

    state: dict[str, Any] = {"connected": 0, "sent": 0, "acks": [], "errors": [], "unacked": 0, "connect_ms": []}
    go = asyncio.Event()
    window: dict[str, int] = {}
    t0 = now_ns()

    async def one(k: int, session: list[Any]) -> None:
        n = first + k
        _session_id, token = session
        await asyncio.sleep(k / ramp)
        pending: dict[str, int] = {}
        try:
            began = now_ns()
            async with websockets.connect(url + "/ws/chat/widget/", origin=origin, open_timeout=60, max_queue=None,
                                          compression="deflate" if deflate else None, ping_interval=None,
                                          close_timeout=5) as ws:
                await ws.send(json.dumps({"type": "hello", "token": token, "page_url": f"{origin}/items/{n}"}))
                while json.loads(await asyncio.wait_for(ws.recv(), timeout=60))["type"] != "welcome":
                    pass
                state["connect_ms"].append((now_ns() - began) / 1e6)
                state["connected"] += 1

                async def drain() -> None:
                    with contextlib.suppress(websockets.ConnectionClosed):
                        async for raw in ws:
                            event = json.loads(raw)
                            if event["type"] == "ack":
                                sent = pending.pop(event["client_id"], None)
                                if sent is not None and sent >= window["go"]:
                                    state["acks"].append((now_ns() - sent) / 1e6)
                            elif event["type"] == "error":
                                state["errors"].append(f"visitor {n}: {event.get('code')} {event.get('message')}")

                drainer = asyncio.create_task(drain())
                await go.wait()
                await asyncio.sleep(random.random() * interval)
                count = 1
                while now_ns() < window["end"]:
                    sent = now_ns()
                    client_id = f"v{n}-{count}-{sent}"
                    pending[client_id] = sent
                    await ws.send(json.dumps({"type": "message", "client_id": client_id, "text": f"在庫はありますか（{count}回目）"}))
                    state["sent"] += 1
                    count += 1
                    await asyncio.sleep(interval)
                grace_end = window["end"] + 15e9
                while pending and now_ns() < grace_end:
                    await asyncio.sleep(0.2)
                state["unacked"] += len(pending)
                drainer.cancel()
        except Exception as error:  # noqa: BLE001 - every failure is counted and shown
            state["errors"].append(f"visitor {n}: {type(error).__name__}: {error}")

    tasks = [asyncio.create_task(one(k, s)) for k, s in enumerate(sessions)]
    while state["connected"] + len(state["errors"]) < len(sessions) and now_ns() < stop_ns and now_ns() - t0 < 120e9:
        await asyncio.sleep(0.1)
    conn.send({"connected": state["connected"], "errors": len(state["errors"])})
    loop = asyncio.get_running_loop()
    window["go"], window["end"] = await loop.run_in_executor(None, conn.recv)
    await asyncio.sleep(max(0, (window["go"] - now_ns()) / 1e9))
    go.set()
    await asyncio.gather(*tasks)
    return state


# --- the run -----------------------------------------------------------------------------------


def pct(values: list[float], p: int) -> float | None:
    if len(values) < 100:
        return round(max(values), 1) if values and p == 100 else None
    return round(statistics.quantiles(values, n=100)[p - 1], 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--visitors", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--interval", type=float, default=5, help="seconds between one visitor's messages")
    parser.add_argument("--agents", type=int, default=4, help="agent sockets sharing the chats")
    parser.add_argument("--procs", type=int, default=0, help="visitor processes (default: one per 250 visitors)")
    parser.add_argument("--ramp-per-second", type=float, default=200, help="new connections a second, in all")
    parser.add_argument("--redis", action="store_true", help="use the Redis channel layer (default: in-memory)")
    parser.add_argument("--client-deflate", action="store_true",
                        help="visitors offer permessage-deflate, as browsers do (the server decides)")
    parser.add_argument("--tasks-inline", action="store_true", help="run background tasks inside the server (tests' setting)")
    parser.add_argument("--profile", default="", help="py-spy record the server during the minute into this file (.svg, or .txt for collapsed stacks)")
    args = parser.parse_args()
    args.visitors = min(args.visitors, 5000)  # bounded
    args.seconds = min(args.seconds, 300)
    procs = args.procs or max(1, (args.visitors + 249) // 250)

    from madoguchi.chat.tests.servers import login_cookie, running_desk

    ctx = mp.get_context("spawn")
    # Background work the messages start (search indexing, after-hours answers, SLA roll-ups)
    # goes to the task queue for a `madoguchi worker`, as at scale, not inline in the server.
    # Every visitor of the benchmark comes from 127.0.0.1: lift the per-address limit on new chats.
    server_env = {"MADOGUCHI_TASKS_IMMEDIATE": "true" if args.tasks_inline else "false",
                  "MADOGUCHI_CHAT_NEW_PER_ADDRESS_PER_HOUR": "1000000"}
    with running_desk(processes=1, redis=args.redis, env=server_env) as desk:
        server = desk.processes[0]
        base = desk.urls[0]
        ws_url = base.replace("http", "ws", 1)
        sessions = json.loads(desk.shell(SETUP.format(n=args.visitors)).strip().splitlines()[-1])
        cookie = login_cookie(base, "chat1")
        idle_rss = rss_kib(server.pid)[0]
        hard_stop = now_ns() + int((180 + args.seconds) * 1e9)  # every process gives up by then

        agent_conn, child = ctx.Pipe()
        agent_proc = ctx.Process(target=agent_process, args=(child, ws_url, cookie, [s[0] for s in sessions], args.agents, hard_stop))
        agent_proc.start()
        watched = agent_conn.recv()["watched"] if agent_conn.poll(120) else 0
        t_connect = time.monotonic()
        visitors = []
        share = (len(sessions) + procs - 1) // procs
        for p in range(procs):
            part = sessions[p * share:(p + 1) * share]
            conn, child = ctx.Pipe()
            proc = ctx.Process(target=visitor_process, args=(child, ws_url, desk.shop_url, part, p * share,
                                                             args.ramp_per_second / procs, args.interval, hard_stop,
                                                             args.client_deflate))
            proc.start()
            visitors.append((proc, conn))
        ready = [conn.recv() if conn.poll(180) else {"connected": 0, "errors": 0} for _proc, conn in visitors]
        connect_seconds = time.monotonic() - t_connect
        connected = sum(r["connected"] for r in ready)
        connected_rss = rss_kib(server.pid)[0]
        load_before = Path("/proc/loadavg").read_text().split()[:3]

        go = now_ns() + int(1e9)
        end = go + int(args.seconds * 1e9)
        agent_conn.send((go, end))
        for _proc, conn in visitors:
            conn.send((go, end))
        profiler = None
        if args.profile:
            import subprocess

            profiler = subprocess.Popen([str(Path(sys.executable).with_name("py-spy")), "record", "-p", str(server.pid),
                                         "-o", args.profile, "-d", str(int(args.seconds)), "-r", "50", "--nonblocking",
                                         *(["--format", "raw"] if args.profile.endswith(".txt") else [])],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        cpu_before = cpu_seconds(server.pid)
        time.sleep(1)
        peak_live = 0
        while now_ns() < end:
            time.sleep(1)
            peak_live = max(peak_live, rss_kib(server.pid)[0])
        cpu_minute = cpu_seconds(server.pid) - cpu_before
        load_after = Path("/proc/loadavg").read_text().split()[:3]
        results = [conn.recv() if conn.poll(60) else {"connected": 0, "sent": 0, "acks": [], "errors": ["no result"], "unacked": 0, "connect_ms": []}
                   for _proc, conn in visitors]
        agent = agent_conn.recv() if agent_conn.poll(60) else {"relay": [], "stored": 0, "errors": ["no result"], "watched": 0,
                                                                "relayed_distinct": 0, "relayed_twice": 0}
        for proc, _conn in visitors:
            proc.join(10)
        agent_proc.join(10)
        if profiler is not None:
            profiler.wait(30)
        stored = desk.shell(COUNT.format()).strip().splitlines()[-1]
        rss, hwm = rss_kib(server.pid)
    relay = sorted(agent["relay"])
    acks = sorted(a for r in results for a in r["acks"])
    connect_ms = sorted(c for r in results for c in r["connect_ms"])
    errors = [e for r in results for e in r["errors"]] + agent["errors"]
    print(json.dumps({
        "database": "postgresql" if os.environ.get("DATABASE_URL", "").startswith("postgres") else "sqlite",
        "channel_layer": "redis" if args.redis else "in-memory", "tasks": "inline" if args.tasks_inline else "queued",
        "visitors": args.visitors, "visitor_processes": procs, "client_offers_deflate": args.client_deflate, "connected": connected, "watched": watched,
        "connect_phase_s": round(connect_seconds, 1),
        "connect_ms": {"p50": round(statistics.median(connect_ms), 1) if connect_ms else None, "p99": pct(connect_ms, 99)},
        "seconds": args.seconds, "interval_s": args.interval,
        "messages_sent": sum(r["sent"] for r in results), "relayed_in_minute": len(relay),
        "relayed_distinct": agent["relayed_distinct"], "relayed_twice": agent["relayed_twice"],
        "stored_relayed": agent["stored"], "acked_in_minute": len(acks), "not_acked_after_grace": sum(r["unacked"] for r in results),
        "stored_in_db": stored, "errors": len(errors), "first_errors": errors[:5],
        "relay_ms": {"p50": round(statistics.median(relay), 1) if relay else None, "p95": pct(relay, 95),
                     "p99": pct(relay, 99), "max": round(relay[-1], 1) if relay else None},
        "ack_ms": {"p50": round(statistics.median(acks), 1) if acks else None, "p95": pct(acks, 95),
                   "p99": pct(acks, 99), "max": round(acks[-1], 1) if acks else None},
        "server_cpu_s_in_minute": round(cpu_minute, 1),
        "server_rss_mib": {"idle": round(idle_rss / 1024), "connected": round(connected_rss / 1024),
                           "live_peak_sampled": round(peak_live / 1024), "end": round(rss / 1024), "high_water": round(hwm / 1024)},
        "loadavg_before_after": [load_before, load_after],
    }, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
