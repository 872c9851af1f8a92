"""Redis store: shared by every process of a deployment, so retries and locks work across them."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import LockError, RedisError

from storage.base import Claim, Store
from storage.locks import LocalLocks

_PENDING = ""
_REPLY_PREFIX = "R:"
_POLL_SECONDS = 0.02


class RedisStore(Store):
    kind = "redis"

    def __init__(self, url: str, prefix: str = "bst:") -> None:
        self._client = aioredis.Redis.from_url(
            url, decode_responses=True, socket_timeout=2, socket_connect_timeout=2
        )
        self._prefix = prefix
        # Within one process, an asyncio.Lock per resident keeps arrival order before the Redis lock.
        self._local = LocalLocks()

    def _key(self, kind: str, name: str) -> str:
        return f"{self._prefix}{kind}:{name}"

    async def claim(self, key: str, ttl: float) -> Claim:
        name = self._key("dedup", key)
        if await self._client.set(name, _PENDING, nx=True, px=int(ttl * 1000)):
            return Claim(True)
        value = await self._client.get(name)
        if value is None:  # expired between the two calls: try once more to own it
            return Claim(bool(await self._client.set(name, _PENDING, nx=True, px=int(ttl * 1000))))
        return Claim(False, value[len(_REPLY_PREFIX) :] if value.startswith(_REPLY_PREFIX) else None)

    async def complete(self, key: str, reply: str, ttl: float) -> None:
        await self._client.set(self._key("dedup", key), _REPLY_PREFIX + reply, px=int(ttl * 1000))

    async def wait_reply(self, key: str, timeout: float) -> str | None:
        name = self._key("dedup", key)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            value = await self._client.get(name)
            if value is None:
                return None
            if value.startswith(_REPLY_PREFIX):
                return value[len(_REPLY_PREFIX) :]
            if loop.time() >= deadline:
                return None
            await asyncio.sleep(_POLL_SECONDS)

    async def get_state(self, resident: str) -> dict[str, Any] | None:
        raw = await self._client.get(self._key("state", resident))
        return None if raw is None else json.loads(raw)

    async def set_state(self, resident: str, state: dict[str, Any], ttl: float) -> None:
        await self._client.set(
            self._key("state", resident), json.dumps(state, ensure_ascii=False), px=int(ttl * 1000)
        )

    async def clear_state(self, resident: str) -> None:
        await self._client.delete(self._key("state", resident))

    @asynccontextmanager
    async def lock(self, resident: str, timeout: float = 10.0) -> AsyncIterator[None]:
        async with self._local.hold(resident, timeout):
            # redis-py's Lock: SET NX PX with a token and a Lua compare-and-delete on release.
            lock = self._client.lock(
                self._key("lock", resident), timeout=timeout, sleep=0.01, blocking_timeout=timeout
            )
            if not await lock.acquire():
                raise TimeoutError(f"lock for {resident} not acquired in {timeout}s")
            try:
                yield
            finally:
                # LockError: it expired while held; the work already finished, nothing to undo.
                with contextlib.suppress(LockError):
                    await lock.release()

    async def ping(self) -> bool:
        try:
            return bool(await self._client.ping())
        except (RedisError, OSError):
            return False

    async def close(self) -> None:
        await self._client.aclose()
