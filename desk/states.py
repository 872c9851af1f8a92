"""The ticket state machine: one transition table and one copy of each state set.

open → assigned → accepted (签收) → done (办结) → closed; cancelled by the resident before done;
transfer, reassign and handover give an assigned or accepted ticket to someone else (it is
assigned again); keep, note and amend (the resident changes the time, address or contact of an
open ticket) are logged without changing the state.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from knowledge.models import OrderSpec

STATES = ("open", "assigned", "accepted", "done", "closed", "cancelled")
OPEN_STATES = ("open", "assigned", "accepted")  # not yet done: counted, listed, cancellable
HELD_STATES = ("assigned", "accepted")  # someone holds it: warned, handed over, kept
UNCLAIMED_STATES = ("assigned",)  # routed but not yet claimed: reminded, escalated
CANCELLABLE = OPEN_STATES
# The handbook's default, for items without an order (read from the field: a slotted dataclass's
# class attribute is a descriptor, not the default).
DEFAULT_CLAIM_MINUTES: int = next(f.default for f in fields(OrderSpec) if f.name == "claim_minutes")


@dataclass(frozen=True, slots=True)
class Transition:
    allowed_from: frozenset[str]
    to: str | None  # None: the state stays as it is (keep, note)


TRANSITIONS: dict[str, Transition] = {
    "assign": Transition(frozenset({"open"}), "assigned"),
    "accept": Transition(frozenset({"open", "assigned"}), "accepted"),
    "transfer": Transition(frozenset(HELD_STATES), "assigned"),
    "reassign": Transition(frozenset(HELD_STATES), "assigned"),
    "handover": Transition(frozenset(HELD_STATES), "assigned"),
    "complete": Transition(frozenset({"accepted"}), "done"),
    "close": Transition(frozenset({"done"}), "closed"),
    "cancel": Transition(frozenset(CANCELLABLE), "cancelled"),
    "keep": Transition(frozenset(HELD_STATES), None),
    "note": Transition(frozenset(STATES), None),
    "amend": Transition(frozenset(OPEN_STATES), None),  # the resident changes time or contact
}


def target(action: str, state: str) -> str:
    """The state a ticket in `state` reaches by `action` (its own, for keep and note)."""
    return TRANSITIONS[action].to or state
