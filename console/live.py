"""Live updates for every open board, whichever process changed the ticket.

One poller per process reads the rows of the ticket event log added since it last looked (the log
is the one place every change lands, from any process, on SQLite and PostgreSQL alike) and hands
the changed ticket ids to each subscriber (an open board's event stream). PostgreSQL may commit a
lower id after a higher one was read, so each pass looks back LOOKBACK ids and skips the ones
already seen.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque

from storage.board import events_after, last_event_ids
from storage.db import Database

POLL_SECONDS = 0.25  # a change shows on every board well within a second
LOOKBACK = 64
SEEN = 4096
log = logging.getLogger("baishitong.console")


class Live:
    def __init__(self, database: Database, poll_seconds: float = POLL_SECONDS):
        self._db = database
        self._poll = poll_seconds
        self._subscribers: set[asyncio.Queue[set[int] | None]] = set()
        self._last: int | None = None  # read on the first pass
        self._seen: deque[int] = deque(maxlen=SEEN)
        self._seen_set: set[int] = set()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Start polling (from the log's current end, read on the first pass: a database that is
        down at start-up delays live updates, never the server)."""
        self._task = asyncio.create_task(self._run(), name="console-live")

    async def _begin(self) -> None:
        last, recent = await last_event_ids(self._db, LOOKBACK)
        for event_id in recent:  # already on the boards that open from now on
            self._remember(event_id)
        self._last = last

    async def close(self) -> None:
        for queue in self._subscribers:
            queue.put_nowait(None)  # each open stream ends
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    def subscribe(self) -> asyncio.Queue[set[int] | None]:
        queue: asyncio.Queue[set[int] | None] = asyncio.Queue()
        self._subscribers.add(queue)
        return queue

    def unsubscribe(self, queue: asyncio.Queue[set[int] | None]) -> None:
        self._subscribers.discard(queue)

    async def _run(self) -> None:
        """Poll all the time (one indexed query per pass), so a board that opens now misses
        nothing that happens after; fan out only when someone listens."""
        failing = False
        while True:
            try:
                if self._last is None:
                    await self._begin()
                changed = await self._changed()
            except Exception as exc:  # a database outage: the boards catch up when it ends
                if not failing:
                    log.warning("live updates paused: reading the ticket events failed: %s", exc)
                failing, changed = True, set()
            else:
                if failing:
                    log.info("live updates resumed")
                failing = False
            if changed:
                for queue in self._subscribers:
                    queue.put_nowait(changed)
            await asyncio.sleep(self._poll)

    async def _changed(self) -> set[int]:
        assert self._last is not None
        changed = set()
        for event_id, ticket_id in await events_after(self._db, self._last - LOOKBACK):
            if event_id in self._seen_set:
                continue
            self._remember(event_id)
            self._last = max(self._last, event_id)
            changed.add(ticket_id)
        return changed

    def _remember(self, event_id: int) -> None:
        if len(self._seen) == self._seen.maxlen:
            self._seen_set.discard(self._seen[0])
        self._seen.append(event_id)
        self._seen_set.add(event_id)
