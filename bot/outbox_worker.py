"""Drain the outbox: staff-group pushes within the robot's rate limit, resident notices via the
customer-service API. Runs inside `baishitong serve` or alone as `baishitong worker`.

Rows are leased, so several workers never send one row twice; a lease that a dead worker held
runs out and the row is sent by the next. Each send first renews its row's lease (fencing), so a
pass slower than the lease never sends a row another worker has taken meanwhile. Failures the
platform calls temporary (-1, 45009, network) are retried with exponential backoff; nothing is ever dropped.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections import defaultdict
from collections.abc import Callable

from bot.notify import NOT_NOW, CustomerService, SendResult, WeComRobot
from handlers.notices import digest_markdown, group_markdown, resident_text
from knowledge import Handbook
from storage.base import Store
from storage.models import OutboxMessage
from storage.outbox import Outbox
from storage.shared import RateLimiter

log = logging.getLogger("baishitong.outbox")

MAX_BACKOFF = 300.0
# Pushes that are no ticket line: never folded into a digest, they wait for the next minute.
UNFOLDED = ("monthly_report", "report_chart", "bind_guessing", "community_task", "responder_signup")


def backoff(attempts: int) -> float:
    return min(MAX_BACKOFF, 2.0 ** min(attempts, 10))


class OutboxWorker:
    def __init__(
        self,
        outbox: Outbox,
        handbook: Handbook,
        robots: dict[str, WeComRobot],
        limiter: RateLimiter,
        customer_service: CustomerService | None,
        store: Store | None = None,
        *,
        poll_seconds: float = 1.0,
        lease_seconds: float = 60.0,
        robot_for: Callable[[str], WeComRobot] | None = None,
    ):
        self._outbox = outbox
        self._handbook = handbook
        self._robots = robots
        self._limiter = limiter
        self._cs = customer_service
        self._store = store
        self._poll = poll_seconds
        self._lease = lease_seconds
        # A party branch's or volunteer team's own robot, whose URL its pushes carry (desk/tasks.py).
        self._robot_for = robot_for
        self.name = f"{socket.gethostname()}:{os.getpid()}:{id(self):x}"
        # Without a robot, group pushes stay in the outbox untouched until WECOM_WEBHOOK_URL is set.
        self._channels = ("group", "resident") if robots else ("resident",)
        if not robots:
            log.warning("WECOM_WEBHOOK_URL is not set: staff-group pushes wait in the outbox")
        self._stopping = asyncio.Event()

    def _robot(self, target: str, url: str = "") -> tuple[str, WeComRobot] | None:
        if url and self._robot_for is not None:
            key = f"{target}@{url}"
            if key not in self._robots:
                self._robots[key] = self._robot_for(url)
            return key, self._robots[key]
        key = target if target in self._robots else "default"
        robot = self._robots.get(key)
        return (key, robot) if robot else None

    async def run(self) -> None:
        """Until stop(): drain whatever is due, then wait a poll interval."""
        while not self._stopping.is_set():
            try:
                await self.drain_once()
            except Exception:
                log.exception("outbox pass failed; will retry")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self._poll)

    def stop(self) -> None:
        self._stopping.set()

    def use_handbook(self, handbook: Handbook) -> None:
        """A newer handbook version is in use: item titles in pushes come from it from now on."""
        self._handbook = handbook

    async def drain_once(self) -> int:
        """One pass over due rows; returns how many were delivered (or kept for the resident)."""
        rows = await self._outbox.lease(self.name, lease_seconds=self._lease, channels=self._channels)
        groups: dict[str, list[OutboxMessage]] = defaultdict(list)
        done = 0
        for row in rows:
            if row.channel == "group":
                found = self._robot(row.target, str(row.payload.get("robot") or ""))
                if found is None:  # robots exist, but none for this group and no "default"
                    log.error("no robot for group %r (set a default in WECOM_WEBHOOK_URL)", row.target)
                    await self._outbox.retry(row, f"no robot for group {row.target!r}", MAX_BACKOFF)
                    continue
                groups[found[0]].append(row)
            else:
                done += await self._notify_resident(row)
        for key, batch in groups.items():
            done += await self._push_group(key, batch)
        return done

    async def _push_group(self, key: str, rows: list[OutboxMessage]) -> int:
        robot = self._robots[key]
        granted, wait = await self._limiter.acquire(robot.url, len(rows))
        if granted == 0:
            log.info("robot %s at its limit: %d push(es) wait %.0fs", key, len(rows), wait)
            await self._outbox.release([r.id for r in rows])
            return 0
        # Within the budget each push goes alone; past it, the last slot carries a digest of the rest.
        singles = rows if granted >= len(rows) else rows[: granted - 1]
        folded = [] if granted >= len(rows) else rows[granted - 1 :]
        # Reports and charts cannot be folded into a digest line: they wait for the next minute.
        waiting = [r for r in folded if r.event in UNFOLDED]
        folded = [r for r in folded if r not in waiting]
        if waiting:
            await self._outbox.release([r.id for r in waiting])
        sent = 0
        for row in singles:
            if not await self._still_ours([row]):
                continue
            result = await self._send(robot, row)
            sent += await self._settle([row], result.ok, result.code, result.message, result.retryable)
        if folded:
            held = set(await self._outbox.renew(self.name, [r.id for r in folded], self._lease))
            folded = [r for r in folded if r.id in held]
        if folded:
            content = digest_markdown([(r.event, r.payload) for r in folded], self._handbook)
            result = await robot.send_markdown(content)
            sent += await self._settle(folded, result.ok, result.code, result.message, result.retryable)
        return sent

    async def _still_ours(self, rows: list[OutboxMessage]) -> bool:
        """Fencing before each send: renew the lease, or skip rows another worker took when a slow
        pass outlived it (a 3 s robot and a backlog of 50 take longer than a 60 s lease)."""
        held = await self._outbox.renew(self.name, [r.id for r in rows], self._lease)
        if len(held) < len(rows):
            log.info("push %s skipped: its lease passed to another worker", [r.id for r in rows])
            return False
        return True

    async def _send(self, robot: WeComRobot, row: OutboxMessage) -> SendResult:
        if row.event == "report_chart":
            return await robot.send_image(row.payload["base64"], row.payload["md5"])
        if row.event == "monthly_report":
            return await robot.send_markdown(row.payload["text"])
        return await robot.send_markdown(group_markdown(row.event, row.payload, self._handbook))

    async def _settle(
        self, rows: list[OutboxMessage], ok: bool, code: int, message: str, retryable: bool
    ) -> int:
        if ok:
            await self._outbox.sent(
                [r.id for r in rows], "sent" if len(rows) == 1 else f"digest of {len(rows)}"
            )
            return len(rows)
        for row in rows:
            delay = backoff(row.attempts)
            level = logging.WARNING if retryable else logging.ERROR
            log.log(level, "push %d failed (%d %s): retry in %.0fs", row.id, code, message, delay)
            await self._outbox.retry(row, f"{code} {message}", delay)
        return 0

    async def _notify_resident(self, row: OutboxMessage) -> int:
        if not await self._still_ours([row]):
            return 0
        text = resident_text(row.event, row.payload, self._handbook)
        if self._cs is None:
            return await self._keep(row, text, "no WECHAT_APP_SECRET: kept")
        result = await self._cs.send_text(row.target, text)
        if result.ok:
            await self._outbox.sent([row.id])
            return 1
        if result.code in NOT_NOW:
            if row.event == "appointment":  # a reminder shown after the visit helps nobody
                await self._outbox.sent([row.id], f"{result.code} outside WeChat's window: not sent")
                return 1
            return await self._keep(row, text, f"{result.code} {result.message}: kept")
        return await self._settle([row], False, result.code, result.message, True)

    async def _keep(self, row: OutboxMessage, text: str, outcome: str) -> int:
        """WeChat will not deliver it now: show it when the resident next writes."""
        await self._outbox.keep(row, row.target, text, outcome)
        if self._store is not None:
            await self._store.flag_notice(row.target)
        log.info("notice %d kept for the resident's next message (%s)", row.id, outcome)
        return 1
