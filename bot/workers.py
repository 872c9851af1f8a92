"""Run the webhook in several processes on one port (SO_REUSEPORT), for machines with more cores.

The handbook and classifier are built once in the parent and inherited by the forked workers
(copy-on-write, so jieba's dictionary is loaded once); each worker opens its own store
connections and event loop after the fork, because neither survives one. Workers share state
through Redis only, so more than one worker needs REDIS_URL.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
from collections.abc import Callable

log = logging.getLogger("baishitong.workers")


def run_workers(count: int, serve_one: Callable[[], None]) -> int:
    """Fork `count` workers running serve_one(); return when all have exited (0 if all exited cleanly)."""
    children: list[int] = []
    for _ in range(count):
        pid = os.fork()
        if pid == 0:  # worker
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            try:
                serve_one()
            finally:
                os._exit(0)
        children.append(pid)
    log.info("started %d workers: %s", count, ", ".join(map(str, children)))

    def stop(signum: int, _frame: object) -> None:
        for child in children:
            with contextlib.suppress(ProcessLookupError):  # already gone
                os.kill(child, signal.SIGTERM)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    status = 0
    for child in children:
        while True:
            try:
                _, code = os.waitpid(child, 0)
                break
            except InterruptedError:
                continue
        status = status or (1 if os.waitstatus_to_exitcode(code) not in (0, -signal.SIGTERM) else 0)
    return status
