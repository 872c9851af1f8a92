"""Binding codes that cannot be guessed: long codes, attempts limited per WeChat identity and for
the whole community, lockout, and an alert to the staff group.

Without limits a script tried 6,000 codes at 150 a second. Now every 绑定 attempt (right or wrong)
takes a slot from two sliding windows (storage/shared.py, in-process or Redis like the turn
store): PER_OPENID for the sender and OVERALL for everyone. A sender past its limit is locked out
for the rest of the window, even with the right code; past the overall limit binding pauses for
everyone (many identities, one attacker). The group is told once a window.

Arithmetic (tests/test_binding_guard.py): at most 30 attempts an hour is 5,040 a week; with 32 ** 10
(~1.1e15) codes and at most 50 live ones, the chance of a hit in a week is ~2.2e-10.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import redis.asyncio as aioredis

from desk.refusals import Refused
from storage.shared import MemoryRateLimiter, RateLimiter, RedisRateLimiter

ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I: read aloud and typed on a phone
CODE_LENGTH = 10  # shown as XXXXX-XXXXX
MAX_LIVE_CODES = 50  # unspent codes at once, generously (a community has a dozen staff)
PER_OPENID = (5, 3600.0)  # attempts, window seconds, for one WeChat identity
OVERALL = (30, 3600.0)  # attempts, window seconds, for everyone together


def normalise(code: str) -> str:
    """What a person typed, as stored: upper case, spaces and hyphens dropped."""
    return "".join(c for c in code.upper() if c.isalnum())


def readable(code: str) -> str:
    return f"{code[:5]}-{code[5:]}"


@dataclass
class BindGuard:
    """The two windows and the once-a-window alert, sharing one limiter backend."""

    per_openid: RateLimiter
    overall: RateLimiter
    alerts: RateLimiter

    @classmethod
    def in_process(cls, clock: Callable[[], float] = time.time) -> BindGuard:
        return cls(
            MemoryRateLimiter(PER_OPENID[0], PER_OPENID[1], clock),
            MemoryRateLimiter(OVERALL[0], OVERALL[1], clock),
            MemoryRateLimiter(1, OVERALL[1], clock),
        )

    @classmethod
    def shared(cls, client: aioredis.Redis, prefix: str = "bst:") -> BindGuard:
        return cls(
            RedisRateLimiter(client, PER_OPENID[0], PER_OPENID[1], prefix),
            RedisRateLimiter(client, OVERALL[0], OVERALL[1], prefix),
            RedisRateLimiter(client, 1, OVERALL[1], prefix),
        )

    async def admit(self, openid: str) -> tuple[Refused | None, bool]:
        """(refusal or None, whether to alert the group now) for one 绑定 attempt by `openid`."""
        granted, wait = await self.per_openid.acquire(f"bind:openid:{openid}", 1)
        if not granted:
            alert, _ = await self.alerts.acquire(f"bind:alert:{openid}", 1)
            return Refused("bind_locked", minutes=max(1, round(wait / 60))), bool(alert)
        granted, wait = await self.overall.acquire("bind:all", 1)
        if not granted:
            alert, _ = await self.alerts.acquire("bind:alert:all", 1)
            return Refused("bind_paused", minutes=max(1, round(wait / 60))), bool(alert)
        return None, False
