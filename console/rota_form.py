"""The rota page's form, both ways: the sheet a template draws (from the database, or from what
was typed when a save was refused) and the edit the desk saves; and each of parse_rota's problems
('week.mon.morning: unknown staff member ...') put beside the field it is about, in Chinese.

The page is a list of sections (week, holidays, swaps, leave); each names its form fields and the
document paths they fill, so another section (网格, issue 16) is one more entry.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from console.problem_words import ROTA, worded
from desk.rostering import LeaveRow, RotaEdit, RotaView
from desk.rota import WEEKDAYS, DutyWindow
from desk.rota_edit import names_in

BLANK_ROWS = 2  # empty rows under each list, for adding
MAX_ROWS = 200  # rows read from one form, per list
DAY_NAMES = dict(zip(WEEKDAYS, ("周一", "周二", "周三", "周四", "周五", "周六", "周日"), strict=True))
WEEKEND = ("sat", "sun")


def placed(problems: list[str], fields: Mapping[str, str]) -> dict[str, list[str]]:
    """Each problem under the form field its document path belongs to ('' for the page: a path
    no field fills, such as windows missing). 'swaps[0].to' → fields['swaps[0].to'], else the
    nearest enclosing path ('swaps[0]')."""
    out: dict[str, list[str]] = {}
    for problem in problems:
        where, _, text = problem.partition(": ")
        path = where
        while path and path not in fields:
            path = re.sub(r"(\.[^.\[\]]*|\[\d+\])$", "", path) if re.search(r"[.\[]", path) else ""
        out.setdefault(fields.get(path, ""), []).append(worded(text, ROTA))
    return out


@dataclass
class Sheet:
    """What the page's inputs hold: field name → text, rows as lists of field name → text."""

    fingerprint: str
    cells: dict[str, str] = field(default_factory=dict)
    holidays: list[dict[str, str]] = field(default_factory=list)
    swaps: list[dict[str, str]] = field(default_factory=list)
    leave: list[dict[str, str]] = field(default_factory=list)
    shown: str = ""

    def padded(self, rows: list[dict[str, str]]) -> list[dict[str, str]]:
        return rows + [{} for _ in range(BLANK_ROWS)]


def cell(day: str, window: str) -> str:
    return f"w-{day}-{window}"


def grid_windows(windows: Mapping[str, DutyWindow]) -> list[DutyWindow]:
    return sorted((w for w in windows.values() if w.days != "holidays"), key=lambda w: w.start)


def holiday_windows(windows: Mapping[str, DutyWindow]) -> list[DutyWindow]:
    return sorted((w for w in windows.values() if w.days == "holidays"), key=lambda w: w.start)


def applies(window: DutyWindow, day: str) -> bool:
    """Whether the window opens on that weekday (a make-up working day aside)."""
    return (window.days == "weekend") == (day in WEEKEND)


def _people(raw: Any) -> str:
    return "、".join(str(p) for p in (raw if isinstance(raw, list) else [raw] if raw else []))


def sheet_of(view: RotaView) -> Sheet:
    """The sheet of the rota as saved."""
    document = view.document
    sheet = Sheet(view.fingerprint)
    for day, plan in (document.get("week") or {}).items():
        for window, people in (plan or {}).items():
            sheet.cells[cell(str(day), str(window))] = _people(people)
    for day, plan in sorted((document.get("holidays") or {}).items(), key=lambda kv: str(kv[0])):
        sheet.holidays.append({"date": str(day), **{str(w): _people(p) for w, p in (plan or {}).items()}})
    for swap in document.get("swaps") or []:
        sheet.swaps.append({k: str(swap.get(k, "")) for k in ("date", "window", "from", "to")})
    for entry in view.leave:
        sheet.leave.append(
            {
                "id": str(entry.id),
                "name": entry.name,
                "from": entry.first_day.isoformat(),
                "to": entry.last_day.isoformat(),
                "note": entry.note,
            }
        )
    sheet.shown = ",".join(str(e.id) for e in view.leave)
    return sheet


def _rows(form: Mapping[str, str], prefix: str, keys: tuple[str, ...]) -> list[dict[str, str]]:
    """The rows `prefix`0-…, as typed; rows left blank are dropped, rows marked 删除 too."""
    rows = []
    for index in range(MAX_ROWS):
        row = {key: form.get(f"{prefix}{index}-{key}", "").strip() for key in keys}
        if not any(f"{prefix}{index}-{key}" in form for key in keys):
            continue
        if form.get(f"{prefix}{index}-drop") or not any(row[k] for k in keys if k not in ("id", "window")):
            continue
        rows.append(row)
    return rows


def read(
    form: Mapping[str, str], windows: Mapping[str, DutyWindow]
) -> tuple[Sheet, RotaEdit, dict[str, str]]:
    """What was sent: the sheet to draw again, the edit for the desk, and document path → field."""
    fields: dict[str, str] = {}
    sheet = Sheet(form.get("fp", ""), shown=form.get("shown", ""))
    week: dict[str, dict[str, list[str]]] = {}
    for day in WEEKDAYS:
        for window in windows:
            name = cell(day, window)
            if name in form:
                sheet.cells[name] = form[name].strip()
                fields[f"week.{day}.{window}"] = name
                if people := names_in(form[name]):
                    week.setdefault(day, {})[window] = people
        week.setdefault(day, {})
    holiday_keys = tuple(w.key for w in holiday_windows(windows))
    holidays: dict[str, dict[str, list[str]]] = {}
    # Field names follow the rows as drawn again (blank and deleted rows gone), not as sent.
    for at, row in enumerate(_rows(form, "h", ("date", *holiday_keys))):
        sheet.holidays.append(row)
        day = row["date"]
        fields.setdefault(f"holidays.{day}", f"h{at}-date")
        plan = holidays.setdefault(day, {})
        for window in holiday_keys:
            fields.setdefault(f"holidays.{day}.{window}", f"h{at}-{window}")
            if people := names_in(row[window]):
                plan[window] = list(dict.fromkeys(plan.get(window, []) + people))
    swaps = []
    for i, row in enumerate(_rows(form, "s", ("date", "window", "from", "to"))):
        sheet.swaps.append(row)
        at = f"swaps[{i}]"
        fields.update({at: f"s{i}-date", **{f"{at}.{k}": f"s{i}-{k}" for k in row}})
        swaps.append({k: row[k] for k in ("date", "window", "from", "to")})
    leave = []
    for i, row in enumerate(_rows(form, "l", ("id", "name", "from", "to", "note"))):
        sheet.leave.append(row)
        at = f"leave[{i}]"
        fields.update({at: f"l{i}-to", **{f"{at}.{k}": f"l{i}-{k}" for k in row}})
        ident = int(row["id"]) if row["id"].isdigit() else None
        leave.append(LeaveRow(ident, row["name"], row["from"], row["to"], row["note"]))
    shown = frozenset(int(i) for i in sheet.shown.split(",") if i.strip().isdigit())
    return sheet, RotaEdit(week, holidays, swaps, leave, shown, sheet.fingerprint), fields
