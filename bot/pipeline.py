"""Exactly-once handling of WeChat deliveries, in per-resident order, within the reply deadline.

WeChat retries a request up to three times when it has no answer in 5 s. A delivery begins a
turn in the store: the first one of a message id owns it and runs the handlers; a retry gets
the stored reply or, while the first still runs, waits for it. When the first delivery's process
dies mid-turn (its owner lease lapses, storage/redis_store.py), the retry takes the message over
and runs the handlers itself. Past the deadline the caller
answers "success" (so WeChat stops retrying) and the turn finishes in the background.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from datetime import datetime, timedelta

from bot.wechat import SUCCESS
from handlers import Context, Conversation, Message, Reply, Services, dispatch
from handlers.render import truncate
from storage import Store

log = logging.getLogger("baishitong.pipeline")

APOLOGY = "抱歉，系统开小差了，请稍后再试；着急的话请回复“人工”或拨打社区电话。"
_BEGINS = 3  # a retry waiting for a first delivery whose owner died begins again to take it over

BUSY = "现在咨询的人比较多，请过一分钟再发一次；着急的话请拨打社区电话。"


class StoreUnavailable(Exception):
    """The turn store failed (Redis down or stalled): nothing was answered, so WeChat should retry."""


class OutageLog:
    """One line when a store outage begins and one when it ends, with the count of refused requests.

    A traceback per refused request turned a 10-second Redis outage into 86,037 log lines.
    """

    def __init__(self, logger: logging.Logger, clock: Callable[[], float] = time.monotonic) -> None:
        self._log = logger
        self._clock = clock
        self._since: float | None = None
        self._refused = 0

    def failed(self, exc: BaseException, *, refused: bool = True) -> None:
        if self._since is None:
            self._since = self._clock()
            self._log.error(
                "store outage began: %s: %s; answering 503 so WeChat retries", type(exc).__name__, exc
            )
        self._refused += refused

    @property
    def active(self) -> bool:
        return self._since is not None

    def recovered(self) -> None:
        if self._since is None:
            return
        self._log.warning(
            "store outage ended after %.1fs: %d requests refused with 503",
            self._clock() - self._since,
            self._refused,
        )
        self._since, self._refused = None, 0


class CatchUp:
    """After a store outage, each resident's next message names the tickets they placed meanwhile.

    Redis without persistence died as a resident confirmed: the ticket was committed, the reply
    failed (503) and the draft vanished with Redis, so the resident, never told, ordered again.
    Tickets created from shortly before the outage began until it ended are named once to their
    resident, in the first reply within CATCH_UP after it (per process: each process that saw the
    outage tells the residents it serves; tickets are read from the database, not the store)."""

    LOOKBACK = timedelta(seconds=30)  # a turn that began before the first failure
    CATCH_UP = timedelta(hours=2)

    def __init__(self, services: Services) -> None:
        self._services = services
        self._since: datetime | None = None
        self._until: datetime | None = None
        self._told: set[str] = set()

    def began(self, already: bool) -> None:
        if not already:
            self._since = self._services.clock() - self.LOOKBACK
            self._until, self._told = None, set()

    def ended(self) -> None:
        if self._since is not None:
            self._until = self._services.clock() + self.CATCH_UP

    async def told(self, resident: str, reply: Reply) -> Reply:
        """`reply`, preceded by the resident's tickets created during the last outage (once)."""
        desk = self._services.desk
        if self._since is None or desk is None or resident in self._told:
            return reply
        if self._until is not None and self._services.clock() > self._until:
            self._since = self._until = None
            return reply
        self._told.add(resident)
        tickets = await desk.tickets_since(resident, self._since)
        if not tickets:
            return reply
        handbook = self._services.handbook
        listed = "；".join(f"工单 {t.number}【{handbook.item(t.item_id).title}】" for t in tickets)
        log.info("after the outage, told %s of %d ticket(s)", resident, len(tickets))
        note = f"刚才系统故障，没能及时回复您。这段时间您的预约已提交成功：{listed}。不用重复提交。"
        return Reply(truncate(f"{note}\n\n{reply.text}" if reply.text else note))


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
        self.outage = OutageLog(log)
        self.catch_up = CatchUp(services)

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
        error = task.exception()
        if isinstance(error, StoreUnavailable):
            self.catch_up.began(self.outage.active)
            self.outage.failed(error.__cause__ or error)
            raise error
        return task.result()

    async def _turn(self, key: str, message: Message, render: Callable[[Reply], str], deadline: float) -> str:
        try:
            return await self._run_turn(key, message, render, deadline)
        except (StoreUnavailable, asyncio.CancelledError):
            raise
        except Exception as exc:  # every failure outside the handlers is the store's
            raise StoreUnavailable(f"{type(exc).__name__}: {exc}") from exc

    async def _run_turn(
        self, key: str, message: Message, render: Callable[[Reply], str], deadline: float
    ) -> str:
        store = self._store
        loop = asyncio.get_running_loop()
        for attempt in range(_BEGINS):
            turn = await store.begin(key, message.resident)
            if attempt == 0:
                if self.outage.active:
                    self.catch_up.ended()
                self.outage.recovered()
            if turn.owner:
                break
            if turn.reply is not None:
                log.info("retry of %s answered from the stored reply", key)
                return turn.reply
            reply = await store.wait_reply(key, message.resident, max(0.0, deadline - loop.time()))
            if reply is not None:
                return reply
            # None before the deadline: the first delivery's owner died (its process was killed) or
            # gave the message back; begin again, which takes the message over.
            if loop.time() >= deadline or attempt == _BEGINS - 1:
                log.warning("retry of %s still running at the deadline: answered success", key)
                return SUCCESS
        services = self.services
        try:
            conversation = Conversation.load(turn.state, services.now(), services.handbook.items)
            reply = await dispatch(Context(message, conversation, services, turn.notice))
            body = render(await self.catch_up.told(message.resident, reply))
        except Exception:
            log.exception("handling %s failed; the resident gets an apology", key)
            body, conversation = render(Reply(APOLOGY)), Conversation()  # the stored state is kept
        await store.finish(turn, body, conversation.change())
        return body

    def _finished(self, task: asyncio.Task[str]) -> None:
        self._running.discard(task)
        if task.cancelled():
            return
        error = task.exception()
        if isinstance(error, StoreUnavailable):
            # Starts the outage log even past the deadline; respond() counts the refused requests.
            self.catch_up.began(self.outage.active)
            self.outage.failed(error.__cause__ or error, refused=False)
        elif error is not None:
            # Also reached when the deadline already answered: make sure the failure is seen.
            log.error("turn failed: %r", task.exception())

    async def drain(self, timeout: float = 5.0) -> None:
        """Let in-flight turns finish on shutdown so no accepted message is dropped half-way."""
        if self._running:
            await asyncio.wait(set(self._running), timeout=timeout)
