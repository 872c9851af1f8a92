"""Published handbook versions: append-only rows, numbered 1, 2, 3 …; persistence only (what may be
published, and by whom, is decided in desk/handbook.py)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from storage.db import Database
from storage.models import HandbookVersion


@dataclass(frozen=True, slots=True)
class VersionInfo:
    """A version without its files: what the history page lists."""

    number: int
    created_at: datetime
    author: str
    author_id: int | None
    note: str


class VersionTaken(Exception):
    """Another process published this number first (two secretaries at once)."""


class HandbookVersions:
    def __init__(self, database: Database, clock: Callable[[], datetime] = lambda: datetime.now(UTC)):
        self._db = database
        self._clock = clock

    async def latest_number(self) -> int:
        """The newest version's number, 0 when none: one indexed query, cheap enough to ask every second."""
        async with self._db.session() as session:
            return int(await session.scalar(select(func.max(HandbookVersion.number))) or 0)

    async def get(self, number: int) -> HandbookVersion | None:
        async with self._db.session() as session:
            return await session.get(HandbookVersion, number)

    async def latest(self) -> HandbookVersion | None:
        async with self._db.session() as session:
            return await session.scalar(
                select(HandbookVersion).order_by(HandbookVersion.number.desc()).limit(1)
            )

    async def history(self) -> list[VersionInfo]:
        """Every version, newest first, without the files."""
        columns = (
            HandbookVersion.number,
            HandbookVersion.created_at,
            HandbookVersion.author,
            HandbookVersion.author_id,
            HandbookVersion.note,
        )
        async with self._db.session() as session:
            rows = await session.execute(select(*columns).order_by(HandbookVersion.number.desc()))
            return [VersionInfo(*row) for row in rows]

    async def add(
        self, number: int, files: dict[str, str], *, author: str, author_id: int | None, note: str
    ) -> HandbookVersion:
        """Write version `number`; VersionTaken when it exists already (the primary key decides)."""
        row = HandbookVersion(
            number=number,
            created_at=self._clock(),
            author=author[:32],
            author_id=author_id,
            note=note[:200],
            files=dict(files),
        )
        try:
            async with self._db.transaction() as session:
                session.add(row)
        except IntegrityError:
            raise VersionTaken(number) from None
        return row
