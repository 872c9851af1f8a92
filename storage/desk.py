"""The service desk: what handlers ask of the database — place orders, work tickets, rate them.

Each change writes its ticket rows and the outbox rows it causes in one transaction (see
TicketStore's `then`), so a push or notice exists exactly when its change does. Payloads hold
facts for the worker to word; group payloads carry only the masked mobile number.
Times are stored in UTC and handed back in the community's time zone.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any

from sqlalchemy import update

from storage.clocks import (
    add_duty_time,
    add_working_days,
    claim_times,
    covered_spans,
    duty_between,
    end_of_duty_day,
    next_duty,
    working_fraction,
)
from storage.db import Database
from storage.models import OutboxMessage, SchedulerRun, StaffMember, Ticket
from storage.outbox import Outbox, outbox_row
from storage.rota import DayCalendar
from storage.routing import Person, choose
from storage.staff import OPEN_STATES, RoutingSnapshot, StaffDirectory, StaffError
from storage.ticket_states import TransitionRefused, UnknownTicket
from storage.tickets import TicketStore

ROUTING_DAYS = 21  # how far ahead a ticket that arrives off duty looks for the next duty window
_ID_NUMBER = re.compile(r"(?<![0-9])(?:\d{17}[0-9xX]|\d{15})(?![0-9])")
_MOBILE = re.compile(r"(?<!\d)(1[3-9]\d)\d{4}(\d{4})(?!\d)")


def without_id_numbers(text: str) -> str:
    """ID numbers never leave the database, not even to the staff member who owns the ticket."""
    return _ID_NUMBER.sub("[证件号已隐去]", text)


def mask_text(text: str) -> str:
    """Free text bound for a group chat: ID numbers removed, mobile numbers masked."""
    return _MOBILE.sub(r"\1****\2", without_id_numbers(text))


def mask_mobile(mobile: str) -> str:
    return f"{mobile[:3]}****{mobile[-4:]}" if len(mobile) == 11 else "****"


def utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)


def local(moment: datetime | None, tz: tzinfo) -> datetime | None:
    """A stored time in the community's zone (SQLite hands back naive UTC values)."""
    if moment is None:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(tz)


@dataclass(frozen=True, slots=True)
class Limits:
    """An item's time limits, from the handbook: claim within N duty minutes; complete within
    `working_days` working days (0: 即办, the same duty day)."""

    claim_minutes: int = 15
    working_days: int = 0


@dataclass(frozen=True, slots=True)
class Placement:
    ticket: Ticket
    assignee: str | None  # who it is routed to
    on_duty: bool  # the assignee is on duty now (pushed at once)
    opens_at: datetime | None  # otherwise: when the next duty window opens (pushed then)
    created: bool  # False: this request key had already placed the ticket


class ServiceDesk:
    def __init__(
        self,
        database: Database,
        calendar: DayCalendar,
        tz: tzinfo,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ):
        self.database = database
        self.calendar = calendar
        self.tz = tz
        self.clock = clock
        self.tickets = TicketStore(database, clock)
        self.staff = StaffDirectory(database, clock)
        self.outbox = Outbox(database, clock)

    def now(self) -> datetime:
        return self.clock().astimezone(self.tz)

    # ---- residents -------------------------------------------------------------------------

    async def place_order(
        self,
        *,
        resident: str,
        item_id: str,
        category: str,
        name: str,
        mobile: str,
        fields: dict[str, Any],
        window: tuple[datetime, datetime] | None,
        urgent: bool,
        request_key: str,
        limits: Limits | None = None,
    ) -> Placement:
        """One ticket for one confirmed order, routed to staff on duty (or the next window)."""
        existing = await self.tickets.by_request_key(request_key)
        if existing is not None:  # this order was confirmed before (a retry, a second 确认)
            return Placement(existing, existing.assignee, False, None, False)
        now = self.now()
        assignee, on_duty, opens_at, snap = await self._route(category, now)
        clocks = self._clocks(snap, category, now, limits or Limits()) if assignee else {}
        payload = {
            "item_id": item_id,
            "category": category,
            "mobile": mask_mobile(mobile),
            "window": [w.isoformat() for w in window] if window else None,
            "assignee": assignee.name if assignee else None,
            "wecom": assignee.wecom if assignee else "",
            "urgent": urgent,
            "description": mask_text(str(fields.get("description", ""))),
            "visit": bool(fields.get("address")),
        }
        # Urgent reports go out at once even at night; others wait for the assignee's window.
        due = utc(now if on_duty or urgent or opens_at is None else opens_at)

        def pushes(ticket: Ticket) -> Iterable[OutboxMessage]:
            body = {**payload, "ticket": ticket.number, "ticket_id": ticket.id}
            yield outbox_row("group", category, "new_ticket", body, utc(now), due=due)

        ticket = await self.tickets.create(
            resident=resident,
            item_id=item_id,
            contact_name=name,
            contact_mobile=mobile,
            fields=fields,
            assignee=assignee.name if assignee else None,
            request_key=request_key,
            then=pushes,
            category=category,
            wanted_start=utc(window[0]) if window else None,
            wanted_end=utc(window[1]) if window else None,
            urgent=urgent,
            **clocks,
        )
        return Placement(ticket, ticket.assignee, on_duty, None if on_duty else opens_at, True)

    async def _route(
        self, category: str, now: datetime
    ) -> tuple[Person | None, bool, datetime | None, RoutingSnapshot]:
        snap = await self.staff.snapshot(now.date(), now.date() + timedelta(days=ROUTING_DAYS))
        if snap.rota is None or not snap.members:
            return None, False, None, snap
        members = snap.members

        def available(name: str, day: date) -> bool:
            return (
                name in members and day not in snap.leave.get(name, ()) and members[name].qualified(category)
            )

        today = now.date()
        here = [
            members[n]
            for _, names in snap.rota.duty_at(now, self.calendar)
            for n in names
            if available(n, today)
        ]
        chosen = choose(category, here, members.values(), snap.open_counts)
        if chosen is not None:
            return chosen, True, None, snap
        opening = snap.rota.next_opening(now, self.calendar, available, days=ROUTING_DAYS)
        if opening is None:
            return None, False, None, snap
        start, _, names = opening
        chosen = choose(category, [members[n] for n in names], members.values(), snap.open_counts)
        return chosen, False, start, snap

    def _clocks(self, snap: RoutingSnapshot, category: str, now: datetime, limits: Limits) -> dict[str, Any]:
        """When the claim reminder (N duty minutes), claim escalation (2N), completion warning (80%)
        and completion deadline fall, for a ticket assigned now. Warnings and 督办 due outside duty
        time are pushed when the next qualified person comes on duty."""
        if snap.rota is None:
            return {}
        spans = covered_spans(snap.rota, self.calendar, snap.members, snap.leave, category)
        remind, escalate = claim_times(now, limits.claim_minutes, spans)
        supervise: datetime | None
        if limits.working_days:
            due = add_working_days(now, limits.working_days, self.calendar)
            warn = next_duty(working_fraction(now, due, 0.8, self.calendar), spans)
            supervise = next_duty(due, spans)
        else:
            due = supervise = end_of_duty_day(now, spans)
            warn = add_duty_time(now, duty_between(now, due, spans) * 0.8, spans) if due else None
        times = {
            "claim_remind_at": remind,
            "claim_escalate_at": escalate,
            "done_warn_at": warn,
            "done_due_at": due,
            "supervise_at": supervise,
        }
        return {key: utc(value) for key, value in times.items() if value is not None}

    async def claim_clock(self, category: str, start: datetime, claim_minutes: int) -> dict[str, Any]:
        """A fresh claim clock from `start` (after a transfer or a handover)."""
        snap = await self.staff.snapshot(start.date(), start.date() + timedelta(days=ROUTING_DAYS))
        if snap.rota is None:
            return {
                "claim_remind_at": None,
                "claim_escalate_at": None,
                "reminded_at": None,
                "escalated_at": None,
            }
        spans = covered_spans(snap.rota, self.calendar, snap.members, snap.leave, category)
        remind, escalate = claim_times(start, claim_minutes, spans)
        return {
            "claim_remind_at": utc(remind) if remind else None,
            "claim_escalate_at": utc(escalate) if escalate else None,
            "reminded_at": None,
            "escalated_at": None,
        }

    async def slot_taken(self, key: str) -> bool:
        async with self.database.session() as session:
            return await session.get(SchedulerRun, key) is not None

    async def resident_tickets(self, resident: str, limit: int = 5) -> list[Ticket]:
        return await self.tickets.list(resident=resident, newest_first=True, limit=limit)

    async def cancel(self, resident: str, number: str | int) -> Ticket:
        ticket = await self._own_ticket(resident, number)

        def notify(t: Ticket) -> Iterable[OutboxMessage]:
            if t.assignee:
                yield self._group(t, "cancelled", await_wecom=None)

        return await self.tickets.apply(ticket.number, "cancel", actor=resident, then=notify)

    async def awaiting_rating(self, resident: str) -> Ticket | None:
        done = await self.tickets.list(resident=resident, state="done", newest_first=True, limit=1)
        return done[0] if done else None

    async def rate(self, resident: str, ticket: Ticket, stars: int, comment: str) -> Ticket | None:
        """Close the ticket with the rating; 2 stars or fewer opens a follow-up (回访) for the secretary.

        Returns the follow-up ticket, if one was opened."""
        if not 1 <= stars <= 5:
            raise TransitionRefused("评分请用 1 到 5 分")
        await self.tickets.apply(
            ticket.number,
            "close",
            actor=resident,
            note=f"评分 {stars}",
            values={"rating": stars, "comment": comment[:500]},
        )
        if stars > 2:
            return None
        secretary = next((m for m in await self.staff.all() if "secretary" in m.roles and m.active), None)

        def push(t: Ticket) -> Iterable[OutboxMessage]:
            yield self._group(
                t,
                "follow_up",
                await_wecom=secretary.wecom_userid if secretary else "",
                extra={"stars": stars, "comment": mask_text(comment), "parent": ticket.number},
            )

        return await self._follow_up(resident, ticket, stars, comment, secretary, push)

    async def _follow_up(
        self,
        resident: str,
        ticket: Ticket,
        stars: int,
        comment: str,
        secretary: StaffMember | None,
        push: Callable[[Ticket], Iterable[OutboxMessage]],
    ) -> Ticket:
        return await self.tickets.create(
            resident=resident,
            item_id=ticket.item_id,
            contact_name=ticket.contact_name,
            contact_mobile=ticket.contact_mobile,
            fields={"parent": ticket.number, "stars": stars, "comment": comment[:500]},
            assignee=secretary.name if secretary else None,
            request_key=f"follow-up:{ticket.id}",
            actor="system",
            then=push,
            kind="follow_up",
            parent_id=ticket.id,
            category=ticket.category,
        )

    async def _own_ticket(self, resident: str, number: str | int) -> Ticket:
        ticket = await self.tickets.get(number)
        if ticket.resident != resident:
            raise UnknownTicket(f"没有找到您编号为 {str(number).strip()} 的工单")
        return ticket

    # ---- staff -----------------------------------------------------------------------------

    async def claim(self, member: StaffMember, number: str | int) -> Ticket:
        """接单: the first to claim owns it (首问负责); the resident is told who has it."""
        return await self.tickets.apply(
            number,
            "accept",
            actor=member.name,
            then=lambda t: [self._resident(t, "claimed", member.name)],
            values={"claimed_at": utc(self.now())},
        )

    async def complete(self, member: StaffMember, number: str | int, note: str) -> Ticket:
        """办结: only the owner may; the resident is told and asked for a rating."""
        return await self.tickets.apply(
            number,
            "complete",
            actor=member.name,
            note=note,
            then=lambda t: [self._resident(t, "done", member.name, note=note)],
            values={"done_at": utc(self.now())},
        )

    async def keep(self, member: StaffMember, number: str | int) -> Ticket:
        """保留 N: the owner keeps the ticket through the next shift handover."""
        ticket = await self.tickets.get(number)
        if ticket.assignee != member.name or ticket.state not in ("assigned", "accepted"):
            raise TransitionRefused(f"工单 {ticket.number} 不在您手上，不能保留")
        async with self.database.transaction() as session:
            await session.execute(update(Ticket).where(Ticket.id == ticket.id).values(keep_at_handover=True))
        return ticket

    async def transfer(
        self,
        member: StaffMember,
        number: str | int,
        to_name: str,
        claim_minutes_of: Callable[[str], int] = lambda item_id: 15,
    ) -> Ticket:
        """转交: the owner (or a duty leader) hands it to a colleague, who is @-mentioned in the group."""
        target = await self.staff.by_name(to_name)
        ticket = await self.tickets.get(number)
        if ticket.assignee not in (None, member.name) and "leader" not in member.roles:
            raise TransitionRefused(
                f"工单 {ticket.number} 由 {ticket.assignee} 负责，只有负责人或值班长能转交"
            )
        if target.name == ticket.assignee:
            raise TransitionRefused(f"工单 {ticket.number} 已经在 {target.name} 手上")
        return await self.tickets.apply(
            number,
            "transfer",
            actor=member.name,
            assignee=target.name,
            values=await self.claim_clock(ticket.category, self.now(), claim_minutes_of(ticket.item_id)),
            then=lambda t: [
                self._group(t, "transferred", await_wecom=target.wecom_userid, extra={"by": member.name})
            ],
        )

    async def staff_tickets(self, member: StaffMember) -> list[Ticket]:
        return await self.tickets.list(state=OPEN_STATES, assignee=member.name)

    async def on_duty_now(self) -> list[tuple[str, list[StaffMember]]]:
        return await self.staff.on_duty(self.now(), self.calendar)

    # ---- outbox payloads -------------------------------------------------------------------

    def _resident(self, ticket: Ticket, event: str, staff_name: str, note: str = "") -> OutboxMessage:
        payload = {
            "ticket": ticket.number,
            "ticket_id": ticket.id,
            "item_id": ticket.item_id,
            "staff_surname": staff_name[:1],
            "note": note,
        }
        return outbox_row("resident", ticket.resident, event, payload, utc(self.now()))

    def _group(
        self, ticket: Ticket, event: str, *, await_wecom: str | None, extra: dict[str, Any] | None = None
    ) -> OutboxMessage:
        return self.group_row(ticket, event, await_wecom or "", extra or {}, utc(self.now()))

    def group_row(
        self, ticket: Ticket, event: str, wecom: str, extra: dict[str, Any], now: datetime
    ) -> OutboxMessage:
        """A staff-group push about `ticket`: facts only, the resident's number masked."""
        start, end = local(ticket.wanted_start, self.tz), local(ticket.wanted_end, self.tz)
        payload = {
            "ticket": ticket.number,
            "ticket_id": ticket.id,
            "item_id": ticket.item_id,
            "category": ticket.category,
            "mobile": mask_mobile(ticket.contact_mobile),
            "window": [start.isoformat(), end.isoformat()] if start and end else None,
            "assignee": ticket.assignee,
            "wecom": wecom,
            "urgent": bool(ticket.urgent),
            **extra,
        }
        return outbox_row("group", ticket.category or "default", event, payload, now)


__all__ = ["Placement", "ServiceDesk", "StaffError", "mask_mobile", "mask_text"]
