"""Tickets in the database: one compare-and-set per change, plus the queries. No ticket rules here.

A change is one conditional UPDATE ("... WHERE version = the version read") plus its event row and
outbox rows in the same transaction: when two staff act at once, the database lets exactly one
UPDATE match; the caller (desk/) reads again and decides. No change is ever lost or applied twice.
Which changes are allowed, and who may make them, is desk/'s business.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from storage.db import Database
from storage.models import NUMBER_OFFSET, Ticket, TicketEvent

__all__ = ["Event", "TicketStore", "UnknownTicket", "parse_number"]


class UnknownTicket(LookupError):
    """No ticket has this number; `number` is what was asked for."""

    def __init__(self, number: str):
        super().__init__(f"no ticket numbered {number!r}")
        self.number = number


@dataclass(frozen=True, slots=True)
class Event:
    """One row of a ticket's event log, as the caller wants it written."""

    action: str
    actor: str
    from_state: str | None
    to_state: str
    detail: dict[str, Any] = field(default_factory=dict)


MAX_ID = 2**31 - 1  # the id column is a 32-bit integer on PostgreSQL


def parse_number(number: str | int) -> int:
    """The ticket id behind a number a person typed or read aloud ("10023", " 10023 "). Numbers
    no ticket can have (too small, or beyond the column: "12147483648") are unknown, so the
    database is never asked a question it would answer with an overflow error."""
    text = str(number).strip()
    if not (text.isascii() and text.isdigit()) or not NUMBER_OFFSET < int(text) <= NUMBER_OFFSET + MAX_ID:
        raise UnknownTicket(text)
    return int(text) - NUMBER_OFFSET


class TicketStore:
    def __init__(self, database: Database, clock: Callable[[], datetime] = lambda: datetime.now(UTC)):
        self._db = database
        self._clock = clock

    async def create(
        self,
        *,
        state: str,
        events: Iterable[Event],
        request_key: str | None = None,
        then: Callable[[Ticket], Iterable[Any]] | None = None,
        **columns: Any,
    ) -> Ticket:
        """A new ticket, its events and `then(ticket)`'s rows (outbox messages), in one transaction.

        With a `request_key` already used, nothing is written and that ticket is returned.
        """
        now = self._clock()
        try:
            async with self._db.transaction() as session:
                ticket = Ticket(
                    state=state, version=1, created_at=now, updated_at=now, request_key=request_key, **columns
                )
                session.add(ticket)
                await session.flush()
                session.add_all(_event(ticket.id, now, e) for e in events)
                if then is not None:
                    session.add_all(list(then(ticket)))
        except IntegrityError:
            # The request key is taken (a race or a repeat): the earlier ticket stands.
            existing = await self.by_request_key(request_key) if request_key else None
            if existing is None:
                raise
            return existing
        return ticket

    async def by_request_key(self, request_key: str) -> Ticket | None:
        async with self._db.session() as session:
            return await session.scalar(select(Ticket).where(Ticket.request_key == request_key))

    async def get(self, number: str | int) -> Ticket:
        ticket_id = parse_number(number)
        async with self._db.session() as session:
            ticket = await session.get(Ticket, ticket_id)
        if ticket is None:
            raise UnknownTicket(str(number).strip())
        return ticket

    async def events(self, number: str | int) -> list[TicketEvent]:
        ticket_id = parse_number(number)
        async with self._db.session() as session:
            rows = await session.scalars(
                select(TicketEvent).where(TicketEvent.ticket_id == ticket_id).order_by(TicketEvent.id)
            )
            return list(rows)

    async def compare_and_set(
        self,
        ticket: Ticket,
        values: dict[str, Any],
        event: Event,
        then: Callable[[Ticket], Iterable[Any]] | None = None,
    ) -> bool:
        """Write `values` only if the ticket's version is still the one read, with the event row and
        `then(ticket)`'s rows, in one transaction that starts with the write (which also avoids
        SQLite's lock upgrade). False: someone changed it meanwhile; nothing was written."""
        now = self._clock()
        values = {**values, "version": ticket.version + 1, "updated_at": now}
        async with self._db.transaction() as session:
            result = await session.execute(
                update(Ticket)
                .where(Ticket.id == ticket.id, Ticket.version == ticket.version)
                .values(**values)
            )
            if result.rowcount != 1:
                return False
            await session.execute(_insert_event(ticket.id, now, event))
            if then is not None:
                for key, value in values.items():
                    setattr(ticket, key, value)  # the rows see the ticket as it is now
                session.add_all(list(then(ticket)))
        return True

    async def list(
        self,
        *,
        state: str | Iterable[str] | None = None,
        item_id: str | None = None,
        resident: str | None = None,
        assignee: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        newest_first: bool = False,
        limit: int | None = None,
    ) -> list[Ticket]:
        query = select(Ticket).order_by(Ticket.id.desc() if newest_first else Ticket.id)
        if isinstance(state, str):
            query = query.where(Ticket.state == state)
        elif state is not None:
            query = query.where(Ticket.state.in_(list(state)))
        if item_id:
            query = query.where(Ticket.item_id == item_id)
        if resident:
            query = query.where(Ticket.resident == resident)
        if assignee:
            query = query.where(Ticket.assignee == assignee)
        if since:
            query = query.where(Ticket.created_at >= since)
        if until:
            query = query.where(Ticket.created_at < until)
        if limit:
            query = query.limit(limit)
        async with self._db.session() as session:
            return list(await session.scalars(query))

    async def search(self, text: str, limit: int = 50) -> list[Ticket]:
        """Tickets by number, by mobile (whole or its last digits) or by contact name (a part of
        it), newest first: what the office has when a resident rings."""
        text = text.strip()
        if not text:
            return []
        found = [Ticket.contact_name.contains(text, autoescape=True)]
        if text.isascii() and text.isdigit():
            found.append(Ticket.contact_mobile.endswith(text, autoescape=True))
            with contextlib.suppress(UnknownTicket):  # too short or too long to be a number
                found.append(Ticket.id == parse_number(text))
        query = select(Ticket).where(or_(*found)).order_by(Ticket.id.desc()).limit(limit)
        async with self._db.session() as session:
            return list(await session.scalars(query))


def _event_values(ticket_id: int, now: datetime, event: Event) -> dict[str, Any]:
    return {
        "ticket_id": ticket_id,
        "at": now,
        "actor": event.actor,
        "action": event.action,
        "from_state": event.from_state,
        "to_state": event.to_state,
        "detail": event.detail,
    }


def _event(ticket_id: int, now: datetime, event: Event) -> TicketEvent:
    return TicketEvent(**_event_values(ticket_id, now, event))


def _insert_event(ticket_id: int, now: datetime, event: Event) -> Any:
    """The event row as an INSERT statement (for transactions that start with an UPDATE)."""
    return insert(TicketEvent).values(**_event_values(ticket_id, now, event))
