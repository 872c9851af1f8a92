"""Conversation behaviour through handlers.dispatch, transport-free (the same path `chat` uses)."""

from __future__ import annotations

import pytest

from bot.pipeline import Pipeline
from handlers import Context, Conversation, Message, Services, dispatch
from storage import MemoryStore


class Chat:
    """Conversations through the real pipeline and in-process store, as `baishitong chat` runs them."""

    def __init__(self, services: Services, store: MemoryStore | None = None):
        self.store = store or MemoryStore()
        self.pipeline = Pipeline(services, self.store, deadline=5)
        self.count = 0

    async def __call__(self, text: str, resident: str = "r1") -> str:
        self.count += 1
        return await self.pipeline.respond(
            f"m{self.count}", Message(resident, "text", text), lambda r: r.text
        )


@pytest.fixture
def say(services: Services) -> Chat:
    return Chat(services)


async def one(services: Services, message: Message):
    return await dispatch(Context(message, Conversation(), services))


async def test_numbered_choice_is_remembered_and_answered(say) -> None:
    question = await say("老年证和高龄津贴有什么区别")
    assert "1. 高龄津贴申领" in question and "2. 老年人优待证办理" in question
    assert (await say("１")).startswith("【高龄津贴申领】")  # full-width digit


async def test_choice_out_of_range_falls_back_to_classification(say) -> None:
    await say("老年证和高龄津贴有什么区别")
    assert (await say("居住证要带什么")).startswith("【居住证办理】")


async def test_follow_up_words_refer_to_the_last_item(say) -> None:
    await say("残疾证怎么办")
    booking = await say("预约")
    assert "【残疾人证办理】" in booking and "028-8888 6666" in booking
    assert (await say("材料")).startswith("【残疾人证办理】")


async def test_state_is_per_resident(say) -> None:
    await say("老年证和高龄津贴有什么区别", resident="a")
    assert not (await say("2", resident="b")).startswith("【")


async def test_order_intent_keeps_the_request_and_says_how_it_is_booked(say) -> None:
    text = await say("帮我预约上门办理残疾证")
    assert "【残疾人证办理】" in text and "028-8888 6666" in text


async def test_office_human_status_cancel_rate(say) -> None:
    assert "12:00-14:00" in await say("中午休息时间能办业务吗")
    assert "值班手机" in await say("我要找人工")
    assert "028-8888 6666" in await say("我的报修单处理到哪一步了")  # no tickets: phone the desk
    assert "取消" in await say("请取消我明天的上门预约")
    assert "谢谢您的评价" in await say("很满意，五星好评")
    assert "社区书记" in await say("工作人员态度太差了，我要投诉")  # no desk: no promise of a call


async def test_greetings_and_unknown(say) -> None:
    assert "不客气" in await say("谢谢你")
    assert "再见" in await say("拜拜")
    assert "我是社区百事通" in await say("您好")
    unknown = await say("帮我点一杯奶茶")
    assert "社区办不了" in unknown and "12345" in unknown and "人工" in unknown


async def test_general_question_and_menu_word_list_services(say) -> None:
    for text in ("你们能办哪些业务", "业务"):
        menu = await say(text)
        assert "社会保障" in menu and "法律与权益" in menu


async def test_empty_voice_and_unknown_kinds(services) -> None:
    assert "没听清" in (await one(services, Message("r", "voice", ""))).text
    assert (await one(services, Message("r", "other"))).text is None
    unknown_click = await one(services, Message("r", "click", event_key="NO_SUCH_KEY"))
    assert "我是社区百事通" in unknown_click.text


async def test_conversation_state_expires(services) -> None:
    import asyncio

    say = Chat(services, MemoryStore(state_ttl=0.05))
    await say("老年证和高龄津贴有什么区别")
    await asyncio.sleep(0.1)
    assert not (await say("1")).startswith("【")


def test_truncate_leaves_a_reply_that_fits_as_it_is() -> None:
    from handlers.render import truncate

    assert truncate("短消息") == "短消息"
    long = "\n".join(["很长的一行内容" * 10] * 40)
    assert truncate(long).endswith("（内容较多，详情请回复“人工”）")


async def test_kept_notices_before_a_short_reply_carry_no_cut_note(services: Services) -> None:
    from dataclasses import replace
    from types import SimpleNamespace

    async def take_kept(resident: str) -> list[str]:
        return ["您的工单 10001 已由李老师接单。"]

    seen: list[tuple[str, str]] = []
    desk = SimpleNamespace(
        outbox=SimpleNamespace(take_kept=take_kept),
        conversations=SimpleNamespace(seen=lambda resident, item: seen.append((resident, item))),
    )
    ctx = Context(
        Message("r1", "text", "几点上班"), Conversation(), replace(services, desk=desk), notice=True
    )
    reply = await dispatch(ctx)
    assert reply.text.startswith("您的工单 10001 已由李老师接单。")
    assert "内容较多" not in reply.text
    assert seen == [("r1", "")]  # a conversation for the direct-answer rate, about no item


async def test_a_service_that_cannot_be_booked_says_so_and_what_to_do(say) -> None:
    reply = await say("社保卡 预约")
    assert "不能预约" in reply and "带" in reply
    assert "12333" in reply or "电子社保卡" in reply  # the way to do it without coming in
