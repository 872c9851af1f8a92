"""Handoff (转人工): a person answers, and the resident is told who and by when.

"人工" opens a ticket of kind "handoff" for a staff member on duty (anyone on duty may talk to a
resident, whatever their grade; off duty, someone on the next duty window), pushed to the group
with the assignee @-mentioned and the resident's last messages, masked. While it is open, asking
again adds the new message to it instead of opening another. Staff answer with "回复 N 内容":
the text goes to the resident through the outbox (a customer-service message, or kept for their
next message outside WeChat's 48 hours) and is logged on the ticket as a note.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from desk import operations, policy
from desk.clocks import local, utc
from desk.masking import mask_text
from desk.routing import Person, choose
from desk.staff import RoutingSnapshot
from desk.states import OPEN_STATES, UNCLAIMED_STATES
from storage.models import StaffMember, Ticket
from storage.outbox import OutboxMessage

if TYPE_CHECKING:
    from desk.desk import Limits, ServiceDesk

ITEM = "handoff"  # the item_id of every handoff ticket (worded by handlers/wording.py)
CLAIM_MINUTES = 15  # the resident hears from a person within 15 duty minutes
ROUTING_DAYS = 21
REPLY_CHARS = 600  # a customer-service text stays well inside WeChat's 2048 bytes


@dataclass(frozen=True, slots=True)
class Handoff:
    ticket: Ticket
    assignee: str | None
    on_duty: bool  # the assignee is on duty now
    answer_by: datetime | None  # the claim clock: when the resident should have heard (local time)
    reused: bool  # an open handoff of the resident's took the new message


def _anyone(snap: RoutingSnapshot) -> RoutingSnapshot:
    """Routing and clocks where everyone is qualified: talking to a resident needs no grade."""
    return replace(snap, members={n: replace(p, grade="A") for n, p in snap.members.items()})


def _route(desk: ServiceDesk, snap: RoutingSnapshot, now: datetime) -> tuple[Person | None, datetime | None]:
    """The staff member on duty with the fewest open tickets; off duty, one on the next window
    (and when it opens)."""
    if snap.rota is None or not snap.members:
        return None, None

    def available(name: str, day: object) -> bool:
        return name in snap.members and day not in snap.leave.get(name, ())

    here = [
        snap.members[n]
        for _, names in snap.rota.duty_at(now, desk.calendar)
        for n in names
        if available(n, now.date())
    ]
    chosen = choose(ITEM, here, snap.members.values(), snap.open_counts)
    if chosen is not None:
        return chosen, None
    opening = snap.rota.next_opening(now, desk.calendar, available, days=ROUTING_DAYS)
    if opening is None:
        return None, None
    start, _, names = opening
    return choose(ITEM, [snap.members[n] for n in names], snap.members.values(), snap.open_counts), start


async def open_handoff(desk: ServiceDesk, resident: str, recent: Iterable[str], limits: Limits) -> Handoff:
    """A handoff ticket for the resident (or their open one, with the new message added)."""
    texts = [mask_text(t) for t in recent if t.strip()][-5:]
    mine = await desk.tickets.list(resident=resident, state=OPEN_STATES, newest_first=True, limit=20)
    existing = next((t for t in mine if t.kind == "handoff"), None)
    if existing is not None:
        return await _again(desk, resident, existing, texts[-1] if texts else "")
    now = desk.now()
    snap = _anyone(await desk.staff.snapshot(now.date(), now.date() + timedelta(days=ROUTING_DAYS)))
    person, opens_at = _route(desk, snap, now)
    clocks = desk._clocks(snap, ITEM, now, limits) if person else {}
    answer_by = local(clocks.get("claim_remind_at"), desk.tz)

    def push(ticket: Ticket) -> Iterable[OutboxMessage]:
        extra = {"recent": texts, "answer_by": answer_by.isoformat() if answer_by else None}
        row = desk._group(ticket, "handoff", await_wecom=person.wecom if person else "", extra=extra)
        if opens_at is not None:  # off duty: pushed when the assignee's window opens
            row.due_at = utc(opens_at)
        yield row

    ticket = await operations.open_ticket(
        desk.tickets,
        resident=resident,
        item_id=ITEM,
        fields={"description": " / ".join(texts)},
        assignee=person.name if person else None,
        then=push,
        kind="handoff",
        **clocks,
    )
    return Handoff(ticket, ticket.assignee, person is not None and opens_at is None, answer_by, False)


async def _again(desk: ServiceDesk, resident: str, ticket: Ticket, text: str) -> Handoff:
    """The resident asks again while their handoff is open: the holder sees the new message."""
    members = {m.name: m for m in await desk.staff.all()}
    holder = members.get(ticket.assignee or "")

    def push(t: Ticket) -> Iterable[OutboxMessage]:
        extra = {"field": "detail", "text": text}
        yield desk._group(t, "detail", await_wecom=holder.wecom_userid if holder else "", extra=extra)

    if text:
        ticket = await operations.apply(
            desk.tickets,
            ticket.number,
            "note",
            actor=resident,
            check=lambda t: policy.state_allows("note", t),
            note=text,
            then=push,
        )
    now = desk.now()
    answer_by = local(ticket.claim_remind_at, desk.tz)
    return Handoff(ticket, ticket.assignee, True, answer_by if answer_by and answer_by > now else None, True)


async def reply(desk: ServiceDesk, member: StaffMember, number: str | int, text: str) -> Ticket:
    """回复 N 内容: the text goes to the resident and onto the ticket's log. An unclaimed handoff
    that gets an answer no longer needs the claim reminders that chase one."""
    ticket = await operations.load(desk.tickets, number)
    values = (
        {"claim_remind_at": None, "claim_escalate_at": None}
        if ticket.kind == "handoff" and ticket.state in UNCLAIMED_STATES
        else {}
    )
    text = text.strip()[:REPLY_CHARS]
    return await operations.apply(
        desk.tickets,
        number,
        "note",
        actor=member.name,
        check=lambda t: policy.can_reply(member, t),
        note=f"回复居民：{text}",
        values=values,
        then=lambda t: [desk._resident(t, "staff_reply", member.name, note=text)],
    )
