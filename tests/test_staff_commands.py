"""Staff work tickets from WeChat: bind once with a code, then 接单 / 办结 / 转交 / 我的工单 / 值班."""

from __future__ import annotations

import asyncio

import pytest

from desk.desk import ServiceDesk
from handlers import Services
from tests.conftest import FakeClock
from tests.test_handlers import Chat
from tests.test_ordering import order_home_visit


@pytest.fixture
def say(desk_services: Services) -> Chat:
    return Chat(desk_services)


async def bind(say: Chat, desk: ServiceDesk, name: str, openid: str) -> None:
    code, _ = await desk.staff.invite(name)
    assert f"绑定成功，{name}" in await say(f"绑定 {code}", resident=openid)


async def test_binding_codes_work_once_and_expire(say, desk: ServiceDesk, clock: FakeClock) -> None:
    code, _ = await desk.staff.invite("李强")
    assert "绑定成功" in await say(f"绑定 {code.lower()}", resident="wx-li")
    assert "无效" in await say(f"绑定 {code}", resident="wx-other")  # spent
    late, _ = await desk.staff.invite("赵磊")
    clock.advance(days=8)
    assert "过期" in await say(f"绑定 {late}", resident="wx-zhao")
    assert (await desk.staff.by_openid("wx-zhao")) is None


async def test_residents_cannot_run_staff_commands(say, desk: ServiceDesk) -> None:
    await order_home_visit(say)
    assert "工作人员用的指令" in await say("接单 10001", resident="resident-2")
    assert "工作人员用的指令" in await say("办结 10001", resident="r1")
    assert (await desk.tickets.get(10001)).state == "assigned"
    # 值班 from a resident is an office question, not a command.
    assert "值班" in await say("值班", resident="resident-2")


async def test_claim_complete_and_first_claim_wins(say, desk: ServiceDesk) -> None:
    await order_home_visit(say)
    await bind(say, desk, "李强", "wx-li")
    await bind(say, desk, "张敏", "wx-zhang")  # the duty leader, who may claim anything
    claimed = await say("接单 10001", resident="wx-li")
    # The claimer sees the full contact privately (never in the group).
    assert "13812345678" in claimed and "阳光苑3栋2单元501" in claimed
    assert "已由 李强 接单" in await say("接单 10001", resident="wx-zhang")
    assert "只有负责人能办结" in await say("办结 10001 好了", resident="wx-zhang")
    assert "10001" in await say("我的工单", resident="wx-li")
    assert "已办结" in await say("办结 10001 已上门认证", resident="wx-li")
    ticket = await desk.tickets.get(10001)
    assert ticket.state == "done" and ticket.assignee == "李强"
    events = [e.action for e in await desk.tickets.events(10001)]
    assert events == ["create", "assign", "accept", "complete"]
    resident_rows = [r for r in await desk.outbox.rows() if r.channel == "resident"]
    assert [r.event for r in resident_rows] == ["claimed", "done"]


async def test_concurrent_claims_from_wechat_have_one_winner(say, desk: ServiceDesk) -> None:
    await order_home_visit(say)
    for name, openid in (("李强", "wx-li"), ("陈书记", "wx-chen"), ("张敏", "wx-zhang")):
        await bind(say, desk, name, openid)
    replies = await asyncio.gather(*(say("接单 10001", resident=o) for o in ("wx-li", "wx-chen", "wx-zhang")))
    assert sum("接单成功" in r for r in replies) == 1
    assert sum("已由" in r for r in replies) == 2


async def test_transfer_mentions_the_new_assignee_and_my_tickets_and_duty(say, desk: ServiceDesk) -> None:
    await order_home_visit(say)
    await bind(say, desk, "李强", "wx-li")
    await say("接单 10001", resident="wx-li")
    assert "格式" in await say("转交 10001", resident="wx-li")
    assert "没有叫“某某”" in await say("转交 10001 某某", resident="wx-li")
    assert "不办这类事项" in await say("转交 10001 赵磊", resident="wx-li")  # grade B, not pensions
    assert "已转交给 张敏" in await say("转交 10001 张敏", resident="wx-li")
    transfer = [r for r in await desk.outbox.rows() if r.event == "transferred"]
    assert transfer and transfer[0].payload["wecom"] == "zhangmin"
    assert "没有未办结" in await say("我的工单", resident="wx-li")
    duty = await say("值班", resident="wx-li")
    assert "周末值班" in duty and "李强" in duty and "赵磊" in duty and "王芳" not in duty  # swapped out
    assert "没有编号为 99999 的工单" in await say("接单 99999", resident="wx-li")


async def test_rating_closes_the_ticket_and_a_low_one_opens_a_follow_up(say, desk: ServiceDesk) -> None:
    await order_home_visit(say)
    await bind(say, desk, "李强", "wx-li")
    await say("接单 10001", resident="wx-li")
    await say("办结 10001", resident="wx-li")
    assert "2 分" in await say("2分 来得太晚了")
    ticket = await desk.tickets.get(10001)
    assert ticket.state == "closed" and ticket.rating == 2 and ticket.comment == "来得太晚了"
    follow_up = await desk.tickets.get(10002)
    assert (
        follow_up.kind == "follow_up" and follow_up.assignee == "陈书记" and follow_up.parent_id == ticket.id
    )
    push = [r for r in await desk.outbox.rows() if r.event == "follow_up"]
    assert push and push[0].payload["wecom"] == "chenshuji"
