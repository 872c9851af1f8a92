"""Conversation days: which residents wrote on which day, and which items they asked about.
Persistence only; what counts as a conversation and its rates are desk/answers.py's business."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from storage.db import Database
from storage.models import ConversationDay, StaffMember, Ticket, UnansweredQuestion


class ConversationStore:
    def __init__(self, database: Database):
        self._db = database

    async def add(self, day: date, resident: str, item: str = "") -> None:
        """One row per (day, resident, item); a row another process wrote first is left as it is."""
        insert = pg_insert if self._db.engine.dialect.name == "postgresql" else sqlite_insert
        statement = insert(ConversationDay).values(day=day, resident=resident[:64], item=item[:64])
        async with self._db.transaction() as session:
            await session.execute(statement.on_conflict_do_nothing())

    async def between(self, first: date, last: date) -> list[tuple[date, str, str]]:
        """(day, resident, item) from `first` to `last` inclusive, staff members' own chats left out."""
        staff = select(StaffMember.openid).where(StaffMember.openid.is_not(None))
        query = select(ConversationDay.day, ConversationDay.resident, ConversationDay.item).where(
            ConversationDay.day >= first,
            ConversationDay.day <= last,
            ConversationDay.resident.not_in(staff),
        )
        async with self._db.session() as session:
            return [(row[0], row[1], row[2]) for row in await session.execute(query)]

    async def tickets_opened(self, since: datetime, until: datetime) -> list[tuple[str, datetime]]:
        """(resident, created_at) of every ticket a resident opened in [since, until): orders,
        转人工, complaints, emergencies — not the 回访 the office opens itself."""
        query = select(Ticket.resident, Ticket.created_at).where(
            Ticket.created_at >= since, Ticket.created_at < until, Ticket.kind != "follow_up"
        )
        async with self._db.session() as session:
            return [(row[0], row[1]) for row in await session.execute(query)]

    async def not_answered(self, since: datetime, until: datetime) -> list[tuple[str, datetime]]:
        """(resident, created_at) of the apologies, and of the "which one?" offers nobody picked from."""
        query = select(UnansweredQuestion.resident, UnansweredQuestion.created_at).where(
            UnansweredQuestion.created_at >= since,
            UnansweredQuestion.created_at < until,
            (UnansweredQuestion.outcome == "apology")
            | ((UnansweredQuestion.outcome == "choice") & UnansweredQuestion.picked.is_(None)),
        )
        async with self._db.session() as session:
            return [(row[0], row[1]) for row in await session.execute(query)]
