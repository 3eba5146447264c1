"""The embedded worker: the one process `madoguchi serve` runs beside its web server.

On the embedded default the web process answers HTTP and WebSockets and nothing else. The
background jobs (Huey's consumer) and the channel listeners (`embedded.STARTERS`: the SMTP
receiver, …) run in this child, so a stranger's mail that takes a second of CPU to receive,
parse and index never holds the web's interpreter lock: with both in one process a page
waited up to 0.3 s while such mails were filed (issue 15, defect 2; docs/benchmarks.md).

- The child dies with the desk: it asks the kernel for SIGKILL when its parent dies
  (`PR_SET_PDEATHSIG`), so a `kill -9` of `serve` kills the whole desk at once, as before, and
  leaves no orphan holding the SMTP port. A normal stop sends it SIGTERM.
- A child that dies alone is started again by the parent (1 s, doubling to a minute).
- It tells the parent, through a pipe, which listeners could not start (a port taken), so
  the start banner says what really listens.
- Chat events its jobs publish (an automatic answer in an open chat) reach the web's
  sockets through the event bridge (`madoguchi.chat.bridge`).

With `serve --no-worker` (scale mode) nothing is started here: `madoguchi worker` processes
take the jobs, and the listeners run in the web process as before.
"""

from __future__ import annotations

import argparse
import ctypes
import json
import logging
import os
import select
import signal
import subprocess
import sys
import threading
import time
from typing import IO

log = logging.getLogger(__name__)

PR_SET_PDEATHSIG = 1
STATUS_WAIT_SECONDS = 120.0  # Django set-up and the listeners; the banner waits for them
STOP_WAIT_SECONDS = 15.0
RESTART_DELAY_SECONDS = (1.0, 60.0)  # first, longest


class EmbeddedWorker:
    """The parent's handle on the child: start it, watch it, restart it, stop it."""

    def __init__(self, events_socket: str, workers: int) -> None:
        self.events_socket = events_socket
        self.workers = workers
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0
        self._stopping = threading.Event()
        self._lock = threading.Lock()

    def start(self) -> dict[str, OSError]:
        """Start the child; returns the listeners it could not start. Called from the main
        thread, which lives as long as the desk (the death signal follows the thread that
        started the child)."""
        failed = self._spawn()
        threading.Thread(target=self._watch, name="embedded-worker-watch", daemon=True).start()
        return failed

    def stop(self) -> None:
        self._stopping.set()
        with self._lock:
            process = self.process
        if process is None or process.poll() is not None:
            return
        process.terminate()  # Huey's consumer stops on SIGTERM; unfinished work is redone
        try:
            process.wait(timeout=STOP_WAIT_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def _spawn(self) -> dict[str, OSError]:
        read_end, write_end = os.pipe()
        env = {**os.environ, "MADOGUCHI_EMBEDDED_EVENTS_SOCKET": self.events_socket, "MADOGUCHI_EMBEDDED_PARENT": str(os.getpid())}
        command = [sys.executable, "-m", "madoguchi.worker_process", "--status-fd", str(write_end),
                   "--workers", str(self.workers)]
        try:
            process = subprocess.Popen(command, env=env, pass_fds=(write_end,))
        finally:
            os.close(write_end)
        with self._lock:
            self.process = process
            self.starts += 1
        with os.fdopen(read_end, "rb") as status:
            return _read_status(status, process)

    def _watch(self) -> None:
        delay = RESTART_DELAY_SECONDS[0]
        while not self._stopping.is_set():
            with self._lock:
                process = self.process
            assert process is not None
            started = time.monotonic()
            code = process.wait()
            if self._stopping.is_set():
                return
            if time.monotonic() - started > RESTART_DELAY_SECONDS[1]:
                delay = RESTART_DELAY_SECONDS[0]  # it ran a good while: not a crash loop
            log.error("embedded worker exited with %s; starting it again in %.0f s", code, delay)
            if self._stopping.wait(delay):
                return
            delay = min(delay * 2, RESTART_DELAY_SECONDS[1])
            for name, error in self._spawn().items():
                log.error("embedded worker: %s could not start: %s", name, error)


def _read_status(status: IO[bytes], process: subprocess.Popen[bytes]) -> dict[str, OSError]:
    """The child's one line: {starter name: [errno, message]} of listeners that failed."""
    deadline = time.monotonic() + STATUS_WAIT_SECONDS
    while time.monotonic() < deadline:
        ready, _, _ = select.select([status], [], [], 0.5)
        if ready:
            line = status.readline()
            if not line:
                break  # the child exited before it could say
            return {name: OSError(errno, message) for name, (errno, message) in json.loads(line).items()}
        if process.poll() is not None:
            break
    return {"embedded_worker": OSError(0, f"the background worker did not start (exit {process.poll()})")}


# --- the child ----------------------------------------------------------------------------------


def _die_with_parent(parent: int) -> None:
    try:
        # SIGKILL, as the desk itself died: a consumer told to stop (SIGTERM) lets a worker thread
        # finish a relay's DATA while the process exits before the commit that marks it sent,
        # and the mail went twice after the restart (seen once in the kill -9 test on PostgreSQL).
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (AttributeError, OSError):  # not Linux: the parent's stop() still ends the child
        pass
    if os.getppid() != parent:  # the parent died before the request took effect
        sys.exit(0)


def _report(status_fd: int, failed: dict[str, OSError]) -> None:
    line = json.dumps({name: [error.errno or 0, error.strerror or str(error)] for name, error in failed.items()})
    with os.fdopen(status_fd, "w") as status:
        status.write(line + "\n")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="madoguchi-embedded-worker")
    parser.add_argument("--status-fd", type=int, required=True)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    _die_with_parent(int(os.environ.get("MADOGUCHI_EMBEDDED_PARENT", os.getppid())))
    from madoguchi.cli import _setup_django

    _setup_django(pool=True)
    from huey.contrib.djhuey import HUEY

    from madoguchi.embedded import run_starters

    _report(args.status_fd, run_starters())
    HUEY.create_consumer(workers=args.workers, worker_type="thread", periodic=True).run()


if __name__ == "__main__":
    main()
