"""Remembering residents, with consent (SQLite and PostgreSQL, through the handlers): a second order
asks one question instead of three, a changed mobile is used and kept, "删除我的信息" erases the row,
and an address in the first message is not asked again."""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import func, select

from bot.app import create_app
from bot.settings import Settings
from desk.desk import ServiceDesk
from desk.residents import Profile
from handlers import Services
from storage import MemoryStore
from storage.models import OutboxMessage, Resident, Ticket
from tests.conftest import FakeClock
from tests.test_e2e import Phone
from tests.test_handlers import Chat

ASKS = {"name": "怎么称呼", "mobile": "手机号码", "address": "详细地址"}


@pytest.fixture
def say(desk_services: Services) -> Chat:
    return Chat(desk_services)


async def rows(desk: ServiceDesk) -> list[Resident]:
    async with desk.database.session() as session:
        return list(await session.scalars(select(Resident)))


async def first_order(say: Chat) -> str:
    """A home visit: name, mobile, address and time asked one by one; the reply says what is kept."""
    assert ASKS["name"] in await say("我想预约上门办理养老金认证")
    assert ASKS["mobile"] in await say("王阿姨")
    assert ASKS["address"] in await say("13912345678")
    assert "什么时候" in await say("阳光苑3栋2单元")
    await say("今天下午3点")
    return await say("确认")


async def test_the_first_order_keeps_the_details_and_says_how_to_erase_them(say, desk) -> None:
    placed = await first_order(say)
    assert "已保存" in placed and "删除我的信息" in placed
    [row] = await rows(desk)
    kept = (row.openid, row.name, row.mobile, row.address)
    assert kept == ("r1", "王阿姨", "13912345678", "阳光苑3栋2单元")
    assert row.consented_at == row.updated_at
    [push] = await desk.outbox.rows()
    assert "13912345678" not in str(push.payload)


async def test_the_second_order_asks_one_question_instead_of_three(say, desk, clock: FakeClock) -> None:
    await first_order(say)
    clock.advance(days=1)
    question = await say("我想预约上门办理养老金认证")
    assert "还是用 王阿姨、139****5678、阳光苑3栋2单元 吗" in question
    assert "13912345678" not in question and not any(ask in question for ask in ASKS.values())
    assert "什么时候" in await say("是")
    summary = await say("明天上午10点")
    assert "姓名：王阿姨" in summary and "电话：13912345678" in summary and "地址：阳光苑3栋2单元" in summary
    assert "工单号 10002" in await say("确认")
    ticket = await desk.tickets.get(10002)
    assert ticket.contact_name == "王阿姨" and ticket.fields["address"] == "阳光苑3栋2单元"
    push = (await desk.outbox.rows())[-1]
    assert push.payload["mobile"] == "139****5678" and "13912345678" not in str(push.payload)


async def test_a_changed_mobile_at_the_question_is_used_and_kept(say, desk, clock: FakeClock) -> None:
    await first_order(say)
    first = (await rows(desk))[0].consented_at
    clock.advance(days=2)
    await say("预约上门养老金认证")
    changed = await say("电话换成13800001111")
    assert "电话已改好" in changed and "什么时候" in changed
    await say("明天上午10点")
    await say("确认")
    ticket = await desk.tickets.get(10002)
    assert ticket.contact_mobile == "13800001111" and ticket.contact_name == "王阿姨"
    [row] = await rows(desk)
    assert row.mobile == "13800001111" and row.name == "王阿姨" and row.address == "阳光苑3栋2单元"
    assert row.consented_at == first and row.updated_at - first >= timedelta(days=2)


async def test_no_at_the_question_asks_everything_normally(say, desk) -> None:
    await first_order(say)
    await say("预约上门养老金认证")
    assert ASKS["name"] in await say("不是")
    assert ASKS["mobile"] in await say("李大爷")
    assert ASKS["address"] in await say("13700002222")


async def test_a_bare_address_or_name_replaces_that_field(say) -> None:
    await first_order(say)
    await say("预约上门养老金认证")
    assert "地址已改好" in await say("阳光苑5栋1单元302")
    await say("取消")
    await say("预约上门养老金认证")
    assert "姓名已改好" in await say("名字改成王秀兰")
    await say("取消")
    await say("预约上门养老金认证")
    unclear = await say("1391234")
    assert "不是有效的电话号码" in unclear and "还是用" in unclear


async def test_delete_erases_the_row_and_the_next_order_asks_everything(say, desk) -> None:
    await first_order(say)
    assert "王阿姨" in await say("我的信息") and "139****5678" in await say("我的信息")
    erased = await say("删除我的信息")
    assert "已删除" in erased
    assert await rows(desk) == []
    # The days they wrote and the items they asked about (for the direct-answer rate) go too.
    await desk.conversations.flush()
    assert await desk.conversations.store.between(date(2000, 1, 1), date(2100, 1, 1)) == []
    assert "没有保存" in await say("我的信息")
    assert ASKS["name"] in await say("预约上门养老金认证")
    # The tickets keep what they were placed with; only the profile is gone.
    assert (await desk.tickets.get(10001)).contact_mobile == "13912345678"


@pytest.mark.parametrize("words", ["删掉我的资料", "不要保存我的电话"])
async def test_other_ways_to_ask_for_erasure(say, desk, words: str) -> None:
    await first_order(say)
    assert "已删除" in await say(words)
    assert await rows(desk) == []


async def test_erasing_mid_order_takes_the_copied_details_out_of_the_draft(say, desk) -> None:
    await first_order(say)
    await say("预约上门养老金认证")
    assert "还没提交" in await say("我的信息")  # shown, and the question still waits
    reply = await say("删除我的信息")
    assert "已删除" in reply and ASKS["name"] in reply and await rows(desk) == []
    assert ASKS["mobile"] in await say("李大爷")


async def test_erasing_after_accepting_takes_them_out_too(say, desk) -> None:
    await first_order(say)
    await say("预约上门养老金认证")
    await say("是")
    reply = await say("不要保存我的电话")
    assert "已删除" in reply and ASKS["name"] in reply


async def test_an_address_in_the_first_message_is_not_asked_again(say, desk) -> None:
    assert ASKS["name"] in await say("3栋2单元楼道灯坏了")
    await say("李大爷")
    summary = await say("13812345678")
    assert ASKS["address"] not in summary and "地址：3栋2单元楼道" in summary
    await say("确认")
    assert (await desk.tickets.get(10001)).fields["address"] == "3栋2单元楼道"


async def test_a_place_in_the_first_message_is_kept_over_the_profile(say, desk) -> None:
    await first_order(say)
    question = await say("阳光苑5栋门口的路灯不亮")
    assert "还是用 王阿姨、139****5678 吗" in question and "阳光苑3栋" not in question
    summary = await say("对")
    assert "地址：阳光苑5栋门口" in summary and "情况：阳光苑5栋门口的路灯不亮" in summary


async def test_a_desk_order_keeps_the_address_it_did_not_ask(say, desk) -> None:
    await first_order(say)
    assert "还是用 王阿姨、139****5678 吗" in await say("预约养老金认证")  # at the desk: no address
    await say("是")
    await say("明天上午10点")
    await say("确认")
    [row] = await rows(desk)
    assert row.address == "阳光苑3栋2单元"


async def test_id_numbers_are_never_kept(desk) -> None:
    kept = await desk.residents.remember(
        "r7", {"name": "王阿姨", "mobile": "13912345678", "address": "阳光苑3栋 510104195001011234"}
    )
    assert kept == Profile("王阿姨", "13912345678", "")
    async with desk.database.session() as session:
        stored = await session.scalar(select(func.count()).select_from(Resident))
        assert stored == 1
        assert "510104195001011234" not in str((await session.get(Resident, "r7")).__dict__)
    assert await desk.residents.forget("r7") == kept and await desk.residents.recall("r7") is None
    assert await desk.residents.forget("r7") is None


async def test_nothing_kept_without_an_order(say, desk) -> None:
    assert "没有保存" in await say("删除我的信息")
    assert await rows(desk) == [] and await count(desk, Ticket) == 0 and await count(desk, OutboxMessage) == 0


async def count(desk: ServiceDesk, model: type) -> int:
    async with desk.database.session() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


# ---- scripted conversations through the signed, encrypted webhook ------------------------------

SCRIPT = yaml.safe_load((Path(__file__).parent / "data" / "conversations_profile.yaml").read_text("utf-8"))
CONVERSATIONS = SCRIPT["conversations"]


@pytest.mark.parametrize("conversation", CONVERSATIONS, ids=[c["name"] for c in CONVERSATIONS])
async def test_scripted_conversation_through_the_webhook(
    conversation: dict[str, Any],
    settings: Settings,
    desk_services: Services,
    desk: ServiceDesk,
    clock: FakeClock,
) -> None:
    client = TestClient(TestServer(create_app(settings, desk_services, MemoryStore()), host="127.0.0.1"))
    await client.start_server()
    try:
        phone = Phone(client, "o-profile-resident")
        before = SCRIPT["scripts"].get(conversation.get("before", ""), [])
        for turn in before:
            await phone(str(turn["say"]))
        if before:
            clock.advance(days=1)  # the earlier order was yesterday (the same item minutes ago asks first)
        for turn in conversation["turns"]:
            reply = await phone(str(turn["say"]))
            for phrase in turn.get("expect", []):
                assert str(phrase) in reply, (turn["say"], reply)
            for phrase in turn.get("absent", []):
                assert str(phrase) not in reply, (turn["say"], reply)
        kept = await desk.residents.recall(phone.openid)
        expected = conversation["kept"]
        assert kept == (Profile(**{k: str(v) for k, v in expected.items()}) if expected else None)
        async with desk.database.session() as session:
            assert (await session.get(Resident, phone.openid) is None) == (expected is None)
        for row in await desk.outbox.rows():  # group pushes never carry a whole mobile number
            assert not re.search(r"1[3-9]\d{9}", str(row.payload)), row.payload
    finally:
        await client.close()


def test_there_are_enough_scripted_conversations() -> None:
    assert len(CONVERSATIONS) >= 8


async def test_an_answer_that_is_not_a_value_asks_again(say) -> None:
    await first_order(say)
    await say("预约上门养老金认证")
    again = await say("明天上午")
    assert "没听明白" in again and "还是用 王阿姨" in again
    assert "什么时候" in await say("都对")
