"""The rota as the console edits it and `staff export` writes it: the import format rebuilt from
the database, a fingerprint to catch two people editing at once, what changed (for the audit
log), and the coming week's windows where nobody qualified is on duty for a category.

Pure: the desk (desk/rostering.py) loads and saves; validation is parse_rota's, the one
`staff import` uses.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Protocol

from desk.rota import WEEKDAYS, DayCalendar, DutyWindow, Rota
from desk.routing import Person, choose

# The parts of the document the rota page edits or keeps as they are; staff and leave live in
# their own tables and are written into the document from there.
DUTY_KEYS = ("windows", "week", "workday_as", "holidays", "swaps", "grids")  # grids: kept, not edited here
IMPORTED_LEAVE = "rota:"  # storage/staff.py tags leave rows that came from a rota file
_SPLIT = re.compile(r"[、,，;；/\s]+")


class Member(Protocol):
    name: str
    mobile: str
    wecom_userid: str
    grade: str
    categories: list[str]
    post: list[str]
    backup: str
    roles: list[str]
    active: bool


def names_in(text: str) -> list[str]:
    """The names typed in one cell: 张敏、王芳 / 张敏,王芳 / 张敏 王芳, duplicates dropped."""
    return list(dict.fromkeys(part for part in _SPLIT.split(text.strip()) if part))


def staff_entry(member: Member) -> dict[str, Any]:
    """One staff row in the import format (examples/rota.yaml), empty fields left out."""
    entry: dict[str, Any] = {"name": member.name}
    for key, value in (
        ("mobile", member.mobile),
        ("wecom", member.wecom_userid),
        ("grade", member.grade),
        ("categories", list(member.categories)),
        ("post", list(member.post)),
        ("backup", member.backup),
        ("roles", list(member.roles)),
    ):
        if value or key == "grade":
            entry[key] = value
    return entry


def duty_document(stored: Mapping[str, Any] | None, members: Iterable[Member]) -> dict[str, Any]:
    """The rota in the import format: staff from the staff table (the stored document's own list
    is as old as its last import), the duty parts from the stored document; no leave."""
    duty = {key: stored[key] for key in DUTY_KEYS if stored and key in stored}
    active = [m for m in members if m.active]
    names = {m.name for m in active}
    staff = [staff_entry(m) for m in active]
    for entry in staff:  # a B角 who has left covers nobody (routing skips them too)
        if entry.get("backup") and entry["backup"] not in names:
            del entry["backup"]
    return {"staff": staff, **duty}


def fingerprint(document: Mapping[str, Any] | None) -> str:
    """A short hash of the duty parts: the page sends back the one it was drawn from, and a save
    over someone else's newer edit is refused (staff edits in between do not count)."""
    duty = {key: document[key] for key in DUTY_KEYS if document and key in document}
    return hashlib.sha256(json.dumps(duty, sort_keys=True, ensure_ascii=False).encode()).hexdigest()[:16]


def without(document: Mapping[str, Any], name: str) -> dict[str, Any]:
    """The document with `name` taken off every cell, out of every swap and off the staff list,
    and no longer anyone's B角 (someone who left)."""

    def plan(raw: Any) -> Any:
        if not isinstance(raw, dict):
            return raw
        return {
            key: [p for p in (people if isinstance(people, list) else [people]) if str(p) != name]
            for key, people in raw.items()
        }

    out = dict(document)
    if isinstance(out.get("week"), dict):
        out["week"] = {day: plan(raw) for day, raw in out["week"].items()}
    if isinstance(out.get("holidays"), dict):
        out["holidays"] = {day: plan(raw) for day, raw in out["holidays"].items()}
    if isinstance(out.get("swaps"), list):
        out["swaps"] = [
            s
            for s in out["swaps"]
            if not (isinstance(s, dict) and name in (str(s.get("from")), str(s.get("to"))))
        ]
    if isinstance(out.get("staff"), list):
        out["staff"] = [
            {k: v for k, v in s.items() if not (k == "backup" and v == name)}
            for s in out["staff"]
            if isinstance(s, dict) and s.get("name") != name
        ]
    return out


# ---- what changed, for the audit log -----------------------------------------------------------


def _cells(document: Mapping[str, Any]) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for section, keys in (("week", WEEKDAYS), ("holidays", None)):
        raw = document.get(section) or {}
        if not isinstance(raw, dict):
            continue
        for day, plan in raw.items():
            if (keys is not None and day not in keys) or not isinstance(plan, dict):
                continue
            for window, people in plan.items():
                people = people if isinstance(people, list) else [people]
                out[f"{section}.{day}.{window}"] = {str(p) for p in people}
    return out


def _swaps(document: Mapping[str, Any]) -> set[str]:
    return {
        f"{s.get('date')} {s.get('window')} {s.get('from')}→{s.get('to')}"
        for s in document.get("swaps") or []
        if isinstance(s, dict)
    }


def changes(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[str]:
    """Each changed cell as 'week.mon.morning +王芳 -赵磊', each swap added or dropped."""
    old, new = _cells(before), _cells(after)
    out = []
    for path in sorted(old.keys() | new.keys()):
        added, gone = new.get(path, set()) - old.get(path, set()), old.get(path, set()) - new.get(path, set())
        if added or gone:
            out.append(" ".join([path, *(f"+{n}" for n in sorted(added)), *(f"-{n}" for n in sorted(gone))]))
    old_swaps, new_swaps = _swaps(before), _swaps(after)
    out += [f"swap +{s}" for s in sorted(new_swaps - old_swaps)]
    out += [f"swap -{s}" for s in sorted(old_swaps - new_swaps)]
    return out


# ---- the coming week's gaps ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Gap:
    """A duty window with people on it but nobody who may take tickets of `missing` categories
    (after leave), or a holiday with no duty at all (`window` None)."""

    day: date
    window: DutyWindow | None
    names: tuple[str, ...]
    missing: tuple[str, ...]


def gaps(
    rota: Rota,
    calendar: DayCalendar,
    members: Mapping[str, Person],
    leave: Mapping[str, set[date]],
    categories: Iterable[str],
    start: datetime,
    days: int = 7,
) -> list[Gap]:
    """From `start` for `days` days: each window (not yet over) where routing (desk/routing.choose)
    would find nobody for a category; and each holiday with nobody on duty. A window the rota
    leaves empty on purpose (no evening service on Tuesdays) is not a gap."""
    categories = tuple(categories)
    out: list[Gap] = []
    for ahead in range(days):
        day = start.date() + timedelta(days=ahead)
        duty = rota.duty_on(day, calendar)
        if not duty and calendar.holiday(day):
            out.append(Gap(day, None, (), categories))
        for window, names in duty:
            if window.at(day, start.tzinfo)[1] <= start:
                continue
            here = [members[n] for n in names if n in members and day not in leave.get(n, ())]
            missing = tuple(c for c in categories if choose(c, here, members.values(), {}) is None)
            if missing:
                out.append(Gap(day, window, tuple(p.name for p in here), missing))
    return out
