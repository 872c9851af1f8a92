"""In-process store: the embedded default, for one process with no Redis."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from storage.base import State, Store, Turn
from storage.locks import LocalLocks

_PENDING = object()
_MIN_SWEEP = 4096


class MemoryStore(Store):
    kind = "memory"

    def __init__(self, *, clock: Callable[[], float] = time.monotonic, **ttls: float) -> None:
        super().__init__(**ttls)
        self._clock = clock
        # Keyed by (message key, resident), as on Redis: one resident's MsgId never answers another.
        self._dedup: dict[tuple[str, str], tuple[object, float]] = {}
        self._done: dict[tuple[str, str], asyncio.Event] = {}
        self._state: dict[str, tuple[State, float]] = {}
        self._locks = LocalLocks()
        self._notices: set[str] = set()
        self._seen: dict[str, tuple[None, float]] = {}
        self._sweep_at = {"_dedup": _MIN_SWEEP, "_state": _MIN_SWEEP, "_seen": _MIN_SWEEP}

    async def begin(self, key: str, resident: str) -> Turn:
        release = await self._locks.acquire(resident, self.lock_timeout)
        entry = self._dedup.get((key, resident))
        if entry is not None and entry[1] > self._clock():
            release()
            return Turn(key, resident, False, None if entry[0] is _PENDING else str(entry[0]))
        self._sweep()
        self._dedup[key, resident] = (_PENDING, self._clock() + self.dedup_ttl)
        self._done[key, resident] = asyncio.Event()
        notice = resident in self._notices
        self._notices.discard(resident)
        return Turn(
            key, resident, True, state=await self.get_state(resident), _release=release, notice=notice
        )

    async def flag_notice(self, resident: str) -> None:
        self._notices.add(resident)

    async def finish(self, turn: Turn, reply: str, state: State | None) -> None:
        try:
            now = self._clock()
            self._dedup[turn.key, turn.resident] = (reply, now + self.dedup_ttl)
            if state is None:
                entry = self._state.get(turn.resident)
                if entry is not None and entry[1] > now:
                    self._state[turn.resident] = (entry[0], now + self.state_ttl)
            elif state:
                self._state[turn.resident] = (dict(state), now + self.state_ttl)
            else:
                self._state.pop(turn.resident, None)
            event = self._done.pop((turn.key, turn.resident), None)
            if event is not None:
                event.set()
        finally:
            if turn._release is not None:
                turn._release()
                turn._release = None

    async def wait_reply(self, key: str, resident: str, timeout: float) -> str | None:
        entry = self._dedup.get((key, resident))
        if entry is None or entry[1] <= self._clock():
            return None
        if entry[0] is _PENDING:
            event = self._done.get((key, resident))
            if event is None:
                return None
            try:
                await asyncio.wait_for(event.wait(), timeout)
            except TimeoutError:
                return None
            entry = self._dedup.get((key, resident))
        return None if entry is None or entry[0] is _PENDING else str(entry[0])

    async def first_use(self, name: str, ttl: float) -> bool:
        now = self._clock()
        entry = self._seen.get(name)
        if entry is not None and entry[1] > now:
            return False
        self._sweep()
        self._seen[name] = (None, now + ttl)
        return True

    async def get_state(self, resident: str) -> State:
        entry = self._state.get(resident)
        if entry is None or entry[1] <= self._clock():
            self._state.pop(resident, None)
            return {}
        return dict(entry[0])

    async def put_state(self, resident: str, state: State, ttl: float | None = None) -> None:
        """Set the resident's state outside a turn (`baishitong chat` restoring an earlier run's)."""
        if state:
            self._state[resident] = (dict(state), self._clock() + (self.state_ttl if ttl is None else ttl))
        else:
            self._state.pop(resident, None)

    async def ping(self) -> bool:
        return True

    def _sweep(self) -> None:
        """Drop expired entries once a table has doubled since the last sweep: amortised O(1) per write.

        (A sweep on every write past a fixed size would rescan the whole table each time, because
        the dedup table legitimately holds every message of the last ten minutes.)
        """
        now = self._clock()
        for name in ("_dedup", "_state", "_seen"):
            table = getattr(self, name)
            if len(table) < self._sweep_at[name]:
                continue
            for key in [k for k, (_, expires) in table.items() if expires <= now]:
                del table[key]
            self._sweep_at[name] = max(_MIN_SWEEP, 2 * len(table))
