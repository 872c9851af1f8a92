"""Refusals as values: why (a reason code) and the facts, never a sentence.

Each front door words them itself: WeChat and the CLI with handlers.wording, the console with its
templates. Reasons: unknown_ticket, not_your_ticket, unknown_staff, wrong_state, already_claimed,
owner_only, owner_or_leader, leader_only, not_holder, already_with, needs_assignee, busy,
bad_stars, bad_code, bound_elsewhere, bad_leave, reply_not_allowed, not_for_you, not_qualified,
bind_locked, bind_paused; the console: signin_code, signin_locked, signin_expired, signin_link,
secretary_only, leader_or_secretary; the handbook: handbook_changed, unknown_item,
unknown_version, phrase_known, needs_phrase.
"""

from __future__ import annotations

from typing import Any


class Refused(Exception):
    """A request the desk turns down; `facts` hold what the wording needs (number, state, ...)."""

    def __init__(self, reason: str, **facts: Any):
        super().__init__(reason, facts)
        self.reason = reason
        self.facts = facts

    def __repr__(self) -> str:
        return f"Refused({self.reason!r}, {self.facts!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Refused) and (self.reason, self.facts) == (other.reason, other.facts)

    def __hash__(self) -> int:
        return hash(self.reason)
