"""Who may do what to a ticket: each check returns a Refused value, or None when allowed.

Operations call exactly one of these after loading the ticket, so a rule lives in one place for
WeChat, the CLI and the console alike.
"""

from __future__ import annotations

from dataclasses import dataclass
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


# ---- the console: who sees which tickets ----------------------------------------------------

SECRETARY_ONLY_KINDS = frozenset({"complaint"})  # complaints may be about colleagues
UNCLAIMED = frozenset({"open", "assigned"})


class Member(Actor, Protocol):
    grade: str
    categories: list[str]


@dataclass(frozen=True, slots=True)
class Scope:
    """Which tickets a console user sees. `everything`: all but `hidden_kinds`. Otherwise the
    tickets they hold, plus, while on duty, unclaimed tickets of `categories` (None: every
    category, grade A) that are not of a hidden kind."""

    role: str  # staff | leader | secretary
    name: str
    everything: bool
    hidden_kinds: frozenset[str]
    categories: frozenset[str] | None = None
    on_duty: bool = False


def console_role(actor: Actor) -> str:
    """The widest of a person's roles: secretary (书记) > leader (值班长) > staff."""
    if "secretary" in actor.roles:
        return "secretary"
    return "leader" if "leader" in actor.roles else "staff"


def scope_of(actor: Member, *, on_duty: bool) -> Scope:
    """Staff: tickets routed to them and on-duty tickets of their categories; a duty leader: all
    tickets but complaints; the secretary: everything."""
    role = console_role(actor)
    if role == "secretary":
        return Scope(role, actor.name, True, frozenset())
    if role == "leader":
        return Scope(role, actor.name, True, SECRETARY_ONLY_KINDS)
    categories = None if actor.grade == "A" else frozenset(actor.categories)
    return Scope(role, actor.name, False, SECRETARY_ONLY_KINDS, categories, on_duty)


class Viewed(TicketFacts, Protocol):
    kind: str
    category: str


def can_view(scope: Scope, ticket: Viewed) -> Refused | None:
    """The same rule as the board's query (storage.tickets.Board), for one ticket."""
    if ticket.assignee == scope.name:
        return None
    if ticket.kind in scope.hidden_kinds:
        return Refused("not_for_you", number=ticket.number)
    if scope.everything:
        return None
    if (
        scope.on_duty
        and ticket.state in UNCLAIMED
        and (scope.categories is None or ticket.category in scope.categories)
    ):
        return None
    return Refused("not_for_you", number=ticket.number)


def sees_mobile(actor: Actor, ticket: TicketFacts) -> bool:
    """A resident's mobile in full: only to the person holding the ticket and the secretary."""
    return ticket.assignee == actor.name or "secretary" in actor.roles


def can_see_complaints(actor: Actor) -> Refused | None:
    """The complaints and follow-up (回访) list is the secretary's."""
    return None if "secretary" in actor.roles else Refused("secretary_only")


def can_see_audit(actor: Actor) -> Refused | None:
    """The console's audit log (sign-ins, lockouts, refusals) is the secretary's too."""
    return None if "secretary" in actor.roles else Refused("secretary_only")


REPORT_ROLES = frozenset({"leader", "secretary"})


def can_see_reports(actor: Actor) -> Refused | None:
    """The 报表 page (the period's figures per item and per staff member) is the duty leader's
    and the secretary's: staff do not rank their colleagues."""
    return None if REPORT_ROLES & set(actor.roles) else Refused("leader_or_secretary", page="报表")


def can_review_unanswered(actor: Actor) -> Refused | None:
    """未识别问题 (what residents asked that the bot could not answer) is the secretary's: she
    decides what the handbook learns and what is not community business."""
    return None if "secretary" in actor.roles else Refused("secretary_only", page="未识别问题")


# ---- the console: the duty rota and the staff list --------------------------------------------

ROTA_ROLES = frozenset({"leader", "secretary"})


def can_edit_rota(actor: Actor) -> Refused | None:
    """值班表 (the week's duty, holiday duty, swaps, leave): the duty leader's and the secretary's,
    who arrange who is on duty; staff see their own duty in WeChat (值班)."""
    return None if ROTA_ROLES & set(actor.roles) else Refused("leader_or_secretary", page="值班表")


def can_manage_staff(actor: Actor) -> Refused | None:
    """人员 (add, edit, invite, unbind, remove): the duty leader's and the secretary's."""
    return None if ROTA_ROLES & set(actor.roles) else Refused("leader_or_secretary", page="人员")


def can_change_member(actor: Actor, member: Actor, roles: list[str] | None = None) -> Refused | None:
    """Who may change whom: roles (值班长, 书记) are given and taken by the secretary alone, and a
    duty leader does not edit, unbind or remove the secretary (no one raises their own rights)."""
    if "secretary" not in actor.roles:
        if "secretary" in member.roles:
            return Refused("secretary_record", name=member.name)
        if roles is not None and sorted(roles) != sorted(member.roles):
            return Refused("roles_secretary_only", name=member.name)
    return None


def keeps_a_secretary(secretaries: list[str], name: str, roles_after: list[str] | None) -> Refused | None:
    """The console needs one active secretary: the last one is not removed or made staff.
    `roles_after` None: `name` is being removed."""
    leaving = roles_after is None or "secretary" not in roles_after
    if secretaries == [name] and leaving:
        return Refused("last_secretary", name=name)
    return None


def sees_staff_mobile(actor: Actor, member: Actor) -> bool:
    """A colleague's mobile in full: the secretary (who keeps the staff list) and the person
    themselves; a duty leader sees it masked (138****1001)."""
    return "secretary" in actor.roles or actor.name == member.name


# ---- party members and volunteers: the task list (任务清单) -------------------------------


class ResponderFacts(Protocol):
    name: str
    kind: str  # party_member | volunteer
    group_key: str
    active: bool


class OfferFacts(Protocol):
    stage: str  # grid | groups
    groups: list[str]
    takers: list[str]
    escalated_at: object | None


def may_take_task(responder: ResponderFacts, ticket: TicketFacts, offer: OfferFacts | None) -> Refused | None:
    """接单 by a party member or volunteer: a ticket routed to them (their grid), or one offered
    to their branch or team that nobody holds and that has not gone back to the community. Anyone
    else is refused before the state is looked at, so the refusal tells them nothing of it."""
    if not responder.active:
        return Refused("task_not_for_you", number=ticket.number)
    if ticket.assignee == responder.name:
        return can_claim(responder.name, ticket)
    offered = (
        offer is not None
        and offer.stage == "groups"
        and responder.kind in offer.takers
        and responder.group_key in offer.groups
    )
    if not offered:
        return Refused("task_not_for_you", number=ticket.number)
    if ticket.state == "accepted":
        return can_claim(responder.name, ticket)  # already_claimed
    if ticket.assignee is not None or (offer is not None and offer.escalated_at is not None):
        return Refused("task_returned", number=ticket.number)  # back with the community's duty
    return can_claim(responder.name, ticket)


class TaskFacts(Protocol):
    number: str
    takers: list[str]
    groups: list[str]
    closed_at: object | None


def may_take_place(responder: ResponderFacts, task: TaskFacts) -> Refused | None:
    """接单 a community task's place: members of the kinds (and groups, when named) it is for."""
    if not responder.active or responder.kind not in task.takers:
        return Refused("task_not_for_you", number=task.number)
    if task.groups and responder.group_key not in task.groups:
        return Refused("task_not_for_you", number=task.number)
    if task.closed_at is not None:
        return Refused("task_closed", number=task.number)
    return None


def can_approve_responders(actor: Actor) -> Refused | None:
    """通过 N / 拒绝 N: the secretary decides who joins (双报到 is registered with the community
    party organisation)."""
    return None if "secretary" in actor.roles else Refused("secretary_only", page="报到审核")


def can_post_task(actor: Actor) -> Refused | None:
    """发布任务: the duty leader or the secretary posts the community's own tasks."""
    return (
        None
        if {"leader", "secretary"} & set(actor.roles)
        else Refused("leader_or_secretary", page="发布任务")
    )


def can_edit_handbook(actor: Actor) -> Refused | None:
    """The 百事通 handbook (what residents are told, office data, phrasings) is the secretary's to
    edit, publish and roll back; staff and duty leaders read it as residents do."""
    return None if "secretary" in actor.roles else Refused("secretary_only", page="百事通手册")
