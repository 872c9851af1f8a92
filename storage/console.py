"""Console sign-ins, sessions and the audit log in the database. Persistence only: expiry times,
limits and who may sign in are desk/signin.py's business."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select, update

from storage.db import Database
from storage.models import ConsoleAudit, ConsoleSession, ConsoleSignin, StaffMember


class ConsoleStore:
    def __init__(self, database: Database, clock: Callable[[], datetime] = lambda: datetime.now(UTC)):
        self._db = database
        self._clock = clock

    async def add_signin(self, row: ConsoleSignin) -> None:
        async with self._db.transaction() as session:
            session.add(row)

    async def signin(self, key: str) -> ConsoleSignin | None:
        async with self._db.session() as session:
            return await session.get(ConsoleSignin, key)

    async def confirm_code(self, code_hash: str, staff_id: int, now: datetime) -> bool:
        """Bind the live, unconfirmed sign-in showing this code to `staff_id`; False: none."""
        async with self._db.transaction() as session:
            result = await session.execute(
                update(ConsoleSignin)
                .where(
                    ConsoleSignin.code_hash == code_hash,
                    ConsoleSignin.confirmed_at.is_(None),
                    ConsoleSignin.expires_at > now,
                )
                .values(staff_id=staff_id, confirmed_at=now)
            )
            return result.rowcount == 1

    async def use_signin(self, key: str, now: datetime, new_session: ConsoleSession) -> bool:
        """Spend a confirmed sign-in once and open `new_session` in the same transaction."""
        async with self._db.transaction() as session:
            result = await session.execute(
                update(ConsoleSignin)
                .where(
                    ConsoleSignin.id == key,
                    ConsoleSignin.confirmed_at.is_not(None),
                    ConsoleSignin.used_at.is_(None),
                    ConsoleSignin.expires_at > now,
                )
                .values(used_at=now)
            )
            if result.rowcount != 1:
                return False
            session.add(new_session)
        return True

    async def session(self, key: str, now: datetime) -> tuple[ConsoleSession, StaffMember] | None:
        """The live session with this key and its (active) staff member."""
        query = (
            select(ConsoleSession, StaffMember)
            .join(StaffMember, StaffMember.id == ConsoleSession.staff_id)
            .where(
                ConsoleSession.id == key,
                ConsoleSession.ended_at.is_(None),
                ConsoleSession.expires_at > now,
                StaffMember.active.is_(True),
            )
        )
        async with self._db.session() as session:
            row = (await session.execute(query)).first()
        return (row[0], row[1]) if row else None

    async def end(self, key: str, now: datetime) -> None:
        async with self._db.transaction() as session:
            await session.execute(
                update(ConsoleSession)
                .where(ConsoleSession.id == key, ConsoleSession.ended_at.is_(None))
                .values(ended_at=now)
            )

    async def end_all(self, staff_id: int, now: datetime) -> int:
        async with self._db.transaction() as session:
            result = await session.execute(
                update(ConsoleSession)
                .where(ConsoleSession.staff_id == staff_id, ConsoleSession.ended_at.is_(None))
                .values(ended_at=now)
            )
            return int(result.rowcount or 0)

    async def live_sessions(self, staff_id: int, now: datetime) -> int:
        async with self._db.session() as session:
            count = await session.scalar(
                select(func.count())
                .select_from(ConsoleSession)
                .where(
                    ConsoleSession.staff_id == staff_id,
                    ConsoleSession.ended_at.is_(None),
                    ConsoleSession.expires_at > now,
                )
            )
        return int(count or 0)

    async def started_since(self, client: str, since: datetime) -> int:
        """Sign-ins a client has asked for since `since` (a reload loop must not fill the table)."""
        async with self._db.session() as session:
            count = await session.scalar(
                select(func.count())
                .select_from(ConsoleSignin)
                .where(ConsoleSignin.client == client[:64], ConsoleSignin.created_at >= since)
            )
        return int(count or 0)

    async def audit(self, event: str, staff: str, client: str, detail: dict[str, Any]) -> None:
        async with self._db.transaction() as session:
            session.add(
                ConsoleAudit(at=self._clock(), event=event, staff=staff, client=client[:64], detail=detail)
            )

    async def count_events(self, client: str, events: tuple[str, ...], since: datetime) -> int:
        async with self._db.session() as session:
            count = await session.scalar(
                select(func.count())
                .select_from(ConsoleAudit)
                .where(
                    ConsoleAudit.client == client[:64],
                    ConsoleAudit.event.in_(events),
                    ConsoleAudit.at >= since,
                )
            )
        return int(count or 0)

    async def audit_rows(self, limit: int = 200) -> list[ConsoleAudit]:
        async with self._db.session() as session:
            return list(
                await session.scalars(select(ConsoleAudit).order_by(ConsoleAudit.id.desc()).limit(limit))
            )
