"""Emergencies the community acts on: an urgent ticket at once, everyone on duty mentioned.

A resident who reports gas in a stairwell or a neighbour unseen for days is told what to do by
the bot first; this is what backs the bot's "社区已派人" with a ticket. The ticket does not wait
for an address: it is opened with what the message said, routed like any order (urgent, so
pushed even at night), and everyone on duty plus the duty leaders are @-mentioned. The address
and anything else the resident adds arrive as `detail` events on the same ticket.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from desk import operations
from desk.clocks import utc
from desk.masking import mask_text
from desk.refusals import Refused
from desk.states import OPEN_STATES
from storage.models import Ticket
from storage.outbox import OutboxMessage, outbox_row

if TYPE_CHECKING:
    from desk.desk import Limits, ServiceDesk


@dataclass(frozen=True, slots=True)
class Emergency:
    """What the resident reported, as the danger detector read it."""

    kind: str  # the hazard kind (gas, lift, missing, …)
    title: str  # 燃气泄漏, 电梯困人, …
    item_id: str  # the catalogue item the ticket is filed under
    category: str
    description: str  # the resident's own words


KIND = "emergency"  # the kind of the tickets report() opens


def is_emergency(ticket: Ticket) -> bool:
    """Opened by an emergency report, not by an order: a booking of the same item minutes later is
    not a second copy of it (a trial resident's false alarm blocked his real visit booking)."""
    return ticket.kind == KIND


async def report(
    desk: ServiceDesk, resident: str, emergency: Emergency, limits: Limits, request_key: str
) -> Ticket:
    """An urgent ticket for `emergency`, pushed at once to the group with everyone on duty mentioned."""
    existing = await desk.tickets.by_request_key(request_key)
    if existing is not None:  # a WeChat retry of the same message
        return existing
    now = desk.now()
    assignee, _, _, snap = await desk._route(emergency.category, now)
    clocks = desk._clocks(snap, emergency.category, now, limits) if assignee else {}
    # An emergency does not wait for office hours: its claim is reminded and escalated (to the duty
    # leaders, or every leader when none is on duty) N and 2N wall-clock minutes from now. A trial
    # resident's 03:20 report was due to be reminded at 09:05.
    limit = timedelta(minutes=limits.claim_minutes)
    clocks |= {"claim_remind_at": utc(now + limit), "claim_escalate_at": utc(now + 2 * limit)}
    on_duty = snap.on_duty(now, desk.calendar)
    mentions = sorted(
        {m.wecom for m in snap.members.values() if m.wecom and (m.name in on_duty or "leader" in m.roles)}
    )
    description = mask_text(emergency.description)

    def pushes(ticket: Ticket) -> Iterable[OutboxMessage]:
        payload = {
            "ticket": ticket.number,
            "ticket_id": ticket.id,
            "item_id": emergency.item_id,
            "category": emergency.category,
            "hazard": emergency.title,
            "description": description,
            "assignee": ticket.assignee,
            "wecom": assignee.wecom if assignee else "",
            "mentions": mentions,
            "urgent": True,
            "mobile": "****",
            "window": None,
        }
        yield outbox_row("group", emergency.category, "emergency", payload, utc(now), due=utc(now))

    return await operations.open_ticket(
        desk.tickets,
        resident=resident,
        item_id=emergency.item_id,
        fields={"description": emergency.description, "hazard": emergency.kind},
        assignee=assignee.name if assignee else None,
        request_key=request_key,
        then=pushes,
        category=emergency.category,
        urgent=True,
        kind=KIND,
        **clocks,
    )


async def add_detail(desk: ServiceDesk, resident: str, number: str | int, field: str, text: str) -> Ticket:
    """The resident adds the address, a number to call back or more of what happened to their open
    ticket; pushed to the group. A number is the ticket's contact too: the one the staff member who
    claims it reads in full (in `fields` alone it was only ever shown masked)."""
    ticket = await operations.load(desk.tickets, number)
    if ticket.resident != resident or ticket.state not in OPEN_STATES:
        raise Refused("not_yours", number=ticket.number)
    fields = {**(ticket.fields or {}), field: text}
    values: dict[str, Any] = {"fields": fields}
    if field == "mobile":
        values["contact_mobile"] = text

    def push(t: Ticket) -> Iterable[OutboxMessage]:
        yield desk._group(t, "detail", await_wecom=None, extra={"field": field, "text": mask_text(text)})

    return await operations.apply(
        desk.tickets,
        number,
        "note",
        actor=resident,
        check=lambda t: None if t.resident == resident else Refused("not_yours", number=t.number),
        note=f"{field}: {mask_text(text)}",
        values=values,
        then=push,
    )
