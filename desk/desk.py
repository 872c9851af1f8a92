"""The service desk: the ticket domain's operations, shared by the webhook, the worker, the
scheduler and the CLI — place orders, claim, transfer, reassign, complete, cancel, amend, keep,
note, rate, history.

Each operation loads the ticket, checks one policy (desk/policy.py), and does one compare-and-set
with its event and outbox rows (desk/operations.py), so a push or notice exists exactly when its
change does. Payloads hold facts for the worker to word; group payloads carry only the masked
mobile number. A refusal is a Refused value each front door words itself.
Times are stored in UTC and handed back in the community's time zone.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any

from desk import amend, complaints, emergencies, handoff, hurry, operations, policy
from desk.amend import Amendment
from desk.binding import BindGuard
from desk.clocks import (
    add_duty_time,
    add_working_days,
    claim_clock,
    covered_spans,
    duty_between,
    end_of_duty_day,
    local,
    next_duty,
    utc,
    working_fraction,
)
from desk.complaints import Lodged
from desk.conversations import ConversationLog
from desk.emergencies import Emergency
from desk.handoff import Handoff
from desk.masking import mask_mobile, mask_text
from desk.refusals import Refused
from desk.residents import ResidentDesk
from desk.responders import ResponderDesk
from desk.rota import DayCalendar
from desk.routing import Person, choose
from desk.signin import SignIn
from desk.staff import RoutingSnapshot, StaffDesk, person
from desk.states import DEFAULT_CLAIM_MINUTES, OPEN_STATES
from desk.tasks import TaskDesk
from desk.unanswered import UnansweredLog
from storage.db import Database
from storage.models import OutboxMessage, SchedulerRun, StaffMember, Ticket, TicketEvent
from storage.outbox import Outbox, outbox_row
from storage.tickets import TicketStore

ROUTING_DAYS = 21  # how far ahead a ticket that arrives off duty looks for the next duty window
ClaimMinutes = Callable[[str], int]


@dataclass(frozen=True, slots=True)
class Limits:
    """An item's time limits, from the handbook: claim within N duty minutes; complete within
    `working_days` working days (0: 即办, the same duty day)."""

    claim_minutes: int = DEFAULT_CLAIM_MINUTES
    working_days: int = 0


@dataclass(frozen=True, slots=True)
class Placement:
    ticket: Ticket
    assignee: str | None  # who it is routed to
    on_duty: bool  # the assignee is on duty now (pushed at once)
    opens_at: datetime | None  # otherwise: when the next duty window opens (pushed then)
    created: bool  # False: this request key had already placed the ticket
    route: str = "duty"  # duty | grid (the building's grid member) | groups (party branches, teams)


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
        self.staff = StaffDesk(database, clock)
        self.outbox = Outbox(database, clock)
        self.residents = ResidentDesk(database, clock)  # kept contact details, with consent
        self.unanswered = UnansweredLog(database, clock)  # what the bot could not answer outright
        self.conversations = ConversationLog(database, clock, tz)  # who wrote when: the direct-answer rate
        self.signin = SignIn(database, clock)  # the staff console's sign-ins and sessions
        # Binding attempts are limited in-process; bot/runtime.py shares them through Redis.
        self.bind_guard = BindGuard.in_process(lambda: self.clock().timestamp())
        # Party members and volunteers (双报到), grids and the task list (desk/tasks.py).
        self.responders = ResponderDesk(database, clock)
        self.tasks = TaskDesk(self, self.responders)

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
        booked = (window[0].astimezone(self.tz), window[1].astimezone(self.tz)) if window else None
        assignee, on_duty, opens_at, snap = await self._route(category, now, booked)
        clocks = self._clocks(snap, category, now, limits or Limits(), booked) if assignee else {}
        payload = {
            "item_id": item_id,
            "category": category,
            "mobile": mask_mobile(mobile),
            "window": [w.isoformat() for w in window] if window else None,
            "assignee": assignee.name if assignee else None,
            "wecom": assignee.wecom if assignee else "",
            "urgent": urgent,
            "description": mask_text(str(fields.get("description") or fields.get("said", ""))),
            "visit": bool(fields.get("address")),
        }
        # Urgent reports go out at once even at night; others wait for the assignee's window.
        due = utc(now if on_duty or urgent or opens_at is None else opens_at)

        def pushes(ticket: Ticket) -> Iterable[OutboxMessage]:
            body = {**payload, "ticket": ticket.number, "ticket_id": ticket.id}
            yield outbox_row("group", category, "new_ticket", body, utc(now), due=due)

        ticket = await operations.open_ticket(
            self.tickets,
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
        self, category: str, now: datetime, booked: tuple[datetime, datetime] | None = None
    ) -> tuple[Person | None, bool, datetime | None, RoutingSnapshot]:
        """Who gets a new ticket: staff on duty now (or in the next duty window); a booked ticket
        goes to staff on duty in its booked window, pushed now (or when qualified duty opens)."""
        last = max(now.date(), booked[1].date()) if booked else now.date()
        snap = await self.staff.snapshot(now.date(), last + timedelta(days=ROUTING_DAYS))
        if snap.rota is None or not snap.members:
            return None, False, None, snap
        members = snap.members

        def available(name: str, day: date) -> bool:
            return (
                name in members and day not in snap.leave.get(name, ()) and members[name].qualified(category)
            )

        if booked is not None:
            chosen = self._on_duty_in(category, booked, snap, available)
            if chosen is not None:
                spans = covered_spans(snap.rota, self.calendar, members, snap.leave, category)
                pushed = next_duty(now, spans)
                return chosen, pushed <= now, None if pushed <= now else pushed, snap
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

    def _on_duty_in(
        self,
        category: str,
        booked: tuple[datetime, datetime],
        snap: RoutingSnapshot,
        available: Callable[[str, date], bool],
    ) -> Person | None:
        """The assignee among staff on duty (and qualified) during the booked window, or None."""
        assert snap.rota is not None
        start, end = booked
        day = start.date()
        names = dict.fromkeys(
            n
            for window, people in snap.rota.duty_on(day, self.calendar)
            if window.at(day, self.tz)[0] < end and start < window.at(day, self.tz)[1]
            for n in people
            if available(n, day)
        )
        members = snap.members
        return choose(category, [members[n] for n in names], members.values(), snap.open_counts)

    def _clocks(
        self,
        snap: RoutingSnapshot,
        category: str,
        now: datetime,
        limits: Limits,
        booked: tuple[datetime, datetime] | None = None,
    ) -> dict[str, Any]:
        """When the claim reminder (N duty minutes), claim escalation (2N), completion warning (80%)
        and completion deadline fall, for a ticket assigned now. Warnings and 督办 due outside duty
        time are pushed when the next qualified person comes on duty.

        The claim clock runs from now; a booked ticket's completion clock runs from the end of its
        booked window (即办: that duty day's end), so it is not overdue before the visit."""
        if snap.rota is None:
            return {}
        spans = covered_spans(snap.rota, self.calendar, snap.members, snap.leave, category)
        claim = {k: v for k, v in claim_clock(now, limits.claim_minutes, spans).items() if v is not None}
        start = max(now, booked[1]) if booked else now
        supervise: datetime | None
        if limits.working_days:
            due = add_working_days(start, limits.working_days, self.calendar)
            warn = next_duty(working_fraction(start, due, 0.8, self.calendar), spans)
            supervise = next_duty(due, spans)
        else:
            due = supervise = end_of_duty_day(start, spans, inclusive=booked is not None)
            warn = add_duty_time(start, duty_between(start, due, spans) * 0.8, spans) if due else None
            if booked is not None and due is not None and (warn is None or warn > due):
                warn = due  # the window ends with the day's duty: no duty time is left to warn in
        times = {"done_warn_at": warn, "done_due_at": due, "supervise_at": supervise}
        return {**claim, **{key: utc(value) for key, value in times.items() if value is not None}}

    async def claim_clock(self, category: str, start: datetime, claim_minutes: int) -> dict[str, Any]:
        """A fresh claim clock from `start` (after a transfer or a handover)."""
        snap = await self.staff.snapshot(start.date(), start.date() + timedelta(days=ROUTING_DAYS))
        spans = (
            covered_spans(snap.rota, self.calendar, snap.members, snap.leave, category) if snap.rota else None
        )
        return claim_clock(start, claim_minutes, spans)

    async def report_emergency(
        self, resident: str, emergency: Emergency, limits: Limits, request_key: str
    ) -> Ticket:
        """An urgent ticket for an emergency the community acts on (desk/emergencies.py)."""
        return await emergencies.report(self, resident, emergency, limits, request_key)

    async def add_detail(self, resident: str, number: str | int, field: str, text: str) -> Ticket:
        """The resident adds the address or more of what happened to their open ticket."""
        return await emergencies.add_detail(self, resident, number, field, text)

    async def hurry(self, resident: str, number: str | int, text: str) -> tuple[Ticket, bool]:
        """The resident says their open ticket is urgent now: marked so, the group told (desk/hurry.py)."""
        return await hurry.hurry(self, resident, number, text)

    async def complain(self, resident: str, text: str, parent: Ticket | None, request_key: str) -> Lodged:
        """A complaint ticket for the secretary, answered within three working days (desk/complaints.py)."""
        limits = Limits(claim_minutes=complaints.CLAIM_MINUTES, working_days=complaints.WORKING_DAYS)
        return await complaints.lodge(self, resident, text, parent, request_key, limits)

    async def hand_off(self, resident: str, recent: Iterable[str]) -> Handoff:
        """转人工: a staff member on duty answers the resident (desk/handoff.py)."""
        return await handoff.open_handoff(self, resident, recent, Limits(claim_minutes=handoff.CLAIM_MINUTES))

    async def reply(self, member: StaffMember, number: str | int, text: str) -> Ticket:
        """回复 N 内容: the holder, a duty leader or the secretary answers the resident."""
        return await handoff.reply(self, member, number, text)

    async def slot_taken(self, key: str) -> bool:
        async with self.database.session() as session:
            return await session.get(SchedulerRun, key) is not None

    async def tickets_since(self, resident: str, since: datetime, item_id: str | None = None) -> list[Ticket]:
        """The resident's tickets created since `since` (oldest first): after a store outage, what
        went in while the replies failed; before a second order of one item, the first."""
        return await self.tickets.list(resident=resident, since=utc(since), item_id=item_id)

    async def resident_tickets(self, resident: str, limit: int = 5) -> list[Ticket]:
        return await self.tickets.list(resident=resident, newest_first=True, limit=limit)

    async def cancel(self, resident: str, number: str | int) -> Ticket:
        """取消: a resident's own ticket, before it is done; its holder is told in the group.

        A number that does not exist is refused exactly like another resident's (not_your_ticket),
        so the answer never tells a resident which numbers are in use."""

        def notify(t: Ticket) -> Iterable[OutboxMessage]:
            if t.assignee:
                yield self._group(t, "cancelled", await_wecom=None)

        try:
            return await operations.apply(
                self.tickets,
                number,
                "cancel",
                actor=resident,
                check=lambda t: policy.can_cancel(resident, t),
                then=notify,
            )
        except Refused as refused:
            if refused.reason == "unknown_ticket":
                raise Refused("not_your_ticket", number=refused.facts["number"]) from None
            raise

    async def withdraw(self, actor: StaffMember, number: str | int, reason: str) -> Ticket:
        """The office cancels a ticket before it is done (a duplicate, a resident who rang), with
        the reason: the resident is told it, and its holder in the group."""

        def notify(t: Ticket) -> Iterable[OutboxMessage]:
            yield self._resident(t, "withdrawn", actor.name, reason)
            if t.assignee:
                yield self._group(t, "withdrawn", await_wecom=None, extra={"reason": reason})

        return await operations.apply(
            self.tickets,
            number,
            "cancel",
            actor=actor.name,
            check=lambda t: policy.can_withdraw(actor, t),
            note=reason,
            then=notify,
        )

    async def amend(self, resident: str, number: str | int, amendment: Amendment) -> Ticket:
        """改时间/改地址/改电话 of a resident's own open ticket; its assignee is told (desk/amend.py)."""
        return await amend.amend(self, resident, number, amendment)

    async def awaiting_rating(self, resident: str) -> Ticket | None:
        done = await self.tickets.list(resident=resident, state="done", newest_first=True, limit=1)
        return done[0] if done else None

    async def rate(self, resident: str, ticket: Ticket, stars: int, comment: str) -> Ticket | None:
        """Close the ticket with the rating; 2 stars or fewer opens a follow-up (回访) for the secretary.

        Returns the follow-up ticket, if one was opened."""
        if not 1 <= stars <= 5:
            raise Refused("bad_stars", stars=stars)
        await operations.apply(
            self.tickets,
            ticket.number,
            "close",
            actor=resident,
            check=lambda t: policy.can_close(resident, t),
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

        return await operations.open_ticket(
            self.tickets,
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

    async def history(self, number: str | int) -> tuple[Ticket, list[TicketEvent]]:
        """A ticket and its event log, oldest first (the CLI's `tickets show`, the console's page)."""
        ticket = await operations.load(self.tickets, number)
        return ticket, await self.tickets.events(ticket.number)

    # ---- staff -----------------------------------------------------------------------------

    async def bind(self, openid: str, code: str) -> StaffMember:
        """绑定 CODE, within the attempt limits (desk/binding.py); the group hears of a lockout."""
        refused, alert = await self.bind_guard.admit(openid)
        if refused is not None:
            if alert:
                payload = {"scope": refused.reason, "who": openid[-6:], "minutes": refused.facts["minutes"]}
                async with self.database.transaction() as session:
                    session.add(outbox_row("group", "default", "bind_guessing", payload, utc(self.now())))
            raise refused
        return await self.staff.bind(openid, code)

    async def claim(self, member: StaffMember, number: str | int) -> Ticket:
        """接单: the first to claim owns it (首问负责); the resident is told who has it.

        Only the people the ticket is for may claim it (policy.may_claim): a claim hands over the
        resident's name, mobile and address, and numbers are sequential."""
        ticket = await operations.load(self.tickets, number)
        on_duty = await self._on_duty_qualified(member, ticket.category or "")
        groups_told = await self.tasks.told_taken(ticket, member.name)  # offered to party groups
        return await operations.apply(
            self.tickets,
            number,
            "accept",
            actor=member.name,
            check=lambda t: policy.may_claim(member, t, on_duty_qualified=on_duty),
            then=lambda t: [self._resident(t, "claimed", member.name), *groups_told(t)],
            values={"claimed_at": utc(self.now())},
        )

    async def _on_duty_qualified(self, member: StaffMember, category: str) -> bool:
        """`member` is on duty now (leave and swaps applied) and qualified for `category`."""
        if not person(member).qualified(category):
            return False
        return any(m.name == member.name for _, people in await self.on_duty_now() for m in people)

    async def complete(self, member: StaffMember, number: str | int, note: str) -> Ticket:
        """办结: only the owner may; the resident is told and asked for a rating."""
        return await self.complete_by(member.name, number, note)

    async def complete_by(self, holder: str, number: str | int, note: str) -> Ticket:
        """办结 by whoever holds the ticket under `holder`: a staff member, or a party member or
        volunteer who took it from the task list (desk/tasks.py)."""
        return await operations.apply(
            self.tickets,
            number,
            "complete",
            actor=holder,
            check=lambda t: policy.can_complete(holder, t),
            note=note,
            then=lambda t: [self._resident(t, "done", holder, note=note)],
            values={"done_at": utc(self.now())},
        )

    async def keep(self, member: StaffMember, number: str | int) -> Ticket:
        """保留 N: the owner keeps the ticket through the next shift handover (logged as `keep`)."""
        return await operations.apply(
            self.tickets,
            number,
            "keep",
            actor=member.name,
            check=lambda t: policy.can_keep(member.name, t),
            values={"keep_at_handover": True},
        )

    async def note(self, member: StaffMember, number: str | int, text: str) -> Ticket:
        """A note on the ticket's log; the state and the holder stay as they are."""
        return await operations.apply(self.tickets, number, "note", actor=member.name, note=text)

    async def transfer(
        self,
        member: StaffMember,
        number: str | int,
        to_name: str,
        claim_minutes_of: ClaimMinutes = lambda item_id: DEFAULT_CLAIM_MINUTES,
    ) -> Ticket:
        """转交: the owner (or a duty leader) hands it to a colleague, who is @-mentioned in the group."""
        return await self._give(member, number, to_name, "transfer", policy.can_transfer, claim_minutes_of)

    async def reassign(
        self,
        member: StaffMember,
        number: str | int,
        to_name: str,
        claim_minutes_of: ClaimMinutes = lambda item_id: DEFAULT_CLAIM_MINUTES,
    ) -> Ticket:
        """A leader moves a held ticket to someone else, who is @-mentioned in the group."""
        return await self._give(member, number, to_name, "reassign", policy.can_reassign, claim_minutes_of)

    async def _give(
        self,
        member: StaffMember,
        number: str | int,
        to_name: str,
        action: str,
        rule: Callable[[StaffMember, Ticket, str], Refused | None],
        claim_minutes_of: ClaimMinutes,
    ) -> Ticket:
        target = await self.staff.by_name(to_name)
        ticket = await operations.load(self.tickets, number)
        qualified = person(target).qualified(ticket.category or "")

        def check(t: Ticket) -> Refused | None:
            return rule(member, t, target.name) or policy.can_receive(t, target.name, qualified=qualified)

        refused = check(ticket)
        if refused is not None:  # refuse before the clock costs a snapshot
            raise refused
        return await operations.apply(
            self.tickets,
            number,
            action,
            actor=member.name,
            check=check,
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


__all__ = ["Amendment", "Limits", "Placement", "ServiceDesk", "local", "mask_mobile", "mask_text", "utc"]
