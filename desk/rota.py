"""The duty rota (8+2, 5+2): windows, who is on each weekday, holiday duty, swaps — pure logic.

Parsed from the YAML that `baishitong staff import` reads; kept in the database as that document.
Leave is applied by the caller (it lives in its own table, managed with `staff leave`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any, Protocol

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY_KINDS = ("workdays", "weekend", "holidays")
GRADES = ("A", "B")
ROLES = ("leader", "secretary")
_SPAN = re.compile(r"^(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})$")


class DayCalendar(Protocol):
    """What the rota needs of the handbook's calendar (knowledge.models.Calendar)."""

    def holiday(self, day: date) -> str | None: ...

    def is_workday(self, day: date) -> bool: ...


class RotaError(ValueError):
    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(frozen=True, slots=True)
class DutyWindow:
    key: str
    label: str
    days: str  # workdays | weekend | holidays
    start: time
    end: time

    def at(self, day: date, tz: Any) -> tuple[datetime, datetime]:
        return datetime.combine(day, self.start, tz), datetime.combine(day, self.end, tz)


@dataclass(frozen=True, slots=True)
class StaffSpec:
    name: str
    mobile: str = ""
    wecom: str = ""
    grade: str = "A"
    categories: tuple[str, ...] = ()
    post: tuple[str, ...] = ()
    backup: str = ""
    roles: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class LeaveSpec:
    name: str
    first_day: date
    last_day: date
    note: str = ""


@dataclass(frozen=True, slots=True)
class Rota:
    windows: dict[str, DutyWindow] = field(default_factory=dict)
    week: dict[int, dict[str, tuple[str, ...]]] = field(default_factory=dict)
    holidays: dict[date, dict[str, tuple[str, ...]]] = field(default_factory=dict)
    swaps: dict[tuple[date, str], tuple[tuple[str, str], ...]] = field(default_factory=dict)
    workday_as: int = 0

    def day_kind(self, day: date, calendar: DayCalendar) -> str:
        if calendar.holiday(day):
            return "holidays"
        return "workdays" if calendar.is_workday(day) else "weekend"

    def duty_on(self, day: date, calendar: DayCalendar) -> list[tuple[DutyWindow, tuple[str, ...]]]:
        """Each window open on `day`, in time order, with who is on it (swaps applied)."""
        kind = self.day_kind(day, calendar)
        if kind == "holidays":
            plan = self.holidays.get(day, {})
        elif kind == "workdays" and day.weekday() >= 5:
            plan = self.week.get(self.workday_as, {})  # a make-up working day (调休)
        else:
            plan = self.week.get(day.weekday(), {})
        out = []
        for window in sorted(self.windows.values(), key=lambda w: w.start):
            if window.days != kind:
                continue
            names = list(plan.get(window.key, ()))
            for off, on in self.swaps.get((day, window.key), ()):
                names = [on if name == off else name for name in names]
                if on not in names:
                    names.append(on)
            if names:
                out.append((window, tuple(dict.fromkeys(names))))
        return out

    def duty_at(self, at: datetime, calendar: DayCalendar) -> list[tuple[DutyWindow, tuple[str, ...]]]:
        """The windows open at `at` (start inclusive, end exclusive) and who is on them."""
        now = at.timetz().replace(tzinfo=None)
        return [(w, names) for w, names in self.duty_on(at.date(), calendar) if w.start <= now < w.end]

    def next_opening(
        self, after: datetime, calendar: DayCalendar, accept: Callable[[str, date], bool], days: int = 21
    ) -> tuple[datetime, DutyWindow, tuple[str, ...]] | None:
        """The first window starting after `after` with someone `accept`ed on it (qualified, not on leave)."""
        for ahead in range(days + 1):
            day = after.date() + timedelta(days=ahead)
            for window, names in self.duty_on(day, calendar):
                start, _ = window.at(day, after.tzinfo)
                if start <= after:
                    continue
                chosen = tuple(name for name in names if accept(name, day))
                if chosen:
                    return start, window, chosen
        return None


def parse_rota(doc: Any) -> tuple[Rota, list[StaffSpec], list[LeaveSpec]]:
    """Validate a rota document; RotaError lists every problem as 'field: problem'."""
    problems: list[str] = []
    if not isinstance(doc, dict):
        raise RotaError(["the file must be a mapping with staff, windows and week"])
    staff = _parse_staff(doc.get("staff"), problems)
    names = {spec.name for spec in staff}
    windows = _parse_windows(doc.get("windows"), problems)

    def plan(raw: Any, where: str) -> dict[str, tuple[str, ...]]:
        if raw is None:
            return {}
        if not isinstance(raw, dict):
            problems.append(f"{where}: must map window names to lists of staff")
            return {}
        out: dict[str, tuple[str, ...]] = {}
        for key, people in raw.items():
            if key not in windows:
                problems.append(f"{where}.{key}: unknown window (known: {', '.join(windows)})")
                continue
            people = people if isinstance(people, list) else [people]
            for person in people:
                if str(person) not in names:
                    problems.append(f"{where}.{key}: unknown staff member '{person}'")
            out[str(key)] = tuple(str(p) for p in people)
        return out

    week_raw = doc.get("week")
    week: dict[int, dict[str, tuple[str, ...]]] = {}
    if not isinstance(week_raw, dict):
        problems.append("week: missing (mon..sun → window → staff)")
    else:
        for key, raw in week_raw.items():
            if key not in WEEKDAYS:
                problems.append(f"week.{key}: unknown day (use {', '.join(WEEKDAYS)})")
                continue
            week[WEEKDAYS.index(key)] = plan(raw, f"week.{key}")
    holidays: dict[date, dict[str, tuple[str, ...]]] = {}
    for key, raw in (doc.get("holidays") or {}).items():
        day = _date(key, f"holidays.{key}", problems)
        if day:
            holidays[day] = plan(raw, f"holidays.{key}")
    swaps: dict[tuple[date, str], list[tuple[str, str]]] = {}
    for index, raw in enumerate(doc.get("swaps") or []):
        where = f"swaps[{index}]"
        if not isinstance(raw, dict):
            problems.append(f"{where}: must have date, window, from, to")
            continue
        day = _date(raw.get("date"), f"{where}.date", problems)
        window = str(raw.get("window", ""))
        if window not in windows:
            problems.append(f"{where}.window: unknown window '{window}'")
        for key in ("from", "to"):
            if str(raw.get(key, "")) not in names:
                problems.append(f"{where}.{key}: unknown staff member '{raw.get(key, '')}'")
        if day:
            swaps.setdefault((day, window), []).append((str(raw.get("from")), str(raw.get("to"))))
    leave = [
        LeaveSpec(str(raw.get("name")), first, last, str(raw.get("note", "")))
        for index, raw in enumerate(doc.get("leave") or [])
        if (first_last := _leave_days(raw, f"leave[{index}]", names, problems))
        for first, last in [first_last]
    ]
    workday_as = str(doc.get("workday_as", "mon"))
    if workday_as not in WEEKDAYS:
        problems.append(f"workday_as: unknown day '{workday_as}'")
    if problems:
        raise RotaError(problems)
    rota = Rota(
        windows,
        week,
        holidays,
        {key: tuple(value) for key, value in swaps.items()},
        WEEKDAYS.index(workday_as),
    )
    return rota, staff, leave


def rota_from_document(doc: dict[str, Any]) -> Rota:
    return parse_rota(doc)[0]


def jsonable(value: Any) -> Any:
    """The YAML document with dates as ISO strings, so it can be stored as JSON and parsed again."""
    if isinstance(value, dict):
        return {str(jsonable(k)): jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [jsonable(v) for v in value]
    if isinstance(value, date):
        return value.isoformat()
    return value


def _parse_staff(raw: Any, problems: list[str]) -> list[StaffSpec]:
    if not isinstance(raw, list) or not raw:
        problems.append("staff: missing (a list of staff members)")
        return []
    specs: list[StaffSpec] = []
    for index, entry in enumerate(raw):
        where = f"staff[{index}]"
        if not isinstance(entry, dict) or not str(entry.get("name", "")).strip():
            problems.append(f"{where}.name: missing")
            continue
        spec = staff_spec(entry, where, problems)
        if any(s.name == spec.name for s in specs):
            problems.append(f"{where}.name: '{spec.name}' listed twice")
        specs.append(spec)
    names = {s.name for s in specs}
    for index, spec in enumerate(specs):
        if spec.backup and spec.backup not in names:
            problems.append(f"staff[{index}].backup: unknown staff member '{spec.backup}'")
    return specs


def staff_spec(entry: dict[str, Any], where: str, problems: list[str]) -> StaffSpec:
    """One staff member from a mapping (the rota file, or `staff add` options)."""
    grade = str(entry.get("grade", "A")).upper()
    if grade not in GRADES:
        problems.append(f"{where}.grade: must be A (全岗通) or B")
    mobile = str(entry.get("mobile", "")).replace(" ", "")
    if mobile and not re.fullmatch(r"1[3-9]\d{9}", mobile):
        problems.append(f"{where}.mobile: '{mobile}' is not an 11-digit mobile number")
    categories = _names(entry.get("categories"))
    if grade == "B" and not categories:
        problems.append(f"{where}.categories: grade B needs the categories they handle")
    roles = _names(entry.get("roles"))
    for role in roles:
        if role not in ROLES:
            problems.append(f"{where}.roles: unknown role '{role}' (known: {', '.join(ROLES)})")
    return StaffSpec(
        name=str(entry["name"]).strip(),
        mobile=mobile,
        wecom=str(entry.get("wecom", "")).strip(),
        grade=grade,
        categories=categories,
        post=_names(entry.get("post")),
        backup=str(entry.get("backup", "") or "").strip(),
        roles=roles,
    )


def _names(raw: Any) -> tuple[str, ...]:
    if raw is None:
        return ()
    values: Iterable[Any] = raw if isinstance(raw, list) else [raw]
    return tuple(str(v).strip() for v in values if str(v).strip())


def _parse_windows(raw: Any, problems: list[str]) -> dict[str, DutyWindow]:
    if not isinstance(raw, dict) or not raw:
        problems.append("windows: missing (name → label, days, time)")
        return {}
    windows: dict[str, DutyWindow] = {}
    for key, entry in raw.items():
        where = f"windows.{key}"
        if not isinstance(entry, dict):
            problems.append(f"{where}: must have label, days and time")
            continue
        days = str(entry.get("days", ""))
        if days not in DAY_KINDS:
            problems.append(f"{where}.days: must be one of {', '.join(DAY_KINDS)}")
        match = _SPAN.match(str(entry.get("time", "")).strip())
        try:
            if not match:
                raise ValueError
            h1, m1, h2, m2 = map(int, match.groups())
            start, end = time(h1, m1), time(h2, m2)
            if start >= end:
                raise ValueError
        except ValueError:
            problems.append(f"{where}.time: '{entry.get('time')}' is not a span like 09:00-12:00")
            continue
        windows[str(key)] = DutyWindow(str(key), str(entry.get("label", key)), days, start, end)
    return windows


def _date(raw: Any, where: str, problems: list[str]) -> date | None:
    if isinstance(raw, date):
        return raw
    try:
        return date.fromisoformat(str(raw))
    except ValueError:
        problems.append(f"{where}: '{raw}' is not a date like 2026-10-01")
        return None


def _leave_days(raw: Any, where: str, names: set[str], problems: list[str]) -> tuple[date, date] | None:
    if not isinstance(raw, dict):
        problems.append(f"{where}: must have name, from, to")
        return None
    if str(raw.get("name")) not in names:
        problems.append(f"{where}.name: unknown staff member '{raw.get('name')}'")
    first = _date(raw.get("from"), f"{where}.from", problems)
    last = _date(raw.get("to", raw.get("from")), f"{where}.to", problems)
    if first and last and last < first:
        problems.append(f"{where}: ends before it starts")
        return None
    return (first, last) if first and last else None
