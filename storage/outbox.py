"""The outbox: pushes and notices written with the ticket change behind them, drained by a worker.

A worker leases due rows (a conditional UPDATE, so two workers never take the same row), sends
them, and marks them sent; before each send it renews the row's lease (`renew`, fencing), so a
pass slower than its lease skips rows another worker took meanwhile. A worker that dies mid-send
leaves a lease that runs out, and another worker sends the row then. The only duplicate left
possible is a send that succeeded in the milliseconds before a crash, whose "sent" mark never
committed.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select, update

from storage.db import Database
from storage.models import KeptNotice, OutboxMessage

log = logging.getLogger("baishitong.outbox")


def outbox_row(
    channel: str,
    target: str,
    event: str,
    payload: dict[str, Any],
    now: datetime,
    *,
    due: datetime | None = None,
) -> OutboxMessage:
    return OutboxMessage(
        channel=channel,
        target=target,
        event=event,
        payload=payload,
        ticket_id=payload.get("ticket_id"),
        created_at=now,
        due_at=due or now,
        attempts=0,
        outcome="",
    )


class Outbox:
    # Kept notices are kept by whichever process runs the worker (`serve`, `baishitong worker`) and
    # shown by whichever process the resident's next message reaches (`serve`, `chat`): the
    # database is the only place they all share. Each process re-reads which residents have
    # unshown notices at most this often, so an ordinary turn costs no query.
    kept_refresh_seconds = 1.0
    kept_read_timeout = 0.5

    def __init__(self, database: Database, clock: Callable[[], datetime] = lambda: datetime.now(UTC)):
        self._db = database
        self._clock = clock
        self._waiting: set[str] = set()  # residents with unshown kept notices, as last read
        self._looked_at: float | None = None  # time.monotonic() of that read

    async def lease(
        self,
        worker: str,
        *,
        limit: int = 50,
        lease_seconds: float = 60.0,
        channels: tuple[str, ...] = ("group", "resident"),
    ) -> list[OutboxMessage]:
        """Take up to `limit` due, unsent rows of `channels` that no live lease holds; oldest first."""
        now = self._clock()
        free = and_(
            OutboxMessage.sent_at.is_(None),
            OutboxMessage.due_at <= now,
            OutboxMessage.channel.in_(channels),
            or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until < now),
        )
        async with self._db.transaction() as session:
            ids = list(
                await session.scalars(
                    select(OutboxMessage.id).where(free).order_by(OutboxMessage.id).limit(limit)
                )
            )
            if not ids:
                return []
            # Re-checking `free` in the UPDATE makes the lease safe against a concurrent worker.
            await session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id.in_(ids), free)
                .values(claimed_by=worker, claimed_until=now + timedelta(seconds=lease_seconds))
            )
        async with self._db.session() as session:
            rows = await session.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.id.in_(ids), OutboxMessage.claimed_by == worker)
                .order_by(OutboxMessage.id)
            )
            return [row for row in rows if row.sent_at is None]

    async def renew(self, worker: str, row_ids: list[int], lease_seconds: float) -> list[int]:
        """Fencing: extend `worker`'s lease on the rows it still holds, just before sending them.

        Returns the ids still held and unsent. A row whose lease ran out during a slow pass and was
        leased by another worker is no longer `worker`'s: the caller must not send it."""
        if not row_ids:
            return []
        now = self._clock()
        async with self._db.transaction() as session:
            result = await session.execute(
                update(OutboxMessage)
                .where(
                    OutboxMessage.id.in_(row_ids),
                    OutboxMessage.claimed_by == worker,
                    # A lease that lapsed but that nobody took is still ours: lease() rewrites
                    # claimed_by when another worker takes the row.
                    OutboxMessage.sent_at.is_(None),
                )
                .values(claimed_until=now + timedelta(seconds=lease_seconds))
                .returning(OutboxMessage.id)
            )
            return sorted(result.scalars())

    async def sent(self, row_ids: list[int], outcome: str = "sent") -> None:
        if not row_ids:
            return
        async with self._db.transaction() as session:
            await session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id.in_(row_ids))
                .values(sent_at=self._clock(), outcome=outcome[:200], claimed_until=None)
            )

    async def retry(self, row: OutboxMessage, outcome: str, delay: float) -> None:
        """Send again after `delay` seconds (backoff chosen by the worker)."""
        async with self._db.transaction() as session:
            await session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == row.id)
                .values(
                    attempts=OutboxMessage.attempts + 1,
                    due_at=self._clock() + timedelta(seconds=delay),
                    claimed_until=None,
                    outcome=outcome[:200],
                )
            )

    async def release(self, row_ids: list[int]) -> None:
        """Give rows back unsent (rate limit reached): due again at once, no attempt counted."""
        if row_ids:
            async with self._db.transaction() as session:
                await session.execute(
                    update(OutboxMessage).where(OutboxMessage.id.in_(row_ids)).values(claimed_until=None)
                )

    async def keep(self, row: OutboxMessage, resident: str, text: str, outcome: str) -> None:
        """WeChat would not deliver it now: keep it to show when the resident next writes."""
        now = self._clock()
        async with self._db.transaction() as session:
            session.add(KeptNotice(resident=resident, text=text, created_at=now))
            await session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == row.id)
                .values(sent_at=now, outcome=outcome[:200], claimed_until=None)
            )
        self._waiting.add(resident)

    async def kept_waiting(self, resident: str) -> bool:
        """Whether kept notices (from any process's worker) may wait for `resident`."""
        now = time.monotonic()
        if self._looked_at is None or now - self._looked_at >= self.kept_refresh_seconds:
            self._looked_at = now  # before the await: concurrent turns share one read
            try:
                # A stalled database must not hold up every answer: the notice waits a turn.
                async with asyncio.timeout(self.kept_read_timeout), self._db.session() as session:
                    self._waiting = set(
                        await session.scalars(
                            select(KeptNotice.resident).where(KeptNotice.shown_at.is_(None)).distinct()
                        )
                    )
            except Exception as exc:  # the answer matters more than the notice: shown next time
                log.warning("cannot read kept notices: %r", exc)
        return resident in self._waiting

    async def take_kept(self, resident: str) -> list[str]:
        """Kept notices for `resident`, oldest first, marked shown."""
        now = self._clock()
        async with self._db.transaction() as session:
            rows = list(
                await session.scalars(
                    select(KeptNotice)
                    .where(KeptNotice.resident == resident, KeptNotice.shown_at.is_(None))
                    .order_by(KeptNotice.id)
                )
            )
            for row in rows:
                row.shown_at = now
            texts = [row.text for row in rows]
        self._waiting.discard(resident)
        return texts

    async def pending(self) -> int:
        async with self._db.session() as session:
            return int(
                await session.scalar(
                    select(func.count()).select_from(OutboxMessage).where(OutboxMessage.sent_at.is_(None))
                )
                or 0
            )

    async def rows(self) -> list[OutboxMessage]:
        async with self._db.session() as session:
            return list(await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
