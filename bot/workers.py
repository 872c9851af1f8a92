"""Run the webhook in several processes on one port (SO_REUSEPORT), for machines with more cores.

The handbook and classifier are built once in the parent and inherited by the forked workers
(copy-on-write, so jieba's dictionary is loaded once); each worker opens its own store
connections and event loop after the fork, because neither survives one. Workers share state
through Redis only, so more than one worker needs REDIS_URL.

The parent supervises: a worker that dies (OOM killer, SIGKILL, a crash) is logged with its exit
status and replaced, so the port keeps its capacity. A worker that keeps dying right after start
is not restarted in a tight loop: past RESTARTS_PER_MINUTE the parent stops everything and fails.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import time
from collections.abc import Callable

log = logging.getLogger("baishitong.workers")

RESTARTS_PER_MINUTE = 10  # per worker slot


def run_workers(count: int, serve_one: Callable[[], None]) -> int:
    """Fork `count` workers running serve_one() and keep `count` running until SIGTERM/SIGINT;
    return 0 when all then exited cleanly, 1 otherwise (or when workers kept dying)."""
    children: dict[int, int] = {}  # pid -> slot
    restarts: list[float] = []
    stopping = False
    status = 0

    def spawn(slot: int) -> int:
        pid = os.fork()
        if pid == 0:  # worker
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            try:
                serve_one()
            finally:
                os._exit(0)
        children[pid] = slot
        return pid

    for slot in range(count):
        spawn(slot)
    log.info("started %d workers: %s", count, ", ".join(map(str, children)))

    def stop(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True
        for child in list(children):
            with contextlib.suppress(ProcessLookupError):  # already gone
                os.kill(child, signal.SIGTERM)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    while children:
        try:
            pid, code = os.wait()
        except ChildProcessError:
            break
        slot = children.pop(pid, None)
        if slot is None:
            continue
        exit_code = os.waitstatus_to_exitcode(code)
        if stopping:
            status = status or (1 if exit_code not in (0, -signal.SIGTERM) else 0)
            continue
        now = time.monotonic()
        restarts[:] = [t for t in restarts if now - t < 60] + [now]
        if len(restarts) > RESTARTS_PER_MINUTE * count:
            log.error("worker %d %s; workers keep dying: stopping all", pid, _describe(exit_code))
            status = 1
            stop(signal.SIGTERM, None)
            continue
        replacement = spawn(slot)
        log.warning("worker %d %s; started worker %d in its place", pid, _describe(exit_code), replacement)
    return status


def _describe(exit_code: int) -> str:
    """ "died of SIGKILL" / "died with exit status 3": what an operator looks for in the log."""
    if exit_code < 0:
        try:
            name = signal.Signals(-exit_code).name
        except ValueError:
            name = f"signal {-exit_code}"
        return f"died of {name}"
    return f"died with exit status {exit_code}"
