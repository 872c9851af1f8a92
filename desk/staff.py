"""Staff as the desk sees them: the rota parsed and applied, routing snapshots, who is on duty.

Persistence is storage.staff.StaffDirectory; this adds the rules (rota parsing, leave applied,
people as routing sees them) and turns the directory's refusals into Refused values.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from desk import binding
from desk.grids import GridError, parse_grids
from desk.refusals import Refused
from desk.rota import DayCalendar, Rota, RotaError, StaffSpec, jsonable, parse_rota, rota_from_document
from desk.rota_edit import without
from desk.routing import Person
from desk.states import OPEN_STATES
from storage.db import Database
from storage.models import StaffMember
from storage.staff import StaffDirectory, StaffError


def person(member: StaffMember) -> Person:
    return Person(
        member.name,
        member.grade,
        tuple(member.categories),
        tuple(member.post),
        member.backup,
        member.wecom_userid,
        tuple(member.roles),
    )


@dataclass(frozen=True, slots=True)
class RoutingSnapshot:
    rota: Rota | None
    members: dict[str, Person]
    leave: dict[str, set[date]]
    open_counts: dict[str, int]

    def on_duty(self, at: datetime, calendar: DayCalendar) -> set[str]:
        """Names in a duty window open at `at` (leave not applied): whom an urgent push mentions."""
        return {n for _, names in self.rota.duty_at(at, calendar) for n in names} if self.rota else set()


@contextmanager
def _refusals() -> Iterator[None]:
    try:
        yield
    except StaffError as refused:
        raise Refused(refused.reason, **refused.facts) from None


class StaffDesk:
    """The staff half of the desk, shared by WeChat (绑定, 值班), the CLI and the scheduler."""

    def __init__(self, database: Database, clock: Callable[[], datetime] = lambda: datetime.now(UTC)):
        self.directory = StaffDirectory(database, clock)

    async def import_rota(self, document: dict[str, Any]) -> tuple[int, int]:
        """Replace the rota and upsert its staff and leave. Returns (staff, leave entries)."""
        _, specs, leave = parse_rota(document)
        try:
            parse_grids(document.get("grids"))  # the grids (网格) are checked with the rota they ride in
        except GridError as exc:
            raise RotaError(exc.problems) from None
        await self.directory.save_rota(jsonable(document), specs, leave)
        return len(specs), len(leave)

    async def add(self, spec: StaffSpec) -> StaffMember:
        return await self.directory.add(spec)

    async def all(self) -> list[StaffMember]:
        return await self.directory.all()

    async def by_name(self, name: str) -> StaffMember:
        with _refusals():
            return await self.directory.by_name(name)

    async def by_openid(self, openid: str) -> StaffMember | None:
        return await self.directory.by_openid(openid)

    async def remove(self, name: str) -> StaffMember:
        """Staff who leave: no longer routed, on duty or bound; their tickets and history stay."""
        return await self.retire(name)

    async def retire(self, name: str) -> StaffMember:
        """Inactive and unbound, and off every cell and swap of the rota, in one transaction."""
        with _refusals():
            return await self.directory.retire(name, lambda document: without(document, name.strip()))

    async def unbind(self, name: str) -> StaffMember:
        """A lost phone: the WeChat bound to them no longer acts as them until they bind again."""
        with _refusals():
            return await self.directory.unbind(name)

    async def add_leave(self, name: str, first_day: date, last_day: date, note: str = "") -> None:
        with _refusals():
            await self.directory.add_leave(name, first_day, last_day, note)

    async def away_on(self, day: date) -> set[str]:
        return await self.directory.away_on(day)

    async def invite(self, name: str) -> tuple[str, datetime]:
        """A one-time code, XXXXX-XXXXX (desk/binding.py says why it is this long)."""
        with _refusals():
            code, expires = await self.directory.invite(name, binding.ALPHABET, binding.CODE_LENGTH)
        return binding.readable(code), expires

    async def bind(self, openid: str, code: str) -> StaffMember:
        with _refusals():
            return await self.directory.bind(openid, code)

    async def snapshot(self, first: date, last: date) -> RoutingSnapshot:
        """Everything routing reads, in one session: rota, active staff, leave, open tickets each."""
        rows = await self.directory.routing_rows(first, last, OPEN_STATES)
        return RoutingSnapshot(
            rota_from_document(rows.document) if rows.document else None,
            {m.name: person(m) for m in rows.members},
            rows.leave,
            rows.counts,
        )

    async def rota(self) -> Rota | None:
        document = await self.directory.rota_document()
        return rota_from_document(document) if document else None

    async def on_duty(self, at: datetime, calendar: DayCalendar) -> list[tuple[str, list[StaffMember]]]:
        """(window label, staff) for each duty window open at `at`, leave applied."""
        rota = await self.rota()
        if rota is None:
            return []
        members = {m.name: m for m in await self.all() if m.active}
        away = await self.away_on(at.date())
        return [
            (window.label, [members[n] for n in names if n in members and n not in away])
            for window, names in rota.duty_at(at, calendar)
        ]
