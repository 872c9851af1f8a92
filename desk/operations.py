"""The one way a ticket changes: load it, check one policy, compare-and-set with its rows.

ServiceDesk's operations (claim, transfer, complete, ...) are each a call to `apply` with their
policy check and the outbox rows they cause; the scheduler's handover uses the same table.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from desk import policy
from desk.refusals import Refused
from desk.states import TRANSITIONS, target
from storage.models import Ticket
from storage.tickets import Event, TicketStore, UnknownTicket

ATTEMPTS = 5  # compare-and-set rounds before telling the person to try again
Check = Callable[[Ticket], Refused | None]
Rows = Callable[[Ticket], Iterable[Any]]

DEFAULT_CHECKS: dict[str, Callable[[str, Ticket], Refused | None]] = {
    "accept": policy.can_claim,
    "complete": policy.can_complete,
    "keep": policy.can_keep,
}


async def load(tickets: TicketStore, number: str | int) -> Ticket:
    """The ticket numbered `number`, or Refused("unknown_ticket")."""
    try:
        return await tickets.get(number)
    except UnknownTicket as missing:
        raise Refused("unknown_ticket", number=missing.number) from None


async def open_ticket(
    tickets: TicketStore,
    *,
    resident: str,
    item_id: str,
    contact_name: str = "",
    contact_mobile: str = "",
    fields: dict[str, Any] | None = None,
    actor: str | None = None,
    assignee: str | None = None,
    request_key: str | None = None,
    then: Rows | None = None,
    **columns: Any,
) -> Ticket:
    """A new ticket, logged as created (and assigned, when routed to `assignee`)."""
    events = [Event("create", actor or resident, None, "open", {"item_id": item_id})]
    if assignee:
        events.append(Event("assign", "system", "open", target("assign", "open"), {"assignee": assignee}))
    return await tickets.create(
        state=events[-1].to_state,
        events=events,
        request_key=request_key,
        then=then,
        resident=resident,
        item_id=item_id,
        contact_name=contact_name,
        contact_mobile=contact_mobile,
        fields=dict(fields or {}),
        assignee=assignee,
        **columns,
    )


async def apply(
    tickets: TicketStore,
    number: str | int,
    action: str,
    *,
    actor: str,
    check: Check | None = None,
    assignee: str | None = None,
    note: str = "",
    values: dict[str, Any] | None = None,
    then: Rows | None = None,
) -> Ticket:
    """Perform `action` as `actor` if `check` (by default the action's policy) allows it.

    accept: the actor becomes the assignee. assign/transfer/reassign/handover: `assignee` does.
    """
    if action not in TRANSITIONS:
        raise ValueError(f"unknown action {action!r}")
    if check is None:
        rule = DEFAULT_CHECKS.get(action)
        check = (lambda t: rule(actor, t)) if rule else (lambda t: policy.state_allows(action, t))
    new_assignee = actor if action == "accept" else assignee
    if action in ("assign", "transfer", "reassign", "handover") and not new_assignee:
        raise Refused("needs_assignee", action=action)
    for _ in range(ATTEMPTS):
        ticket = await load(tickets, number)
        refused = check(ticket)
        if refused is not None:
            raise refused
        to_state = target(action, ticket.state)
        changes: dict[str, Any] = {"state": to_state, **(values or {})}
        if new_assignee is not None:
            changes["assignee"] = new_assignee
        detail = {k: v for k, v in (("assignee", new_assignee), ("note", note)) if v}
        if await tickets.compare_and_set(
            ticket, changes, Event(action, actor, ticket.state, to_state, detail), then
        ):
            return await load(tickets, number)
        # Someone else changed the ticket between our read and our write: read it again.
    raise Refused("busy", number=ticket.number)
