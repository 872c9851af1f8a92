"""The outbox worker against loopback fakes of the WeCom robot and WeChat's API, on SQLite and
PostgreSQL: rate limit and digest, retries, leases, token refresh, notices kept past 48 hours."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aiohttp
import pytest
import redis.asyncio as aioredis

from bot.notify import CustomerService, WeComRobot
from bot.outbox_worker import OutboxWorker
from desk.desk import ServiceDesk
from handlers import Services
from storage import MemoryStore
from storage.outbox import outbox_row
from storage.shared import MemoryRateLimiter, MemoryValueCache, RedisRateLimiter, RedisValueCache
from tests.conftest import FakeClock, cleanup_redis, key_prefix, new_redis_store
from tests.fake_platforms import FakeRobot, FakeWeChat
from tests.test_handlers import Chat
from tests.test_ordering import order_home_visit


@pytest.fixture
async def robot() -> AsyncIterator[FakeRobot]:
    fake = FakeRobot()
    yield fake
    await fake.close()


@pytest.fixture
async def wechat() -> AsyncIterator[FakeWeChat]:
    fake = FakeWeChat("wx-app", "wx-secret")
    yield fake
    await fake.close()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as session:
        yield session


async def make_worker(desk, handbook, http, robot_url=None, wechat_url=None, store=None, limiter=None):
    robots = {"default": WeComRobot(http, robot_url)} if robot_url else {}
    cs = CustomerService(http, wechat_url, "wx-app", "wx-secret", MemoryValueCache()) if wechat_url else None
    return OutboxWorker(desk.outbox, handbook, robots, limiter or MemoryRateLimiter(20), cs, store)


async def ordered_and_claimed_by_li(say: Chat, desk: ServiceDesk) -> None:
    """Resident r1 orders a home visit; 李强 binds his WeChat and claims it (ticket 10001)."""
    await order_home_visit(say)
    code, _ = await desk.staff.invite("李强")
    await say(f"绑定 {code}", resident="wx-li")
    await say("接单 10001", resident="wx-li")


async def add_pushes(desk: ServiceDesk, count: int) -> None:
    async with desk.database.session.begin() as session:
        for n in range(count):
            payload = {
                "ticket": str(20000 + n),
                "item_id": "facility_repair",
                "mobile": "138****0000",
                "window": None,
                "assignee": "赵磊",
                "wecom": "zhaolei",
                "urgent": False,
            }
            session.add(outbox_row("group", "convenience", "new_ticket", payload, desk.clock()))


async def test_new_ticket_push_mentions_the_assignee_with_a_masked_number(
    desk_services: Services, desk, handbook, http, robot
) -> None:
    await order_home_visit(Chat(desk_services))
    worker = await make_worker(desk, handbook, http, await robot.start())
    assert await worker.drain_once() == 1
    [content] = robot.contents
    assert "新工单 10001" in content and "<@liqiang>" in content and "138****5678" in content
    assert (
        "13812345678" not in content
        and "养老金领取资格认证" in content
        and "11月28日（周六）15:00-16:00" in content
    )
    assert await desk.outbox.pending() == 0
    assert await worker.drain_once() == 0 and len(robot.received) == 1  # nothing twice


async def test_twenty_a_minute_then_a_digest_and_the_rest_waits(desk, handbook, http, robot) -> None:
    await add_pushes(desk, 25)
    worker = await make_worker(desk, handbook, http, await robot.start())
    assert await worker.drain_once() == 25
    assert len(robot.received) == 20 and robot.refused == []  # never hit 45009
    assert "还有 6 条工单动态" in robot.contents[-1] and "<@zhaolei>" in robot.contents[-1]
    await add_pushes(desk, 3)
    assert await worker.drain_once() == 0  # budget spent: released, not failed
    rows = [r for r in await desk.outbox.rows() if r.sent_at is None]
    assert len(rows) == 3 and all(r.attempts == 0 for r in rows)


async def test_the_limit_is_shared_through_redis(redis_url: str) -> None:
    client = aioredis.Redis.from_url(redis_url)
    prefix = key_prefix()
    first, second = RedisRateLimiter(client, 20, prefix=prefix), RedisRateLimiter(client, 20, prefix=prefix)
    assert (await first.acquire("robot", 15))[0] == 15
    granted, _ = await second.acquire("robot", 10)
    assert granted == 5
    granted, wait = await first.acquire("robot", 1)
    assert granted == 0 and 55 < wait <= 60
    await client.delete(f"{prefix}ratelimit:robot")
    await client.aclose()


async def test_busy_rate_limited_and_network_errors_are_retried_with_backoff(
    desk, handbook, http, robot, clock: FakeClock
) -> None:
    await add_pushes(desk, 1)
    robot.busy_next = 1
    worker = await make_worker(desk, handbook, http, await robot.start())
    assert await worker.drain_once() == 0
    [row] = await desk.outbox.rows()
    assert row.attempts == 1 and row.outcome.startswith("-1") and row.sent_at is None
    assert await worker.drain_once() == 0  # not due yet
    clock.advance(seconds=3)
    assert await worker.drain_once() == 1 and len(robot.received) == 1
    # Network error: nobody listening on the robot's port.
    await add_pushes(desk, 1)
    dead = await make_worker(desk, handbook, http, "http://127.0.0.1:9/cgi-bin/webhook/send?key=x")
    assert await dead.drain_once() == 0
    assert next(r for r in await desk.outbox.rows() if r.sent_at is None).outcome.startswith("-2")


async def test_45009_from_the_robot_is_retried(desk, handbook, http, robot, clock: FakeClock) -> None:
    robot.per_minute = 0  # someone else spent the robot's minute
    await add_pushes(desk, 1)
    worker = await make_worker(desk, handbook, http, await robot.start())
    assert await worker.drain_once() == 0 and robot.refused == [45009]
    robot.per_minute = 20
    clock.advance(seconds=3)
    assert await worker.drain_once() == 1


async def test_two_workers_never_send_a_row_twice(desk, handbook, http, robot) -> None:
    await add_pushes(desk, 15)
    url = await robot.start()
    limiter = MemoryRateLimiter(20)
    workers = [await make_worker(desk, handbook, http, url, limiter=limiter) for _ in range(3)]
    sent = await asyncio.gather(*(w.drain_once() for w in workers))
    assert sum(sent) == 15 and len(robot.received) == 15
    assert len({c.splitlines()[0] for c in robot.contents}) == 15


async def test_a_lease_left_by_a_dead_worker_runs_out_and_the_row_is_sent_once(
    desk, handbook, http, robot, clock: FakeClock
) -> None:
    await add_pushes(desk, 2)
    leased = await desk.outbox.lease("worker-that-dies")
    assert len(leased) == 2
    worker = await make_worker(desk, handbook, http, await robot.start())
    assert await worker.drain_once() == 0  # still leased
    clock.advance(seconds=61)
    assert await worker.drain_once() == 2 and len(robot.received) == 2


async def test_resident_notices_fetch_the_token_once_and_refresh_on_40001(
    desk_services: Services, desk, handbook, http, wechat
) -> None:
    say = Chat(desk_services)
    await ordered_and_claimed_by_li(say, desk)
    worker = await make_worker(desk, handbook, http, wechat_url=await wechat.start())
    await worker.drain_once()
    assert wechat.texts_to("r1") == ["您的工单 10001【养老金领取资格认证】已由李老师接单，会尽快和您联系。"]
    wechat.revoke_tokens()
    await say("办结 10001 已认证", resident="wx-li")
    await worker.drain_once()
    assert "已办结（已认证）" in wechat.texts_to("r1")[-1] and "1-5" in wechat.texts_to("r1")[-1]
    assert wechat.token_requests == 2


async def test_one_token_for_all_processes_through_redis(redis_url: str, http, wechat) -> None:
    base = await wechat.start()
    client = aioredis.Redis.from_url(redis_url)
    prefix = key_prefix()
    services = [
        CustomerService(http, base, "wx-app", "wx-secret", RedisValueCache(client, prefix)) for _ in range(3)
    ]
    results = await asyncio.gather(*(cs.send_text("someone", "hi") for cs in services))
    assert all(r.ok for r in results)
    assert wechat.token_requests <= 3 and len({await cs.access_token() for cs in services}) == 1
    before = wechat.token_requests
    await asyncio.gather(*(cs.send_text("someone", "again") for cs in services))
    assert wechat.token_requests == before  # cached
    await client.delete(f"{prefix}{CustomerService.TOKEN_KEY}")
    await client.aclose()


@pytest.mark.parametrize("store_kind", ["memory", "redis"])
async def test_notices_outside_48_hours_are_shown_when_the_resident_writes(
    store_kind: str, desk_services: Services, desk, handbook, http, wechat, request: pytest.FixtureRequest
) -> None:
    if store_kind == "redis":
        store = await new_redis_store(request.getfixturevalue("redis_url"))
    else:
        store = MemoryStore()
    say = Chat(desk_services, store)
    await ordered_and_claimed_by_li(say, desk)
    wechat.outside_48h.add("r1")
    worker = await make_worker(desk, handbook, http, wechat_url=await wechat.start(), store=store)
    assert await worker.drain_once() == 1  # kept, not failed
    assert wechat.texts_to("r1") == []
    reply = await say("居住证要带什么")
    assert (
        reply.startswith("您的工单 10001【养老金领取资格认证】已由李老师接单") and "【居住证办理】" in reply
    )
    assert "已由李老师接单" not in await say("居住证要带什么")  # shown once
    if store_kind == "redis":
        await cleanup_redis(store)


async def test_kept_notices_are_found_through_the_database_by_another_process(
    desk_services: Services, desk, database, handbook, http, wechat, clock: FakeClock
) -> None:
    """`serve` with OUTBOX_WORKER=off plus `baishitong worker` (or `chat`), no REDIS_URL: the
    worker's in-process store is not the web process's, so only the database can tell."""
    from sqlalchemy import select

    from storage.models import KeptNotice
    from tests.conftest import SHANGHAI

    desk.outbox.kept_refresh_seconds = 0.2  # the web process looks at kept_notices at most this often
    say = Chat(desk_services)  # the web process, with its own in-process store
    await ordered_and_claimed_by_li(say, desk)
    assert "已由李老师接单" not in await say("居住证要带什么")  # nothing kept yet; the look is recent
    wechat.outside_48h.add("r1")
    # The worker process: its own desk over the same database and its own in-process store.
    other = ServiceDesk(database, handbook.calendar, SHANGHAI, clock)
    worker = await make_worker(other, handbook, http, wechat_url=await wechat.start(), store=MemoryStore())
    assert await worker.drain_once() == 1
    await asyncio.sleep(0.25)
    reply = await say("居住证要带什么")
    assert (
        reply.startswith("您的工单 10001【养老金领取资格认证】已由李老师接单") and "【居住证办理】" in reply
    )
    assert "已由李老师接单" not in await say("居住证要带什么")  # shown once
    async with database.session() as session:
        assert all(row.shown_at is not None for row in await session.scalars(select(KeptNotice)))


async def test_a_slow_robot_times_out_and_the_push_is_retried(
    desk, handbook, robot, clock: FakeClock
) -> None:
    robot.delay = 1.5
    await add_pushes(desk, 1)
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=0.5)) as impatient:
        worker = await make_worker(desk, handbook, impatient, await robot.start())
        assert await worker.drain_once() == 0
    [row] = await desk.outbox.rows()
    assert row.outcome.startswith("-2 network") and row.attempts == 1 and row.sent_at is None


async def test_over_the_residents_quota_the_notice_is_kept(
    desk_services: Services, desk, handbook, http, wechat
) -> None:
    say = Chat(desk_services)
    await ordered_and_claimed_by_li(say, desk)
    wechat.quota = 0
    worker = await make_worker(desk, handbook, http, wechat_url=await wechat.start())
    assert await worker.drain_once() == 1
    [row] = [r for r in await desk.outbox.rows() if r.channel == "resident"]
    assert row.outcome.startswith("45047") and await desk.outbox.take_kept("r1")


async def test_pushes_go_to_the_group_of_the_items_category(
    desk_services: Services, desk, handbook, http
) -> None:
    general, social = FakeRobot(key="general"), FakeRobot(key="social")
    try:
        robots = {
            "default": WeComRobot(http, await general.start()),
            "social_security": WeComRobot(http, await social.start()),
        }
        worker = OutboxWorker(desk.outbox, handbook, robots, MemoryRateLimiter(20), None)
        await order_home_visit(Chat(desk_services))  # pension certification: social_security
        await add_pushes(desk, 1)  # a repair: convenience → default group
        assert await worker.drain_once() == 2
        assert len(social.received) == 1 and "养老金" in social.contents[0]
        assert len(general.received) == 1 and "公共设施报修" in general.contents[0]
    finally:
        await general.close()
        await social.close()


async def test_appointment_reminders_outside_48_hours_are_not_kept(
    desk: ServiceDesk, handbook, http, wechat
) -> None:
    async with desk.database.transaction() as session:
        payload = {
            "ticket": "10001",
            "item_id": "home_visit",
            "staff_surname": "赵",
            "start": "2026-11-25T10:00:00+08:00",
        }
        session.add(outbox_row("resident", "r-far", "appointment", payload, desk.clock()))
    wechat.outside_48h.add("r-far")
    worker = await make_worker(desk, handbook, http, wechat_url=await wechat.start())
    assert await worker.drain_once() == 1
    [row] = await desk.outbox.rows()
    assert row.sent_at is not None and "not sent" in row.outcome
    assert await desk.outbox.take_kept("r-far") == []  # a reminder shown after the visit helps nobody


async def test_without_a_robot_group_pushes_wait_untouched(desk: ServiceDesk, handbook, http, robot) -> None:
    await add_pushes(desk, 2)
    idle = await make_worker(desk, handbook, http)  # no WECOM_WEBHOOK_URL
    assert await idle.drain_once() == 0
    rows = await desk.outbox.rows()
    assert all(r.attempts == 0 and r.claimed_until is None and r.sent_at is None for r in rows)
    configured = await make_worker(desk, handbook, http, await robot.start())
    assert await configured.drain_once() == 2  # once a robot is configured, nothing was lost


async def test_a_pass_that_outlives_its_lease_never_sends_a_row_another_worker_took(
    desk, handbook, http, robot, clock: FakeClock
) -> None:
    """Item 7: a slow robot makes a pass outlive the 60 s lease; each send renews (fences) the row
    first, so a row another worker has leased meanwhile is skipped, and nothing goes out twice."""
    await add_pushes(desk, 12)
    robot.delay, robot.per_minute = 0.05, 100
    url = await robot.start()
    limiter = MemoryRateLimiter(100)
    slow = await make_worker(desk, handbook, http, url, limiter=limiter)
    other = await make_worker(desk, handbook, http, url, limiter=limiter)
    first = asyncio.create_task(slow.drain_once())
    # Each push "takes" 20 s (the fake clock moves on as the robot answers): after four of them the
    # slow pass is past its 60 s lease on the rows it has not sent yet, never on the one in flight.
    seen, moved = 0, 0
    while moved < 4:
        if len(robot.received) > seen:
            seen, moved = len(robot.received), moved + 1
            clock.advance(seconds=20)
        await asyncio.sleep(0.002)
    second = await other.drain_once()
    sent = await first
    assert sent + second == 12
    firsts = [c.splitlines()[0] for c in robot.contents]
    assert len(firsts) == len(set(firsts)) == 12  # every push exactly once
    assert await desk.outbox.pending() == 0
