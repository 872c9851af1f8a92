"""Conversation days (for the direct-answer rate and the most asked items): the first message a
resident sends on a community day, and the first about each item, are written once.

The write never delays an answer: it runs in the background, and a database that is down costs a
warning, not a reply. Each process remembers what it wrote today, so a resident's tenth message
writes nothing; another process writing the same row is harmless (insert or ignore)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import date, datetime, tzinfo

from storage.conversations import ConversationStore
from storage.db import Database

log = logging.getLogger("baishitong.desk")
MEMORY = 100_000  # (resident, item) pairs remembered per day and process before starting afresh


class ConversationLog:
    def __init__(self, database: Database, clock: Callable[[], datetime], tz: tzinfo):
        self.store = ConversationStore(database)
        self._clock = clock
        self._tz = tz
        self._day: date | None = None
        self._written: set[tuple[str, str]] = set()
        self._pending: set[asyncio.Task[None]] = set()

    def seen(self, resident: str, item: str = "") -> None:
        """The resident wrote today (and asked about `item`, when given)."""
        day = self._clock().astimezone(self._tz).date()
        if day != self._day or len(self._written) > MEMORY:
            self._day, self._written = day, set()
        for key in {(resident, ""), (resident, item)}:
            if key in self._written:
                continue
            self._written.add(key)
            task = asyncio.get_running_loop().create_task(self._write(day, *key))
            self._pending.add(task)
            task.add_done_callback(self._pending.discard)

    async def _write(self, day: date, resident: str, item: str) -> None:
        try:
            await self.store.add(day, resident, item)
        except Exception as exc:  # statistics only: never let them cost the resident the answer
            self._written.discard((resident, item))  # tried again on the next message
            log.warning("could not record a conversation day: %r", exc)

    async def flush(self) -> None:
        """Wait for the writes under way (tests, and shutdown)."""
        while self._pending:
            await asyncio.gather(*list(self._pending), return_exceptions=True)
