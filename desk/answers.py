"""The bot's direct-answer rate (直接答复率) and the most asked items, from conversation days.

A conversation is one resident's messages on one community day (desk/conversations.py writes it).
It was answered directly unless, that day, the resident
- opened a ticket (an order, 转人工, a complaint or an emergency): a person took it over; or
- got the out-of-scope apology, or a "which one?" list and picked nothing: no answer.
Referrals to another agency and life-event lists are answers the bot gave itself. Staff members'
own chats are not conversations. The most asked items count conversations that were about an item
(answered, ordered or chosen from a list), one per resident and day.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from storage.conversations import ConversationStore
from storage.db import Database


@dataclass(frozen=True, slots=True)
class Answers:
    first: date
    last: date
    conversations: int
    with_ticket: int  # a ticket of the resident's that day
    unanswered: int  # no ticket, but an apology or an unpicked "which one?" list
    asked: tuple[tuple[str, int], ...] = ()  # (item id, conversations about it), most first

    @property
    def direct(self) -> int:
        return self.conversations - self.with_ticket - self.unanswered

    @property
    def rate(self) -> float | None:
        return self.direct / self.conversations if self.conversations else None


def _local_day(moment: datetime, tz: tzinfo) -> date:
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)  # SQLite: naive UTC
    return aware.astimezone(tz).date()


def _bounds(first: date, last: date, tz: tzinfo) -> tuple[datetime, datetime]:
    return datetime.combine(first, time(0), tz), datetime.combine(last + timedelta(days=1), time(0), tz)


async def _days(
    database: Database, first: date, last: date, tz: tzinfo
) -> tuple[list[tuple[date, str, str]], set[tuple[date, str]], set[tuple[date, str]]]:
    store = ConversationStore(database)
    since, until = _bounds(first, last, tz)
    rows = await store.between(first, last)
    ticketed = {(_local_day(at, tz), who) for who, at in await store.tickets_opened(since, until)}
    unanswered = {(_local_day(at, tz), who) for who, at in await store.not_answered(since, until)}
    return rows, ticketed, unanswered


def _answers(
    first: date,
    last: date,
    rows: list[tuple[date, str, str]],
    ticketed: set[tuple[date, str]],
    unanswered: set[tuple[date, str]],
) -> Answers:
    conversations = {(day, who) for day, who, _ in rows if first <= day <= last}
    asked = Counter(item for day, _, item in rows if item and first <= day <= last)
    with_ticket = conversations & ticketed
    return Answers(
        first,
        last,
        len(conversations),
        len(with_ticket),
        len((conversations & unanswered) - with_ticket),
        tuple(sorted(asked.items(), key=lambda pair: (-pair[1], pair[0]))),
    )


async def direct_answers(database: Database, first: date, last: date, tz: tzinfo) -> Answers:
    """The period from `first` to `last` inclusive (community days)."""
    return _answers(first, last, *await _days(database, first, last, tz))


async def weekly(database: Database, first: date, last: date, tz: tzinfo) -> list[Answers]:
    """Week by week (Monday to Sunday) over the weeks that meet [first, last], oldest first."""
    monday = first - timedelta(days=first.weekday())
    rows, ticketed, unanswered = await _days(database, monday, last, tz)
    weeks = []
    while monday <= last:
        weeks.append(_answers(monday, monday + timedelta(days=6), rows, ticketed, unanswered))
        monday += timedelta(days=7)
    return weeks
