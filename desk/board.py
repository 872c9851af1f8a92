"""The console's view of the desk: whose board shows what, one ticket with its log, and the
console's actions — each the same desk operation the WeChat staff commands call.

Seeing a ticket comes first (policy.can_view): a staff member cannot act on a colleague's ticket
by typing its number into a URL, whatever the action's own rule would say.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from desk import policy
from desk.desk import ServiceDesk
from desk.refusals import Refused
from desk.states import DEFAULT_CLAIM_MINUTES, OPEN_STATES
from storage.board import BoardFilter, Visible, board
from storage.models import StaffMember, Ticket, TicketEvent

ACTIONS = ("claim", "complete", "transfer", "reassign", "note", "cancel", "reply")
NEEDS_TEXT = {"transfer": "to", "reassign": "to", "note": "text", "cancel": "text", "reply": "text"}
TEXT_CHARS = 500
CLAIMABLE = tuple(sorted(policy.UNCLAIMED))  # open, assigned: the claim clock runs
ClaimMinutes = Callable[[str], int]


@dataclass(frozen=True, slots=True)
class Page:
    tickets: list[Ticket]
    total: int


async def scope(desk: ServiceDesk, member: StaffMember) -> policy.Scope:
    on_duty = any(m.name == member.name for _, people in await desk.on_duty_now() for m in people)
    return policy.scope_of(member, on_duty=on_duty)


def visible(s: policy.Scope) -> Visible:
    unclaimed = CLAIMABLE if s.on_duty else ()
    categories = None if s.categories is None else sorted(s.categories)
    return Visible(s.everything, s.name, sorted(s.hidden_kinds), unclaimed, categories)


async def page(
    desk: ServiceDesk,
    s: policy.Scope,
    *,
    states: Sequence[str] = OPEN_STATES,
    kinds: Sequence[str] | None = None,
    item_id: str | None = None,
    assignee: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    overdue: bool = False,
    text: str = "",
    ids: Sequence[int] | None = None,
    limit: int = 200,
    offset: int = 0,
) -> Page:
    wanted = BoardFilter(
        states=states,
        kinds=kinds,
        item_id=item_id,
        assignee=assignee,
        since=since,
        until=until,
        overdue_at=desk.clock() if overdue else None,
        unclaimed_states=CLAIMABLE,
        text=text,
        ids=ids,
    )
    rows, total = await board(desk.database, visible(s), wanted, limit=limit, offset=offset)
    return Page(rows, total)


async def ticket(desk: ServiceDesk, s: policy.Scope, number: str | int) -> tuple[Ticket, list[TicketEvent]]:
    """A ticket its viewer may see, with its log; Refused("unknown_ticket" / "not_for_you")."""
    found, events = await desk.history(number)
    refused = policy.can_view(s, found)
    if refused is not None:
        raise refused
    return found, events


async def act(
    desk: ServiceDesk,
    member: StaffMember,
    s: policy.Scope,
    number: str | int,
    action: str,
    *,
    text: str = "",
    to: str = "",
    claim_minutes_of: ClaimMinutes = lambda item_id: DEFAULT_CLAIM_MINUTES,
) -> Ticket:
    """One console action as `member`, through the desk operation WeChat uses for it."""
    if action not in ACTIONS:
        raise Refused("unknown_action", action=action)
    await ticket(desk, s, number)  # seeing it comes first
    text = text.strip()[:TEXT_CHARS]
    if NEEDS_TEXT.get(action) == "text" and not text:
        raise Refused("needs_text", action=action)
    if NEEDS_TEXT.get(action) == "to" and not to.strip():
        raise Refused("needs_assignee", action=action)
    if action == "claim":
        return await desk.claim(member, number)
    if action == "complete":
        return await desk.complete(member, number, text)
    if action == "transfer":
        return await desk.transfer(member, number, to.strip(), claim_minutes_of)
    if action == "reassign":
        return await desk.reassign(member, number, to.strip(), claim_minutes_of)
    if action == "note":
        return await desk.note(member, number, text)
    if action == "cancel":
        return await desk.withdraw(member, number, text)
    return await desk.reply(member, number, text)
