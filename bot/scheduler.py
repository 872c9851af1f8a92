"""Run the ticket clocks (reminders, escalations, appointment reminders, handovers) every few
seconds, inside `serve` or `baishitong worker`. Each job fires once however many processes run it
(see desk/deadlines.py)."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import logging
from datetime import time

from bot.report import chart_png, gather, points_markdown, points_report, previous_month, summary_markdown
from desk.deadlines import ClockKeeper, run_once
from desk.desk import ServiceDesk
from knowledge import Handbook
from storage.outbox import outbox_row

log = logging.getLogger("baishitong.scheduler")


def clock_keeper(desk: ServiceDesk, handbook: Handbook) -> ClockKeeper:
    return ClockKeeper(desk, handbook.claim_minutes)


MONTHLY_REPORT_AT = time(9, 0)  # on the 1st, once the morning shift has started


async def monthly_report(desk: ServiceDesk, handbook: Handbook) -> bool:
    """On the 1st of the month, push last month's summary and chart to the group, once."""
    now = desk.now()
    if now.day != 1 or now.timetz().replace(tzinfo=None) < MONTHLY_REPORT_AT:
        return False
    first, last = previous_month(now.date())
    key = f"report:{first:%Y-%m}"
    if await desk.slot_taken(key):  # the chart costs a second to draw: skip it when already sent
        return False
    report = await gather(desk.database, first, last, desk.tz)
    png = chart_png(report, handbook)
    created = desk.clock()
    points = await points_report(desk, first, last)
    text = summary_markdown(report, handbook) + points_markdown(points)
    rows = [
        outbox_row("group", "default", "monthly_report", {"text": text}, created),
        outbox_row(
            "group",
            "default",
            "report_chart",
            {"base64": base64.b64encode(png).decode(), "md5": hashlib.md5(png).hexdigest()},
            created,
        ),
    ]
    return await run_once(desk, key, rows)


class Scheduler:
    def __init__(self, keeper: ClockKeeper, interval: float = 30.0, handbook: Handbook | None = None):
        self.keeper = keeper
        self.interval = interval
        self.handbook = handbook
        self._stopping = asyncio.Event()

    async def tick(self) -> None:
        report = await self.keeper.tick()
        # Task-list offers nobody took in the item's claim limit go back to duty (desk/tasks.py).
        returned = await self.keeper.desk.tasks.escalate_due(self.keeper.claim_minutes_of)
        report.add("task_returned", returned)
        if report.counts:
            log.info("clocks: %s", ", ".join(f"{k} {v}" for k, v in sorted(report.counts.items())))
        if self.handbook is not None and await monthly_report(self.keeper.desk, self.handbook):
            log.info("monthly report queued for the staff group")

    async def run(self) -> None:
        while not self._stopping.is_set():
            try:
                await self.tick()
            except Exception:
                log.exception("clock tick failed; the next tick retries")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self.interval)

    def stop(self) -> None:
        self._stopping.set()
