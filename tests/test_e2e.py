"""End to end through signed, encrypted WeChat requests (issue 3, section 7).

A resident orders a home visit for pension certification at lunchtime on a Saturday; the staff
member on weekend duty is @-mentioned in the group push, claims it from WeChat and completes it;
the resident is notified and rates 5. A second run kills the outbox worker between the ticket and
its push, and the push still arrives exactly once.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.app import create_app
from bot.settings import Settings
from desk.desk import ServiceDesk
from handlers import Services
from storage import MemoryStore, Store
from storage.db import Database
from tests.conftest import SHANGHAI, FakeClock, cleanup_redis, new_redis_store
from tests.fake_platforms import FakeRobot, FakeWeChat
from tests.test_handlers import Chat
from tests.wechat_peer import APP_ID, WeChatPlatform, reply_content, text_xml

platform = WeChatPlatform()


@dataclass
class RunningBot:
    """The real app on a loopback port, with the fake WeCom robot and WeChat API it talks to."""

    client: TestClient
    robot: FakeRobot
    wechat: FakeWeChat


@asynccontextmanager
async def running_bot(
    settings: Settings, services: Services, store: Store | None = None, **overrides: object
) -> AsyncIterator[RunningBot]:
    """serve as it runs in production (outbox worker and scheduler inside), on fakes of WeChat and WeCom."""
    robot, wechat = FakeRobot(), FakeWeChat(APP_ID, "app-secret")
    configured = replace(
        settings,
        wecom_webhooks=(("default", await robot.start()),),
        wechat_app_secret="app-secret",
        wechat_api_base=await wechat.start(),
        outbox_poll_seconds=0.05,
        **{"scheduler_seconds": 0.05, **overrides},
    )
    app = create_app(configured, services, store or MemoryStore(), run_worker=True)
    client = TestClient(TestServer(app, host="127.0.0.1"))
    await client.start_server()
    try:
        yield RunningBot(client, robot, wechat)
    finally:
        await client.close()
        await robot.close()
        await wechat.close()


async def eventually(check: Callable[[], bool | Awaitable[bool]], timeout: float = 10.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        result = check()
        if not isinstance(result, bool):
            result = await result
        if result:
            return
        if loop.time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.05)


class Phone:
    """One WeChat user talking to the Official Account through signed, encrypted requests."""

    def __init__(self, client: TestClient, openid: str):
        self.client = client
        self.openid = openid

    async def __call__(self, text: str) -> str:
        request = platform.safe(text_xml(self.openid, text), self.openid)
        response = await self.client.post(request.path, data=request.body)
        assert response.status == 200
        return reply_content(platform.decrypt_reply(await response.text(), request))


@pytest.mark.parametrize("store_kind", ["memory", "redis"])
async def test_saturday_lunchtime_home_visit_from_order_to_rating(
    store_kind: str,
    settings: Settings,
    desk_services: Services,
    desk: ServiceDesk,
    clock: FakeClock,
    request: pytest.FixtureRequest,
) -> None:
    robot, wechat = FakeRobot(), FakeWeChat(APP_ID, "app-secret")
    store = (
        await new_redis_store(request.getfixturevalue("redis_url"))
        if store_kind == "redis"
        else MemoryStore()
    )
    configured = replace(
        settings,
        wecom_webhooks=(("default", await robot.start()),),
        wechat_app_secret="app-secret",
        wechat_api_base=await wechat.start(),
        outbox_poll_seconds=0.05,
        scheduler_seconds=0.05,
    )
    client = TestClient(
        TestServer(create_app(configured, desk_services, store, run_worker=True), host="127.0.0.1")
    )
    await client.start_server()
    try:
        resident, staff = Phone(client, "o-resident-zhang"), Phone(client, "o-staff-li")
        assert "怎么称呼" in await resident("我妈卧床了，想预约上门办养老金认证")
        await resident("张秀英")
        await resident("138 1234 5678")
        await resident("阳光苑3栋2单元501")
        summary = await resident("今天下午1点")
        assert "11月28日（周六）13:00-14:00" in summary
        placed = await resident("确认")
        assert "工单号 10001" in placed and "李老师" in placed

        await eventually(lambda: len(robot.received) == 1)
        push = robot.contents[0]
        assert "<@liqiang>" in push and "138****5678" in push and "13812345678" not in push
        assert "养老金领取资格认证" in push

        # Nobody claims it for 15 minutes of duty time: the scheduler inside serve reminds 李强.
        clock.advance(minutes=16)
        await eventually(lambda: len(robot.received) == 2)
        assert "接单提醒 10001" in robot.contents[1] and "<@liqiang>" in robot.contents[1]

        code, _ = await desk.staff.invite("李强")
        assert "绑定成功" in await staff(f"绑定 {code}")
        assert "接单成功" in await staff("接单 10001")
        await eventually(lambda: len(wechat.texts_to("o-resident-zhang")) == 1)
        assert "已由李老师接单" in wechat.texts_to("o-resident-zhang")[0]
        assert "已办结" in await staff("办结 10001 已上门完成认证")
        await eventually(lambda: len(wechat.texts_to("o-resident-zhang")) == 2)
        assert "请给这次服务打分" in wechat.texts_to("o-resident-zhang")[1]

        assert "5 分" in await resident("5 很满意，李老师很耐心")
        ticket = await desk.tickets.get(10001)
        assert ticket.state == "closed" and ticket.rating == 5 and ticket.assignee == "李强"
        assert [e.action for e in await desk.tickets.events(10001)] == [
            "create",
            "assign",
            "claim_reminder",
            "accept",
            "complete",
            "close",
        ]
        assert len(robot.received) == 2 and wechat.token_requests == 1
    finally:
        await client.close()
        await robot.close()
        await wechat.close()
        if store_kind == "redis":
            await cleanup_redis(store)


ALWAYS_ON_DUTY = {
    "staff": [{"name": "赵磊", "mobile": "13800001004", "wecom": "zhaolei", "grade": "A"}],
    "windows": {
        "day": {"label": "全天", "days": "workdays", "time": "00:00-23:59"},
        "weekend": {"label": "全天", "days": "weekend", "time": "00:00-23:59"},
        "holiday": {"label": "全天", "days": "holidays", "time": "00:00-23:59"},
    },
    "week": {
        d: ({"day": ["赵磊"]} if d not in ("sat", "sun") else {"weekend": ["赵磊"]})
        for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    },
}


def new_ticket_pushes(robot: FakeRobot) -> int:
    return sum("新工单 10001" in content for content in robot.contents)


async def unsent_new_ticket_pushes(desk: ServiceDesk) -> int:
    return sum(1 for row in await desk.outbox.rows() if row.event == "new_ticket" and row.sent_at is None)


def start_worker(database_url: str, robot_url: str) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "WECOM_WEBHOOK_URL": robot_url,
        "OUTBOX_POLL_SECONDS": "0.1",
        # The first worker may die holding its lease (sent, refused, not yet rescheduled): the
        # second then waits for the lease to run out, which must be well inside the test's wait.
        "OUTBOX_LEASE_SECONDS": "3",
        "REDIS_URL": "",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "bot", "worker"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )


async def test_a_worker_killed_between_ticket_and_push_loses_nothing_and_sends_once(
    tmp_path, services: Services, handbook
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'e2e.db'}"
    database = Database(url)
    await database.upgrade()
    desk = ServiceDesk(database, handbook.calendar, SHANGHAI, lambda: datetime.now(UTC))
    await desk.staff.import_rota(ALWAYS_ON_DUTY)
    robot = FakeRobot(busy_next=1_000_000)  # WeCom is down: every push is refused with -1 for now
    robot_url = await robot.start()
    say = Chat(replace(services, desk=desk, tz=SHANGHAI))
    first = start_worker(url, robot_url)
    try:
        await say("3栋楼道灯坏了")
        await say("李大爷")
        await say("13812345678")
        await say("阳光苑3栋")
        assert "工单号 10001" in await say("确认")
        await eventually(lambda: len(robot.refused) >= 1, timeout=20)  # the worker tried: WeCom refused
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
        # The push is not lost. Counted by its own event: the workers run on the real clock, and
        # between 23:59 and 01:59 Beijing time the rota's 23:59 window close adds a handover push.
        assert robot.received == [] and await unsent_new_ticket_pushes(desk) == 1

        robot.busy_next = 0  # WeCom is back; a new worker starts
        second = start_worker(url, robot_url)
        try:
            await eventually(lambda: new_ticket_pushes(robot) == 1, timeout=20)
            await asyncio.sleep(1.0)  # give it every chance to send again
            assert new_ticket_pushes(robot) == 1
            assert await unsent_new_ticket_pushes(desk) == 0
        finally:
            second.terminate()
            second.wait(timeout=10)
    finally:
        if first.poll() is None:
            first.kill()
        await robot.close()
        await database.close()
