"""Scripted conversations (tests/data/conversations_*.yaml) through signed, encrypted webhook requests.

Each script is what a resident (or a staff member) sends, what each reply must and must not
contain, and what the tickets look like afterwards. The clock starts at `at` (local time,
Asia/Shanghai; default Wednesday 2026-12-02 10:15) and the example rota is on duty. Every script
runs on SQLite and on PostgreSQL with the real pipeline, the real desk and the fake WeCom robot.

Script keys:
  name, at
  steps: - say: text            (as the resident `o-resident`, or `as: staff` for the bound 李强)
           expect: [substrings]  absent: [substrings]
  tickets: - number, state, kind, item_id, urgent, assignee, window ("12-04 14:00-16:00"),
             fields: {field: substring}
  pushes: [substrings each group push must have between them]   no_pushes_with: [substrings]
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.settings import Settings
from desk.clocks import local
from desk.desk import ServiceDesk
from handlers import Services
from tests.conftest import SHANGHAI, FakeClock
from tests.test_e2e import Phone, eventually, running_bot

DATA = Path(__file__).parent / "data"
# Files in this runner's format hold {"conversations": [...]}; others have runners of their own.
SCRIPTS = [
    script
    for pattern in (
        "conversations_orders*.yaml",
        "conversations_directions*.yaml",
        "conversations_questions*.yaml",
    )
    for path in sorted(DATA.glob(pattern))
    if isinstance(loaded := yaml.safe_load(path.read_text(encoding="utf-8")), dict)
    and "conversations" in loaded
    for script in loaded["conversations"]
]
DEFAULT_AT = "2026-12-02 10:15"


def test_there_are_enough_scripts() -> None:
    assert len(SCRIPTS) >= 25
    assert len({s["name"] for s in SCRIPTS}) == len(SCRIPTS)


@pytest.mark.parametrize("script", SCRIPTS, ids=[s["name"] for s in SCRIPTS])
async def test_script(
    script: dict[str, Any], settings: Settings, desk_services: Services, desk: ServiceDesk, clock: FakeClock
) -> None:
    clock.set(datetime.strptime(str(script.get("at", DEFAULT_AT)), "%Y-%m-%d %H:%M").replace(tzinfo=SHANGHAI))
    async with running_bot(
        settings, desk_services, message_mode="safe", scheduler_seconds=settings.scheduler_seconds
    ) as running:
        client, robot = running.client, running.robot
        resident, staff = Phone(client, "o-resident"), Phone(client, "o-staff-li")
        if any(step.get("as") == "staff" for step in script["steps"]):
            code, _ = await desk.staff.invite("李强")
            assert "绑定成功" in await staff(f"绑定 {code}")
        for index, step in enumerate(script["steps"]):
            phone = staff if step.get("as") == "staff" else resident
            reply = await phone(str(step["say"]))
            where = f"{script['name']} step {index + 1} ({step['say']!r}) replied {reply!r}"
            for wanted in step.get("expect", []):
                assert str(wanted) in reply, where
            for unwanted in step.get("absent", []):
                assert str(unwanted) not in reply, where
            for single in step.get("once", []):  # said, and not twice in the same reply
                assert reply.count(str(single)) == 1, where
        for expected in script.get("tickets", []):
            await _check_ticket(desk, expected, script["name"])
        if script.get("pushes"):
            await eventually(lambda: all(str(w) in "\n".join(robot.contents) for w in script["pushes"]))
        for unwanted in script.get("no_pushes_with", []):
            assert unwanted not in "\n".join(robot.contents), script["name"]


async def _check_ticket(desk: ServiceDesk, expected: dict[str, Any], name: str) -> None:
    if expected.get("absent"):
        tickets = await desk.tickets.list()
        assert all(t.number != expected["number"] for t in tickets), name
        return
    ticket = await desk.tickets.get(expected["number"])
    for key in ("state", "kind", "item_id", "urgent", "assignee", "contact_name", "contact_mobile"):
        if key in expected:
            assert getattr(ticket, key) == expected[key], f"{name}: {key} = {getattr(ticket, key)!r}"
    if "window" in expected:
        start, end = local(ticket.wanted_start, SHANGHAI), local(ticket.wanted_end, SHANGHAI)
        assert start and end, name
        assert f"{start:%m-%d %H:%M}-{end:%H:%M}" == expected["window"], name
    for field, wanted in expected.get("fields", {}).items():
        assert wanted in str((ticket.fields or {}).get(field, "")), f"{name}: {field} = {ticket.fields!r}"
    for field, unwanted in expected.get("fields_without", {}).items():
        assert unwanted not in str((ticket.fields or {}).get(field, "")), f"{name}: {field}"
