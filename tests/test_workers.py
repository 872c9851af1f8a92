"""`serve --workers N` supervision: a worker that dies is logged and replaced."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

CHILD = textwrap.dedent(
    """
    import logging, os, sys, time
    from bot.workers import run_workers

    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    pids = sys.argv[1]

    def serve_one() -> None:
        with open(pids, "a") as out:
            out.write(f"{os.getpid()}\\n")
        while True:
            time.sleep(1)

    sys.exit(run_workers(2, serve_one))
    """
)


def _pids(path: Path) -> list[int]:
    return [int(line) for line in path.read_text().split()] if path.exists() else []


def _wait_for(predicate, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_a_killed_worker_is_logged_and_replaced(tmp_path: Path) -> None:
    pids = tmp_path / "pids"
    parent = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(pids)],
        stderr=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[1],
    )
    try:
        _wait_for(lambda: len(_pids(pids)) == 2)
        victim = _pids(pids)[0]
        os.kill(victim, signal.SIGKILL)
        _wait_for(lambda: len(_pids(pids)) == 3)
        replacement = _pids(pids)[2]
        os.kill(replacement, 0)  # alive
        parent.send_signal(signal.SIGTERM)
        assert parent.wait(timeout=10) == 0
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait()
            for pid in _pids(pids):  # orphans of a failed run
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
    log = parent.stderr.read() if parent.stderr else ""
    died = [line for line in log.splitlines() if "died" in line]
    assert len(died) == 1 and str(victim) in died[0] and "SIGKILL" in died[0] and str(replacement) in died[0]
    for pid in _pids(pids):  # nothing left running
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            continue
        raise AssertionError(f"worker {pid} still running")
