"""Plain values that cross the boundary between transports and handlers."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from handlers.conversation import Conversation
from intents import Classifier
from knowledge import Handbook

if TYPE_CHECKING:
    from desk.desk import ServiceDesk

DEFAULT_TZ = ZoneInfo("Asia/Shanghai")

# WeChat's passive reply limit for text content, in UTF-8 bytes.
MAX_REPLY_BYTES = 2048


@dataclass(frozen=True, slots=True)
class Message:
    """One thing a resident sent. kind: text, voice, subscribe, click, image, location, link, video,
    miniprogrampage (a mini-program card), other."""

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


@dataclass(frozen=True, slots=True)
class Context:
    """One turn as handlers see it."""

    message: Message
    conversation: Conversation
    services: Services
    notice: bool = False  # kept notices wait for this resident (shown before the answer)
