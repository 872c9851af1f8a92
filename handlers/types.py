"""Plain values that cross the boundary between transports and handlers."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from intents import Classifier
from knowledge import Handbook

if TYPE_CHECKING:
    from desk.desk import ServiceDesk

DEFAULT_TZ = ZoneInfo("Asia/Shanghai")

# WeChat's passive reply limit for text content, in UTF-8 bytes.
MAX_REPLY_BYTES = 2048


@dataclass(frozen=True, slots=True)
class Message:
    """One thing a resident sent. kind: text, voice, subscribe, click, image, location, link, video, other."""

    resident: str
    kind: str
    text: str = ""
    event_key: str = ""


@dataclass(frozen=True, slots=True)
class Reply:
    """What to answer; text None means acknowledge silently (WeChat's "success")."""

    text: str | None

    @classmethod
    def silent(cls) -> Reply:
        return cls(None)


@dataclass(frozen=True, slots=True)
class Services:
    """Everything handlers may consult, built once at start-up and passed down."""

    handbook: Handbook
    classifier: Classifier
    desk: ServiceDesk | None = None  # tickets, staff and outbox; None: no online ordering
    tz: tzinfo = DEFAULT_TZ
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)

    def now(self) -> datetime:
        """The community's local time: dates residents say ("明天") are read in it."""
        return self.clock().astimezone(self.tz)


@dataclass(slots=True)
class Conversation:
    """The resident's conversation state for one turn: loaded before the handlers run, saved after.

    Handlers read `state` and call remember()/forget(); they never talk to the store, so the
    whole turn costs the store one read and one write.
    """

    state: dict[str, Any] = field(default_factory=dict)
    changed: bool = False

    def remember(self, **values: Any) -> None:
        """Replace the state with `values` (a pending question, the last item answered)."""
        self.state = dict(values)
        self.changed = True

    def forget(self) -> None:
        self.state = {}
        self.changed = True

    def change(self) -> dict[str, Any] | None:
        """What to save: None when untouched (kept alive as it is), {} to forget it."""
        return dict(self.state) if self.changed else None


@dataclass(frozen=True, slots=True)
class Context:
    """One turn as handlers see it."""

    message: Message
    conversation: Conversation
    services: Services
    notice: bool = False  # kept notices wait for this resident (shown before the answer)
