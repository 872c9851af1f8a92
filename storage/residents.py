"""Residents' kept contact details: one row per openid, replaced on save, deleted on request."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import delete
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from storage.db import Database
from storage.models import ConversationDay, Resident


class ResidentStore:
    def __init__(self, database: Database, clock: Callable[[], datetime] = lambda: datetime.now(UTC)):
        self._db = database
        self._clock = clock

    async def get(self, openid: str) -> Resident | None:
        async with self._db.session() as session:
            return await session.get(Resident, openid)

    async def save(self, openid: str, name: str, mobile: str, address: str) -> None:
        """Insert or replace the row in one statement (two orders confirmed at once cannot collide);
        consented_at keeps the first time, when the resident was first told."""
        now = self._clock()
        values = {"name": name, "mobile": mobile, "address": address, "updated_at": now}
        insert = pg_insert if self._db.engine.dialect.name == "postgresql" else sqlite_insert
        statement = insert(Resident).values(openid=openid, consented_at=now, **values)
        async with self._db.transaction() as session:
            await session.execute(statement.on_conflict_do_update(index_elements=["openid"], set_=values))

    async def erase(self, openid: str) -> bool:
        """Delete the row, and the days this resident wrote and the items they asked about (kept
        for the direct-answer rate); True when there was a contact row."""
        async with self._db.transaction() as session:
            result = await session.execute(delete(Resident).where(Resident.openid == openid))
            await session.execute(delete(ConversationDay).where(ConversationDay.resident == openid[:64]))
        return bool(getattr(result, "rowcount", 0))
