"""Pick the store from configuration: Redis when a URL is given, in-process otherwise."""

from __future__ import annotations

from storage.base import Store
from storage.memory import MemoryStore
from storage.redis_store import RedisStore


def open_store(redis_url: str | None, *, redis_max_connections: int = 64, **ttls: float) -> Store:
    if redis_url:
        return RedisStore(redis_url, max_connections=redis_max_connections, **ttls)
    return MemoryStore(**ttls)
