"""Scheduled jobs over tickets (超时预警, 督办, 交接班): each fires exactly once across processes.

Every job is a conditional UPDATE that sets its "done" marker — or an INSERT of its slot into
scheduler_runs — in the same transaction as the ticket events and outbox rows it causes. Two
processes cannot both win the UPDATE or the INSERT, and a process that dies mid-job rolls back,
so the next tick does the job. No separate lock service is needed on SQLite or PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import and_, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from desk.clocks import claim_clock, covered_spans, local, utc
from desk.desk import ClaimMinutes, ServiceDesk
from desk.rota import DutyWindow, Rota
from desk.routing import choose
from desk.staff import RoutingSnapshot
from desk.states import (
    DEFAULT_CLAIM_MINUTES,
    HELD_STATES,
    OPEN_STATES,
    TRANSITIONS,
    UNCLAIMED_STATES,
    target,
)
from storage.models import SchedulerRun, StaffMember, Ticket, TicketEvent
from storage.outbox import outbox_row

HANDED_OVER = tuple(TRANSITIONS["handover"].allowed_from)  # what a shift hands to the next
KEPT = tuple(TRANSITIONS["keep"].allowed_from)
APPOINTMENT_REMINDER_AT = time(19, 0)  # the evening before a booked visit
HANDOVER_GRACE = timedelta(hours=2)  # a handover missed by longer (all processes down) is skipped
# The ticket clocks: (event, when due, marker set when fired, states it fires in).
JOBS = (
    ("claim_reminder", Ticket.claim_remind_at, Ticket.reminded_at, UNCLAIMED_STATES),
    ("claim_escalation", Ticket.claim_escalate_at, Ticket.escalated_at, UNCLAIMED_STATES),
    ("done_warning", Ticket.done_warn_at, Ticket.warned_at, HELD_STATES),
    ("done_overdue", Ticket.supervise_at, Ticket.supervised_at, OPEN_STATES),
)


# (day, that day's windows with their staff, the window, its staff, when it closed)
JustClosed = tuple[date, list[tuple[DutyWindow, tuple[str, ...]]], DutyWindow, tuple[str, ...], datetime]


def _due(
    due: InstrumentedAttribute[Any],
    marker: InstrumentedAttribute[Any],
    states: tuple[str, ...],
    now: datetime,
) -> Any:
    """A clock that has run out and not fired yet, on a ticket in a state it fires in."""
    return and_(due.is_not(None), due <= now, marker.is_(None), Ticket.state.in_(states))


@dataclass
class TickReport:
    """What one tick did, for logs and tests."""

    counts: dict[str, int] = field(default_factory=dict)

    def add(self, job: str, n: int) -> None:
        if n:
            self.counts[job] = self.counts.get(job, 0) + n


class ClockKeeper:
    def __init__(
        self, desk: ServiceDesk, claim_minutes_of: ClaimMinutes = lambda item_id: DEFAULT_CLAIM_MINUTES
    ):
        self.desk = desk
        self.claim_minutes_of = claim_minutes_of  # the handbook's; replaced when a new version is in use
        self._snap: RoutingSnapshot = RoutingSnapshot(None, {}, {}, {})
        self._staff: dict[str, StaffMember] | None = None
        self._snap_read = False

    async def tick(self) -> TickReport:
        """One pass of every job. Most ticks find nothing due: one query says so, and staff and the
        routing snapshot are read only when a job fires or a duty window closes (measured: a week
        of 5-minute ticks went from 10.8 ms to a few ms a tick)."""
        report = TickReport()
        now = self.desk.clock()
        self._staff, self._snap_read = None, False  # read afresh, at most once, in this tick
        if await self._anything_due(now):
            for event, due, marker, states in JOBS:
                report.add(event, await self._fire(event, due, marker, states, now))
        report.add("appointment", await self._appointments(now))
        report.add("handover", await self._handovers(now))
        return report

    async def _anything_due(self, now: datetime) -> bool:
        conditions = [_due(due, marker, states, now) for _, due, marker, states in JOBS]
        async with self.desk.database.session() as session:
            return (await session.scalar(select(Ticket.id).where(or_(*conditions)).limit(1))) is not None

    async def _staff_by_name(self) -> dict[str, StaffMember]:
        if self._staff is None:
            self._staff = {m.name: m for m in await self.desk.staff.all()}
        return self._staff

    async def _snapshot(self, now: datetime) -> RoutingSnapshot:
        """Rota, staff, leave and open tickets each, read once per tick and only when needed."""
        if not self._snap_read:
            today = now.astimezone(self.desk.tz).date()
            self._snap = await self.desk.staff.snapshot(today - timedelta(days=1), today + timedelta(days=2))
            self._snap_read = True
        return self._snap

    async def _fire(
        self,
        event: str,
        due: InstrumentedAttribute[Any],
        marker: InstrumentedAttribute[Any],
        states: tuple[str, ...],
        now: datetime,
    ) -> int:
        condition = _due(due, marker, states, now)
        async with self.desk.database.session() as session:
            tickets = list(
                await session.scalars(select(Ticket).where(condition).order_by(Ticket.id).limit(200))
            )
        if not tickets:
            return 0
        staff = await self._staff_by_name()
        if event == "claim_escalation":
            await self._snapshot(now)  # the duty leaders on duty now are @-mentioned too
        fired = 0
        for ticket in tickets:
            async with self.desk.database.transaction() as session:
                won = await session.execute(
                    update(Ticket).where(Ticket.id == ticket.id, condition).values({marker.key: now})
                )
                if won.rowcount != 1:
                    continue  # another process fired it, or the ticket moved on
                mentions = self._recipients(event, ticket, staff, now)
                await session.execute(_logged(ticket, event, now, {"to": [m.name for m in mentions]}))
                session.add(self._push(ticket, event, mentions, now))
            fired += 1
        return fired

    def _recipients(
        self, event: str, ticket: Ticket, staff: dict[str, StaffMember], now: datetime
    ) -> list[StaffMember]:
        """Who is @-mentioned: the assignee; on claim escalation also their B角 and the duty
        leader (值班长); past the completion limit the community secretary (督办)."""
        owner = staff.get(ticket.assignee or "")
        if event in ("claim_reminder", "done_warning"):
            return [owner] if owner else []
        if event == "claim_escalation":
            out = [owner] if owner else []
            backup = staff.get(owner.backup) if owner else None
            leaders = self._leaders_on_duty(staff, now) or [m for m in staff.values() if "leader" in m.roles]
            for person in (backup, *leaders):
                if person is not None and person not in out:
                    out.append(person)
            return out
        secretaries = [m for m in staff.values() if "secretary" in m.roles and m.active]
        return ([owner] if owner else []) + [m for m in secretaries if m is not owner]

    def _leaders_on_duty(self, staff: dict[str, StaffMember], now: datetime) -> list[StaffMember]:
        rota = self._snap.rota
        if rota is None:
            return []
        at = now.astimezone(self.desk.tz)
        names = [n for _, names in rota.duty_at(at, self.desk.calendar) for n in names]
        return [staff[n] for n in names if n in staff and "leader" in staff[n].roles]

    def _push(self, ticket: Ticket, event: str, mentions: list[StaffMember], now: datetime) -> Any:
        extra = {
            "mentions": [m.wecom_userid or m.name for m in mentions],
            "due": (local(ticket.done_due_at, self.desk.tz) or now).isoformat(),
        }
        return self.desk.group_row(ticket, event, mentions[0].wecom_userid if mentions else "", extra, now)

    async def _appointments(self, now: datetime) -> int:
        """The evening before a booked time: the resident (if WeChat's window allows) and the assignee."""
        at = now.astimezone(self.desk.tz)
        if at.timetz().replace(tzinfo=None) < APPOINTMENT_REMINDER_AT:
            return 0
        tomorrow = datetime.combine(at.date() + timedelta(days=1), time(0), self.desk.tz)
        condition = and_(
            Ticket.wanted_start >= utc(tomorrow),
            Ticket.wanted_start < utc(tomorrow + timedelta(days=1)),
            Ticket.appointment_reminded_at.is_(None),
            Ticket.state.in_(HELD_STATES),
        )
        async with self.desk.database.session() as session:
            tickets = list(await session.scalars(select(Ticket).where(condition).limit(500)))
        if not tickets:
            return 0
        staff = await self._staff_by_name()
        fired = 0
        for ticket in tickets:
            async with self.desk.database.transaction() as session:
                won = await session.execute(
                    update(Ticket)
                    .where(Ticket.id == ticket.id, condition)
                    .values(appointment_reminded_at=now)
                )
                if won.rowcount != 1:
                    continue
                owner = staff.get(ticket.assignee or "")
                await session.execute(_logged(ticket, "appointment", now, {}))
                session.add(self._push(ticket, "appointment", [owner] if owner else [], now))
                start = local(ticket.wanted_start, self.desk.tz)
                payload = {
                    "ticket": ticket.number,
                    "ticket_id": ticket.id,
                    "item_id": ticket.item_id,
                    "staff_surname": (ticket.assignee or "")[:1],
                    "start": start.isoformat() if start else None,
                }
                session.add(outbox_row("resident", ticket.resident, "appointment", payload, now))
            fired += 1
        return fired

    async def _handovers(self, now: datetime) -> int:
        """When a duty window closes, the open tickets of staff going off duty pass to staff coming
        on (their B角 first), unless kept with 保留 N; the list goes to the group."""
        at = now.astimezone(self.desk.tz)
        rota = await self.desk.staff.rota()
        if rota is None or next(self._just_closed(rota, at), None) is None:
            return 0  # no window has just closed: nothing to hand over, no snapshot to read
        snap = await self._snapshot(now)
        if snap.rota is None:
            return 0
        done = 0
        for day, windows, window, names, closes in self._just_closed(snap.rota, at):
            on_duty = {
                n
                for w, ns in windows
                for n in ns
                if w.start <= window.end < w.end and day not in snap.leave.get(n, ())
            }
            # Staff on leave that day were never on duty, so they do not hand over.
            leaving = [n for n in names if n not in on_duty and day not in snap.leave.get(n, ())]
            if await self._handover(
                f"handover:{day}:{window.key}", window.label, leaving, on_duty, snap, utc(closes), now
            ):
                done += 1
        return done

    def _just_closed(self, rota: Rota, at: datetime) -> Iterator[JustClosed]:
        """(day, that day's windows, a window, its staff, when it closed) for each duty window of
        yesterday or today that closed less than HANDOVER_GRACE before `at`."""
        for day in (at.date() - timedelta(days=1), at.date()):
            windows = rota.duty_on(day, self.desk.calendar)
            for window, names in windows:
                closes = datetime.combine(day, window.end, self.desk.tz)
                if closes <= at < closes + HANDOVER_GRACE:
                    yield day, windows, window, names, closes

    async def _handover(
        self,
        key: str,
        label: str,
        leaving: list[str],
        coming: set[str],
        snap: RoutingSnapshot,
        closes: datetime,
        now: datetime,
    ) -> bool:
        if await self.desk.slot_taken(key):
            return False
        async with self.desk.database.session() as session:
            tickets = (
                list(
                    await session.scalars(
                        select(Ticket)
                        .where(Ticket.state.in_(HELD_STATES), Ticket.assignee.in_(leaving))
                        .order_by(Ticket.id)
                    )
                )
                if leaving
                else []
            )
        moves: list[dict[str, Any]] = []
        clocks: dict[int, dict[str, Any]] = {}
        counts = dict(snap.open_counts)
        for ticket in tickets:
            if ticket.keep_at_handover:
                moves.append(
                    {"ticket": ticket.number, "from": ticket.assignee, "to": ticket.assignee, "kept": True}
                )
                continue
            owner = snap.members.get(ticket.assignee or "")
            pool = [
                snap.members[n]
                for n in coming
                if n in snap.members and snap.members[n].qualified(ticket.category)
            ]
            backup = next((p for p in pool if owner and p.name == owner.backup), None)
            chosen = backup or choose(ticket.category, pool, snap.members.values(), counts)
            if chosen is None:
                moves.append({"ticket": ticket.number, "from": ticket.assignee, "to": None, "kept": False})
                continue
            counts[chosen.name] = counts.get(chosen.name, 0) + 1
            spans = covered_spans(snap.rota, self.desk.calendar, snap.members, snap.leave, ticket.category)
            start = closes.astimezone(self.desk.tz)
            clocks[ticket.id] = claim_clock(start, self.claim_minutes_of(ticket.item_id), spans)
            moves.append(
                {
                    "ticket": ticket.number,
                    "from": ticket.assignee,
                    "to": chosen.name,
                    "kept": False,
                    "wecom": chosen.wecom,
                    "id": ticket.id,
                    "version": ticket.version,
                    "state": ticket.state,
                }
            )
        try:
            async with self.desk.database.transaction() as session:
                await _claim_slot(session, key, now)
                for move in moves:
                    if move.get("id") is None:
                        continue
                    moved = await session.execute(
                        update(Ticket)
                        .where(Ticket.id == move["id"], Ticket.version == move["version"])
                        .values(
                            assignee=move["to"],
                            state=target("handover", move["state"]),
                            version=move["version"] + 1,
                            updated_at=now,
                            **clocks[move["id"]],
                        )
                    )
                    if moved.rowcount != 1:
                        move["to"], move["skipped"] = move["from"], True  # it changed meanwhile: leave it
                        continue
                    detail = {"from": move["from"], "to": move["to"], "window": label}
                    await session.execute(
                        _event_row(
                            move["id"],
                            "handover",
                            now,
                            detail,
                            move["state"],
                            target("handover", move["state"]),
                        )
                    )
                kept = [m["ticket"] for m in moves if m["kept"]]
                if kept:
                    await session.execute(
                        update(Ticket)
                        .where(
                            Ticket.state.in_(HELD_STATES),
                            Ticket.assignee.in_(leaving),
                            Ticket.keep_at_handover.is_(True),
                        )
                        .values(keep_at_handover=False)
                    )
                if moves:
                    payload = {
                        "window": label,
                        "moves": [
                            {
                                k: v
                                for k, v in m.items()
                                if k in ("ticket", "from", "to", "kept", "wecom", "skipped")
                            }
                            for m in moves
                        ],
                    }
                    session.add(outbox_row("group", "default", "handover", payload, now))
        except IntegrityError:
            return False  # another process ran this handover
        return bool(moves)


def _event_row(
    ticket_id: int, action: str, now: datetime, detail: dict[str, Any], from_state: str, to_state: str
) -> Any:
    """A system entry in the ticket's event log."""
    return insert(TicketEvent).values(
        ticket_id=ticket_id,
        at=now,
        actor="system",
        action=action,
        from_state=from_state,
        to_state=to_state,
        detail=detail,
    )


def _logged(ticket: Ticket, action: str, now: datetime, detail: dict[str, Any]) -> Any:
    """An event that leaves the ticket's state as it is (a reminder, an escalation)."""
    return _event_row(ticket.id, action, now, detail, ticket.state, ticket.state)


async def _claim_slot(session: AsyncSession, key: str, now: datetime) -> None:
    """Insert the slot row first: a second process running the same slot fails here (IntegrityError)
    and its whole transaction rolls back."""
    session.add(SchedulerRun(key=key, ran_at=now))
    await session.flush()


async def run_once(desk: ServiceDesk, key: str, rows: list[Any]) -> bool:
    """Commit `rows` (outbox messages) together with the slot `key`, unless some process already
    did: the monthly report goes out once however many schedulers run."""
    if await desk.slot_taken(key):
        return False
    try:
        async with desk.database.transaction() as session:
            await _claim_slot(session, key, desk.clock())
            session.add_all(rows)
    except IntegrityError:
        return False
    return True
