"""Declared conversation states: what a resident's next message may refer to.

A conversation is in at most one state, and each state carries one typed value, so a handler
enters a state with everything it needs and cannot leave a stale key of another behind:

  ORDERING    an order draft is being filled in            (OrderDraft)
  CHOOSING    a numbered "which item did you mean?" waits   (Choice)
  PLACED      an order just went in; 确认 again is harmless  (Placed)
  AFTER_ITEM  an item was just answered; "预约"/"材料" mean it (the item id)
  WHICH_TICKET  a numbered "which of your tickets?" waits      (Pending)
  AMENDING    a change of an own ticket waits for its new value (Amending)
  REGISTERING a party member's or volunteer's 报到 is being filled in (Signup)

Beside the state, `recent` keeps the resident's last few texts (phone and ID numbers masked),
whatever the state: when they ask for a person, the staff member sees what they already said.

The store keeps the state as JSON between messages. Version 2 names the state and keeps the keys
version 1 (free keys, before states were declared) wrote, so either reader understands the other
during a rolling restart; anything unreadable is forgotten, never an error for the resident.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Container, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from handlers.draft import OrderDraft

log = logging.getLogger("baishitong.conversation")

T = TypeVar("T")
VERSION = 2
RECENT = 5  # texts kept for a handoff
RECENT_CHARS = 200  # of each


@dataclass(frozen=True, slots=True)
class Choice:
    """A numbered question: the items listed, and the intent the chosen one answers."""

    options: tuple[str, ...]
    intent: str = "consult"
    # The order message that asked it, as written: its name, phone and time fill the form of the
    # item picked (trial V r5 was asked them again). Kept only while the question waits.
    asked: str = ""


@dataclass(frozen=True, slots=True)
class Placed:
    """The order just placed: its item (for follow-ups) and ticket number (for a repeated 确认)."""

    item: str
    number: str


@dataclass(frozen=True, slots=True)
class Reported:
    """An emergency just answered: the resident's next messages are about it (the address goes onto
    its ticket). `number` is "" when the community opened no ticket (gas in one's own kitchen)."""

    number: str
    kind: str
    # The order being filled in when the emergency came up: a care booking's read-back that said
    # 中风 was lost to the emergency reply (trial X r7); "没事了" takes it up again.
    paused: OrderDraft | None = None
    # Taken to hospital: the danger is over, what follows is the aftermath (a door left broken, the
    # family to reach) — the opening advice is not said again (trial TT r17 got it four times).
    over: bool = False


@dataclass(frozen=True, slots=True)
class Pending:
    """A request about one of the resident's tickets, waiting for them to say which.

    action: status, cancel or change; change holds the new values as the resident said them."""

    action: str
    numbers: tuple[str, ...]
    text: str = ""  # the request, read again once the ticket is chosen


@dataclass(frozen=True, slots=True)
class Amending:
    """A change of ticket `number` asked without its value ("改时间"): the next message is it."""

    number: str
    field: str  # time, address, name or mobile


@dataclass(frozen=True, slots=True)
class State(Generic[T]):
    """A declared state: its stored name, and how its value is written to and read from JSON."""

    name: str
    dump: Callable[[T], dict[str, Any]]
    load: Callable[[Mapping[str, Any]], T]  # raises KeyError/TypeError/ValueError on a bad value

    def __repr__(self) -> str:
        return f"State({self.name})"


ORDERING: State[OrderDraft] = State(
    "ordering",
    lambda draft: {"order": draft.to_json(), "last_item": draft.item},
    lambda raw: OrderDraft.from_json(raw["order"]),
)
CHOOSING: State[Choice] = State(
    "choosing",
    lambda choice: {
        "await_choice": list(choice.options),
        "intent": choice.intent,
        **({"asked": choice.asked} if choice.asked else {}),
    },
    lambda raw: Choice(
        tuple(map(str, raw["await_choice"])), str(raw.get("intent") or "consult"), str(raw.get("asked") or "")
    ),
)
PLACED: State[Placed] = State(
    "placed",
    lambda placed: {"last_item": placed.item, "placed": placed.number},
    lambda raw: Placed(str(raw["last_item"]), str(raw["placed"])),
)
AFTER_ITEM: State[str] = State(
    "after_item", lambda item: {"last_item": item}, lambda raw: str(raw["last_item"])
)

EMERGENCY: State[Reported] = State(
    "emergency",
    lambda reported: {
        "emergency": reported.number,
        "hazard": reported.kind,
        **({"paused": reported.paused.to_json()} if reported.paused is not None else {}),
        **({"over": True} if reported.over else {}),
    },
    lambda raw: Reported(
        str(raw["emergency"]),
        str(raw["hazard"]),
        OrderDraft.from_json(raw["paused"]) if isinstance(raw.get("paused"), dict) else None,
        bool(raw.get("over")),
    ),
)

WHICH_TICKET: State[Pending] = State(
    "which_ticket",
    lambda p: {"action": p.action, "numbers": list(p.numbers), "text": p.text},
    lambda raw: Pending(str(raw["action"]), tuple(map(str, raw["numbers"])), str(raw.get("text") or "")),
)
AMENDING: State[Amending] = State(
    "amending",
    lambda a: {"ticket": a.number, "field": a.field},
    lambda raw: Amending(str(raw["ticket"]), str(raw["field"])),
)


@dataclass(frozen=True, slots=True)
class Signup:
    """A 报到 being filled in (handlers/responders.py): the question asked and the answers so far."""

    asking: str
    answers: tuple[tuple[str, str], ...] = ()

    def get(self, key: str) -> str:
        return dict(self.answers).get(key, "")

    def with_answer(self, key: str, value: str, asking: str) -> Signup:
        return Signup(asking, (*((k, v) for k, v in self.answers if k != key), (key, value)))


REGISTERING: State[Signup] = State(
    "registering",
    lambda s: {"asking": s.asking, "answers": [list(pair) for pair in s.answers]},
    lambda raw: Signup(str(raw["asking"]), tuple((str(k), str(v)) for k, v in raw["answers"])),
)


@dataclass(frozen=True, slots=True)
class HandedOff:
    """A person was just asked to answer (ticket `number`): what the bot cannot place next goes to them
    too. `item` is the service talked about before: "材料" or "要带照片不" after the handoff is still
    about it (trial VV r04's "材料" got the handoff notice again)."""

    number: str
    item: str | None = None


HANDED_OFF: State[HandedOff] = State(
    "handed_off",
    lambda handed: {"handoff": handed.number, **({"item": handed.item} if handed.item else {})},
    lambda raw: HandedOff(str(raw["handoff"]), str(raw["item"]) if raw.get("item") else None),
)

COMPLAINED: State[str] = State(
    "complained", lambda number: {"complaint": number}, lambda raw: str(raw["complaint"])
)  # a complaint was just lodged: what the bot cannot place next is added to it

REFERRED: State[str] = State(
    "referred", lambda place: {"referred": place}, lambda raw: str(raw["referred"])
)  # the resident was just sent to another agency (referrals.yaml): "那去哪里办" is about it

STATES: dict[str, State[Any]] = {
    state.name: state
    for state in (
        ORDERING,
        CHOOSING,
        PLACED,
        AFTER_ITEM,
        EMERGENCY,
        WHICH_TICKET,
        AMENDING,
        REFERRED,
        REGISTERING,
        HANDED_OFF,
        COMPLAINED,
    )
}
# Version 1 had no state name: the key each state wrote tells it (checked in this order).
_V1_KEYS = (("order", ORDERING), ("placed", PLACED), ("await_choice", CHOOSING), ("last_item", AFTER_ITEM))


@dataclass(slots=True)
class Conversation:
    """The resident's conversation for one turn: loaded before the handlers run, saved after.

    Handlers read it with get() and change it with enter()/forget(); they never talk to the store,
    so the whole turn costs the store one read and one write.
    """

    state: State[Any] | None = None
    value: Any = None
    changed: bool = False
    recent: tuple[str, ...] = ()  # the resident's last texts, oldest first, masked
    # The last numbered list and how many messages ago it was sent: "5" two messages after the
    # life-event list still picks from it (trial Q: the list was forgotten after one question).
    menu: Choice | None = None
    menu_age: int = 0
    # A fingerprint of the last item answer sent: the same answer again is no answer (dispatcher).
    answered: str = ""

    @classmethod
    def load(cls, raw: Mapping[str, Any], now: datetime, items: Container[str]) -> Conversation:
        """The stored state at the start of a turn. An order draft idle for 30 minutes, a value
        that cannot be read, or one naming an item the handbook no longer has is dropped here
        (and forgotten when the turn is saved), so the message is handled anew."""
        recent = _recent_of(raw)
        answered = str(raw.get("answered") or "")[:16] if raw else ""
        menu, menu_age = _menu_of(raw)
        if menu is not None and not all(item in items for item in menu.options):
            menu, menu_age = None, 0  # an item the handbook no longer has
        if not raw or (raw.get("v") == VERSION and "state" not in raw):
            return cls(recent=recent, menu=menu, menu_age=menu_age, answered=answered)
        try:
            state = _state_of(raw)
            value = state.load(raw)
        except (KeyError, TypeError, ValueError) as exc:
            log.warning("unreadable conversation state dropped: %r", exc)
            return cls(changed=True, recent=recent)
        conversation = cls(state, value, recent=recent, menu=menu, menu_age=menu_age, answered=answered)
        mentioned = value.options if isinstance(value, Choice) else (conversation.item,)
        if isinstance(value, Reported | Pending | Amending | Signup) or state in (REFERRED, COMPLAINED):
            mentioned = ()
        if isinstance(value, HandedOff):
            mentioned = (value.item,) if value.item else ()
        if not all(item in items for item in mentioned):
            return cls(changed=True, recent=recent)
        if isinstance(value, OrderDraft) and value.idle(now):
            return cls(changed=True, recent=recent)
        return conversation

    def get(self, state: State[T]) -> T | None:
        """The value of `state` when the conversation is in it, else None."""
        return self.value if self.state is state else None

    def enter(self, state: State[T], value: T) -> None:
        self.state, self.value, self.changed = state, value, True
        if state is CHOOSING:
            self.menu, self.menu_age = value, 0  # type: ignore[assignment]

    def forget(self) -> None:
        self.state, self.value, self.changed = None, None, True
        self.menu, self.menu_age = None, 0

    def answer_sent(self, fingerprint: str) -> None:
        """Remember the answer just sent ("" for none worth comparing)."""
        if fingerprint != self.answered:
            self.answered, self.changed = fingerprint, True

    def forget_recent(self) -> None:
        """Drop the last texts kept for context: after "删除我的信息" nothing said before is reused
        (a new order takes a name or flat said earlier in the conversation: ordering._from_recent)."""
        self.recent, self.changed = (), True

    def remember(self, text: str) -> None:
        """Add one (already masked) text to `recent`, dropping the oldest past RECENT."""
        text = text.strip()[:RECENT_CHARS]
        if text:
            self.recent, self.changed = (*self.recent, text)[-RECENT:], True
            if self.menu is not None:
                self.menu_age += 1
                if self.menu_age > MENU_TURNS:
                    self.menu, self.menu_age = None, 0

    @property
    def item(self) -> str | None:
        """The item the conversation is about: ordered, placed or just answered (none while choosing)."""
        if isinstance(self.value, OrderDraft | Placed | HandedOff):
            return self.value.item
        return self.value if self.state is AFTER_ITEM else None

    def change(self) -> dict[str, Any] | None:
        """What to save: None when untouched (kept alive as it is), {} to forget it."""
        if not self.changed:
            return None
        recent: dict[str, Any] = {"recent": list(self.recent)} if self.recent else {}
        if self.answered:
            recent["answered"] = self.answered
        if self.menu is not None:
            menu = self.menu
            recent["menu"] = {"options": list(menu.options), "intent": menu.intent, "age": self.menu_age}
        if self.state is None:
            return {"v": VERSION, **recent} if recent else {}
        return {"v": VERSION, "state": self.state.name, **self.state.dump(self.value), **recent}


MENU_TURNS = 3  # messages after a numbered list during which a bare number still picks from it


def _menu_of(raw: Mapping[str, Any]) -> tuple[Choice | None, int]:
    value = raw.get("menu") if raw else None
    if not isinstance(value, dict) or not isinstance(value.get("options"), list):
        return None, 0
    try:
        age = int(value.get("age", 0))
    except (TypeError, ValueError):
        return None, 0
    options = tuple(str(option) for option in value["options"])
    return Choice(options, str(value.get("intent") or "consult")), age


def _recent_of(raw: Mapping[str, Any]) -> tuple[str, ...]:
    value = raw.get("recent") if raw else None
    if not isinstance(value, list):
        return ()
    return tuple(str(text)[:RECENT_CHARS] for text in value if isinstance(text, str))[-RECENT:]


def _state_of(raw: Mapping[str, Any]) -> State[Any]:
    if "v" not in raw:
        for key, state in _V1_KEYS:
            if key in raw:
                return state
        raise KeyError(f"no known key in {sorted(raw)}")
    if raw["v"] != VERSION:
        raise ValueError(f"conversation state version {raw['v']!r}")
    return STATES[raw["state"]]
