"""Who may do what to a ticket: each check returns a Refused value, or None when allowed.

Operations call exactly one of these after loading the ticket, so a rule lives in one place for
WeChat, the CLI and the console alike.
"""

from __future__ import annotations

from typing import Protocol

from desk.refusals import Refused
from desk.states import TRANSITIONS


class Actor(Protocol):
    name: str
    roles: list[str]


class TicketFacts(Protocol):
    number: str
    state: str
    assignee: str | None
    resident: str


def state_allows(action: str, ticket: TicketFacts) -> Refused | None:
    """The transition table's answer, with the facts a person needs to understand a refusal."""
    if ticket.state in TRANSITIONS[action].allowed_from:
        return None
    if action == "accept" and ticket.state == "accepted":
        return Refused("already_claimed", number=ticket.number, assignee=ticket.assignee)
    return Refused("wrong_state", number=ticket.number, state=ticket.state, action=action)


def can_claim(actor: str, ticket: TicketFacts) -> Refused | None:
    """接单: the first to claim owns it (首问负责)."""
    return state_allows("accept", ticket)


CLAIM_ANYTHING = frozenset({"leader", "secretary"})  # the duty leader and the secretary


def may_claim(actor: Actor, ticket: TicketFacts, *, on_duty_qualified: bool) -> Refused | None:
    """接单 by a person: the assignee, staff on duty qualified for the item, a duty leader or the
    secretary. Anyone else is refused before the state is looked at, so the refusal says nothing
    about the ticket (not even who holds it)."""
    allowed = ticket.assignee == actor.name or on_duty_qualified or bool(CLAIM_ANYTHING & set(actor.roles))
    if not allowed:
        return Refused("not_for_you", number=ticket.number)
    return can_claim(actor.name, ticket)


def can_receive(ticket: TicketFacts, to: str, *, qualified: bool) -> Refused | None:
    """转交/改派: only to someone qualified for the item (grade A, or B with its category)."""
    if not qualified:
        return Refused("not_qualified", number=ticket.number, name=to)
    return None


def can_complete(actor: str, ticket: TicketFacts) -> Refused | None:
    """办结: only the person who holds the accepted ticket."""
    if ticket.state == "accepted" and ticket.assignee != actor:
        return Refused("owner_only", number=ticket.number, assignee=ticket.assignee, action="complete")
    return state_allows("complete", ticket)


def can_transfer(actor: Actor, ticket: TicketFacts, to: str) -> Refused | None:
    """转交: the holder (or a duty leader) hands it on, never to the person who has it."""
    if ticket.assignee not in (None, actor.name) and "leader" not in actor.roles:
        return Refused("owner_or_leader", number=ticket.number, assignee=ticket.assignee, action="transfer")
    if to == ticket.assignee:
        return Refused("already_with", number=ticket.number, name=to)
    return state_allows("transfer", ticket)


def can_reassign(actor: Actor, ticket: TicketFacts, to: str) -> Refused | None:
    """A leader moves any held ticket to someone else."""
    if "leader" not in actor.roles:
        return Refused("leader_only", number=ticket.number, action="reassign")
    if to == ticket.assignee:
        return Refused("already_with", number=ticket.number, name=to)
    return state_allows("reassign", ticket)


def can_keep(actor: str, ticket: TicketFacts) -> Refused | None:
    """保留: only the holder keeps a ticket through the next handover."""
    if ticket.assignee != actor or ticket.state not in TRANSITIONS["keep"].allowed_from:
        return Refused("not_holder", number=ticket.number, action="keep")
    return None


def can_cancel(resident: str, ticket: TicketFacts) -> Refused | None:
    """取消: a resident cancels their own ticket before it is done."""
    if ticket.resident != resident:
        return Refused("not_your_ticket", number=ticket.number)
    return state_allows("cancel", ticket)


def can_withdraw(actor: Actor, ticket: TicketFacts) -> Refused | None:
    """The office (a duty leader or the secretary) cancels a ticket before it is done, with a reason."""
    if not {"leader", "secretary"} & set(actor.roles):
        return Refused("leader_only", number=ticket.number, action="cancel")
    return state_allows("cancel", ticket)


def can_amend(resident: str, ticket: TicketFacts) -> Refused | None:
    """改时间/改地址/改电话: only the resident who placed it, while it is still open."""
    if ticket.resident != resident:
        return Refused("not_your_ticket", number=ticket.number)
    return state_allows("amend", ticket)


def can_close(resident: str, ticket: TicketFacts) -> Refused | None:
    """评价 closes a done ticket."""
    return state_allows("close", ticket)


def anyone(actor: object, ticket: TicketFacts) -> Refused | None:
    """Transitions the state table alone decides (assign, note, handover by the scheduler)."""
    return None


def can_reply(actor: Actor, ticket: TicketFacts) -> Refused | None:
    """回复 N: a resident hears from the person who holds their ticket, a duty leader or the
    secretary — never from a colleague who happens to know the number."""
    if ticket.assignee != actor.name and not {"leader", "secretary"} & set(actor.roles):
        return Refused("reply_not_allowed", number=ticket.number, assignee=ticket.assignee)
    if ticket.state == "cancelled":
        return Refused("wrong_state", number=ticket.number, state=ticket.state, action="reply")
    return None
