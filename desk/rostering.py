"""The duty rota as the console edits it (值班表): read it in the import format, save an edit of
the week's duty, holiday duty, swaps and leave after the check `staff import` makes (parse_rota,
all problems at once, nothing saved on error), refuse a save over someone else's newer edit, and
log who changed what. Also who is on duty next, the coming week's gaps, and `staff export`.

Routing reads the rota from the database on every ticket (StaffDesk.snapshot), so a saved edit
routes the next order in every process.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from desk import policy
from desk.refusals import Refused
from desk.rota import DutyWindow, Rota, jsonable, parse_rota, rota_from_document
from desk.rota_edit import IMPORTED_LEAVE, Gap, changes, duty_document, fingerprint, gaps
from storage.models import StaffMember
from storage.staff import LeaveEntry

if TYPE_CHECKING:
    from desk.desk import ServiceDesk

NEXT_DAYS = 21  # how far ahead "next on duty" looks


@dataclass(frozen=True, slots=True)
class LeaveRow:
    """One leave row of the page, as typed (dates are checked by parse_rota); `id` None: new."""

    id: int | None
    name: str
    first: str
    last: str
    note: str = ""


@dataclass(frozen=True, slots=True)
class RotaEdit:
    """What the rota page sends: the whole week, holiday duty, swaps and the leave rows it showed
    (`shown`: their ids; leave it did not show, such as leave added meanwhile, is not touched)."""

    week: dict[str, dict[str, list[str]]]
    holidays: dict[str, dict[str, list[str]]]
    swaps: list[dict[str, str]]
    leave: list[LeaveRow]
    shown: frozenset[int]
    fingerprint: str


@dataclass(frozen=True, slots=True)
class RotaView:
    document: dict[str, Any]  # the import format: staff from the table, duty from the document
    rota: Rota | None
    leave: list[LeaveEntry]  # current and coming leave, notes without the import tag
    fingerprint: str
    staff: list[StaffMember]  # active


@dataclass(frozen=True, slots=True)
class NextDuty:
    start: datetime
    window: DutyWindow
    names: tuple[str, ...]


def _untagged(entry: LeaveEntry) -> LeaveEntry:
    note = entry.note.removeprefix(IMPORTED_LEAVE)
    return LeaveEntry(entry.id, entry.name, entry.first_day, entry.last_day, note)


class Rostering:
    def __init__(self, desk: ServiceDesk):
        self.desk = desk
        self.directory = desk.staff.directory

    async def _base(self) -> tuple[dict[str, Any] | None, list[StaffMember], dict[str, Any]]:
        stored = await self.directory.rota_document()
        members = [m for m in await self.desk.staff.all() if m.active]
        return stored, members, duty_document(stored, members)

    async def view(self) -> RotaView:
        stored, members, document = await self._base()
        today = self.desk.now().date()
        leave = [_untagged(e) for e in await self.directory.leave_rows(since=today)]
        rota = rota_from_document(stored) if stored else None
        return RotaView(document, rota, leave, fingerprint(stored), members)

    async def save(self, actor: StaffMember, edit: RotaEdit, client: str = "") -> list[str]:
        """Validate and save; returns what changed (also in the audit log). Raises Refused (who
        may, or someone else saved first) or RotaError (every problem, 'field: problem')."""
        refused = policy.can_edit_rota(actor)
        if refused is not None:
            raise refused
        stored, _, base = await self._base()
        if fingerprint(stored) != edit.fingerprint:
            raise Refused("rota_changed")
        candidate = {
            **base,
            "week": edit.week,
            "holidays": edit.holidays,
            "swaps": edit.swaps,
            "leave": [{"name": r.name, "from": r.first, "to": r.last, "note": r.note} for r in edit.leave],
        }
        _, _, specs = parse_rota(candidate)  # the check `staff import` makes; RotaError lists all
        existing = {e.id: e for e in await self.directory.leave_rows()}
        shown = edit.shown & existing.keys()
        kept = {r.id for r in edit.leave if r.id in shown}
        writes, log = [], []
        for row, spec in zip(edit.leave, specs, strict=True):
            old = existing.get(row.id) if row.id in shown else None
            tag = IMPORTED_LEAVE if old and old.note.startswith(IMPORTED_LEAVE) else ""
            entry = LeaveEntry(
                old.id if old else None, spec.name, spec.first_day, spec.last_day, tag + spec.note
            )
            if entry != old:
                writes.append(entry)
                log.append(f"leave +{spec.name} {spec.first_day}~{spec.last_day}")
            if old and entry != old:
                log.append(f"leave -{old.name} {old.first_day}~{old.last_day}")
        log += [
            f"leave -{existing[i].name} {existing[i].first_day}~{existing[i].last_day}" for i in shown - kept
        ]
        document = jsonable({k: v for k, v in candidate.items() if k != "leave"})
        saved = await self.directory.save_duty(
            document, lambda now: fingerprint(now) == edit.fingerprint, shown - kept, writes
        )
        if not saved:
            raise Refused("rota_changed")
        changed = changes(base, document) + log
        await self.desk.signin.store.audit(
            "rota_saved", actor.name, client or "console", {"changes": "; ".join(changed) or "-"}
        )
        return changed

    async def next_duty(self) -> NextDuty | None:
        """The next duty window to open, with who will be there (active, not on leave)."""
        now = self.desk.now()
        snap = await self.desk.staff.snapshot(now.date(), now.date() + timedelta(days=NEXT_DAYS))
        if snap.rota is None:
            return None

        def here(name: str, day: date) -> bool:
            return name in snap.members and day not in snap.leave.get(name, ())

        found = snap.rota.next_opening(now, self.desk.calendar, here, days=NEXT_DAYS)
        return NextDuty(found[0], found[1], found[2]) if found else None

    async def gaps(self, categories: list[str], days: int = 7) -> list[Gap]:
        """The coming week's windows where routing would find nobody for a category."""
        now = self.desk.now()
        snap = await self.desk.staff.snapshot(now.date(), now.date() + timedelta(days=days))
        if snap.rota is None:
            return []
        return gaps(snap.rota, self.desk.calendar, snap.members, snap.leave, categories, now, days)

    async def export(self) -> dict[str, Any]:
        """The rota and staff in the import format, with every leave row of active staff: what
        `staff import` reads back to the same rota, staff and leave."""
        _, _, document = await self._base()
        leave = [_untagged(e) for e in await self.directory.leave_rows()]
        if leave:
            document["leave"] = [
                {
                    "name": e.name,
                    "from": e.first_day,
                    "to": e.last_day,
                    **({"note": e.note} if e.note else {}),
                }
                for e in leave
            ]
        for day in list(document.get("holidays") or {}):
            with contextlib.suppress(ValueError):
                document["holidays"][date.fromisoformat(str(day))] = document["holidays"].pop(day)
        for swap in document.get("swaps") or []:
            with contextlib.suppress(ValueError):
                swap["date"] = date.fromisoformat(str(swap.get("date")))
        return document
