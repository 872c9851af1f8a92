"""Complaints and handoffs end to end: signed, encrypted WeChat requests, the outbox worker, the
fake WeCom robot and the fake WeChat customer-service API. Each scripted conversation in
tests/data/conversations_complaints.yaml runs on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from aiohttp.test_utils import TestClient

from bot.settings import Settings
from desk.desk import ServiceDesk
from handlers import Services
from tests.conftest import SHANGHAI, FakeClock
from tests.fake_platforms import FakeRobot, FakeWeChat
from tests.test_e2e import Phone, eventually, running_bot

CONVERSATIONS = yaml.safe_load(
    (Path(__file__).parent / "data" / "conversations_complaints.yaml").read_text(encoding="utf-8")
)
RESIDENT = "o-resident"


@dataclass
class Bot:
    """The running app with its fakes: phones talk to it, the robot and WeChat record what it sent."""

    client: TestClient
    robot: FakeRobot
    wechat: FakeWeChat
    desk: ServiceDesk
    clock: FakeClock
    phones: dict[str, Phone] = field(default_factory=dict)

    def phone(self, openid: str) -> Phone:
        return self.phones.setdefault(openid, Phone(self.client, openid))


@pytest.fixture
async def bot(
    settings: Settings, desk_services: Services, desk: ServiceDesk, clock: FakeClock
) -> AsyncIterator[Bot]:
    async with running_bot(settings, desk_services) as running:
        yield Bot(running.client, running.robot, running.wechat, desk, clock)


async def check_ticket(desk: ServiceDesk, expected: dict[str, Any]) -> None:
    ticket = await desk.tickets.get(expected["number"])
    for key in ("kind", "assignee", "state"):
        if key in expected:
            assert getattr(ticket, key) == expected[key], (key, getattr(ticket, key))
    if "parent" in expected:
        parent = await desk.tickets.get(expected["parent"])
        assert ticket.parent_id == parent.id


async def run_step(bot: Bot, step: dict[str, Any]) -> None:
    if "clock" in step:
        bot.clock.set(datetime.strptime(step["clock"], "%Y-%m-%d %H:%M").replace(tzinfo=SHANGHAI))
    if step.get("outside_48h"):
        bot.wechat.outside_48h.add(RESIDENT)
    if step.get("settle"):

        async def drained() -> bool:
            return await bot.desk.outbox.pending() == 0

        await eventually(drained)
    if "say" not in step:
        return
    reply = await bot.phone(step.get("from", RESIDENT))(str(step["say"]))
    for text in step.get("reply", ()):
        assert text in reply, (step["say"], text, reply)
    for text in step.get("reply_lacks", ()):
        assert text not in reply, (step["say"], text, reply)
    if "ticket" in step:
        await check_ticket(bot.desk, step["ticket"])
    if step.get("no_ticket"):
        assert await bot.desk.tickets.list(resident=RESIDENT) == []
    if "push" in step:
        wanted = [str(s) for s in step["push"]]
        await eventually(lambda: any(all(s in c for s in wanted) for c in bot.robot.contents))
        assert "13812345678" not in "".join(bot.robot.contents)  # residents' numbers masked
    if "resident_gets" in step:
        wanted = [str(s) for s in step["resident_gets"]]
        await eventually(lambda: any(all(s in t for s in wanted) for t in bot.wechat.texts_to(RESIDENT)))


@pytest.mark.parametrize("conversation", CONVERSATIONS, ids=[c["name"] for c in CONVERSATIONS])
async def test_scripted_conversation(bot: Bot, conversation: dict[str, Any]) -> None:
    for openid, name in (conversation.get("staff") or {}).items():
        code, _ = await bot.desk.staff.invite(name)
        assert "绑定成功" in await bot.phone(openid)(f"绑定 {code}")
    for step in conversation["steps"]:
        await run_step(bot, step)


def test_there_are_at_least_twelve_scripted_conversations() -> None:
    assert len(CONVERSATIONS) >= 12
    assert len({c["name"] for c in CONVERSATIONS}) == len(CONVERSATIONS)
