"""Pick the store from configuration: Redis when a URL is given, in-process otherwise."""

from __future__ import annotations

from storage.base import Store
from storage.memory import MemoryStore
from storage.redis_store import RedisStore


def open_store(redis_url: str | None, **ttls: float) -> Store:
    return RedisStore(redis_url, **ttls) if redis_url else MemoryStore(**ttls)
