"""Tickets: creation, the state machine, and the event log, safe under concurrent staff actions.

States: open → assigned → accepted (签收) → done (办结) → closed; cancelled by the resident before
done; transfer (转交) hands an assigned or accepted ticket to someone else. Every transition is
one conditional UPDATE ("... WHERE state IN (allowed)") plus its event row in the same
transaction: when two staff act at once, the database lets exactly one UPDATE match, and the
other is refused with who holds the ticket now. No change is ever lost or applied twice.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError

from storage.db import Database
from storage.models import NUMBER_OFFSET, Ticket, TicketEvent
from storage.ticket_states import STATE_NAMES, TicketError, TransitionRefused, UnknownTicket

__all__ = ["STATE_NAMES", "TRANSITIONS", "TicketError", "TicketStore", "TransitionRefused", "UnknownTicket"]


@dataclass(frozen=True, slots=True)
class Transition:
    allowed_from: frozenset[str]
    to: str
    name: str  # how the refusal names the action to a person


TRANSITIONS: dict[str, Transition] = {
    "assign": Transition(frozenset({"open"}), "assigned", "派单"),
    "accept": Transition(frozenset({"open", "assigned"}), "accepted", "接单"),
    "transfer": Transition(frozenset({"assigned", "accepted"}), "assigned", "转交"),
    "complete": Transition(frozenset({"accepted"}), "done", "办结"),
    "close": Transition(frozenset({"done"}), "closed", "关闭"),
    "cancel": Transition(frozenset({"open", "assigned", "accepted"}), "cancelled", "取消"),
}


_ATTEMPTS = 5  # compare-and-set rounds before telling the person to try again


def parse_number(number: str | int) -> int:
    """The ticket id behind a number a person typed or read aloud ("10023", " 10023 ")."""
    text = str(number).strip()
    if not text.isdigit() or int(text) <= NUMBER_OFFSET:
        raise UnknownTicket(f"没有编号为 {text or '（空）'} 的工单")
    return int(text) - NUMBER_OFFSET


class TicketStore:
    def __init__(self, database: Database, clock: Callable[[], datetime] = lambda: datetime.now(UTC)):
        self._db = database
        self._clock = clock

    async def create(
        self,
        *,
        resident: str,
        item_id: str,
        contact_name: str = "",
        contact_mobile: str = "",
        fields: dict[str, Any] | None = None,
        actor: str | None = None,
        assignee: str | None = None,
        request_key: str | None = None,
        then: Callable[[Ticket], Iterable[Any]] | None = None,
        **columns: Any,
    ) -> Ticket:
        """A new ticket (assigned when `assignee` is given) and its events, in one transaction.

        `then(ticket)` returns more rows (outbox messages) committed in the same transaction.
        With a `request_key` already used, nothing is written and that ticket is returned: a
        confirmed order becomes one ticket however often it is confirmed or retried.
        """
        now = self._clock()
        try:
            async with self._db.transaction() as session:
                ticket = Ticket(
                    resident=resident,
                    item_id=item_id,
                    contact_name=contact_name,
                    contact_mobile=contact_mobile,
                    fields=dict(fields or {}),
                    state="assigned" if assignee else "open",
                    assignee=assignee,
                    version=1,
                    created_at=now,
                    updated_at=now,
                    request_key=request_key,
                    **columns,
                )
                session.add(ticket)
                await session.flush()
                session.add(
                    TicketEvent(
                        ticket_id=ticket.id,
                        at=now,
                        actor=actor or resident,
                        action="create",
                        from_state=None,
                        to_state="open",
                        detail={"item_id": item_id},
                    )
                )
                if assignee:
                    session.add(
                        TicketEvent(
                            ticket_id=ticket.id,
                            at=now,
                            actor="system",
                            action="assign",
                            from_state="open",
                            to_state="assigned",
                            detail={"assignee": assignee},
                        )
                    )
                if then is not None:
                    session.add_all(list(then(ticket)))
        except IntegrityError:
            # The request key is taken (callers such as ServiceDesk.place_order look it up first,
            # so this is a race or a repeat): the earlier ticket stands.
            existing = await self.by_request_key(request_key) if request_key else None
            if existing is None:
                raise
            return existing
        return ticket

    async def by_request_key(self, request_key: str) -> Ticket | None:
        async with self._db.session() as session:
            return await session.scalar(select(Ticket).where(Ticket.request_key == request_key))

    async def get(self, number: str | int) -> Ticket:
        ticket_id = parse_number(number)
        async with self._db.session() as session:
            ticket = await session.get(Ticket, ticket_id)
        if ticket is None:
            raise UnknownTicket(f"没有编号为 {str(number).strip()} 的工单")
        return ticket

    async def events(self, number: str | int) -> list[TicketEvent]:
        ticket_id = parse_number(number)
        async with self._db.session() as session:
            rows = await session.scalars(
                select(TicketEvent).where(TicketEvent.ticket_id == ticket_id).order_by(TicketEvent.id)
            )
            return list(rows)

    async def apply(
        self,
        number: str | int,
        action: str,
        *,
        actor: str,
        assignee: str | None = None,
        note: str = "",
        then: Callable[[Ticket], Iterable[Any]] | None = None,
        values: dict[str, Any] | None = None,
    ) -> Ticket:
        """Perform `action` as `actor`; raise TransitionRefused when the ticket's state forbids it.

        accept: the actor becomes the assignee (the first to claim owns it, 首问负责).
        assign/transfer: `assignee` receives it. complete: only the current assignee may.
        """
        transition = TRANSITIONS.get(action)
        if transition is None:
            raise TicketError(f"unknown action {action!r}")
        new_assignee = actor if action == "accept" else assignee
        if action in ("assign", "transfer") and not new_assignee:
            raise TicketError(f"{transition.name}需要指定接收人")
        for _ in range(_ATTEMPTS):
            ticket = await self.get(number)
            if ticket.state not in transition.allowed_from or (
                action == "complete" and ticket.assignee != actor
            ):
                raise self._refusal(ticket, action, actor)
            if await self._compare_and_set(
                ticket, transition, action, actor, new_assignee, note, then, values
            ):
                return await self.get(number)
            # Someone else changed the ticket between our read and our write: read it again.
        raise TransitionRefused(f"工单 {ticket.number} 正在被其他人处理，请稍后再试")

    async def _compare_and_set(
        self,
        ticket: Ticket,
        transition: Transition,
        action: str,
        actor: str,
        assignee: str | None,
        note: str,
        then: Callable[[Ticket], Iterable[Any]] | None,
        extra_values: dict[str, Any] | None,
    ) -> bool:
        """One transaction that starts with the write: UPDATE only if the version is still the one
        read, then log the event. (Starting with the write also avoids SQLite's lock upgrade.)"""
        now = self._clock()
        values: dict[str, Any] = {"state": transition.to, "version": ticket.version + 1, "updated_at": now}
        if assignee is not None:
            values["assignee"] = assignee
        values.update(extra_values or {})
        async with self._db.transaction() as session:
            result = await session.execute(
                update(Ticket)
                .where(Ticket.id == ticket.id, Ticket.version == ticket.version)
                .values(**values)
            )
            if result.rowcount != 1:
                return False
            detail = {k: v for k, v in (("assignee", assignee), ("note", note)) if v}
            await session.execute(
                insert(TicketEvent).values(
                    ticket_id=ticket.id,
                    at=now,
                    actor=actor,
                    action=action,
                    from_state=ticket.state,
                    to_state=transition.to,
                    detail=detail,
                )
            )
            if then is not None:
                for key, value in values.items():
                    setattr(ticket, key, value)  # the rows see the ticket as it is now
                session.add_all(list(then(ticket)))
        return True

    @staticmethod
    def _refusal(ticket: Ticket, action: str, actor: str) -> TransitionRefused:
        name = TRANSITIONS[action].name
        if action == "accept" and ticket.state == "accepted":
            return TransitionRefused(f"工单 {ticket.number} 已由 {ticket.assignee} 接单")
        if action == "complete" and ticket.state == "accepted" and ticket.assignee != actor:
            return TransitionRefused(f"工单 {ticket.number} 由 {ticket.assignee} 负责，只有负责人能办结")
        return TransitionRefused(f"工单 {ticket.number} 现在{STATE_NAMES[ticket.state]}，不能{name}")

    async def list(
        self,
        *,
        state: str | Iterable[str] | None = None,
        item_id: str | None = None,
        resident: str | None = None,
        assignee: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        newest_first: bool = False,
        limit: int | None = None,
    ) -> list[Ticket]:
        query = select(Ticket).order_by(Ticket.id.desc() if newest_first else Ticket.id)
        if isinstance(state, str):
            query = query.where(Ticket.state == state)
        elif state is not None:
            query = query.where(Ticket.state.in_(list(state)))
        if item_id:
            query = query.where(Ticket.item_id == item_id)
        if resident:
            query = query.where(Ticket.resident == resident)
        if assignee:
            query = query.where(Ticket.assignee == assignee)
        if since:
            query = query.where(Ticket.created_at >= since)
        if until:
            query = query.where(Ticket.created_at < until)
        if limit:
            query = query.limit(limit)
        async with self._db.session() as session:
            return list(await session.scalars(query))
