"""Complaints (投诉): a ticket for the community secretary, so "负责人会联系您" is a promise kept.

A resident who complains about the community or its staff (态度差, 推诿, 不作为…) gets a ticket
of kind "complaint" assigned to the staff member with the role `secretary` (责任追究), pushed to
the group at once, with a completion limit in working days so the usual clocks remind, warn and
supervise it. A complaint about one of the resident's own tickets names it as `parent_id`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from desk import emergencies, operations
from desk.clocks import local
from desk.masking import mask_text
from desk.states import OPEN_STATES
from storage.models import NUMBER_OFFSET, StaffMember, Ticket
from storage.outbox import OutboxMessage

if TYPE_CHECKING:
    from desk.desk import Limits, ServiceDesk

ITEM = "complaint"  # the item_id of every complaint ticket (worded by handlers/wording.py)
WORKING_DAYS = 3  # answered within three working days (办结时限)
CLAIM_MINUTES = 120  # the secretary is reminded after two duty hours unclaimed
TEXT_CHARS = 500


@dataclass(frozen=True, slots=True)
class Lodged:
    """A complaint ticket, who handles it and by when its answer is due."""

    ticket: Ticket
    handler: StaffMember | None  # the secretary; None when the desk knows none
    due: datetime | None  # the completion limit, in the community's time zone
    parent: Ticket | None
    added: bool = False  # True: the text went onto the resident's complaint already open today


async def _parent_of(desk: ServiceDesk, complaint: Ticket) -> Ticket | None:
    """The resident's ticket a complaint is about, if it names one."""
    return await desk.tickets.get(complaint.parent_id + NUMBER_OFFSET) if complaint.parent_id else None


async def secretary(desk: ServiceDesk) -> StaffMember | None:
    """The community secretary (书记): the first active member with that role."""
    return next((m for m in await desk.staff.all() if "secretary" in m.roles and m.active), None)


async def lodge(
    desk: ServiceDesk,
    resident: str,
    text: str,
    parent: Ticket | None,
    request_key: str,
    limits: Limits,
) -> Lodged:
    """Open (once per request key) a complaint ticket for the secretary and push it to the group."""
    existing = await desk.tickets.by_request_key(request_key)
    who = await secretary(desk)
    if existing is not None:  # the same complaint again the same day
        return Lodged(existing, who, local(existing.done_due_at, desk.tz), await _parent_of(desk, existing))
    now = desk.now()
    open_today = [
        t
        for t in await desk.tickets_since(resident, now - timedelta(hours=24), ITEM)
        if t.state in OPEN_STATES and (parent is None or t.parent_id in (None, parent.id))
    ]
    if open_today:
        # "我要投诉" again the same day: more for the complaint already open (a trial resident got
        # a second ticket), pushed to the group as its detail.
        earlier = open_today[-1]
        await emergencies.add_detail(desk, resident, earlier.number, "more", text[:TEXT_CHARS])
        parent_of = await _parent_of(desk, earlier)
        return Lodged(earlier, who, local(earlier.done_due_at, desk.tz), parent_of, added=True)
    snap = await desk.staff.snapshot(now.date(), now.date() + timedelta(days=21))
    clocks = desk._clocks(snap, ITEM, now, limits) if who else {}
    masked = mask_text(text)[:TEXT_CHARS]

    def push(ticket: Ticket) -> Iterable[OutboxMessage]:
        extra = {"text": masked, "parent": parent.number if parent else None}
        if parent is not None:
            extra["parent_assignee"] = parent.assignee
        yield desk._group(ticket, "complaint", await_wecom=who.wecom_userid if who else "", extra=extra)

    ticket = await operations.open_ticket(
        desk.tickets,
        resident=resident,
        item_id=ITEM,
        contact_name=parent.contact_name if parent else "",
        contact_mobile=parent.contact_mobile if parent else "",
        fields={"description": text[:TEXT_CHARS], **({"parent": parent.number} if parent else {})},
        assignee=who.name if who else None,
        request_key=request_key,
        then=push,
        kind="complaint",
        parent_id=parent.id if parent else None,
        category=parent.category if parent else "",
        **clocks,
    )
    return Lodged(ticket, who, local(ticket.done_due_at, desk.tz), parent)


def candidates(tickets: Iterable[Ticket]) -> list[Ticket]:
    """The resident's open tickets a complaint may be about (never a complaint or a handoff)."""
    return [t for t in tickets if t.state in OPEN_STATES and t.kind not in ("complaint", "handoff")]


def about(tickets: Iterable[Ticket], number: str | None, item_id: str | None) -> Ticket | None:
    """Which of the resident's own open tickets a complaint is about: the number named, else the
    newest open ticket of the item it mentions."""
    own = candidates(tickets)
    if number is not None:
        return next((t for t in own if t.number == number), None)
    if item_id is not None:
        return next((t for t in sorted(own, key=lambda t: -t.id) if t.item_id == item_id), None)
    return None
