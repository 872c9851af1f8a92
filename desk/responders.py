"""Responders beyond staff: in-service party members (在职党员, 双报到) and volunteers, in party
branches and volunteer teams (groups), each group with its own WeCom robot.

The responders document (examples/responders.yaml, `baishitong responders import FILE`) holds the
groups, the points rule and, optionally, people already registered on paper. People also register
themselves from WeChat (报到); the secretary approves (通过 N) or rejects (拒绝 N). A responder
sees nothing of residents but the task they hold.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from desk import policy
from desk.masking import mask_mobile
from desk.points import PointsRule, parse_rule
from desk.refusals import Refused
from storage.db import Database
from storage.models import Responder, ResponderSignup, StaffMember
from storage.outbox import outbox_row
from storage.responders import ResponderError, ResponderStore

KINDS = {"party_member": "在职党员", "volunteer": "志愿者"}
_MOBILE = re.compile(r"1[3-9]\d{9}")
_ROBOT = re.compile(r"^https?://\S+$")


class ResponderFileError(ValueError):
    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(frozen=True, slots=True)
class Group:
    """A party branch (党支部) or volunteer team (志愿服务队): its own WeCom group robot."""

    key: str
    name: str
    kind: str  # party_member | volunteer
    robot: str  # the group robot's webhook URL
    items: tuple[str, ...] = ()  # only these items (empty: every item open to its kind)

    def takes(self, item_id: str, takers: tuple[str, ...] | list[str]) -> bool:
        return self.kind in takers and (not self.items or item_id in self.items)


@dataclass(frozen=True, slots=True)
class Roster:
    """The responders document, validated."""

    groups: dict[str, Group]
    rule: PointsRule
    people: list[dict[str, Any]]


def parse_document(doc: Any, item_ids: set[str] | None = None) -> Roster:
    """Validate a responders document; ResponderFileError lists every problem as 'field: problem'."""
    problems: list[str] = []
    if not isinstance(doc, dict):
        raise ResponderFileError(["the file must be a mapping with groups (and responders, points)"])
    groups: dict[str, Group] = {}
    raw_groups = doc.get("groups")
    if not isinstance(raw_groups, list) or not raw_groups:
        problems.append("groups: missing (a list of party branches and volunteer teams)")
        raw_groups = []
    for index, entry in enumerate(raw_groups):
        where = f"groups[{index}]"
        if not isinstance(entry, dict):
            problems.append(f"{where}: must have key, name, kind and robot")
            continue
        key, name = str(entry.get("key") or "").strip(), str(entry.get("name") or "").strip()
        kind, robot = str(entry.get("kind") or "").strip(), str(entry.get("robot") or "").strip()
        if not re.fullmatch(r"[A-Za-z0-9_-]{1,32}", key):
            problems.append(f"{where}.key: '{key}' must be 1-32 letters, digits, - or _")
        if not name:
            problems.append(f"{where}.name: missing")
        if kind not in KINDS:
            problems.append(f"{where}.kind: must be party_member (党支部) or volunteer (志愿服务队)")
        if not _ROBOT.match(robot):
            problems.append(f"{where}.robot: '{robot}' is not the group robot's webhook URL")
        items = tuple(str(i).strip() for i in entry.get("items") or () if str(i).strip())
        for item in items:
            if item_ids is not None and item not in item_ids:
                problems.append(f"{where}.items: unknown item '{item}'")
        if key in groups:
            problems.append(f"{where}.key: '{key}' listed twice")
        groups[key] = Group(key, name, kind, robot, items)
    rule = parse_rule(doc.get("points"), problems)
    people: list[dict[str, Any]] = []
    for index, entry in enumerate(doc.get("responders") or ()):
        where = f"responders[{index}]"
        if not isinstance(entry, dict):
            problems.append(f"{where}: must have name and group")
            continue
        person = person_values(entry, groups, where, problems)
        if any(p["name"] == person["name"] for p in people):
            problems.append(f"{where}.name: '{person['name']}' listed twice")
        people.append(person)
    if problems:
        raise ResponderFileError(problems)
    return Roster(groups, rule, people)


def person_values(
    entry: dict[str, Any], groups: dict[str, Group], where: str, problems: list[str]
) -> dict[str, Any]:
    """One responder's columns from a mapping (the file or a 报到), problems appended."""
    name = str(entry.get("name") or "").strip()
    if not name or len(name) > 32:
        problems.append(f"{where}.name: missing or longer than 32 characters")
    group = groups.get(str(entry.get("group") or "").strip())
    if group is None:
        problems.append(f"{where}.group: unknown group '{entry.get('group')}' (known: {', '.join(groups)})")
    mobile = str(entry.get("mobile") or "").replace(" ", "")
    if mobile and not _MOBILE.fullmatch(mobile):
        problems.append(f"{where}.mobile: '{mobile}' is not an 11-digit mobile number")
    skills = entry.get("skills") or []
    skills = [str(s).strip() for s in (skills if isinstance(skills, list) else [skills]) if str(s).strip()]
    return {
        "name": name,
        "kind": group.kind if group else "",
        "group_key": group.key if group else "",
        "unit": str(entry.get("unit") or "").strip()[:64],
        "community": str(entry.get("community") or "").strip()[:64],
        "skills": skills,
        "availability": str(entry.get("availability") or "").strip()[:64],
        "mobile": mobile,
    }


class ResponderDesk:
    """Registration, approval, leaving and the roster: the operations WeChat and the CLI share."""

    def __init__(self, database: Database, clock: Callable[[], datetime] = lambda: datetime.now(UTC)):
        self.database = database
        self.clock = clock
        self.store = ResponderStore(database, clock)

    async def roster(self) -> Roster:
        """The imported document (no groups yet: an empty roster, so nothing goes to groups)."""
        document = await self.store.document()
        if document is None:
            return Roster({}, parse_rule(None, []), [])
        return parse_document(document)

    async def import_document(self, document: dict[str, Any], item_ids: set[str]) -> int:
        roster = parse_document(document, item_ids)
        return await self.store.save(document, roster.people)

    async def by_openid(self, openid: str) -> Responder | None:
        return await self.store.by_openid(openid)

    async def may_register(self, openid: str) -> None:
        """Refused when this WeChat is already a responder, or its 报到 still waits (one note to
        the staff group per person, however often they send 报到)."""
        existing = await self.store.by_openid(openid)
        if existing is not None:
            raise Refused("already_registered", name=existing.name)
        pending = await self.store.pending_of(openid)
        if pending is not None:
            raise Refused("signup_pending", number=str(pending.id))

    async def register(self, openid: str, values: dict[str, Any]) -> ResponderSignup:
        """报到 from WeChat: a pending sign-up, and a note to the community group for the secretary
        (the mobile masked)."""
        roster = await self.roster()
        problems: list[str] = []
        person = person_values(values, roster.groups, "报到", problems)
        if problems:
            raise Refused("bad_signup", problems=problems)
        await self.may_register(openid)
        signup = await self.store.add_signup(openid, person)
        group = roster.groups[person["group_key"]]
        payload = {
            "signup": signup.id,
            "name": signup.name,
            "kind": signup.kind,
            "group": group.name,
            "unit": signup.unit,
            "community": signup.community,
            "skills": signup.skills,
            "availability": signup.availability,
            "mobile": mask_mobile(signup.mobile),
        }
        async with self.database.transaction() as session:
            session.add(outbox_row("group", "default", "responder_signup", payload, self.clock()))
        return signup

    async def approve(self, actor: StaffMember, number: str, name: str | None = None) -> Responder:
        """通过 N (the secretary): the sign-up becomes a responder; they are told on WeChat."""
        refused = policy.can_approve_responders(actor)
        if refused is not None:
            raise refused
        try:
            responder = await self.store.approve(_signup_id(number), actor.name, name)
        except ResponderError as error:
            raise Refused(error.reason, **error.facts) from None
        group = (await self.roster()).groups.get(responder.group_key)
        payload = {"name": responder.name, "group": group.name if group else responder.group_key}
        async with self.database.transaction() as session:
            session.add(
                outbox_row("resident", responder.openid or "", "responder_approved", payload, self.clock())
            )
        return responder

    async def reject(self, actor: StaffMember, number: str, note: str) -> ResponderSignup:
        refused = policy.can_approve_responders(actor)
        if refused is not None:
            raise refused
        if not note.strip():
            raise Refused("needs_reason", number=str(number).strip()[:12])  # the person is told why
        try:
            signup = await self.store.reject(_signup_id(number), actor.name, note)
        except ResponderError as error:
            raise Refused(error.reason, **error.facts) from None
        async with self.database.transaction() as session:
            session.add(
                outbox_row(
                    "resident", signup.openid, "responder_rejected", {"note": note[:200]}, self.clock()
                )
            )
        return signup

    async def pending(self, actor: StaffMember) -> list[ResponderSignup]:
        """报到申请: the sign-ups waiting for the secretary."""
        refused = policy.can_approve_responders(actor)
        if refused is not None:
            raise refused
        return await self.store.signups("pending")

    async def leave(self, responder: Responder, holding: list[str]) -> Responder:
        """退出: refused while they hold tasks (办结 them first, or ask the office to take them)."""
        if holding:
            raise Refused("still_holding", numbers=holding)
        return await self.store.leave(responder.id)

    async def remove(self, name: str) -> Responder:
        """The office takes someone off the roster (CLI)."""
        responder = await self.store.by_name(name)
        if responder is None:
            raise Refused("unknown_responder", name=name)
        return await self.store.leave(responder.id)


def _signup_id(number: str) -> int:
    text = str(number).strip()
    if not text.isdigit() or not 0 < int(text) < 2**31:
        raise Refused("unknown_signup", number=text[:12])
    return int(text)
