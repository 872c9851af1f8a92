"""Redis store: shared by every process of a deployment, so retries and locks work across them.

A turn is two round trips, each a Lua script (atomic on the server). Keys of one resident share
a hash tag, {resident}, so a turn's keys live in one slot and the scripts also run on Redis Cluster.

Owner leases. Each store (one per process) has an owner id, pid plus random, and keeps a lease key
alive, `owner:<id>`, refreshed every `lease_ttl / 4` seconds with a `lease_ttl` expiry. A turn's
pending dedup marker ("P:<owner>") and its hold on the resident's lock ("<owner>/<random>") name
the owner. A process killed mid-turn (SIGKILL, the OOM killer) stops refreshing its lease; once it
lapses, WeChat's retry of the message takes the message over (a compare-and-set script: exactly one
retry wins) and runs the handlers, instead of answering "success" with no reply for the 600 s the
marker lives, and the resident's next message takes the dead owner's lock instead of waiting out
its 30 s. The lease is read before the takeover script, in its own round trip, because it lives in
another slot; only the slow paths (a pending marker, a held lock) read it. A turn whose owner was
presumed dead but finishes after all (a pause longer than the lease) writes neither its reply nor
its state over the new owner's.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import uuid

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from storage.base import State, Store, Turn
from storage.locks import LocalLocks

log = logging.getLogger("baishitong.store")

_REPLY = "R:"  # dedup values: "P:<owner>" while the first delivery runs, "R:<reply>" once it finished
_PENDING = "P:"  # ("" is a pending marker of a release without leases: its owner is taken as alive)
_POLL_SECONDS = 0.01
_LEASE_CHECK_SECONDS = 0.25  # how often a waiting turn looks at the lease of whoever it waits for

# KEYS: dedup, lock, state, notice flag. ARGV: dedup ttl ms, lock token, lock ttl ms, pending marker.
# Returns {1, locked, state, notice} when this delivery owns the message, {0, 0, dedup value} for
# a retry. The notice flag is taken (deleted) with the lock.
_BEGIN = """
if redis.call('SET', KEYS[1], ARGV[4], 'NX', 'PX', ARGV[1]) then
  if redis.call('SET', KEYS[2], ARGV[2], 'NX', 'PX', ARGV[3]) then
    return {1, 1, redis.call('GET', KEYS[3]), redis.call('DEL', KEYS[4])}
  end
  return {1, 0, false, 0}
end
return {0, 0, redis.call('GET', KEYS[1]), 0}
"""
# KEYS: dedup, lock, state, notice flag. ARGV: the dead owner's pending marker, this delivery's
# marker, dedup ttl ms, lock token, lock ttl ms, the dead owner's lock prefix ("<owner>/").
# Takes the message over only if its marker still names the dead owner (so one retry wins), and
# the resident's lock too when it is free or the dead owner's. Returns as _BEGIN.
_TAKE_OVER = """
local marker = redis.call('GET', KEYS[1])
if marker ~= ARGV[1] then
  return {0, 0, marker, 0}
end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
local holder = redis.call('GET', KEYS[2])
if (not holder) or string.sub(holder, 1, string.len(ARGV[6])) == ARGV[6] then
  redis.call('SET', KEYS[2], ARGV[4], 'PX', ARGV[5])
  return {1, 1, redis.call('GET', KEYS[3]), redis.call('DEL', KEYS[4])}
end
return {1, 0, false, 0}
"""
# KEYS: lock. ARGV: the dead holder's token, this turn's token, lock ttl ms. 1 when taken.
_TAKE_LOCK = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
  return 1
end
return 0
"""
# KEYS: dedup, lock, state. ARGV: reply, dedup ttl ms, lock token, state op (keep/set/del), state json,
# state ttl ms, this turn's pending marker. The lock is released only if this turn still holds it
# (it may have expired). Reply and state are written only if the marker is still this turn's (or
# gone): a turn taken over by a retry (its owner's lease lapsed) must not overwrite the new owner's.
# Returns 0 when the turn had been taken over.
_FINISH = """
local marker = redis.call('GET', KEYS[1])
local mine = (not marker) or marker == ARGV[7]
if mine then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  if ARGV[4] == 'set' then
    redis.call('SET', KEYS[3], ARGV[5], 'PX', ARGV[6])
  elseif ARGV[4] == 'del' then
    redis.call('DEL', KEYS[3])
  else
    redis.call('PEXPIRE', KEYS[3], ARGV[6])
  end
end
if redis.call('GET', KEYS[2]) == ARGV[3] then
  redis.call('DEL', KEYS[2])
end
if mine then
  return 1
end
return 0
"""


class RedisStore(Store):
    kind = "redis"

    def __init__(
        self,
        url: str,
        prefix: str = "bst:",
        *,
        max_connections: int = 64,
        lease_ttl: float = 4.0,
        **ttls: float,
    ) -> None:
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
        self._take_over = self._client.register_script(_TAKE_OVER)
        self._take_lock = self._client.register_script(_TAKE_LOCK)
        self._finish = self._client.register_script(_FINISH)
        self._local = LocalLocks()  # arrival order within this process, before the Redis lock
        # Created after any fork (the workers build their stores), so each process has its own.
        self.owner_id = f"{os.getpid()}-{uuid.uuid4().hex[:12]}"
        self.lease_ttl = lease_ttl
        self._heartbeat: asyncio.Task[None] | None = None
        self._lease_lock = asyncio.Lock()
        # The lease is renewed on a connection of its own: behind a burst that has every pooled
        # connection busy, a renewal waiting its turn would let the lease of a live process lapse.
        self._lease_client = aioredis.Redis.from_url(
            url, decode_responses=True, socket_timeout=2, socket_connect_timeout=2, max_connections=2
        )

    def _keys(self, key: str, resident: str) -> list[str]:
        tag = f"{self._prefix}{{{resident}}}"
        return [f"{tag}:dedup:{key}", f"{tag}:lock", f"{tag}:state", f"{tag}:notice"]

    def _lease_key(self, owner: str) -> str:
        return f"{self._prefix}owner:{owner}"

    @property
    def _marker(self) -> str:
        return _PENDING + self.owner_id

    async def _renew_lease(self) -> None:
        await self._lease_client.set(self._lease_key(self.owner_id), 1, px=max(1, int(self.lease_ttl * 1000)))

    async def _ensure_lease(self) -> None:
        """Take this process's lease before its first turn, and keep it alive from then on."""
        if self._heartbeat is not None and not self._heartbeat.done():
            return
        async with self._lease_lock:  # the first turns of a burst take it once, not once each
            if self._heartbeat is not None and not self._heartbeat.done():
                return
            await self._renew_lease()
            self._heartbeat = asyncio.create_task(self._keep_lease(), name=f"lease {self.owner_id}")

    async def _keep_lease(self) -> None:
        while True:
            await asyncio.sleep(self.lease_ttl / 4)
            try:
                await self._renew_lease()
            except (RedisError, OSError) as exc:  # an outage: the turns fail and say so themselves
                log.debug("lease renewal failed: %s", exc)

    async def _alive(self, owner: str) -> bool:
        return owner == self.owner_id or bool(await self._client.exists(self._lease_key(owner)))

    async def begin(self, key: str, resident: str) -> Turn:
        release = await self._local.acquire(resident, self.lock_timeout)
        keys = self._keys(key, resident)
        token = f"{self.owner_id}/{uuid.uuid4().hex}"
        try:
            await self._ensure_lease()
            owner, locked, value, notice = await self._begin(
                keys=keys,
                args=[int(self.dedup_ttl * 1000), token, int(self.lock_timeout * 1000), self._marker],
            )
            if not owner and value and value.startswith(_PENDING):
                dead = value[len(_PENDING) :]
                if not await self._alive(dead):
                    owner, locked, value, notice = await self._take_over(
                        keys=keys,
                        args=[
                            value,
                            self._marker,
                            int(self.dedup_ttl * 1000),
                            token,
                            int(self.lock_timeout * 1000),
                            dead + "/",
                        ],
                    )
                    if owner:
                        log.warning("%s: owner %s of the message is gone; taken over", key, dead)
        except BaseException:
            release()
            raise
        if not owner:
            release()
            reply = value[len(_REPLY) :] if value and value.startswith(_REPLY) else None
            return Turn(key, resident, False, reply)
        try:
            if not locked:  # another turn of this resident is open: wait for it (or its owner's death)
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
        check_at = loop.time()
        ttl = int(self.lock_timeout * 1000)
        while not await self._client.set(keys[1], token, nx=True, px=ttl):
            now = loop.time()
            if now >= check_at:  # is whoever holds it still alive?
                check_at = now + _LEASE_CHECK_SECONDS
                holder = await self._client.get(keys[1])
                if holder and "/" in holder and not await self._alive(holder.split("/", 1)[0]):
                    if await self._take_lock(keys=[keys[1]], args=[holder, token, ttl]):
                        log.warning("%s: holder %s is gone (lease lapsed); lock taken", keys[1], holder)
                        break
                    continue
            if now >= deadline:
                raise TimeoutError(f"resident lock {keys[1]} not free within {self.lock_timeout}s")
            await asyncio.sleep(_POLL_SECONDS)
        async with self._client.pipeline(transaction=True) as pipe:
            value, notice = await pipe.get(keys[2]).delete(keys[3]).execute()
        return value, notice

    async def finish(self, turn: Turn, reply: str, state: State | None) -> None:
        op = "keep" if state is None else ("set" if state else "del")
        try:
            kept = await self._finish(
                keys=self._keys(turn.key, turn.resident),
                args=[
                    _REPLY + reply,
                    int(self.dedup_ttl * 1000),
                    turn.token,
                    op,
                    json.dumps(state, ensure_ascii=False) if state else "",
                    int(self.state_ttl * 1000),
                    self._marker,
                ],
            )
            if not kept:
                log.warning(
                    "%s was taken over by a retry (this process's lease lapsed): reply and state dropped",
                    turn.key,
                )
        finally:
            if turn._release is not None:
                turn._release()
                turn._release = None

    async def wait_reply(self, key: str, resident: str, timeout: float) -> str | None:
        """Also None as soon as the owner of the pending message is gone (its lease lapsed), so
        the caller can begin again and take the message over."""
        name = self._keys(key, resident)[0]
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        check_at = loop.time() + _LEASE_CHECK_SECONDS
        while True:
            value = await self._client.get(name)
            if value is None:
                return None
            if value.startswith(_REPLY):
                return value[len(_REPLY) :]
            now = loop.time()
            if now >= deadline:
                return None
            if now >= check_at and value.startswith(_PENDING):
                check_at = now + _LEASE_CHECK_SECONDS
                if not await self._alive(value[len(_PENDING) :]):
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
        if self._heartbeat is not None:
            self._heartbeat.cancel()
            with contextlib.suppress(asyncio.CancelledError, RedisError, OSError, RuntimeError):
                await self._heartbeat
            self._heartbeat = None
            with contextlib.suppress(RedisError, OSError, RuntimeError):
                await self._lease_client.delete(self._lease_key(self.owner_id))
        await self._lease_client.aclose(close_connection_pool=True)
        await self._client.aclose(close_connection_pool=True)
