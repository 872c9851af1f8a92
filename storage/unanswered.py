"""Unanswered questions: appended when the bot could not answer outright, marked when the resident
then picks one of the offered items. Persistence only; what is stored is decided in desk/."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from storage.db import Database
from storage.models import UnansweredDismissed, UnansweredQuestion


class UnansweredStore:
    def __init__(self, database: Database, clock: Callable[[], datetime] = lambda: datetime.now(UTC)):
        self._db = database
        self._clock = clock

    async def add(self, resident: str, text: str, outcome: str, offered: tuple[str, ...]) -> int:
        row = UnansweredQuestion(
            resident=resident, text=text, created_at=self._clock(), outcome=outcome, offered=",".join(offered)
        )
        async with self._db.transaction() as session:
            session.add(row)
            await session.flush()
            return row.id

    async def mark_picked(self, resident: str, item_id: str, within: timedelta) -> bool:
        """The resident's latest open offer that listed `item_id`, if made within `within`."""
        since = self._clock() - within
        async with self._db.transaction() as session:
            row = await session.scalar(
                select(UnansweredQuestion)
                .where(
                    UnansweredQuestion.resident == resident,
                    UnansweredQuestion.picked.is_(None),
                    UnansweredQuestion.created_at >= since,
                    UnansweredQuestion.offered != "",
                )
                .order_by(UnansweredQuestion.id.desc())
                .limit(1)
            )
            if row is None or item_id not in row.offered.split(","):
                return False
            await session.execute(
                update(UnansweredQuestion)
                .where(UnansweredQuestion.id == row.id)
                .values(picked=item_id, picked_at=self._clock())
            )
            return True

    async def between(self, start: datetime, end: datetime) -> list[UnansweredQuestion]:
        async with self._db.session() as session:
            rows = await session.scalars(
                select(UnansweredQuestion)
                .where(UnansweredQuestion.created_at >= start, UnansweredQuestion.created_at < end)
                .order_by(UnansweredQuestion.id)
            )
            return list(rows)

    async def dismiss(self, key: str, staff: str) -> None:
        """Set a group aside (非社区业务); marking it twice keeps the first mark."""
        insert = pg_insert if self._db.engine.dialect.name == "postgresql" else sqlite_insert
        statement = insert(UnansweredDismissed).values(
            key=key[:500], dismissed_at=self._clock(), staff=staff[:32]
        )
        async with self._db.transaction() as session:
            await session.execute(statement.on_conflict_do_nothing())

    async def dismissed(self) -> set[str]:
        async with self._db.session() as session:
            return set(await session.scalars(select(UnansweredDismissed.key)))

    async def since(self, start: datetime) -> list[UnansweredQuestion]:
        async with self._db.session() as session:
            rows = await session.scalars(
                select(UnansweredQuestion)
                .where(UnansweredQuestion.created_at >= start)
                .order_by(UnansweredQuestion.id)
            )
            return list(rows)
