"""Tickets on SQLite and on the real PostgreSQL: migrations, the state machine, concurrent claims.

The state machine is the desk's (desk/operations.py over storage's compare-and-set); refusals are
values, read here as WeChat words them."""

from __future__ import annotations

import asyncio

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from desk.operations import apply, open_ticket
from desk.refusals import Refused
from handlers.wording import refusal
from storage.db import Database
from storage.models import Base
from storage.tickets import TicketStore


@pytest.fixture
def tickets(database: Database) -> TicketStore:
    return TicketStore(database)


async def test_migrations_match_the_models(database: Database) -> None:
    async with database.engine.connect() as connection:
        differences = await connection.run_sync(
            lambda sync: compare_metadata(MigrationContext.configure(sync), Base.metadata)
        )
    assert differences == []


async def test_upgrade_twice_is_harmless(database: Database) -> None:
    await database.upgrade()


async def test_create_gives_a_readable_number_and_logs_the_event(tickets: TicketStore) -> None:
    ticket = await open_ticket(
        tickets,
        resident="openid-1",
        item_id="facility_repair",
        contact_mobile="13812345678",
        fields={"address": "3栋2单元"},
    )
    assert ticket.number.isdigit() and len(ticket.number) == 5
    assert (ticket.state, ticket.assignee, ticket.fields) == ("open", None, {"address": "3栋2单元"})
    events = await tickets.events(ticket.number)
    assert [(e.action, e.from_state, e.to_state, e.actor) for e in events] == [
        ("create", None, "open", "openid-1")
    ]


async def test_the_whole_life_of_a_ticket(tickets: TicketStore) -> None:
    number = (await open_ticket(tickets, resident="r", item_id="home_visit")).number
    await apply(tickets, number, "assign", actor="dispatcher", assignee="wang")
    await apply(tickets, number, "accept", actor="wang")
    await apply(tickets, number, "transfer", actor="wang", assignee="li", note="我下午请假")
    await apply(tickets, number, "accept", actor="li")
    done = await apply(tickets, number, "complete", actor="li", note="已上门办理")
    assert (done.state, done.assignee, done.version) == ("done", "li", 6)
    closed = await apply(tickets, number, "close", actor="r")
    assert closed.state == "closed"
    log = [(e.action, e.from_state, e.to_state, e.actor) for e in await tickets.events(number)]
    assert log == [
        ("create", None, "open", "r"),
        ("assign", "open", "assigned", "dispatcher"),
        ("accept", "assigned", "accepted", "wang"),
        ("transfer", "accepted", "assigned", "wang"),
        ("accept", "assigned", "accepted", "li"),
        ("complete", "accepted", "done", "li"),
        ("close", "done", "closed", "r"),
    ]
    assert (await tickets.events(number))[3].detail == {"assignee": "li", "note": "我下午请假"}


async def test_forbidden_transitions_are_refused_with_a_clear_message(tickets: TicketStore) -> None:
    number = (await open_ticket(tickets, resident="r", item_id="sanitation")).number
    with pytest.raises(Refused) as refused:
        await apply(tickets, number, "complete", actor="wang")
    assert f"工单 {number} 现在待派单，不能办结" in refusal(refused.value)
    await apply(tickets, number, "accept", actor="wang")
    with pytest.raises(Refused) as refused:
        await apply(tickets, number, "accept", actor="zhang")
    assert "已由 wang 接单" in refusal(refused.value)
    with pytest.raises(Refused) as refused:
        await apply(tickets, number, "complete", actor="zhang")
    assert "只有负责人能办结" in refusal(refused.value)
    await apply(tickets, number, "complete", actor="wang")
    with pytest.raises(Refused) as refused:
        await apply(tickets, number, "cancel", actor="r")
    assert "现在已办结，不能取消" in refusal(refused.value)
    ticket = await tickets.get(number)
    assert (ticket.state, ticket.assignee) == ("done", "wang")  # refusals changed nothing
    assert len(await tickets.events(number)) == 3


async def test_resident_can_cancel_before_done(tickets: TicketStore) -> None:
    number = (await open_ticket(tickets, resident="r", item_id="venue_booking")).number
    await apply(tickets, number, "accept", actor="wang")
    assert (await apply(tickets, number, "cancel", actor="r")).state == "cancelled"


@pytest.mark.parametrize("number", ["99999", "abc", "", "10000", "-5"])
async def test_unknown_or_malformed_numbers(tickets: TicketStore, number: str) -> None:
    with pytest.raises(Refused) as refused:
        await apply(tickets, number, "accept", actor="wang")
    assert refused.value.reason == "unknown_ticket"


async def test_concurrent_claims_have_exactly_one_winner(tickets: TicketStore) -> None:
    number = (await open_ticket(tickets, resident="r", item_id="pension_certification")).number
    staff = [f"staff-{n}" for n in range(10)]

    async def claim(name: str) -> str:
        try:
            await apply(tickets, number, "accept", actor=name)
            return "won"
        except Refused as refused:
            return refusal(refused)

    outcomes = await asyncio.gather(*(claim(name) for name in staff))
    assert outcomes.count("won") == 1
    winner = staff[outcomes.index("won")]
    assert all(o == f"工单 {number} 已由 {winner} 接单" for o in outcomes if o != "won")
    ticket = await tickets.get(number)
    assert (ticket.state, ticket.assignee, ticket.version) == ("accepted", winner, 2)
    assert [e.action for e in await tickets.events(number)] == ["create", "accept"]


async def test_list_filters(tickets: TicketStore) -> None:
    a = await open_ticket(tickets, resident="r1", item_id="facility_repair")
    await open_ticket(tickets, resident="r2", item_id="sanitation")
    await apply(tickets, a.number, "accept", actor="wang")
    assert [t.number for t in await tickets.list(state="accepted")] == [a.number]
    assert [t.item_id for t in await tickets.list(resident="r2")] == ["sanitation"]
    assert len(await tickets.list(item_id="facility_repair")) == 1
