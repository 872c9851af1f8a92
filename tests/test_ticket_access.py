"""Who may see and change which ticket: claims limited to the people the ticket is for, transfers
to qualified staff only, cancels that do not reveal other residents' numbers, and ticket numbers
read whatever their length (hardening items 4, 6, 12 and 14)."""

from __future__ import annotations

import logging

import pytest

from desk.desk import ServiceDesk
from desk.refusals import Refused
from handlers import Services
from tests.test_handlers import Chat
from tests.test_ordering import order_home_visit
from tests.test_staff_commands import bind


@pytest.fixture
def say(desk_services: Services) -> Chat:
    return Chat(desk_services)


async def test_only_the_assignee_qualified_staff_on_duty_the_leader_and_secretary_may_claim(
    say: Chat, desk: ServiceDesk, caplog: pytest.LogCaptureFixture
) -> None:
    # 10001 is a pension certification (social security) routed to 李强 on Saturday's duty.
    await order_home_visit(say)
    for name, openid in (("李强", "wx-li"), ("赵磊", "wx-zhao"), ("王芳", "wx-wang")):
        await bind(say, desk, name, openid)
    caplog.set_level(logging.INFO)
    # 赵磊 is on duty but grade B without social security; 王芳 is swapped off duty today.
    for openid in ("wx-zhao", "wx-wang"):
        reply = await say("接单 10001", resident=openid)
        assert "不能接" in reply and "13812345678" not in reply and "张秀英" not in reply
    assert (await desk.tickets.get(10001)).state == "assigned"
    assert sum("refused" in r.getMessage() and "not_for_you" in r.getMessage() for r in caplog.records) == 2
    # Walking the numbers reveals nothing either.
    assert "不能接" in await say("接单 10002", resident="wx-zhao") or "没有编号" in await say(
        "接单 10002", resident="wx-zhao"
    )
    assert "接单成功" in await say("接单 10001", resident="wx-li")


@pytest.mark.parametrize("name", ["张敏", "陈书记"])
async def test_the_duty_leader_and_the_secretary_may_claim_anything(
    say: Chat, desk: ServiceDesk, name: str
) -> None:
    await order_home_visit(say)
    await bind(say, desk, name, "wx-boss")
    assert "接单成功" in await say("接单 10001", resident="wx-boss")


async def test_a_leader_cannot_transfer_to_staff_not_qualified_for_the_item(
    say: Chat, desk: ServiceDesk
) -> None:
    await order_home_visit(say)
    await bind(say, desk, "张敏", "wx-zhang")
    reply = await say("转交 10001 赵磊", resident="wx-zhang")
    assert "赵磊" in reply and "不办" in reply
    assert (await desk.tickets.get(10001)).assignee == "李强"
    zhang = await desk.staff.by_name("张敏")
    with pytest.raises(Refused) as refused:
        await desk.reassign(zhang, 10001, "王芳")
    assert refused.value.reason == "not_qualified"
    assert "已转交给 陈书记" in await say("转交 10001 陈书记", resident="wx-zhang")


async def test_cancelling_someone_elses_number_answers_as_a_missing_one(say: Chat, desk: ServiceDesk) -> None:
    await order_home_visit(say)  # 10001 belongs to r1
    other = await say("取消 10001", resident="r2")
    missing = await say("取消 10999", resident="r2")
    assert other.replace("10001", "N") == missing.replace("10999", "N")
    assert (await desk.tickets.get(10001)).state == "assigned"


@pytest.mark.parametrize("number", ["99999", "25000", "9", "12147483648", "99999999999999999999999"])
async def test_cancel_reads_any_number_and_never_cancels_another_ticket(
    say: Chat, desk: ServiceDesk, number: str
) -> None:
    await order_home_visit(say)  # r1's only open ticket: 10001
    reply = await say(f"取消 {number}")
    assert f"没有找到您编号为 {number} 的工单" in reply and "抱歉" not in reply
    assert (await desk.tickets.get(10001)).state == "assigned"


@pytest.mark.parametrize("number", ["99999999999", "12147483648", "00000"])
async def test_staff_commands_with_numbers_too_large_get_a_plain_answer(
    say: Chat, desk: ServiceDesk, number: str
) -> None:
    await bind(say, desk, "李强", "wx-li")
    reply = await say(f"接单 {number}", resident="wx-li")
    assert "没有编号为" in reply and "抱歉" not in reply
