"""Responders (在职党员, volunteers), their sign-ups, the imported groups document, tickets offered
beyond duty routing, and community tasks with places (SQLAlchemy; SQLite or PostgreSQL).

Persistence only: who may do what is desk/'s business. Each change that must happen once (a
sign-up decided, an offer escalated, a place taken) is one conditional UPDATE, so two processes
or two members at once cannot both win it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import and_, select, update
from sqlalchemy.exc import IntegrityError

from storage.db import Database
from storage.models import (
    CommunityTask,
    Responder,
    ResponderConfig,
    ResponderSignup,
    TaskOffer,
    TaskPlace,
    Ticket,
)


class ResponderError(Exception):
    """A request the database turns down: a reason code and its facts (the desk words nothing)."""

    def __init__(self, reason: str, **facts: Any):
        super().__init__(reason, facts)
        self.reason = reason
        self.facts = facts


@dataclass(frozen=True, slots=True)
class DoneWork:
    """One piece of finished work for the points: a ticket or a community-task place."""

    taker: str
    item_id: str  # a ticket's item, or "community_task"
    rating: int | None
    weight: float | None  # a community task's own weight; None: the rule's weight for the item
    done_at: datetime


class ResponderStore:
    def __init__(self, database: Database, clock: Callable[[], datetime] = lambda: datetime.now(UTC)):
        self._db = database
        self._clock = clock

    # ---- the groups document and the roster ----------------------------------------------

    async def save(self, document: dict[str, Any], people: Iterable[dict[str, Any]]) -> int:
        """Replace the groups document and upsert its responders by name, in one transaction.
        Bound WeChat identities and those who left stay as they are."""
        now = self._clock()
        count = 0
        async with self._db.transaction() as session:
            row = await session.get(ResponderConfig, 1)
            if row is None:
                session.add(ResponderConfig(id=1, document=document, imported_at=now))
            else:
                row.document, row.imported_at = document, now
            existing = {r.name: r for r in await session.scalars(select(Responder))}
            for person in people:
                responder = existing.get(person["name"])
                if responder is None:
                    responder = Responder(name=person["name"], openid=None, active=True, joined_at=now)
                    session.add(responder)
                for key in ("kind", "group_key", "unit", "community", "skills", "availability", "mobile"):
                    setattr(responder, key, person[key])
                count += 1
        return count

    async def document(self) -> dict[str, Any] | None:
        async with self._db.session() as session:
            row = await session.get(ResponderConfig, 1)
        return row.document if row else None

    async def all(self, *, active: bool | None = None) -> list[Responder]:
        query = select(Responder).order_by(Responder.id)
        if active is not None:
            query = query.where(Responder.active.is_(active))
        async with self._db.session() as session:
            return list(await session.scalars(query))

    async def by_openid(self, openid: str) -> Responder | None:
        async with self._db.session() as session:
            return await session.scalar(
                select(Responder).where(Responder.openid == openid, Responder.active.is_(True))
            )

    async def by_name(self, name: str) -> Responder | None:
        async with self._db.session() as session:
            return await session.scalar(select(Responder).where(Responder.name == name.strip()))

    async def leave(self, responder_id: int) -> Responder:
        """退出: no longer offered tasks; the WeChat identity is forgotten; their history stays."""
        async with self._db.transaction() as session:
            responder = await session.get(Responder, responder_id)
            if responder is None:
                raise ResponderError("unknown_responder", name=str(responder_id))
            responder.active, responder.openid, responder.left_at = False, None, self._clock()
        return responder

    # ---- sign-ups (报到) ------------------------------------------------------------------

    async def add_signup(self, openid: str, values: dict[str, Any]) -> ResponderSignup:
        """A pending 报到; an earlier pending one from the same WeChat is replaced (withdrawn)."""
        now = self._clock()
        async with self._db.transaction() as session:
            await session.execute(
                update(ResponderSignup)
                .where(ResponderSignup.openid == openid, ResponderSignup.state == "pending")
                .values(state="withdrawn", decided_at=now, note="replaced by a new 报到")
            )
            signup = ResponderSignup(
                openid=openid, state="pending", created_at=now, decided_by="", note="", **values
            )
            session.add(signup)
        return signup

    async def signups(self, state: str | None = "pending") -> list[ResponderSignup]:
        query = select(ResponderSignup).order_by(ResponderSignup.id)
        if state:
            query = query.where(ResponderSignup.state == state)
        async with self._db.session() as session:
            return list(await session.scalars(query))

    async def pending_of(self, openid: str) -> ResponderSignup | None:
        async with self._db.session() as session:
            return await session.scalar(
                select(ResponderSignup).where(
                    ResponderSignup.openid == openid, ResponderSignup.state == "pending"
                )
            )

    async def signup(self, signup_id: int) -> ResponderSignup | None:
        async with self._db.session() as session:
            return await session.get(ResponderSignup, signup_id)

    async def approve(self, signup_id: int, by: str, name: str | None = None) -> Responder:
        """通过 N: the pending sign-up becomes a responder bound to its WeChat, in one transaction.

        An imported responder with the same mobile and no WeChat yet is that person (bound, not
        duplicated). Another person's name is refused (name_taken): approve with another name."""
        now = self._clock()
        try:
            async with self._db.transaction() as session:
                decided = await session.execute(
                    update(ResponderSignup)
                    .where(ResponderSignup.id == signup_id, ResponderSignup.state == "pending")
                    .values(state="approved", decided_at=now, decided_by=by)
                    .returning(ResponderSignup.id)
                )
                if decided.scalar() is None:
                    raise await self._not_pending(session, signup_id)
                signup = await session.get(ResponderSignup, signup_id)
                assert signup is not None
                wanted = (name or signup.name).strip()
                bound = await session.scalar(select(Responder).where(Responder.openid == signup.openid))
                if bound is not None:
                    raise ResponderError("already_registered", name=bound.name)
                same = None
                if signup.mobile:
                    same = await session.scalar(
                        select(Responder).where(Responder.mobile == signup.mobile, Responder.openid.is_(None))
                    )
                if same is None:
                    taken = await session.scalar(select(Responder).where(Responder.name == wanted))
                    if taken is not None:
                        raise ResponderError("name_taken", name=wanted, number=str(signup_id))
                    same = Responder(name=wanted, joined_at=now)
                    session.add(same)
                for key in ("kind", "group_key", "unit", "community", "skills", "availability", "mobile"):
                    setattr(same, key, getattr(signup, key))
                same.openid, same.active, same.left_at = signup.openid, True, None
        except IntegrityError:
            raise ResponderError("name_taken", name=name or "", number=str(signup_id)) from None
        return same

    async def reject(self, signup_id: int, by: str, note: str) -> ResponderSignup:
        now = self._clock()
        async with self._db.transaction() as session:
            decided = await session.execute(
                update(ResponderSignup)
                .where(ResponderSignup.id == signup_id, ResponderSignup.state == "pending")
                .values(state="rejected", decided_at=now, decided_by=by, note=note[:200])
                .returning(ResponderSignup.id)
            )
            if decided.scalar() is None:
                raise await self._not_pending(session, signup_id)
            signup = await session.get(ResponderSignup, signup_id)
        assert signup is not None
        return signup

    async def _not_pending(self, session: Any, signup_id: int) -> ResponderError:
        signup = await session.get(ResponderSignup, signup_id)
        if signup is None:
            return ResponderError("unknown_signup", number=str(signup_id))
        return ResponderError("signup_decided", number=str(signup_id), state=signup.state)

    # ---- tickets offered beyond duty routing ---------------------------------------------

    async def offer(self, ticket_id: int) -> TaskOffer | None:
        async with self._db.session() as session:
            return await session.get(TaskOffer, ticket_id)

    async def due_offers(self, now: datetime, limit: int = 200) -> list[TaskOffer]:
        async with self._db.session() as session:
            return list(
                await session.scalars(
                    select(TaskOffer)
                    .where(
                        TaskOffer.escalate_at.is_not(None),
                        TaskOffer.escalate_at <= now,
                        TaskOffer.escalated_at.is_(None),
                    )
                    .order_by(TaskOffer.ticket_id)
                    .limit(limit)
                )
            )

    async def mark_escalated(self, ticket_id: int, now: datetime) -> bool:
        """Claim the escalation of one offer: True for exactly one caller."""
        async with self._db.transaction() as session:
            won = await session.execute(
                update(TaskOffer)
                .where(TaskOffer.ticket_id == ticket_id, TaskOffer.escalated_at.is_(None))
                .values(escalated_at=now)
            )
            return won.rowcount == 1

    # ---- community tasks with places -----------------------------------------------------

    async def post_task(self, **values: Any) -> CommunityTask:
        async with self._db.transaction() as session:
            task = CommunityTask(taken=0, created_at=self._clock(), **values)
            session.add(task)
        return task

    async def task(self, task_id: int) -> CommunityTask | None:
        async with self._db.session() as session:
            return await session.get(CommunityTask, task_id)

    async def open_tasks(self) -> list[CommunityTask]:
        async with self._db.session() as session:
            return list(
                await session.scalars(
                    select(CommunityTask).where(CommunityTask.closed_at.is_(None)).order_by(CommunityTask.id)
                )
            )

    async def take_place(self, task_id: int, responder_id: int) -> CommunityTask:
        """One place for the responder, while places remain: the conditional UPDATE lets exactly
        as many members in as there are places, however many reply at once."""
        now = self._clock()
        try:
            async with self._db.transaction() as session:
                won = await session.execute(
                    update(CommunityTask)
                    .where(
                        CommunityTask.id == task_id,
                        CommunityTask.taken < CommunityTask.places,
                        CommunityTask.closed_at.is_(None),
                    )
                    .values(taken=CommunityTask.taken + 1)
                )
                if won.rowcount != 1:
                    raise ResponderError("task_full", number=str(task_id))
                session.add(TaskPlace(task_id=task_id, responder_id=responder_id, taken_at=now, note=""))
                await session.flush()
                task = await session.get(CommunityTask, task_id)
        except IntegrityError:
            raise ResponderError("place_held", number=str(task_id)) from None
        assert task is not None
        return task

    async def close_task(self, task_id: int) -> None:
        """No more places are taken (those taken can still be completed)."""
        async with self._db.transaction() as session:
            await session.execute(
                update(CommunityTask)
                .where(CommunityTask.id == task_id, CommunityTask.closed_at.is_(None))
                .values(closed_at=self._clock())
            )

    async def complete_place(self, task_id: int, responder_id: int, note: str) -> bool:
        async with self._db.transaction() as session:
            done = await session.execute(
                update(TaskPlace)
                .where(
                    TaskPlace.task_id == task_id,
                    TaskPlace.responder_id == responder_id,
                    TaskPlace.done_at.is_(None),
                )
                .values(done_at=self._clock(), note=note[:200])
            )
            return done.rowcount == 1

    async def places_of(self, responder_id: int, *, open_only: bool = True) -> list[CommunityTask]:
        condition = [TaskPlace.responder_id == responder_id]
        if open_only:
            condition.append(TaskPlace.done_at.is_(None))
        async with self._db.session() as session:
            return list(
                await session.scalars(
                    select(CommunityTask)
                    .join(TaskPlace, TaskPlace.task_id == CommunityTask.id)
                    .where(and_(*condition))
                    .order_by(CommunityTask.id)
                )
            )

    # ---- finished work, for the points ---------------------------------------------------

    async def done_work(self, since: datetime, until: datetime) -> list[DoneWork]:
        """Tickets completed (done or closed) and community-task places done in [since, until)."""
        async with self._db.session() as session:
            tickets = await session.execute(
                select(Ticket.assignee, Ticket.item_id, Ticket.rating, Ticket.done_at).where(
                    Ticket.done_at.is_not(None),
                    Ticket.done_at >= since,
                    Ticket.done_at < until,
                    Ticket.state.in_(("done", "closed")),
                    Ticket.assignee.is_not(None),
                    Ticket.kind == "order",
                )
            )
            places = await session.execute(
                select(Responder.name, CommunityTask.weight, TaskPlace.done_at)
                .join(TaskPlace, TaskPlace.responder_id == Responder.id)
                .join(CommunityTask, CommunityTask.id == TaskPlace.task_id)
                .where(TaskPlace.done_at.is_not(None), TaskPlace.done_at >= since, TaskPlace.done_at < until)
            )
            return [DoneWork(a, i, r, None, d) for a, i, r, d in tickets.all()] + [
                DoneWork(n, "community_task", None, w, d) for n, w, d in places.all()
            ]
