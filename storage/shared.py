"""Small shared state for the outbox worker: a sliding-window rate limiter and a value cache.

In-process versions for the embedded default; Redis versions share the limit and the cached
access_token across every process of a deployment (the WeCom robot's 20 messages a minute is
one budget however many workers send).
"""

from __future__ import annotations

import abc
import time
import uuid
from collections import deque
from collections.abc import Callable

import redis.asyncio as aioredis

# KEYS: the window's sorted set. ARGV: now ms, window ms, limit, wanted, member prefix.
# Drops entries older than the window, grants what is left of the limit, records the grants.
_ACQUIRE = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1] - ARGV[2])
local used = redis.call('ZCARD', KEYS[1])
local grant = math.min(tonumber(ARGV[4]), tonumber(ARGV[3]) - used)
if grant < 0 then grant = 0 end
for i = 1, grant do
  redis.call('ZADD', KEYS[1], ARGV[1], ARGV[5] .. i)
end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return {grant, oldest[2] or ARGV[1]}
"""


class RateLimiter(abc.ABC):
    """At most `limit` sends per `window` seconds per key, shared by every caller of the limiter."""

    def __init__(self, limit: int, window: float = 60.0):
        self.limit = limit
        self.window = window

    @abc.abstractmethod
    async def acquire(self, key: str, wanted: int) -> tuple[int, float]:
        """Grant up to `wanted` sends now. Returns (granted, seconds until a slot frees when 0)."""


class MemoryRateLimiter(RateLimiter):
    def __init__(self, limit: int, window: float = 60.0, clock: Callable[[], float] = time.time):
        super().__init__(limit, window)
        self._clock = clock
        self._sent: dict[str, deque[float]] = {}

    async def acquire(self, key: str, wanted: int) -> tuple[int, float]:
        now = self._clock()
        sent = self._sent.setdefault(key, deque())
        while sent and sent[0] <= now - self.window:
            sent.popleft()
        grant = max(0, min(wanted, self.limit - len(sent)))
        sent.extend([now] * grant)
        wait = sent[0] + self.window - now if sent and grant == 0 else 0.0
        return grant, max(0.0, wait)


class RedisRateLimiter(RateLimiter):
    def __init__(self, client: aioredis.Redis, limit: int, window: float = 60.0, prefix: str = "bst:"):
        super().__init__(limit, window)
        self._client = client
        self._prefix = prefix
        self._script = client.register_script(_ACQUIRE)

    async def acquire(self, key: str, wanted: int) -> tuple[int, float]:
        now_ms = int(time.time() * 1000)
        window_ms = int(self.window * 1000)
        grant, oldest = await self._script(
            keys=[f"{self._prefix}ratelimit:{key}"],
            args=[now_ms, window_ms, self.limit, wanted, f"{now_ms}:{uuid.uuid4().hex[:8]}:"],
        )
        wait = (float(oldest) + window_ms - now_ms) / 1000 if int(grant) == 0 else 0.0
        return int(grant), max(0.0, wait)


class ValueCache(abc.ABC):
    """A value with an expiry (the access_token), and a short lock so one process refreshes it."""

    @abc.abstractmethod
    async def get(self, key: str) -> str | None: ...

    @abc.abstractmethod
    async def set(self, key: str, value: str, ttl: float) -> None: ...

    @abc.abstractmethod
    async def delete(self, key: str, only_if: str | None = None) -> None:
        """Forget `key` (only while it still holds `only_if`, when given)."""

    @abc.abstractmethod
    async def lock(self, key: str, ttl: float) -> bool:
        """True for the one caller that takes the lock; it lapses after `ttl` seconds."""


class MemoryValueCache(ValueCache):
    def __init__(self, clock: Callable[[], float] = time.monotonic):
        self._clock = clock
        self._values: dict[str, tuple[str, float]] = {}

    async def get(self, key: str) -> str | None:
        entry = self._values.get(key)
        return entry[0] if entry and entry[1] > self._clock() else None

    async def set(self, key: str, value: str, ttl: float) -> None:
        self._values[key] = (value, self._clock() + ttl)

    async def delete(self, key: str, only_if: str | None = None) -> None:
        if only_if is None or await self.get(key) == only_if:
            self._values.pop(key, None)

    async def lock(self, key: str, ttl: float) -> bool:
        if await self.get(key) is not None:
            return False
        await self.set(key, "1", ttl)
        return True


_DELETE_IF = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0"


class RedisValueCache(ValueCache):
    def __init__(self, client: aioredis.Redis, prefix: str = "bst:"):
        self._client = client
        self._prefix = prefix
        self._delete_if = client.register_script(_DELETE_IF)

    async def get(self, key: str) -> str | None:
        value = await self._client.get(self._prefix + key)
        return value.decode() if isinstance(value, bytes) else value

    async def set(self, key: str, value: str, ttl: float) -> None:
        await self._client.set(self._prefix + key, value, px=int(ttl * 1000))

    async def delete(self, key: str, only_if: str | None = None) -> None:
        if only_if is None:
            await self._client.delete(self._prefix + key)
        else:
            await self._delete_if(keys=[self._prefix + key], args=[only_if])

    async def lock(self, key: str, ttl: float) -> bool:
        return bool(await self._client.set(self._prefix + key, "1", nx=True, px=int(ttl * 1000)))
