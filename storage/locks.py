"""Per-key asyncio locks, first-in first-out, that vanish when nobody holds or waits for them."""

from __future__ import annotations

import asyncio
from collections.abc import Callable


class LocalLocks:
    """asyncio.Lock wakes waiters in arrival order, which gives per-resident ordering in a process."""

    def __init__(self) -> None:
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}

    async def acquire(self, key: str, timeout: float) -> Callable[[], None]:
        """Wait for the key's lock; return the function that releases it (call exactly once)."""
        lock, users = self._locks.get(key, (None, 0))
        if lock is None:
            lock = asyncio.Lock()
        self._locks[key] = (lock, users + 1)
        try:
            await asyncio.wait_for(lock.acquire(), timeout)
        except BaseException:
            self._leave(key)
            raise

        def release() -> None:
            lock.release()
            self._leave(key)

        return release

    def _leave(self, key: str) -> None:
        lock, users = self._locks[key]
        if users <= 1:
            del self._locks[key]
        else:
            self._locks[key] = (lock, users - 1)
