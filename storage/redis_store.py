"""Redis store: shared by every process of a deployment, so retries and locks work across them.

A turn is two round trips, each a Lua script (atomic on the server). Keys of one resident share
a hash tag, {resident}, so a turn's keys live in one slot and the scripts also run on Redis Cluster.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from storage.base import State, Store, Turn
from storage.locks import LocalLocks

_REPLY = "R:"  # dedup values: "" while the first delivery runs, "R:<reply>" once it finished
_POLL_SECONDS = 0.01

# KEYS: dedup, lock, state, notice flag. ARGV: dedup ttl ms, lock token, lock ttl ms.
# Returns {1, locked, state, notice} when this delivery owns the message, {0, 0, dedup value} for
# a retry. The notice flag is taken (deleted) with the lock.
_BEGIN = """
if redis.call('SET', KEYS[1], '', 'NX', 'PX', ARGV[1]) then
  if redis.call('SET', KEYS[2], ARGV[2], 'NX', 'PX', ARGV[3]) then
    return {1, 1, redis.call('GET', KEYS[3]), redis.call('DEL', KEYS[4])}
  end
  return {1, 0, false, 0}
end
return {0, 0, redis.call('GET', KEYS[1]), 0}
"""
# KEYS: dedup, lock, state. ARGV: reply, dedup ttl ms, lock token, state op (keep/set/del), state json,
# state ttl ms. The lock is released only if this turn still holds it (it may have expired).
_FINISH = """
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
if ARGV[4] == 'set' then
  redis.call('SET', KEYS[3], ARGV[5], 'PX', ARGV[6])
elseif ARGV[4] == 'del' then
  redis.call('DEL', KEYS[3])
else
  redis.call('PEXPIRE', KEYS[3], ARGV[6])
end
if redis.call('GET', KEYS[2]) == ARGV[3] then
  redis.call('DEL', KEYS[2])
end
return 1
"""


class RedisStore(Store):
    kind = "redis"

    def __init__(self, url: str, prefix: str = "bst:", *, max_connections: int = 64, **ttls: float) -> None:
        super().__init__(**ttls)
        # A blocking pool: under a burst, turns wait for a free connection instead of failing with
        # "Too many connections" (the default pool's behaviour, seen as 503s under overload).
        pool = aioredis.BlockingConnectionPool.from_url(
            url,
            max_connections=max_connections,
            timeout=self.lock_timeout,
            decode_responses=True,
            socket_timeout=2,
            socket_connect_timeout=2,
        )
        self._client = aioredis.Redis(connection_pool=pool)
        self._prefix = prefix
        self._begin = self._client.register_script(_BEGIN)
        self._finish = self._client.register_script(_FINISH)
        self._local = LocalLocks()  # arrival order within this process, before the Redis lock

    def _keys(self, key: str, resident: str) -> list[str]:
        tag = f"{self._prefix}{{{resident}}}"
        return [f"{tag}:dedup:{key}", f"{tag}:lock", f"{tag}:state", f"{tag}:notice"]

    async def begin(self, key: str, resident: str) -> Turn:
        release = await self._local.acquire(resident, self.lock_timeout)
        keys = self._keys(key, resident)
        token = uuid.uuid4().hex
        try:
            owner, locked, value, notice = await self._begin(
                keys=keys, args=[int(self.dedup_ttl * 1000), token, int(self.lock_timeout * 1000)]
            )
        except BaseException:
            release()
            raise
        if not owner:
            release()
            reply = value[len(_REPLY) :] if value and value.startswith(_REPLY) else None
            return Turn(key, resident, False, reply)
        try:
            if not locked:  # another process is in a turn of this resident: wait for it
                value, notice = await self._wait_for_lock(keys, token)
        except BaseException:
            release()
            # Give the claim back, so WeChat's retry of this message can run it later.
            with contextlib.suppress(RedisError, OSError):
                await self._client.delete(keys[0])
            raise
        return Turn(
            key,
            resident,
            True,
            state=json.loads(value) if value else {},
            token=token,
            _release=release,
            notice=bool(notice),
        )

    async def flag_notice(self, resident: str) -> None:
        await self._client.set(self._keys("", resident)[3], 1, ex=60 * 60 * 24 * 30)

    async def _wait_for_lock(self, keys: list[str], token: str) -> tuple[str | None, int]:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.lock_timeout
        while not await self._client.set(keys[1], token, nx=True, px=int(self.lock_timeout * 1000)):
            if loop.time() >= deadline:
                raise TimeoutError(f"resident lock {keys[1]} not free within {self.lock_timeout}s")
            await asyncio.sleep(_POLL_SECONDS)
        async with self._client.pipeline(transaction=True) as pipe:
            value, notice = await pipe.get(keys[2]).delete(keys[3]).execute()
        return value, notice

    async def finish(self, turn: Turn, reply: str, state: State | None) -> None:
        op = "keep" if state is None else ("set" if state else "del")
        try:
            await self._finish(
                keys=self._keys(turn.key, turn.resident),
                args=[
                    _REPLY + reply,
                    int(self.dedup_ttl * 1000),
                    turn.token,
                    op,
                    json.dumps(state, ensure_ascii=False) if state else "",
                    int(self.state_ttl * 1000),
                ],
            )
        finally:
            if turn._release is not None:
                turn._release()
                turn._release = None

    async def wait_reply(self, key: str, resident: str, timeout: float) -> str | None:
        name = self._keys(key, resident)[0]
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            value = await self._client.get(name)
            if value is None:
                return None
            if value.startswith(_REPLY):
                return value[len(_REPLY) :]
            if loop.time() >= deadline:
                return None
            await asyncio.sleep(_POLL_SECONDS)

    async def first_use(self, name: str, ttl: float) -> bool:
        key = f"{self._prefix}seen:{name}"
        return bool(await self._client.set(key, 1, nx=True, px=max(1, int(ttl * 1000))))

    async def get_state(self, resident: str) -> State:
        raw = await self._client.get(self._keys("", resident)[2])
        return json.loads(raw) if raw else {}

    async def ping(self) -> bool:
        try:
            return bool(await self._client.ping())
        except (RedisError, OSError):
            return False

    async def close(self) -> None:
        await self._client.aclose(close_connection_pool=True)
