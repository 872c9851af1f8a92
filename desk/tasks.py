"""The task list (任务清单): orders that others than staff on duty may take, and the community's
own tasks with places (三单: 群众点单 → 社区派单 → 党员接单).

Placing an order, in this order (each step only when the item's order.takers allows it, and never
for an urgent report, which goes straight to duty):
  grid    the address is in a grid (the rota's `grids:`): its member gets the ticket first;
  groups  party branches and volunteer teams open to the item get it in their WeCom groups, the
          resident's details masked; the first eligible member to reply 接单 N holds it
          (the same compare-and-set as staff claims) and only then sees the contact;
  duty    otherwise, and when nobody took it within the item's claim limit (N duty minutes,
          desk/clocks.py), the ordinary duty routing (desk/routing.py) — once (task_offers).
A community task (发布任务) has places; 接单 N takes one until it is full.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from desk import operations, policy
from desk.clocks import claim_clock, covered_spans, local, utc
from desk.grids import Grid, grid_of, normalise, parse_grids
from desk.masking import mask_mobile, mask_text, without_id_numbers
from desk.refusals import Refused
from desk.responders import KINDS, Group, ResponderDesk
from desk.states import DEFAULT_CLAIM_MINUTES, OPEN_STATES
from storage.models import (
    NUMBER_OFFSET,
    TASK_NUMBER_OFFSET,
    CommunityTask,
    OutboxMessage,
    Responder,
    TaskOffer,
    Ticket,
)
from storage.outbox import outbox_row
from storage.responders import ResponderError

if TYPE_CHECKING:
    from desk.desk import Limits, Placement, ServiceDesk

ClaimMinutes = Callable[[str], int]

log = logging.getLogger("baishitong.tasks")
COMMUNITY_TASK = "community_task"  # the points rule's weight key for community tasks
MAX_PLACES = 200


@dataclass(frozen=True, slots=True)
class GridTarget:
    """Who a grid order goes to: a staff member (wecom) or a responder (openid)."""

    grid: str
    name: str
    wecom: str = ""
    openid: str = ""


def is_task_number(number: str | int) -> bool:
    text = str(number).strip()
    return text.isdigit() and int(text) > TASK_NUMBER_OFFSET


def area_of(address: str) -> str:
    """The compound of an address, for a group push: 幸福里小区3栋2单元501 → 幸福里小区."""
    text = normalise(without_id_numbers(address))
    return re.split(r"\d", text, maxsplit=1)[0][:20]


class TaskDesk:
    def __init__(self, desk: ServiceDesk, responders: ResponderDesk):
        self.desk = desk
        self.responders = responders
        self.store = responders.store

    # ---- placing an order ----------------------------------------------------------------

    async def place_order(self, *, takers: Iterable[str], **order: Any) -> Placement:
        """A confirmed order: to the grid, the groups or duty (module docstring)."""
        desk = self.desk
        takers = tuple(takers)
        existing = await desk.tickets.by_request_key(order["request_key"])
        if existing is not None or order.get("urgent") or set(takers) <= {"staff"}:
            return await desk.place_order(**order)
        if "grid" in takers:
            target = await self._grid_target(str(order["fields"].get("address") or ""))
            if target is not None:
                return await self._place(order, takers, target=target)
        roster = await self.responders.roster()
        groups = [g for g in roster.groups.values() if g.takes(order["item_id"], takers)]
        if groups:
            return await self._place(order, takers, groups=groups)
        return await desk.place_order(**order)

    async def grids(self) -> tuple[Grid, ...]:
        document = await self.desk.staff.directory.rota_document()
        return parse_grids((document or {}).get("grids"))

    async def _grid_target(self, address: str) -> GridTarget | None:
        """The first available member of the address's grid: a staff member not on leave, or a
        responder who is active and bound to WeChat."""
        grid = grid_of(address, await self.grids())
        if grid is None:
            return None
        today = self.desk.now().date()
        away = await self.desk.staff.away_on(today)
        staff = {m.name: m for m in await self.desk.staff.all() if m.active}
        for name in grid.members:
            if name in staff and name not in away:
                return GridTarget(grid.name, name, wecom=staff[name].wecom_userid)
            responder = await self.store.by_name(name)
            if responder is not None and responder.active and responder.openid:
                return GridTarget(grid.name, name, openid=responder.openid)
        log.info("grid %s has nobody available: the order goes to duty", grid.name)
        return None

    async def _place(
        self,
        order: dict[str, Any],
        takers: tuple[str, ...],
        *,
        target: GridTarget | None = None,
        groups: list[Group] | None = None,
    ) -> Placement:
        from desk.desk import Placement

        desk = self.desk
        now = desk.now()
        category, window = order["category"], order["window"]
        limits: Limits = order["limits"]
        booked = (window[0].astimezone(desk.tz), window[1].astimezone(desk.tz)) if window else None
        last = max(now.date(), booked[1].date()) if booked else now.date()
        snap = await desk.staff.snapshot(now.date(), last + timedelta(days=21))
        clocks = desk._clocks(snap, category, now, limits, booked) if snap.rota else {}
        for key in ("claim_remind_at", "claim_escalate_at"):  # the offer's own clock returns it
            clocks.pop(key, None)
        spans = (
            covered_spans(snap.rota, desk.calendar, snap.members, snap.leave, category) if snap.rota else None
        )
        escalate = claim_clock(now, limits.claim_minutes, spans)["claim_remind_at"]
        if escalate is None:  # no rota: the claim limit in plain minutes
            escalate = utc(now + timedelta(minutes=limits.claim_minutes))
        fields = order["fields"]
        facts = {
            "item_id": order["item_id"],
            "category": category,
            "mobile": mask_mobile(order["mobile"]),
            "window": [w.isoformat() for w in window] if window else None,
            "urgent": False,
            "description": mask_text(str(fields.get("description") or fields.get("said", ""))),
            "area": area_of(str(fields.get("address") or "")),
        }

        def rows(ticket: Ticket) -> Iterable[Any]:
            body = {**facts, "ticket": ticket.number, "ticket_id": ticket.id}
            yield TaskOffer(
                ticket_id=ticket.id,
                stage="grid" if target else "groups",
                grid=target.grid if target else "",
                groups=[g.key for g in groups or ()],
                takers=list(takers),
                created_at=utc(now),
                escalate_at=escalate,
            )
            if target is not None:
                yield desk.group_row(
                    ticket, "new_ticket", target.wecom, {"grid": target.grid, **facts}, utc(now)
                )
                if target.openid:
                    yield outbox_row(
                        "resident", target.openid, "grid_task", {**body, "grid": target.grid}, utc(now)
                    )
            for group in groups or ():
                extra = {"group": group.name, "robot": group.robot, "kind": group.kind}
                yield outbox_row("group", f"team:{group.key}", "task_offer", {**body, **extra}, utc(now))

        ticket = await operations.open_ticket(
            desk.tickets,
            resident=order["resident"],
            item_id=order["item_id"],
            contact_name=order["name"],
            contact_mobile=order["mobile"],
            fields=fields,
            assignee=target.name if target else None,
            request_key=order["request_key"],
            then=rows,
            category=category,
            wanted_start=utc(window[0]) if window else None,
            wanted_end=utc(window[1]) if window else None,
            urgent=False,
            **clocks,
        )
        route = "grid" if target else "groups"
        return Placement(ticket, ticket.assignee, bool(target), None, True, route)

    # ---- a responder takes and completes --------------------------------------------------

    async def take(self, responder: Responder, number: str) -> Ticket | CommunityTask:
        """接单 N by a party member or volunteer: a ticket of their grid or group, or a place on
        a community task. The resident hears who has it; the groups hear it is taken."""
        if is_task_number(number):
            return await self._take_place(responder, number)
        desk = self.desk
        ticket = await operations.load(desk.tickets, number)
        offer = await self.store.offer(ticket.id)
        groups = (await self.responders.roster()).groups
        group = groups.get(responder.group_key)
        now = utc(desk.now())

        def rows(t: Ticket) -> Iterable[OutboxMessage]:
            payload = {
                "ticket": t.number,
                "ticket_id": t.id,
                "item_id": t.item_id,
                "taker": responder.name,
                "kind": responder.kind,
                "group": group.name if group else "",
            }
            yield outbox_row("resident", t.resident, "task_claimed", payload, now)
            for key in offer.groups if offer else ():
                if key in groups:
                    extra = {"robot": groups[key].robot, "group": groups[key].name}
                    yield outbox_row("group", f"team:{key}", "task_taken", {**payload, **extra}, now)

        return await operations.apply(
            desk.tickets,
            number,
            "accept",
            actor=responder.name,
            check=lambda t: policy.may_take_task(responder, t, offer),
            then=rows,
            values={"claimed_at": now},
        )

    async def told_taken(self, ticket: Ticket, taker: str) -> Callable[[Ticket], list[OutboxMessage]]:
        """The groups a ticket was offered to hear it is taken — when staff claim it too."""
        offer = await self.store.offer(ticket.id)
        groups = (await self.responders.roster()).groups if offer and offer.groups else {}

        def rows(t: Ticket) -> list[OutboxMessage]:
            now = utc(self.desk.now())
            payload = {"ticket": t.number, "ticket_id": t.id, "item_id": t.item_id, "taker": taker}
            return [
                outbox_row(
                    "group",
                    f"team:{key}",
                    "task_taken",
                    {**payload, "robot": groups[key].robot, "group": "社区工作人员", "kind": ""},
                    now,
                )
                for key in (offer.groups if offer else ())
                if key in groups
            ]

        return rows

    async def complete(self, responder: Responder, number: str, note: str) -> Ticket | CommunityTask:
        """办结 N: only the holder; the resident is told and asked to rate (as for staff)."""
        if is_task_number(number):
            task = await self._task(number)
            if not await self.store.complete_place(task.id, responder.id, note):
                raise Refused("no_place", number=task.number)
            return task
        return await self.desk.complete_by(responder.name, number, note)

    async def holding(self, responder: Responder) -> tuple[list[Ticket], list[CommunityTask]]:
        """我的任务: the tickets they hold and the community-task places not yet done."""
        tickets = await self.desk.tickets.list(state=OPEN_STATES, assignee=responder.name)
        return tickets, await self.store.places_of(responder.id)

    # ---- community tasks with places -------------------------------------------------------

    async def post(
        self,
        actor: Any,
        title: str,
        places: int,
        *,
        detail: str = "",
        takers: Iterable[str] = ("party_member", "volunteer"),
        groups: Iterable[str] = (),
        weight: float | None = None,
    ) -> CommunityTask:
        """发布任务: the duty leader or the secretary posts a task with `places`; it is pushed to
        every group of the kinds (or the groups) named."""
        refused = policy.can_post_task(actor)
        if refused is not None:
            raise refused
        title, takers, groups = title.strip()[:100], list(takers), list(groups)
        if not title or not 1 <= places <= MAX_PLACES:
            raise Refused("bad_task", places=places, most=MAX_PLACES)
        roster = await self.responders.roster()
        unknown = [k for k in takers if k not in KINDS] + [g for g in groups if g not in roster.groups]
        if unknown:
            raise Refused("bad_task_groups", names=unknown)
        reach = [g for g in roster.groups.values() if g.kind in takers and (not groups or g.key in groups)]
        if not reach:
            raise Refused("no_groups")
        task = await self.store.post_task(
            title=title,
            detail=detail.strip()[:1000],
            places=places,
            weight=roster.rule.weight(COMMUNITY_TASK) if weight is None else weight,
            takers=takers,
            groups=groups,
            posted_by=actor.name,
        )
        now = utc(self.desk.now())
        async with self.desk.database.transaction() as session:
            for group in reach:
                payload = {
                    "task": task.number,
                    "title": task.title,
                    "detail": task.detail,
                    "places": places,
                    "robot": group.robot,
                    "group": group.name,
                    "posted_by": actor.name,
                }
                session.add(outbox_row("group", f"team:{group.key}", "community_task", payload, now))
        return task

    async def _task(self, number: str) -> CommunityTask:
        if not is_task_number(number) or int(str(number).strip()) >= TASK_NUMBER_OFFSET + 2**31:
            raise Refused("unknown_task", number=str(number).strip()[:12])
        task = await self.store.task(int(str(number).strip()) - TASK_NUMBER_OFFSET)
        if task is None:
            raise Refused("unknown_task", number=str(number).strip()[:12])
        return task

    async def _take_place(self, responder: Responder, number: str) -> CommunityTask:
        task = await self._task(number)
        refused = policy.may_take_place(responder, task)
        if refused is not None:
            raise refused
        try:
            return await self.store.take_place(task.id, responder.id)
        except ResponderError as error:
            raise Refused(error.reason, number=task.number, places=task.places) from None

    async def close_task(self, actor: Any, number: str) -> CommunityTask:
        refused = policy.can_post_task(actor)
        if refused is not None:
            raise refused
        task = await self._task(number)
        await self.store.close_task(task.id)
        return task

    # ---- back to the community when nobody takes it ---------------------------------------

    async def escalate_due(
        self, claim_minutes_of: ClaimMinutes = lambda item_id: DEFAULT_CLAIM_MINUTES
    ) -> int:
        """Offers past their claim limit and still untaken go to duty routing, once each (the
        scheduler calls this every tick, in every process); the new holder's claim clock is the
        item's, the completion clocks stay those set when the order was placed."""
        now_utc = self.desk.clock()
        returned = 0
        for offer in await self.store.due_offers(now_utc):
            if not await self.store.mark_escalated(offer.ticket_id, now_utc):
                continue  # another process took this one
            try:
                if await self._to_duty(offer, claim_minutes_of):
                    returned += 1
            except Refused as refused:  # taken or cancelled meanwhile: nothing to return
                log.info("offer %s not returned: %s", offer.ticket_id, refused.reason)
        return returned

    async def _to_duty(self, offer: TaskOffer, claim_minutes_of: ClaimMinutes) -> bool:
        desk = self.desk
        ticket = await desk.tickets.get(offer.ticket_id + NUMBER_OFFSET)
        untaken = ticket.state == "open" if offer.stage == "groups" else ticket.state == "assigned"
        if offer.stage == "grid" and untaken:
            # Still with the grid's member (not handed over or transferred to someone else since).
            members = {m for g in await self.grids() if g.name == offer.grid for m in g.members}
            untaken = ticket.assignee in members
        if not untaken:
            return False
        now = desk.now()
        start, end = local(ticket.wanted_start, desk.tz), local(ticket.wanted_end, desk.tz)
        booked = (start, end) if start and end else None
        assignee, on_duty, opens_at, _ = await desk._route(ticket.category, now, booked)
        held_by = ticket.assignee

        def unchanged(t: Ticket) -> Refused | None:
            if t.assignee != held_by or t.state != ticket.state:
                return Refused("task_taken_meanwhile", number=t.number)
            return None

        due = utc(now if on_duty or opens_at is None else opens_at)

        def push(t: Ticket) -> Iterable[OutboxMessage]:
            row = desk.group_row(
                t,
                "new_ticket",
                assignee.wecom if assignee else "",
                {"returned": offer.stage, "description": mask_text(str(t.fields.get("description") or ""))},
                utc(now),
            )
            row.due_at = due
            yield row

        if assignee is None or assignee.name == held_by:
            await operations.apply(
                desk.tickets,
                ticket.number,
                "note",
                actor="system",
                check=unchanged,
                note="任务清单无人接单，退回社区",
                then=push,
            )
            return True
        clocks = await desk.claim_clock(ticket.category, now, claim_minutes_of(ticket.item_id))
        action = "assign" if ticket.state == "open" else "reassign"
        await operations.apply(
            desk.tickets,
            ticket.number,
            action,
            actor="system",
            check=unchanged,
            assignee=assignee.name,
            note="任务清单无人接单，退回社区值班",
            values=clocks,
            then=push,
        )
        return True
