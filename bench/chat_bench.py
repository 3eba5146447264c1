"""Chat load: N concurrent widget WebSockets on ONE `madoguchi serve` process, each sending a
message every few seconds for a minute; delivery latency visitor → agent and process memory.

Loopback only; every loop is bounded in count and time and the script stops by itself.

    .venv/bin/python bench/chat_bench.py                       # SQLite, 1,000 visitors, 60 s
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/test .venv/bin/python bench/chat_bench.py
    .venv/bin/python bench/chat_bench.py --visitors 200 --seconds 20   # a quick look

Latency is measured from just before the visitor's socket sends a message to the moment an
agent socket (watching that chat, on the same process) receives it: it includes storing the
message and its case interaction in the database. The clients run in this process's event
loop on the same 2 cores as the server, so the figures are an upper bound.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "madoguchi.settings")

import websockets  # noqa: E402

from madoguchi.chat.tests.servers import login_cookie, running_desk  # noqa: E402

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


def rss_kib(pid: int) -> tuple[int, int]:
    """(current, peak) resident memory of a process, in KiB, from /proc."""
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values[key] = int(rest.split()[0])
    return values.get("VmRSS", 0), values.get("VmHWM", 0)


class Run:
    def __init__(self, visitors: int, seconds: float, interval: float) -> None:
        self.visitors, self.seconds, self.interval = visitors, seconds, interval
        self.sent: dict[str, float] = {}
        self.latencies: list[float] = []
        self.errors: list[str] = []
        self.connected = 0
        self.watch_queues: list[asyncio.Queue[int]] = []
        self.ready = 0
        self.acked: dict[str, float] = {}
        self.ack_latencies: list[float] = []
        self.messages_sent = 0
        self.grace = 10.0
        self.stop = 0.0


async def agent(run: Run, url: str, cookie: str, queue: asyncio.Queue[int], stop: float) -> None:
    try:
        await _agent(run, url, cookie, queue)
    except Exception as error:  # noqa: BLE001 - counted and shown, the run goes on
        run.errors.append(f"agent: {type(error).__name__}: {error}")


async def _agent(run: Run, url: str, cookie: str, queue: asyncio.Queue[int]) -> None:
    async with websockets.connect(url + "/ws/chat/agent/", origin=url.replace("ws", "http", 1),
                                  additional_headers={"Cookie": cookie}, max_queue=None) as ws:
        async def watch() -> None:
            while time.monotonic() < run.stop:
                try:
                    session_id = await asyncio.wait_for(queue.get(), timeout=1)
                except TimeoutError:
                    continue
                await ws.send(json.dumps({"type": "watch", "session_id": session_id}))

        watcher = asyncio.create_task(watch())
        while time.monotonic() < run.stop + run.grace + 2:
            try:
                raw = await asyncio.wait_for(ws.recv(), timeout=1)
            except TimeoutError:
                continue
            event = json.loads(raw)
            if event["type"] == "message" and event["message"]["sender"] == "customer":
                sent = run.sent.pop(event["message"]["client_id"], None)
                if sent is not None:
                    run.latencies.append((time.perf_counter() - sent) * 1000)
            elif event["type"] == "welcome":
                run.ready += 1
            elif event["type"] == "error":
                run.errors.append(f"agent: {event['message']}")
        watcher.cancel()


async def visitor(run: Run, n: int, url: str, origin: str, session: list, start_at: float, go: asyncio.Event,
                  stop: float) -> None:
    session_id, token = session
    await asyncio.sleep(max(0, start_at - time.monotonic()))
    try:
        async with websockets.connect(url + "/ws/chat/widget/", origin=origin, open_timeout=60, max_queue=None) as ws:
            await ws.send(json.dumps({"type": "hello", "token": token, "page_url": origin + f"/items/{n}"}))
            while json.loads(await asyncio.wait_for(ws.recv(), timeout=120))["type"] != "welcome":
                pass
            run.connected += 1
            await run.watch_queues[n % len(run.watch_queues)].put(session_id)

            async def drain() -> None:
                with contextlib.suppress(websockets.ConnectionClosed):
                    await _drain()

            async def _drain() -> None:
                async for raw in ws:
                    event = json.loads(raw)
                    if event["type"] == "ack":
                        sent = run.acked.pop(event["client_id"], None)
                        if sent is not None:
                            run.ack_latencies.append((time.perf_counter() - sent) * 1000)
                    elif event["type"] == "error":
                        run.errors.append(f"visitor {n}: {event['message']}")

            drainer = asyncio.create_task(drain())
            await go.wait()
            await asyncio.sleep(random.random() * run.interval)
            count = 1
            while time.monotonic() < run.stop:
                client_id = f"v{n}-{count}"
                run.sent[client_id] = run.acked[client_id] = time.perf_counter()
                await ws.send(json.dumps({"type": "message", "client_id": client_id, "text": f"在庫はありますか（{count}回目）"}))
                run.messages_sent += 1
                count += 1
                await asyncio.sleep(run.interval)
            await asyncio.sleep(run.grace)
            drainer.cancel()
    except Exception as error:  # noqa: BLE001 - every failure is counted and shown
        run.errors.append(f"visitor {n}: {type(error).__name__}: {error}")


async def main_async(args: argparse.Namespace) -> None:
    with running_desk(processes=1, redis=args.redis) as desk:
        server = desk.processes[0]
        base = desk.urls[0]
        ws_url = base.replace("http", "ws", 1)
        sessions = json.loads(desk.shell(SETUP.format(n=args.visitors)).strip().splitlines()[-1])
        cookie = login_cookie(base, "chat1")
        idle_rss = rss_kib(server.pid)[0]
        run = Run(args.visitors, args.seconds, args.interval)
        run.watch_queues = [asyncio.Queue() for _ in range(args.agents)]
        ramp = args.visitors / args.ramp_per_second
        t0 = time.monotonic()
        stop = run.stop = t0 + ramp + 30 + args.seconds  # bounded: connect phase at most 30 s after the ramp
        go = asyncio.Event()
        agents = [asyncio.create_task(agent(run, ws_url, cookie, q, stop)) for q in run.watch_queues]
        visitors = [
            asyncio.create_task(visitor(run, n, ws_url, desk.shop_url, sessions[n], t0 + n / args.ramp_per_second, go, stop))
            for n in range(args.visitors)
        ]
        # Everyone connected and watched before the minute of messages starts.
        while (run.connected < args.visitors or run.ready < args.visitors) and time.monotonic() < t0 + ramp + 30:
            await asyncio.sleep(0.2)
        connected_rss = rss_kib(server.pid)[0]
        stop = time.monotonic() + args.seconds
        run.stop = stop
        go.set()
        peak_live = 0
        while time.monotonic() < stop:
            await asyncio.sleep(5)
            peak_live = max(peak_live, rss_kib(server.pid)[0])
        await asyncio.gather(*visitors, return_exceptions=True)
        await asyncio.gather(*agents, return_exceptions=True)
        rss, hwm = rss_kib(server.pid)
    lat = sorted(run.latencies)
    q = statistics.quantiles(lat, n=100) if len(lat) >= 100 else [float("nan")] * 99
    print(json.dumps({
        "database": "postgresql" if os.environ.get("DATABASE_URL", "").startswith("postgres") else "sqlite",
        "channel_layer": "redis" if args.redis else "in-memory",
        "visitors": args.visitors, "connected": run.connected, "watched": run.ready,
        "seconds": args.seconds, "interval_s": args.interval,
        "messages_sent": run.messages_sent, "messages_delivered": len(lat), "undelivered": len(run.sent),
        "stored_acked": len(run.ack_latencies), "not_acked_within_grace": len(run.acked), "errors": len(run.errors),
        "first_errors": run.errors[:5],
        "latency_ms": {"p50": round(statistics.median(lat), 1) if lat else None, "p95": round(q[94], 1),
                       "p99": round(q[98], 1), "max": round(lat[-1], 1) if lat else None},
        "ack_latency_ms": {"p50": round(statistics.median(run.ack_latencies), 1) if run.ack_latencies else None,
                           "max": round(max(run.ack_latencies), 1) if run.ack_latencies else None},
        "server_rss_mib": {"idle": round(idle_rss / 1024), "connected": round(connected_rss / 1024), "live_peak_sampled": round(peak_live / 1024),
                           "end": round(rss / 1024), "high_water": round(hwm / 1024)},
    }, ensure_ascii=False, indent=1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--visitors", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--interval", type=float, default=5, help="seconds between one visitor's messages")
    parser.add_argument("--agents", type=int, default=4, help="agent sockets sharing the chats")
    parser.add_argument("--ramp-per-second", type=float, default=100)
    parser.add_argument("--redis", action="store_true", help="use the Redis channel layer (default: in-memory)")
    args = parser.parse_args()
    args.visitors = min(args.visitors, 5000)  # bounded
    args.seconds = min(args.seconds, 600)
    asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
