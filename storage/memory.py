"""In-process store: the embedded default, for one process with no Redis."""

from __future__ import annotations

import asyncio
import time
from contextlib import AbstractAsyncContextManager
from typing import Any

from storage.base import Claim, Store
from storage.locks import LocalLocks

_PENDING = object()


class MemoryStore(Store):
    kind = "memory"

    def __init__(self, clock: Any = time.monotonic) -> None:
        self._clock = clock
        self._dedup: dict[str, tuple[object, float]] = {}
        self._waiters: dict[str, asyncio.Event] = {}
        self._state: dict[str, tuple[dict[str, Any], float]] = {}
        self._locks = LocalLocks()

    def _alive(self, expires: float) -> bool:
        return expires > self._clock()

    def _sweep(self) -> None:
        # Amortised clean-up: expired entries are dropped when the tables grow, not on every call.
        now = self._clock()
        for table in (self._dedup, self._state):
            if len(table) > 4096:
                for key in [k for k, (_, exp) in table.items() if exp <= now]:
                    del table[key]

    async def claim(self, key: str, ttl: float) -> Claim:
        entry = self._dedup.get(key)
        if entry is not None and self._alive(entry[1]):
            value = entry[0]
            return Claim(False, None if value is _PENDING else str(value))
        self._sweep()
        self._dedup[key] = (_PENDING, self._clock() + ttl)
        self._waiters[key] = asyncio.Event()
        return Claim(True)

    async def complete(self, key: str, reply: str, ttl: float) -> None:
        self._dedup[key] = (reply, self._clock() + ttl)
        event = self._waiters.pop(key, None)
        if event is not None:
            event.set()

    async def wait_reply(self, key: str, timeout: float) -> str | None:
        entry = self._dedup.get(key)
        if entry is None or not self._alive(entry[1]):
            return None
        if entry[0] is not _PENDING:
            return str(entry[0])
        event = self._waiters.get(key)
        if event is None:
            return None
        try:
            await asyncio.wait_for(event.wait(), timeout)
        except TimeoutError:
            return None
        entry = self._dedup.get(key)
        return None if entry is None or entry[0] is _PENDING else str(entry[0])

    async def get_state(self, resident: str) -> dict[str, Any] | None:
        entry = self._state.get(resident)
        if entry is None:
            return None
        if not self._alive(entry[1]):
            del self._state[resident]
            return None
        return dict(entry[0])

    async def set_state(self, resident: str, state: dict[str, Any], ttl: float) -> None:
        self._sweep()
        self._state[resident] = (dict(state), self._clock() + ttl)

    async def clear_state(self, resident: str) -> None:
        self._state.pop(resident, None)

    def lock(self, resident: str, timeout: float = 10.0) -> AbstractAsyncContextManager[None]:
        return self._locks.hold(resident, timeout)

    async def ping(self) -> bool:
        return True
