"""The store contract that both implementations pass (tests/test_store_contract.py).

One resident message is one *turn*: `begin` claims the message id (WeChat retries it), takes
the resident's lock (their messages are handled in arrival order) and loads their conversation
state; `finish` records the reply for retries, saves the state and releases the lock. On Redis
each is a single round trip; six separate commands per message cost more than all the rest
of the request.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass, field
from typing import Any

State = dict[str, Any]


@dataclass(slots=True)
class Turn:
    key: str
    resident: str
    owner: bool  # True: this delivery runs the handlers; False: a retry of one that did or does
    reply: str | None = None  # set when a retry finds the first delivery finished
    state: State = field(default_factory=dict)  # the resident's state, loaded for the owner
    token: str = ""  # identifies this turn's hold on the resident's lock
    notice: bool = False  # notices are waiting for this resident (flag_notice); consumed by begin
    _release: Any = None  # releases the in-process lock; internal to the implementations

    @property
    def pending(self) -> bool:
        """A retry whose first delivery is still running (in this or another process)."""
        return not self.owner and self.reply is None


class Store(abc.ABC):
    """Dedup records, per-resident conversation state with expiry, and per-resident locks."""

    kind: str = "store"

    def __init__(self, *, dedup_ttl: float = 600.0, state_ttl: float = 1800.0, lock_timeout: float = 30.0):
        self.dedup_ttl = dedup_ttl  # how long a reply is kept for WeChat's retries
        self.state_ttl = state_ttl  # an idle conversation is forgotten after this
        self.lock_timeout = lock_timeout  # longest wait for, and longest hold of, a resident's lock

    @abc.abstractmethod
    async def begin(self, key: str, resident: str) -> Turn:
        """Claim message `key` of `resident`. Waits (FIFO within a process) while another turn of the
        same resident is open, then returns: owner with state loaded, or a retry with its reply.
        Raises TimeoutError when the resident's lock is not free within lock_timeout."""

    @abc.abstractmethod
    async def finish(self, turn: Turn, reply: str, state: State | None) -> None:
        """End an owner's turn: keep `reply` for retries, replace the state with `state` (None:
        unchanged but kept alive, {}: forgotten), and release the resident's lock."""

    @abc.abstractmethod
    async def wait_reply(self, key: str, resident: str, timeout: float) -> str | None:
        """For a pending retry: the reply once the first delivery finishes; None on timeout, or
        earlier when the first delivery can no longer finish (its claim is gone, or on Redis its
        owner process died): the caller may then `begin` again, which takes the message over."""

    @abc.abstractmethod
    async def flag_notice(self, resident: str) -> None:
        """Mark that notices wait for `resident` (kept elsewhere): the next turn's begin reports it
        (Turn.notice) and clears the mark, so ordinary turns never pay for a lookup."""

    @abc.abstractmethod
    async def first_use(self, name: str, ttl: float) -> bool:
        """True the first time `name` is seen within `ttl` seconds, False after: the replay cache of
        the webhook's (timestamp, nonce) pairs, shared by every process that shares the store."""

    @abc.abstractmethod
    async def get_state(self, resident: str) -> State:
        """The resident's current state ({} when none): for tools and tests, outside any turn."""

    @abc.abstractmethod
    async def ping(self) -> bool:
        """True when the backing service answers."""

    async def close(self) -> None:  # noqa: B027 - optional hook, nothing to release by default
        """Release connections."""
