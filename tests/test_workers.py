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


SERVE = textwrap.dedent(
    """
    import asyncio, os, sys
    import bot.pipeline
    from bot.cli import main

    flag, port = sys.argv[1], sys.argv[2]
    real_dispatch = bot.pipeline.dispatch

    async def first_is_slow(ctx):
        # Test hook (inherited by the forked workers): the first message hangs its worker mid-turn.
        if not os.path.exists(flag):
            with open(flag, "w") as out:
                out.write(str(os.getpid()))
            await asyncio.sleep(60)
        return await real_dispatch(ctx)

    bot.pipeline.dispatch = first_is_slow
    sys.exit(main(["serve", "--workers", "2", "--host", "127.0.0.1", "--port", port]))
    """
)


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _post(port: int, request, timeout: float, seen: list[str] | None = None) -> str:
    import urllib.parse
    import urllib.request

    if seen is not None:  # the replay guard's key for this signature: the test deletes it after
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(request.path).query)
        seen.append(f"bst:seen:{query['timestamp'][0]}:{query['nonce'][0]}")
    url = f"http://127.0.0.1:{port}{request.path}"
    with urllib.request.urlopen(urllib.request.Request(url, data=request.body), timeout=timeout) as response:
        return response.read().decode()


def test_a_retry_of_a_message_whose_worker_was_killed_mid_turn_gets_a_real_reply(
    tmp_path: Path, redis_url: str
) -> None:
    """`serve --workers 2` on Redis: the worker handling a message is SIGKILLed mid-turn; WeChat's
    retry, answered by another worker once the dead one's lease lapses, gets the real reply."""
    import itertools
    import threading
    import urllib.request
    import uuid

    import redis

    from tests.wechat_peer import TOKEN, WeChatPlatform, reply_content, text_xml

    port, flag = _free_port(), tmp_path / "slow-worker"
    env = dict(
        os.environ,
        WECHAT_TOKEN=TOKEN,
        WECHAT_MESSAGE_MODE="plaintext",
        REDIS_URL=redis_url,
        DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'tickets.db'}",
        OUTBOX_WORKER="off",
    )
    for name in ("WECHAT_AES_KEY", "WECHAT_APP_ID"):
        env.pop(name, None)
    parent = subprocess.Popen(
        [sys.executable, "-c", SERVE, str(flag), str(port)],
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=Path(__file__).resolve().parents[1],
    )
    resident = f"r-killed-{uuid.uuid4().hex[:8]}"
    platform = WeChatPlatform(_nonces=itertools.count(uuid.uuid4().int % 10**9))
    xml = text_xml(resident, "社保卡丢了怎么办", msg_id=uuid.uuid4().int % 10**12)
    seen: list[str] = []  # replay-guard keys the worker writes (they expire, but a run leaves nothing)
    try:

        def up() -> bool:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1).read()
            except OSError:
                return False
            return True

        _wait_for(up, timeout=60)

        def deliver_first() -> None:
            with contextlib.suppress(OSError):  # its worker is killed: the connection drops
                _post(port, platform.plaintext(xml), 10, seen)

        first = threading.Thread(target=deliver_first)
        first.start()
        _wait_for(lambda: flag.exists() and flag.read_text() != "")
        os.kill(int(flag.read_text()), signal.SIGKILL)  # mid-turn: pending marker and lock left behind
        time.sleep(0.5)  # WeChat's first retry comes 5 s later; here: once the dead socket is gone
        bodies: list[str] = []
        for _ in range(4):  # WeChat's retries, each waiting up to 5 s for an answer
            try:
                bodies.append(_post(port, platform.plaintext(xml), 6, seen))
            except OSError as exc:  # a connection the dying worker's socket had queued: WeChat retries
                bodies.append(f"{type(exc).__name__}: {exc}")
                continue
            if bodies[-1] != "success":
                break
        first.join(timeout=10)
        assert "<xml>" in bodies[-1], bodies
        assert reply_content(bodies[-1]).startswith("【社会保障卡申领、补换与挂失】")
        parent.send_signal(signal.SIGTERM)
        parent.wait(timeout=15)
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait()
        client = redis.Redis.from_url(redis_url)
        keys = list(client.scan_iter(match=f"bst:{{{resident}}}*"))
        if keys or seen:
            client.delete(*keys, *seen)
        client.close()
    log = parent.stderr.read() if parent.stderr else ""
    assert "died of SIGKILL" in log and "taken over" in log, log[-3000:]
