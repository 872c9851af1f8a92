"""Staff, their WeChat binding, leave and the imported rota (SQLAlchemy; SQLite or PostgreSQL)."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import Database
from storage.models import Leave, RotaDocument, StaffInvite, StaffMember, Ticket
from storage.rota import DayCalendar, LeaveSpec, Rota, StaffSpec, jsonable, parse_rota, rota_from_document
from storage.routing import Person
from storage.ticket_states import TicketError

INVITE_DAYS = 7  # an unused binding code expires after a week
OPEN_STATES = ("open", "assigned", "accepted")


class StaffError(TicketError):
    """A refused staff operation, worded for the person who asked."""


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


def _hash(code: str) -> str:
    return hashlib.sha256(code.strip().upper().encode()).hexdigest()


class StaffDirectory:
    def __init__(self, database: Database, clock: Callable[[], datetime] = lambda: datetime.now(UTC)):
        self._db = database
        self._clock = clock

    async def import_rota(self, document: dict[str, Any]) -> tuple[int, int]:
        """Replace the rota and upsert its staff and leave. Returns (staff, leave entries)."""
        _, specs, leave = parse_rota(document)
        async with self._db.transaction() as session:
            existing = {m.name: m for m in await session.scalars(select(StaffMember))}
            for spec in specs:
                member = existing.get(spec.name) or StaffMember(name=spec.name, openid=None, active=True)
                _apply_spec(member, spec)
                session.add(member)
            await session.flush()
            ids = {m.name: m.id for m in await session.scalars(select(StaffMember))}
            await session.execute(delete(Leave).where(Leave.note.like("rota:%")))
            for entry in leave:
                session.add(_leave_row(ids[entry.name], entry, "rota:"))
            row = await session.get(RotaDocument, 1)
            if row is None:
                session.add(RotaDocument(id=1, document=jsonable(document), imported_at=self._clock()))
            else:
                row.document, row.imported_at = jsonable(document), self._clock()
        return len(specs), len(leave)

    async def add(self, spec: StaffSpec) -> StaffMember:
        async with self._db.transaction() as session:
            member = await session.scalar(select(StaffMember).where(StaffMember.name == spec.name))
            member = member or StaffMember(name=spec.name, openid=None, active=True)
            _apply_spec(member, spec)
            session.add(member)
        return member

    async def all(self) -> list[StaffMember]:
        async with self._db.session() as session:
            return list(await session.scalars(select(StaffMember).order_by(StaffMember.id)))

    async def by_name(self, name: str) -> StaffMember:
        async with self._db.session() as session:
            member = await session.scalar(select(StaffMember).where(StaffMember.name == name.strip()))
        if member is None:
            raise StaffError(f"没有叫“{name.strip()}”的工作人员")
        return member

    async def by_openid(self, openid: str) -> StaffMember | None:
        async with self._db.session() as session:
            return await session.scalar(
                select(StaffMember).where(StaffMember.openid == openid, StaffMember.active.is_(True))
            )

    async def add_leave(self, name: str, first_day: date, last_day: date, note: str = "") -> None:
        if last_day < first_day:
            raise StaffError("请假结束日期早于开始日期")
        member = await self.by_name(name)
        async with self._db.transaction() as session:
            session.add(_leave_row(member.id, LeaveSpec(name, first_day, last_day, note), ""))

    async def away_on(self, day: date) -> set[str]:
        """Names of staff on leave on `day`."""
        async with self._db.session() as session:
            rows = await session.scalars(
                select(StaffMember.name)
                .join(Leave, Leave.staff_id == StaffMember.id)
                .where(Leave.first_day <= day, Leave.last_day >= day)
            )
            return set(rows)

    async def snapshot(self, first: date, last: date) -> RoutingSnapshot:
        """Everything routing reads — rota, active staff, leave in [first, last], open tickets per
        person — in one session (a third of the round trips of asking separately)."""
        async with self._db.session() as session:
            row = await session.get(RotaDocument, 1)
            members = list(await session.scalars(select(StaffMember).where(StaffMember.active.is_(True))))
            leave = await _leave_between(session, first, last)
            counts = await session.execute(
                select(Ticket.assignee, func.count())
                .where(Ticket.state.in_(OPEN_STATES), Ticket.assignee.is_not(None))
                .group_by(Ticket.assignee)
            )
            return RoutingSnapshot(
                rota_from_document(row.document) if row else None,
                {m.name: person(m) for m in members},
                leave,
                {name: count for name, count in counts.all()},
            )

    async def invite(self, name: str) -> tuple[str, datetime]:
        """A new one-time binding code for `name` (printed once; only its hash is stored)."""
        member = await self.by_name(name)
        code = "".join(secrets.choice("23456789ABCDEFGHJKLMNPQRSTUVWXYZ") for _ in range(6))
        expires = self._clock() + timedelta(days=INVITE_DAYS)
        async with self._db.transaction() as session:
            session.add(StaffInvite(code_hash=_hash(code), staff_id=member.id, expires_at=expires))
        return code, expires

    async def bind(self, openid: str, code: str) -> StaffMember:
        """Bind the WeChat identity that sent "绑定 CODE" to the code's staff member; the code is spent."""
        now = self._clock()
        async with self._db.transaction() as session:
            # The conditional UPDATE spends the code exactly once, even when two messages race.
            spent = await session.execute(
                update(StaffInvite)
                .where(
                    StaffInvite.code_hash == _hash(code),
                    StaffInvite.used_at.is_(None),
                    StaffInvite.expires_at > now,
                )
                .values(used_at=now)
                .returning(StaffInvite.staff_id)
            )
            staff_id = spent.scalar()
            if staff_id is None:
                raise StaffError("绑定码无效、已用过或已过期，请向社区书记要一个新的。")
            other = await session.scalar(select(StaffMember).where(StaffMember.openid == openid))
            member = await session.get(StaffMember, staff_id)
            assert member is not None
            if other is not None and other.id != member.id:
                raise StaffError(f"这个微信已绑定为“{other.name}”，不能再绑定“{member.name}”。")
            member.openid = openid
        return member

    async def rota(self) -> Rota | None:
        async with self._db.session() as session:
            row = await session.get(RotaDocument, 1)
        return rota_from_document(row.document) if row else None

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


@dataclass(frozen=True, slots=True)
class RoutingSnapshot:
    rota: Rota | None
    members: dict[str, Person]
    leave: dict[str, set[date]]
    open_counts: dict[str, int]


async def _leave_between(session: AsyncSession, first: date, last: date) -> dict[str, set[date]]:
    rows = await session.execute(
        select(StaffMember.name, Leave.first_day, Leave.last_day)
        .join(Leave, Leave.staff_id == StaffMember.id)
        .where(Leave.first_day <= last, Leave.last_day >= first)
    )
    out: dict[str, set[date]] = {}
    for name, start, end in rows.all():
        day = max(start, first)
        while day <= min(end, last):
            out.setdefault(name, set()).add(day)
            day += timedelta(days=1)
    return out


def _apply_spec(member: StaffMember, spec: StaffSpec) -> None:
    member.mobile, member.wecom_userid, member.grade = spec.mobile, spec.wecom, spec.grade
    member.categories, member.post, member.backup = list(spec.categories), list(spec.post), spec.backup
    member.roles, member.active = list(spec.roles), True


def _leave_row(staff_id: int, entry: LeaveSpec, tag: str) -> Leave:
    # Leave imported from the rota file is tagged so a re-import replaces it; `staff leave` rows stay.
    return Leave(staff_id=staff_id, first_day=entry.first_day, last_day=entry.last_day, note=tag + entry.note)
