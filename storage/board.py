"""The ticket board's query: open tickets a person may see, filtered, urgent first, one page at a
time with the total. Who sees what is decided in desk/policy.py (Scope); this only turns it into SQL.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, false, func, or_, select, true
from sqlalchemy.sql.elements import ColumnElement

from storage.db import Database
from storage.models import Ticket, TicketEvent
from storage.tickets import UnknownTicket, parse_number


@dataclass(frozen=True, slots=True)
class Visible:
    """The scope as columns: all but `hidden_kinds`, or `holder`'s tickets plus unclaimed ones
    (`unclaimed_states`) of `categories` (None: any)."""

    everything: bool
    holder: str
    hidden_kinds: Sequence[str] = ()
    unclaimed_states: Sequence[str] = ()  # empty: none (off duty)
    categories: Sequence[str] | None = None


@dataclass(frozen=True, slots=True)
class BoardFilter:
    states: Sequence[str]
    kinds: Sequence[str] | None = None
    item_id: str | None = None
    assignee: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    overdue_at: datetime | None = None  # only tickets past a clock's limit at this moment
    unclaimed_states: Sequence[str] = ()  # for the claim clock of the overdue filter
    text: str = ""
    ids: Sequence[int] | None = None  # only these tickets (the live stream's changed ones)


def _visible(v: Visible) -> ColumnElement[bool]:
    hidden = Ticket.kind.not_in(list(v.hidden_kinds)) if v.hidden_kinds else true()
    if v.everything:
        return or_(Ticket.assignee == v.holder, hidden)
    if not v.unclaimed_states:
        return Ticket.assignee == v.holder
    pool = and_(hidden, Ticket.state.in_(list(v.unclaimed_states)))
    if v.categories is not None:
        pool = and_(pool, Ticket.category.in_(list(v.categories))) if v.categories else false()
    return or_(Ticket.assignee == v.holder, pool)


def _filtered(f: BoardFilter) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = [Ticket.state.in_(list(f.states))]
    if f.kinds is not None:
        where.append(Ticket.kind.in_(list(f.kinds)))
    if f.item_id:
        where.append(Ticket.item_id == f.item_id)
    if f.assignee:
        where.append(Ticket.assignee == f.assignee)
    if f.since:
        where.append(Ticket.created_at >= f.since)
    if f.until:
        where.append(Ticket.created_at < f.until)
    if f.overdue_at:
        claim_late = and_(Ticket.state.in_(list(f.unclaimed_states)), Ticket.claim_remind_at <= f.overdue_at)
        where.append(or_(claim_late, Ticket.done_due_at <= f.overdue_at))
    if f.ids is not None:
        where.append(Ticket.id.in_(list(f.ids)))
    text = f.text.strip()
    if text:
        found = [Ticket.contact_name.contains(text, autoescape=True)]
        if text.isascii() and text.isdigit():
            found.append(Ticket.contact_mobile.endswith(text, autoescape=True))
            with contextlib.suppress(UnknownTicket):
                found.append(Ticket.id == parse_number(text))
        where.append(or_(*found))
    return where


async def board(
    database: Database, visible: Visible, wanted: BoardFilter, *, limit: int, offset: int = 0
) -> tuple[list[Ticket], int]:
    """(one page of tickets, how many match in all): urgent first, then oldest first."""
    where = [_visible(visible), *_filtered(wanted)]
    query = select(Ticket).where(*where).order_by(Ticket.urgent.desc(), Ticket.id).limit(limit).offset(offset)
    async with database.session() as session:
        total = await session.scalar(select(func.count()).select_from(Ticket).where(*where))
        rows = list(await session.scalars(query))
    return rows, int(total or 0)


async def last_event_ids(database: Database, back: int) -> tuple[int, list[int]]:
    """(the newest event id, the ids of the `back` before it): where a live poller starts."""
    async with database.session() as session:
        last = int(await session.scalar(select(func.max(TicketEvent.id))) or 0)
        recent = list(await session.scalars(select(TicketEvent.id).where(TicketEvent.id > last - back)))
    return last, recent


async def events_after(database: Database, after: int, limit: int = 1000) -> list[tuple[int, int]]:
    """(event id, ticket id) of the log's rows with an id above `after`, oldest first."""
    query = (
        select(TicketEvent.id, TicketEvent.ticket_id)
        .where(TicketEvent.id > after)
        .order_by(TicketEvent.id)
        .limit(limit)
    )
    async with database.session() as session:
        return [(int(a), int(b)) for a, b in (await session.execute(query)).all()]
