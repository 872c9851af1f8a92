"""Typed, immutable view of the handbook so callers never touch raw YAML dicts."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Document:
    name: str
    form: str  # 原件 / 复印件 / 原件和复印件 / 电子
    count: int
    note: str = ""


@dataclass(frozen=True, slots=True)
class Where:
    place: str  # community | street | compound | external
    name: str = ""
    note: str = ""


@dataclass(frozen=True, slots=True)
class TimeLimit:
    kind: str  # immediate | working_days
    days: int = 0
    note: str = ""


@dataclass(frozen=True, slots=True)
class Item:
    id: str
    title: str
    category: str
    aliases: tuple[str, ...]
    keywords: tuple[str, ...]
    eligibility: tuple[str, ...]
    documents: tuple[Document, ...]
    steps: tuple[str, ...]
    where: Where
    time_limit: TimeLimit
    fee: str
    bookable: bool
    home_visit: bool
    online: str
    when: str = ""
    notes: tuple[str, ...] = ()
    default_intent: str = "consult"
    # True for the catch-all item (上门服务): it only wins when no specific item matches.
    fallback: bool = False


@dataclass(frozen=True, slots=True)
class Place:
    name: str
    address: str


@dataclass(frozen=True, slots=True)
class Office:
    name: str
    phone: str
    duty_phone: str
    places: dict[str, Place]
    hours: dict[str, str]
    holidays: str
    online: str
    policy_note: str


@dataclass(frozen=True, slots=True)
class Handbook:
    categories: dict[str, str]
    items: dict[str, Item]  # catalogue order
    office: Office
    source: str = ""

    def item(self, item_id: str) -> Item:
        return self.items[item_id]
