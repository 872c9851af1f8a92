"""Exactly-once handling of WeChat deliveries, in per-resident order, within the reply deadline.

WeChat retries a request up to three times when it has no answer in 5 s. A delivery begins a
turn in the store: the first one of a message id owns it and runs the handlers; a retry gets
the stored reply or, while the first still runs, waits for it. Past the deadline the caller
answers "success" (so WeChat stops retrying) and the turn finishes in the background.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from bot.wechat import SUCCESS
from handlers import Context, Conversation, Message, Reply, Services, dispatch
from storage import Store

log = logging.getLogger("baishitong.pipeline")

APOLOGY = "抱歉，系统开小差了，请稍后再试；着急的话请回复“人工”或拨打社区电话。"
BUSY = "现在咨询的人比较多，请过一分钟再发一次；着急的话请拨打社区电话。"


class Pipeline:
    def __init__(self, services: Services, store: Store, *, deadline: float, max_in_flight: int = 256):
        self.services = services
        self._store = store
        self._deadline = deadline
        # Admission control: past this many unfinished turns, new messages are told to resend at
        # once. Without it, a burst beyond capacity queues every message into multi-second waits
        # and throughput falls (measured: 930/s capacity fell to 430/s under 1,200/s offered).
        self._max_in_flight = max_in_flight
        self._running: set[asyncio.Task[str]] = set()

    async def respond(self, key: str, message: Message, render: Callable[[Reply], str]) -> str:
        """The reply body for this delivery; the handlers run at most once per key.

        Raises the store's error when the store itself fails, so the transport can ask for a retry.
        """
        if len(self._running) >= self._max_in_flight:
            log.warning("%d turns in flight: %s answered busy without being handled", len(self._running), key)
            return render(Reply(BUSY))
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._deadline
        task = asyncio.create_task(self._turn(key, message, render, deadline))
        self._running.add(task)
        task.add_done_callback(self._finished)
        # asyncio.wait leaves the task running on timeout (no shield needed) and costs less than wait_for.
        done, _ = await asyncio.wait((task,), timeout=max(0.0, deadline - loop.time()))
        if not done:
            log.warning("reply to %s missed the %.1fs deadline: answered success", key, self._deadline)
            return SUCCESS
        return task.result()

    async def _turn(self, key: str, message: Message, render: Callable[[Reply], str], deadline: float) -> str:
        store = self._store
        turn = await store.begin(key, message.resident)
        if not turn.owner:
            if turn.reply is not None:
                log.info("retry of %s answered from the stored reply", key)
                return turn.reply
            remaining = max(0.0, deadline - asyncio.get_running_loop().time())
            reply = await store.wait_reply(key, message.resident, remaining)
            if reply is None:
                log.warning("retry of %s still running at the deadline: answered success", key)
                return SUCCESS
            return reply
        services = self.services
        try:
            conversation = Conversation.load(turn.state, services.now(), services.handbook.items)
            body = render(await dispatch(Context(message, conversation, services, turn.notice)))
        except Exception:
            log.exception("handling %s failed; the resident gets an apology", key)
            body, conversation = render(Reply(APOLOGY)), Conversation()  # the stored state is kept
        await store.finish(turn, body, conversation.change())
        return body

    def _finished(self, task: asyncio.Task[str]) -> None:
        self._running.discard(task)
        if not task.cancelled() and task.exception() is not None:
            # Also reached when the deadline already answered: make sure the failure is seen.
            log.error("turn failed: %r", task.exception())

    async def drain(self, timeout: float = 5.0) -> None:
        """Let in-flight turns finish on shutdown so no accepted message is dropped half-way."""
        if self._running:
            await asyncio.wait(set(self._running), timeout=timeout)
