"""The store contract that both implementations pass (tests/test_store_contract.py)."""

from __future__ import annotations

import abc
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Claim:
    """Result of claiming a message id: either we own it, or someone did and maybe finished."""

    owner: bool
    reply: str | None = None  # set when the first delivery already finished

    @property
    def pending(self) -> bool:
        return not self.owner and self.reply is None


class Store(abc.ABC):
    """Dedup records, per-resident conversation state with expiry, and per-resident locks."""

    kind: str = "store"

    @abc.abstractmethod
    async def claim(self, key: str, ttl: float) -> Claim:
        """Atomically mark `key` as being processed; the first caller becomes the owner."""

    @abc.abstractmethod
    async def complete(self, key: str, reply: str, ttl: float) -> None:
        """Record the reply of `key` so retries get the same answer; wakes waiters."""

    @abc.abstractmethod
    async def wait_reply(self, key: str, timeout: float) -> str | None:
        """Wait until the owner of `key` completes it; None on timeout or when the claim expired."""

    @abc.abstractmethod
    async def get_state(self, resident: str) -> dict[str, Any] | None:
        """Conversation state of a resident, or None when absent or expired."""

    @abc.abstractmethod
    async def set_state(self, resident: str, state: dict[str, Any], ttl: float) -> None:
        """Replace the resident's state; it expires `ttl` seconds after this write."""

    @abc.abstractmethod
    async def clear_state(self, resident: str) -> None:
        """Forget the resident's conversation state."""

    @abc.abstractmethod
    def lock(self, resident: str, timeout: float = 10.0) -> AbstractAsyncContextManager[None]:
        """Serialise work for one resident; waiters acquire in arrival order within a process."""

    @abc.abstractmethod
    async def ping(self) -> bool:
        """True when the backing service answers."""

    async def close(self) -> None:  # noqa: B027 - optional hook, nothing to release by default
        """Release connections."""
