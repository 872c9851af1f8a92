"""Exactly-once handling of WeChat deliveries, in per-resident order, within the reply deadline.

WeChat retries a request up to three times when it has no answer in 5 s. The first delivery
claims the message id and runs the handlers under the resident's lock; a retry either gets the
stored reply, or, while the first is still running, waits for it. Past the deadline the caller
answers "success" (so WeChat stops retrying) and the work finishes in the background.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from bot.wechat import SUCCESS
from handlers import Message, Reply, Services, dispatch

log = logging.getLogger("baishitong.pipeline")

APOLOGY = "抱歉，系统开小差了，请稍后再试；着急的话请回复“人工”或拨打社区电话。"


class Pipeline:
    def __init__(self, services: Services, *, deadline: float, dedup_ttl: float, lock_timeout: float = 30.0):
        self._services = services
        self._deadline = deadline
        self._dedup_ttl = dedup_ttl
        self._lock_timeout = lock_timeout
        self._running: set[asyncio.Task[str]] = set()

    async def respond(self, key: str, message: Message, render: Callable[[Reply], str]) -> str:
        """Return the reply body for this delivery; the handlers run at most once per key."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._deadline
        store = self._services.store
        claim = await store.claim(key, self._dedup_ttl)
        if claim.reply is not None:
            log.info("retry of %s answered from the stored reply", key)
            return claim.reply
        if claim.pending:
            reply = await store.wait_reply(key, max(0.0, deadline - loop.time()))
            if reply is None:
                log.warning("retry of %s still running at the deadline: answered success", key)
                return SUCCESS
            return reply
        task = asyncio.create_task(self._process(key, message, render))
        self._running.add(task)
        task.add_done_callback(self._running.discard)
        try:
            return await asyncio.wait_for(asyncio.shield(task), max(0.0, deadline - loop.time()))
        except TimeoutError:
            log.warning("reply to %s missed the %.1fs deadline: answered success", key, self._deadline)
            return SUCCESS

    async def _process(self, key: str, message: Message, render: Callable[[Reply], str]) -> str:
        try:
            async with self._services.store.lock(message.resident, self._lock_timeout):
                reply = await dispatch(message, self._services)
            body = render(reply)
        except Exception:
            log.exception("handling %s failed; the resident gets an apology", key)
            body = render(Reply(APOLOGY))
        await self._services.store.complete(key, body, self._dedup_ttl)
        return body

    async def drain(self, timeout: float = 5.0) -> None:
        """Let in-flight work finish on shutdown so no accepted message is dropped half-way."""
        if self._running:
            await asyncio.wait(set(self._running), timeout=timeout)
