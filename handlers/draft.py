"""The order draft: what a resident has told the order conversation so far, as one typed value.

It is saved with the conversation as JSON between messages, so `to_json` keeps the shape older
processes wrote (item, visit, fields, asking, key, at, urgent; recalled only when set) and
`from_json` refuses, with ValueError, anything it cannot read instead of letting a handler trip
over it later.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from intents.when import Window

IDLE = timedelta(minutes=30)  # a draft untouched this long is dropped when the next turn starts


@dataclass(slots=True)
class OrderDraft:
    """One order being filled in. `key` becomes the ticket's request key (one ticket per draft)."""

    item: str
    key: str
    at: datetime  # last touched (local time): the idle clock
    visit: bool = False  # a home visit: the address is asked too
    urgent: bool = False  # the first message named a hazard
    asking: str = ""  # the field the last reply asked for, or "confirm"
    fields: dict[str, str] = field(default_factory=dict)  # text answers: name, mobile, address, description
    time: Window | None = None  # the wanted time, once one fits service hours
    name_declined: bool = False  # asked once for a 称呼 after the resident would not give a name
    recalled: tuple[str, ...] = ()  # fields copied from the kept profile (erased with it on request)

    def has(self, name: str) -> bool:
        return self.time is not None if name == "time" else name in self.fields

    def drop(self, name: str) -> None:
        """Forget one answer (the resident is correcting it)."""
        if name == "time":
            self.time = None
        else:
            self.fields.pop(name, None)

    def idle(self, now: datetime) -> bool:
        return now - self.at > IDLE

    def to_json(self) -> dict[str, Any]:
        fields: dict[str, Any] = dict(self.fields)
        if self.time is not None:
            fields["time"] = self.time.as_json()
        return {
            "item": self.item,
            "visit": self.visit,
            "fields": fields,
            "asking": self.asking,
            "key": self.key,
            "at": self.at.isoformat(),
            "urgent": self.urgent,
            "name_declined": self.name_declined,
            **({"recalled": list(self.recalled)} if self.recalled else {}),
        }

    @classmethod
    def from_json(cls, raw: Any) -> OrderDraft:
        """Read a saved draft; ValueError when it is not one (a damaged or foreign value)."""
        try:
            fields = dict(raw.get("fields") or {})
            time = fields.pop("time", None)
            at = datetime.fromisoformat(raw["at"])
            if at.tzinfo is None or not isinstance(raw["item"], str) or not isinstance(raw["key"], str):
                raise ValueError("draft without an aware time, item or key")
            return cls(
                item=raw["item"],
                key=raw["key"],
                at=at,
                visit=bool(raw.get("visit")),
                urgent=bool(raw.get("urgent")),
                asking=str(raw.get("asking") or ""),
                fields={str(k): str(v) for k, v in fields.items()},
                time=Window.from_json(time) if time else None,
                name_declined=bool(raw.get("name_declined")),
                recalled=tuple(str(f) for f in raw.get("recalled") or ()),
            )
        except (AttributeError, KeyError, TypeError) as exc:
            raise ValueError(f"not an order draft: {exc!r}") from exc
