"""Duty-time and working-day arithmetic for ticket clocks (限时办结) — pure.

Claim limits count only duty time in which someone qualified for the item is on duty: a ticket
that arrives at 17:55 on Friday does not run its clock over the weekend unless weekend duty
covers its item. Completion limits count working days on the holiday calendar (调休 included).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any

from desk.rota import DayCalendar, Rota
from desk.routing import Person

Span = tuple[datetime, datetime]
SEARCH_DAYS = 45  # clocks look this far ahead for duty time (long holidays included)


def utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)


def local(moment: datetime | None, tz: tzinfo) -> datetime | None:
    """A stored time in the community's zone (SQLite hands back naive UTC values)."""
    if moment is None:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(tz)


def covered_spans(
    rota: Rota,
    calendar: DayCalendar,
    members: dict[str, Person],
    leave: dict[str, set[date]],
    category: str,
) -> Callable[[date, object], list[Span]]:
    """A function giving, for a day, the merged spans when someone qualified for `category` is on duty."""

    def spans(day: date, tz: object) -> list[Span]:
        out: list[Span] = []
        for window, names in rota.duty_on(day, calendar):
            if any(
                n in members and members[n].qualified(category) and day not in leave.get(n, ()) for n in names
            ):
                start, end = window.at(day, tz)
                if out and start <= out[-1][1]:
                    out[-1] = (out[-1][0], max(out[-1][1], end))
                else:
                    out.append((start, end))
        return out

    return spans


def add_duty_time(
    start: datetime, duration: timedelta, spans_of: Callable[[date, object], list[Span]]
) -> datetime | None:
    """The moment `duration` of duty time has passed after `start`; None when there is no duty ahead."""
    left = duration
    for ahead in range(SEARCH_DAYS):
        for begin, end in spans_of(start.date() + timedelta(days=ahead), start.tzinfo):
            begin = max(begin, start)
            if end <= begin:
                continue
            if end - begin >= left:
                return begin + left
            left -= end - begin
    return None


def end_of_duty_day(
    start: datetime, spans_of: Callable[[date, object], list[Span]], *, inclusive: bool = False
) -> datetime | None:
    """即办: the end of the last duty span of the day (the next duty day's, if the day's duty is over).

    `inclusive`: a start at the very end of the day's duty (a booked window ending as duty ends)
    still belongs to that day."""
    for ahead in range(SEARCH_DAYS):
        spans = spans_of(start.date() + timedelta(days=ahead), start.tzinfo)
        if spans and (spans[-1][1] > start or (inclusive and spans[-1][1] == start)):
            return spans[-1][1]
    return None


def _working_days(start: datetime, calendar: DayCalendar) -> Iterable[tuple[datetime, datetime]]:
    """Whole working days from `start` on, as spans (the first one begins at `start`)."""
    day = start.date()
    for ahead in range(400):
        current = day + timedelta(days=ahead)
        if calendar.is_workday(current):
            begin = datetime.combine(current, time(0), start.tzinfo)
            yield max(begin, start), begin + timedelta(days=1)


def add_working_days(start: datetime, days: float, calendar: DayCalendar) -> datetime:
    """`days` working days after `start`, skipping weekends and holidays, counting make-up days.

    Created on a Monday at 10:00, 3 working days is Thursday 10:00; created on Saturday, the clock
    starts on Monday."""
    left = timedelta(days=days)
    for begin, end in _working_days(start, calendar):
        if end - begin >= left:
            return begin + left
        left -= end - begin
    raise ValueError("no working days within a year")


def working_fraction(start: datetime, deadline: datetime, fraction: float, calendar: DayCalendar) -> datetime:
    """When `fraction` of the working time from `start` to `deadline` has passed (超时预警 at 80%)."""
    total = timedelta()
    for begin, end in _working_days(start, calendar):
        if begin >= deadline:
            break
        total += min(end, deadline) - begin
    left = total * fraction
    for begin, end in _working_days(start, calendar):
        span = min(end, deadline) - begin
        if span >= left:
            return begin + left
        left -= span
    return deadline


def duty_between(start: datetime, end: datetime, spans_of: Callable[[date, object], list[Span]]) -> timedelta:
    """Duty time from `start` to `end`."""
    total = timedelta()
    for ahead in range((end.date() - start.date()).days + 1):
        for begin, finish in spans_of(start.date() + timedelta(days=ahead), start.tzinfo):
            begin, finish = max(begin, start), min(finish, end)
            if finish > begin:
                total += finish - begin
    return total


def next_duty(moment: datetime, spans_of: Callable[[date, object], list[Span]]) -> datetime:
    """`moment` if someone is on duty then, else the start of the next duty span: a warning due
    at 3 a.m. is pushed when the first qualified person comes on duty."""
    for ahead in range(SEARCH_DAYS):
        for begin, end in spans_of(moment.date() + timedelta(days=ahead), moment.tzinfo):
            if end > moment:
                return max(begin, moment)
    return moment


def claim_times(
    start: datetime, claim_minutes: int, spans_of: Callable[[date, object], list[Span]]
) -> tuple[datetime | None, datetime | None]:
    """When an unclaimed ticket is reminded (N duty minutes after `start`) and escalated (2N)."""
    claim = timedelta(minutes=claim_minutes)
    return add_duty_time(start, claim, spans_of), add_duty_time(start, 2 * claim, spans_of)


def claim_clock(
    start: datetime, claim_minutes: int, spans_of: Callable[[date, object], list[Span]] | None
) -> dict[str, Any]:
    """A fresh claim clock from `start` as ticket columns (at placement, transfer and handover):
    reminder and escalation times in UTC, the earlier reminder and escalation forgotten. Without
    a rota (`spans_of` None) there is no clock."""
    remind, escalate = claim_times(start, claim_minutes, spans_of) if spans_of else (None, None)
    return {
        "claim_remind_at": utc(remind) if remind else None,
        "claim_escalate_at": utc(escalate) if escalate else None,
        "reminded_at": None,
        "escalated_at": None,
    }
