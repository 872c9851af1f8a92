"""Staff, their WeChat binding, leave and the imported rota (SQLAlchemy; SQLite or PostgreSQL)."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import Database
from storage.models import Leave, RotaDocument, StaffInvite, StaffMember, Ticket

INVITE_DAYS = 7  # an unused binding code expires after a week


class StaffError(Exception):
    """A staff request the database turns down: a reason code and its facts (desk/ words nothing
    either; the front doors do)."""

    def __init__(self, reason: str, **facts: Any):
        super().__init__(reason, facts)
        self.reason = reason
        self.facts = facts


class StaffRecord(Protocol):
    """What a staff row is written from (desk.rota.StaffSpec)."""

    name: str
    mobile: str
    wecom: str
    grade: str
    categories: tuple[str, ...]
    post: tuple[str, ...]
    backup: str
    roles: tuple[str, ...]


class LeaveRecord(Protocol):
    """What a leave row is written from (desk.rota.LeaveSpec)."""

    name: str
    first_day: date
    last_day: date
    note: str


@dataclass(frozen=True, slots=True)
class RoutingRows:
    """Everything routing reads, as stored: the rota document, active staff, leave days, and
    the number of tickets each person holds in the given states."""

    document: dict[str, Any] | None
    members: list[StaffMember]
    leave: dict[str, set[date]]
    counts: dict[str, int]


@dataclass(frozen=True, slots=True)
class LeaveEntry:
    """A leave row as stored: `note` keeps its "rota:" tag when it came from a rota file; `id`
    None for a row still to be written."""

    id: int | None
    name: str
    first_day: date
    last_day: date
    note: str


def _hash(code: str) -> str:
    """Codes are compared as typed without case, spaces or hyphens ("abcde fghjk" = "ABCDE-FGHJK")."""
    return hashlib.sha256("".join(c for c in code.upper() if c.isalnum()).encode()).hexdigest()


class StaffDirectory:
    def __init__(self, database: Database, clock: Callable[[], datetime] = lambda: datetime.now(UTC)):
        self._db = database
        self._clock = clock

    async def save_rota(
        self, document: dict[str, Any], specs: Iterable[StaffRecord], leave: Iterable[LeaveRecord]
    ) -> None:
        """Replace the rota document (JSON-ready) and upsert its staff and leave, in one transaction."""
        async with self._db.transaction() as session:
            existing = {m.name: m for m in await session.scalars(select(StaffMember))}
            for spec in specs:
                member = existing.get(spec.name) or StaffMember(name=spec.name, openid=None, active=True)
                _apply_spec(member, spec)
                session.add(member)
            await session.flush()
            ids = {m.name: m.id for m in await session.scalars(select(StaffMember))}
            await session.execute(delete(Leave).where(Leave.note.like("rota:%")))
            # A file written by `staff export` lists leave kept untagged too: not a second copy.
            kept = {
                (r.staff_id, r.first_day, r.last_day, r.note) for r in await session.scalars(select(Leave))
            }
            for entry in leave:
                if (ids[entry.name], entry.first_day, entry.last_day, entry.note) not in kept:
                    session.add(_leave_row(ids[entry.name], entry, "rota:"))
            row = await session.get(RotaDocument, 1)
            if row is None:
                session.add(RotaDocument(id=1, document=document, imported_at=self._clock()))
            else:
                row.document, row.imported_at = document, self._clock()

    async def add(self, spec: StaffRecord) -> StaffMember:
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
            raise StaffError("unknown_staff", name=name.strip())
        return member

    async def set_active(self, name: str, active: bool) -> StaffMember:
        """Someone who left: routing and binding skip them; their tickets and history stay."""
        return await self._change(name, **({"active": True} if active else {"active": False, "openid": None}))

    async def unbind(self, name: str) -> StaffMember:
        """A lost or changed phone: forget the WeChat bound to them; a new invite binds again."""
        return await self._change(name, openid=None)

    async def _change(self, name: str, **values: Any) -> StaffMember:
        async with self._db.transaction() as session:
            member = await session.scalar(select(StaffMember).where(StaffMember.name == name.strip()))
            if member is None:
                raise StaffError("unknown_staff", name=name.strip())
            for key, value in values.items():
                setattr(member, key, value)
        return member

    async def by_openid(self, openid: str) -> StaffMember | None:
        async with self._db.session() as session:
            return await session.scalar(
                select(StaffMember).where(StaffMember.openid == openid, StaffMember.active.is_(True))
            )

    async def add_leave(self, name: str, first_day: date, last_day: date, note: str = "") -> None:
        if last_day < first_day:
            raise StaffError("bad_leave", first_day=first_day, last_day=last_day)
        member = await self.by_name(name)
        async with self._db.transaction() as session:
            session.add(Leave(staff_id=member.id, first_day=first_day, last_day=last_day, note=note))

    async def away_on(self, day: date) -> set[str]:
        """Names of staff on leave on `day`."""
        async with self._db.session() as session:
            rows = await session.scalars(
                select(StaffMember.name)
                .join(Leave, Leave.staff_id == StaffMember.id)
                .where(Leave.first_day <= day, Leave.last_day >= day)
            )
            return set(rows)

    async def routing_rows(self, first: date, last: date, holding: Iterable[str]) -> RoutingRows:
        """The rota document, active staff, leave in [first, last] and tickets held per person (in
        the `holding` states), in one session (a third of the round trips of asking separately)."""
        async with self._db.session() as session:
            row = await session.get(RotaDocument, 1)
            members = list(await session.scalars(select(StaffMember).where(StaffMember.active.is_(True))))
            leave = await _leave_between(session, first, last)
            counts = await session.execute(
                select(Ticket.assignee, func.count())
                .where(Ticket.state.in_(list(holding)), Ticket.assignee.is_not(None))
                .group_by(Ticket.assignee)
            )
            return RoutingRows(
                row.document if row else None, members, leave, {name: count for name, count in counts.all()}
            )

    async def invite(self, name: str, alphabet: str, length: int) -> tuple[str, datetime]:
        """A new one-time binding code for `name` (printed once; only its hash is stored)."""
        member = await self.by_name(name)
        code = "".join(secrets.choice(alphabet) for _ in range(length))
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
                raise StaffError("bad_code")
            other = await session.scalar(select(StaffMember).where(StaffMember.openid == openid))
            member = await session.get(StaffMember, staff_id)
            assert member is not None
            if other is not None and other.id != member.id:
                raise StaffError("bound_elsewhere", name=other.name, wanted=member.name)
            member.openid = openid
        return member

    async def leave_rows(self, since: date | None = None) -> list[LeaveEntry]:
        """Leave of active staff (ending on or after `since`), by start day."""
        query = (
            select(Leave.id, StaffMember.name, Leave.first_day, Leave.last_day, Leave.note)
            .join(StaffMember, StaffMember.id == Leave.staff_id)
            .where(StaffMember.active.is_(True))
            .order_by(Leave.first_day, Leave.id)
        )
        if since is not None:
            query = query.where(Leave.last_day >= since)
        async with self._db.session() as session:
            return [LeaveEntry(*row) for row in (await session.execute(query)).all()]

    async def save_duty(
        self,
        document: dict[str, Any],
        current: Callable[[dict[str, Any] | None], bool],
        drop: Iterable[int],
        leave: Iterable[LeaveEntry],
    ) -> bool:
        """Write the rota document and the leave changes in one transaction, if `current(the stored
        document)` still holds (read under a row lock on PostgreSQL); False, and nothing written,
        when it does not. Leave: rows `drop`ped, rows with an id updated, rows without one added."""
        async with self._db.transaction() as session:
            row = await session.scalar(select(RotaDocument).where(RotaDocument.id == 1).with_for_update())
            if not current(row.document if row else None):
                return False
            ids = {m.name: m.id for m in await session.scalars(select(StaffMember))}
            if drop := list(drop):
                await session.execute(delete(Leave).where(Leave.id.in_(drop)))
            for entry in leave:
                values = {
                    "staff_id": ids[entry.name],
                    "first_day": entry.first_day,
                    "last_day": entry.last_day,
                    "note": entry.note,
                }
                if entry.id is None:
                    session.add(Leave(**values))
                else:
                    await session.execute(update(Leave).where(Leave.id == entry.id).values(**values))
            if row is None:
                session.add(RotaDocument(id=1, document=document, imported_at=self._clock()))
            else:
                row.document, row.imported_at = document, self._clock()
        return True

    async def retire(self, name: str, rewrite: Callable[[dict[str, Any]], dict[str, Any]]) -> StaffMember:
        """Someone who left, in one transaction: inactive, unbound, no longer anyone's B角, and taken
        off the rota document (`rewrite`), so no cell or swap still names them."""
        async with self._db.transaction() as session:
            member = await session.scalar(select(StaffMember).where(StaffMember.name == name.strip()))
            if member is None:
                raise StaffError("unknown_staff", name=name.strip())
            member.active, member.openid = False, None
            await session.execute(
                update(StaffMember).where(StaffMember.backup == member.name).values(backup="")
            )
            row = await session.scalar(select(RotaDocument).where(RotaDocument.id == 1).with_for_update())
            if row is not None:
                row.document = rewrite(row.document)
        return member

    async def rota_document(self) -> dict[str, Any] | None:
        async with self._db.session() as session:
            row = await session.get(RotaDocument, 1)
        return row.document if row else None


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


def _apply_spec(member: StaffMember, spec: StaffRecord) -> None:
    member.mobile, member.wecom_userid, member.grade = spec.mobile, spec.wecom, spec.grade
    member.categories, member.post, member.backup = list(spec.categories), list(spec.post), spec.backup
    member.roles, member.active = list(spec.roles), True


def _leave_row(staff_id: int, entry: LeaveRecord, tag: str) -> Leave:
    # Leave imported from the rota file is tagged so a re-import replaces it; `staff leave` rows stay.
    return Leave(staff_id=staff_id, first_day=entry.first_day, last_day=entry.last_day, note=tag + entry.note)
