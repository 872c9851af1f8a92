"""Plain values that cross the boundary between transports and handlers."""

from __future__ import annotations

from dataclasses import dataclass

from intents import Classifier
from knowledge import Handbook
from storage import Store

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
    """Everything a handler may use, built once at start-up and passed down."""

    handbook: Handbook
    classifier: Classifier
    store: Store
    state_ttl: float = 1800.0  # an idle conversation is forgotten after 30 minutes
