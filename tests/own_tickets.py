"""Score messages about a resident's own tickets: does each end as the right action on the right
ticket? Used by tests/test_own_tickets.py and runnable alone (`python -m tests.own_tickets`) to
print every miss, so a change to the routes is measured on the blind set rather than guessed.

The resident has ticket 10006 (居住证 appointment, Friday afternoon) and 10007 (楼道灯 repair),
both assigned; each message is answered on a fresh copy of that database.
"""

from __future__ import annotations

import asyncio
import shutil
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

from desk.desk import ServiceDesk
from handlers import Context, Conversation, Message, Services, dispatch
from handlers.conversation import ORDERING
from handlers.wording import STATE_NAMES
from intents import Classifier
from knowledge import load_handbook
from storage.db import Database
from tests.conftest import SHANGHAI, FakeClock, example_rota

DATA = Path(__file__).parent / "data" / "own_tickets.tsv"
RESIDENT = "r-own"
WEDNESDAY = datetime(2026, 11, 25, 10, 0, tzinfo=SHANGHAI)  # 10006 is for Friday the 27th, afternoon
TICKETS = ("10006", "10007")


@dataclass(frozen=True, slots=True)
class Row:
    text: str
    intent: str
    ticket: str  # "-": any of the resident's tickets, or none


@dataclass(frozen=True, slots=True)
class Outcome:
    reply: str
    new_order: bool
    cancelled: frozenset[str]
    changed: frozenset[str]  # amended, or a question for the new value of this ticket pending
    asked_which: bool  # a numbered "which ticket?" question is pending (or listed both numbers)


def rows(path: Path = DATA) -> Iterator[Row]:
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            text, intent, ticket = line.split("\t")
            yield Row(text, intent, ticket)


def passed(row: Row, out: Outcome) -> bool:
    """Whether the outcome is the right action on the right ticket for the row's intent."""
    touched = bool(out.cancelled or out.changed)
    if row.intent in ("complaint", "human"):
        return not out.new_order and not out.cancelled
    if row.intent == "new_order":
        return out.new_order
    if row.intent == "consult":
        return out.reply.startswith("【") and not (out.new_order or touched)
    if out.new_order:
        return False
    if row.intent == "status":
        named = TICKETS if row.ticket == "-" else (row.ticket,)
        states = any(name in out.reply for name in STATE_NAMES.values())
        return not touched and states and any(n in out.reply for n in named)
    done = out.cancelled if row.intent == "cancel" else out.changed
    other = out.changed if row.intent == "cancel" else out.cancelled
    if other:
        return False
    if row.ticket == "-":
        return bool(done) or out.asked_which
    return done == {row.ticket}


async def template(directory: Path, services: Services) -> Path:
    """A database holding 10006 and 10007 for RESIDENT (10001-10005 belong to others)."""
    path = directory / "template.db"
    database = Database(f"sqlite+aiosqlite:///{path}")
    await database.upgrade()
    desk = ServiceDesk(database, services.handbook.calendar, SHANGHAI, FakeClock(WEDNESDAY))
    await desk.staff.import_rota(example_rota())
    for n in range(5):
        await desk.place_order(
            resident=f"other{n}",
            item_id="volunteer_signup",
            category="volunteer",
            name="某",
            mobile="",
            fields={},
            window=None,
            urgent=False,
            request_key=f"other{n}",
        )
    friday = (datetime(2026, 11, 27, 14, 0, tzinfo=SHANGHAI), datetime(2026, 11, 27, 17, 30, tzinfo=SHANGHAI))
    permit = services.handbook.item("residence_permit")
    await desk.place_order(
        resident=RESIDENT,
        item_id=permit.id,
        category=permit.category,
        name="刘红",
        mobile="13811112222",
        fields={},
        window=friday,
        urgent=False,
        request_key="permit",
    )
    repair = services.handbook.item("facility_repair")
    await desk.place_order(
        resident=RESIDENT,
        item_id=repair.id,
        category=repair.category,
        name="刘红",
        mobile="13811112222",
        fields={"address": "阳光苑3栋2单元", "description": "楼道灯坏了，晚上一片黑"},
        window=None,
        urgent=False,
        request_key="repair",
    )
    await database.close()
    return path


async def answer(services: Services, database_file: Path, text: str) -> Outcome:
    database = Database(f"sqlite+aiosqlite:///{database_file}")
    clock = FakeClock(WEDNESDAY)
    desk = ServiceDesk(database, services.handbook.calendar, SHANGHAI, clock)
    turn = replace(services, desk=desk, clock=clock, tz=SHANGHAI)
    ctx = Context(Message(RESIDENT, "text", text), Conversation(), turn)
    try:
        reply = (await dispatch(ctx)).text or ""
        tickets = {t.number: t for t in await desk.resident_tickets(RESIDENT, limit=20)}
        changed = set()
        for number in TICKETS:
            if any(e.action == "amend" for e in await desk.tickets.events(number)):
                changed.add(number)
        value = ctx.conversation.value
        state = ctx.conversation.state.name if ctx.conversation.state else ""
        if state.startswith("amend") and getattr(value, "number", None):
            changed.add(str(value.number))
        pending_which = state == "which_ticket"
        listed_both = all(n in reply for n in TICKETS) and "哪" in reply
        return Outcome(
            reply,
            # A new order: the order form, or a new ticket that is an order (complaints and
            # handoffs are tickets too, but they are what those rows ask for).
            ctx.conversation.state is ORDERING
            or any(t.kind == "order" for n, t in tickets.items() if n not in TICKETS),
            frozenset(n for n in TICKETS if tickets[n].state == "cancelled"),
            frozenset(changed),
            pending_which or listed_both,
        )
    finally:
        # The conversation-day write runs in the background: done before the file is closed and its
        # directory removed (a clean-clone CI run saw "Directory not empty" on a late journal file).
        await desk.conversations.flush()
        await database.close()


async def score(services: Services, path: Path = DATA) -> list[tuple[Row, Outcome, bool]]:
    """Every row answered on a fresh copy of the two-ticket database."""
    results = []
    with tempfile.TemporaryDirectory() as directory:
        base = await template(Path(directory), services)
        for number, row in enumerate(rows(path)):
            copy = Path(directory) / f"row{number}.db"
            shutil.copy(base, copy)
            out = await answer(services, copy, row.text)
            results.append((row, out, passed(row, out)))
    return results


def summary(results: list[tuple[Row, Outcome, bool]]) -> dict[str, tuple[int, int]]:
    by_intent: dict[str, tuple[int, int]] = {}
    for row, _, ok in results:
        good, total = by_intent.get(row.intent, (0, 0))
        by_intent[row.intent] = (good + ok, total + 1)
    return by_intent


async def _main() -> None:
    handbook = load_handbook()
    services = Services(handbook, Classifier(handbook))
    results = await score(services)
    for row, out, ok in results:
        if not ok or "-v" in sys.argv:
            flags = f"order={out.new_order} cancel={sorted(out.cancelled)} change={sorted(out.changed)}"
            print(f"{'ok ' if ok else 'BAD'} [{row.intent} {row.ticket}] {row.text}")
            print(f"    {flags} which={out.asked_which}\n    {out.reply[:160]!r}")
    for intent, (good, total) in summary(results).items():
        print(f"{intent:10} {good}/{total}")
    print(f"total      {sum(ok for *_, ok in results)}/{len(results)}")


if __name__ == "__main__":
    asyncio.run(_main())
