"""Run the ticket clocks (reminders, escalations, appointment reminders, handovers) every few
seconds, inside `serve` or `baishitong worker`. Each job fires once however many processes run it
(see storage/deadlines.py)."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from knowledge import Handbook
from storage.deadlines import ClockKeeper
from storage.desk import ServiceDesk

log = logging.getLogger("baishitong.scheduler")


def clock_keeper(desk: ServiceDesk, handbook: Handbook) -> ClockKeeper:
    def claim_minutes(item_id: str) -> int:
        item = handbook.items.get(item_id)
        return item.order.claim_minutes if item and item.order else 15

    return ClockKeeper(desk, claim_minutes)


class Scheduler:
    def __init__(self, keeper: ClockKeeper, interval: float = 30.0):
        self.keeper = keeper
        self.interval = interval
        self._stopping = asyncio.Event()

    async def run(self) -> None:
        while not self._stopping.is_set():
            try:
                report = await self.keeper.tick()
                if report.counts:
                    log.info("clocks: %s", ", ".join(f"{k} {v}" for k, v in sorted(report.counts.items())))
            except Exception:
                log.exception("clock tick failed; the next tick retries")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self.interval)

    def stop(self) -> None:
        self._stopping.set()
