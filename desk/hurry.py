"""A resident says their open ticket has become urgent ("漏得越来越凶了 快点来").

The ticket is marked urgent, a claim not yet made is reminded and escalated in wall-clock minutes
as an emergency's is, and the group hears it at once with the holder and the staff on duty
mentioned — instead of a second ticket for the same thing (a session-6 trial resident's added
urgency opened a new order and the first one stayed as it was). Saying it again within
REPEAT_MINUTES adds the words to the ticket's log without another push, so one resident cannot
flood the group.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from desk import operations
from desk.clocks import local, utc
from desk.masking import mask_text
from desk.refusals import Refused
from desk.states import OPEN_STATES, UNCLAIMED_STATES
from storage.models import OutboxMessage, Ticket

if TYPE_CHECKING:
    from desk.desk import ServiceDesk

CLAIM_MINUTES = 10  # an unclaimed ticket said to be urgent is reminded after this, escalated after twice it
REPEAT_MINUTES = 10


async def hurry(desk: ServiceDesk, resident: str, number: str | int, text: str) -> tuple[Ticket, bool]:
    """Mark the resident's open ticket urgent and tell the group; (ticket, whether the group was told)."""
    ticket = await operations.load(desk.tickets, number)
    if ticket.resident != resident or ticket.state not in OPEN_STATES:
        raise Refused("not_yours", number=ticket.number)
    now = desk.now()
    fields = dict(ticket.fields or {})
    last = fields.get("hurried_at")
    repeated = bool(last) and now - datetime.fromisoformat(last) < timedelta(minutes=REPEAT_MINUTES)
    said = mask_text(text)
    fields["hurried_at"] = now.isoformat()
    values: dict[str, object] = {"urgent": True, "fields": fields}
    if ticket.state in UNCLAIMED_STATES:
        limit = timedelta(minutes=CLAIM_MINUTES)
        remind, escalate = now + limit, now + 2 * limit
        if ticket.claim_remind_at is None or local(ticket.claim_remind_at, desk.tz) > remind:
            values["claim_remind_at"] = utc(remind)
        if ticket.claim_escalate_at is None or local(ticket.claim_escalate_at, desk.tz) > escalate:
            values["claim_escalate_at"] = utc(escalate)
    mentions = [] if repeated else await _mentions(desk, ticket, now)

    def push(t: Ticket) -> Iterable[OutboxMessage]:
        if repeated:
            return
        yield desk.group_row(t, "hurried", "", {"text": said, "mentions": mentions}, utc(now))

    updated = await operations.apply(
        desk.tickets,
        number,
        "note",
        actor=resident,
        check=lambda t: None if t.resident == resident else Refused("not_yours", number=t.number),
        note=f"居民说情况紧急：{said}",
        values=values,
        then=push,
    )
    return updated, not repeated


async def _mentions(desk: ServiceDesk, ticket: Ticket, now: datetime) -> list[str]:
    """The holder, or else everyone on duty now, by their WeCom ids."""
    snap = await desk.staff.snapshot(now.date(), now.date())
    holder = snap.members.get(ticket.assignee) if ticket.assignee else None
    if holder is not None and holder.wecom and ticket.state not in UNCLAIMED_STATES:
        return [holder.wecom]
    on_duty = snap.on_duty(now, desk.calendar)
    if ticket.assignee:
        on_duty.add(ticket.assignee)
    return sorted({m.wecom for m in snap.members.values() if m.wecom and m.name in on_duty})
