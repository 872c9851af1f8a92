"""The staff list as the console changes it (人员): add or edit a member with the check `staff
import` makes for a staff row, a binding code (绑定 CODE, the WeChat binding flow of
desk/binding.py), unbind a lost phone, remove someone who left. Each operation checks
desk/policy.py and is written to the audit log.

Removing someone who still holds open tickets is refused unless a colleague is named to take
them over (交接): each ticket is reassigned to them (logged on the ticket, @-mentioned in the
group) before the person is removed, so no resident's ticket is left with nobody.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from desk import policy
from desk.masking import mask_mobile
from desk.refusals import Refused
from desk.rota import RotaError, StaffSpec, staff_spec
from desk.staff import person
from desk.states import DEFAULT_CLAIM_MINUTES
from storage.models import StaffMember

if TYPE_CHECKING:
    from desk.desk import ClaimMinutes, ServiceDesk

FIELDS = ("mobile", "wecom", "grade", "categories", "post", "backup", "roles")


@dataclass(frozen=True, slots=True)
class _Nobody:
    """A member not yet on the list: no roles to compare with."""

    name: str
    roles: list[str] = field(default_factory=list)


def _spec_of(member: StaffMember) -> StaffSpec:
    return StaffSpec(
        member.name,
        member.mobile,
        member.wecom_userid,
        member.grade,
        tuple(member.categories),
        tuple(member.post),
        member.backup,
        tuple(member.roles),
    )


class StaffAdmin:
    def __init__(self, desk: ServiceDesk):
        self.desk = desk

    async def _active(self) -> dict[str, StaffMember]:
        return {m.name: m for m in await self.desk.staff.all() if m.active}

    async def _target(self, actor: StaffMember, name: str) -> tuple[StaffMember, dict[str, StaffMember]]:
        """The active member `name`, once the policy lets `actor` change them."""
        refused = policy.can_manage_staff(actor)
        if refused is not None:
            raise refused
        active = await self._active()
        member = active.get(name.strip())
        if member is None:
            raise Refused("unknown_staff", name=name.strip())
        refused = policy.can_change_member(actor, member)
        if refused is not None:
            raise refused
        return member, active

    async def _audit(self, event: str, actor: StaffMember, client: str, **detail: Any) -> None:
        await self.desk.signin.store.audit(event, actor.name, client or "console", detail)

    async def save(
        self, actor: StaffMember, entry: dict[str, Any], *, new: bool, client: str = ""
    ) -> StaffMember:
        """Add (`new`) or edit one member. RotaError: every problem as 'staff.field: problem',
        worded as `staff import` words them; Refused: the policy's answer."""
        refused = policy.can_manage_staff(actor)
        if refused is not None:
            raise refused
        problems: list[str] = []
        if not str(entry.get("name", "")).strip():
            raise RotaError(["staff.name: missing"])
        spec = staff_spec(entry, "staff", problems)
        active = await self._active()
        old = active.get(spec.name)
        if new and old is not None:
            problems.append(f"staff.name: '{spec.name}' listed twice")
        if not new and old is None:
            raise Refused("unknown_staff", name=spec.name)
        if spec.backup and (spec.backup not in active or spec.backup == spec.name):
            problems.append(f"staff.backup: unknown staff member '{spec.backup}'")
        if problems:
            raise RotaError(problems)
        refused = policy.can_change_member(actor, old or _Nobody(spec.name), list(spec.roles))
        secretaries = [m.name for m in active.values() if "secretary" in m.roles]
        refused = refused or policy.keeps_a_secretary(secretaries, spec.name, list(spec.roles))
        if refused is not None:
            raise refused
        before = _spec_of(old) if old else StaffSpec(spec.name)
        member = await self.desk.staff.add(spec)
        changed = [f for f in FIELDS if getattr(before, f) != getattr(spec, f)]
        await self._audit(
            "staff_added" if new else "staff_edited",
            actor,
            client,
            name=spec.name,
            fields=",".join(changed) or "-",
            **({"mobile": mask_mobile(spec.mobile)} if "mobile" in changed and spec.mobile else {}),
        )
        return member

    async def invite(self, actor: StaffMember, name: str, client: str = "") -> tuple[str, datetime]:
        """A one-time binding code (7 days), as `staff invite` prints it; only its hash is kept."""
        member, _ = await self._target(actor, name)
        code, expires = await self.desk.staff.invite(member.name)
        await self._audit("staff_invited", actor, client, name=member.name)
        return code, expires

    async def unbind(self, actor: StaffMember, name: str, client: str = "") -> StaffMember:
        """A lost phone: the WeChat bound to them no longer acts as them, and their console
        sessions end (the phone's browser may hold one)."""
        member, _ = await self._target(actor, name)
        await self.desk.staff.unbind(member.name)
        ended = await self.desk.signin.store.end_all(member.id, self.desk.clock())
        await self._audit("staff_unbound", actor, client, name=member.name, sessions=ended)
        return member

    async def remove(
        self,
        actor: StaffMember,
        name: str,
        successor: str = "",
        client: str = "",
        claim_minutes_of: ClaimMinutes = lambda item_id: DEFAULT_CLAIM_MINUTES,
    ) -> list[str]:
        """Someone who left: their open tickets go to `successor` (required when there are any),
        then they are no longer routed, on the rota or bound. Returns the tickets handed over."""
        member, active = await self._target(actor, name)
        secretaries = [m.name for m in active.values() if "secretary" in m.roles]
        refused = policy.keeps_a_secretary(secretaries, member.name, None)
        if refused is not None:
            raise refused
        held = await self.desk.staff_tickets(member)
        numbers = [t.number for t in held]
        if held:
            target = active.get(successor.strip())
            if not successor.strip():
                raise Refused("holds_tickets", name=member.name, numbers=numbers)
            if target is None or target.name == member.name:
                raise Refused("unknown_staff", name=successor.strip())
            for ticket in held:  # every check before the first ticket moves
                qualified = person(target).qualified(ticket.category or "")
                refused = policy.can_reassign(actor, ticket, target.name) or policy.can_receive(
                    ticket, target.name, qualified=qualified
                )
                if refused is not None:
                    raise refused
            for ticket in held:
                await self.desk.reassign(actor, ticket.number, target.name, claim_minutes_of)
        await self.desk.staff.retire(member.name)
        await self.desk.signin.store.end_all(member.id, self.desk.clock())
        await self._audit(
            "staff_removed",
            actor,
            client,
            name=member.name,
            **({"handed_to": successor.strip(), "tickets": ",".join(numbers)} if numbers else {}),
        )
        return numbers
