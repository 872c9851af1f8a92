"""Conversation state, de-duplication and per-resident locks behind one small interface.

Knows nothing of WeChat, HTTP or intents. MemoryStore serves a single process (the embedded
default); RedisStore serves several processes sharing one Redis.
"""

from storage.base import State, Store, Turn
from storage.factory import open_store
from storage.memory import MemoryStore
from storage.redis_store import RedisStore

__all__ = ["MemoryStore", "RedisStore", "State", "Store", "Turn", "open_store"]
