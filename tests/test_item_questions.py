"""Items' own questions (handbook `questions`) answer what they ask and nothing else.

The scripted conversations in tests/data/conversations_questions.yaml check that a question is
answered first and after the card; here: every item has questions, and messages that ask none of
them (greetings, the office's hours, a repair, a ticket, something outside the community) are
answered as before — neither as a first message nor right after any item's card; and what the
card already answers (what to bring, where, when, how long) is not taken by a question.
"""

from __future__ import annotations

import pytest

from handlers import Context, Conversation, Message, Services, facts
from knowledge import Handbook
from tests.test_handlers import Chat

UNRELATED = [
    "你好",
    "谢谢你们 辛苦了",
    "今天几点下班",
    "周六有人值班不",
    "我要找人工",
    "3栋2单元楼道灯坏了",
    "楼下垃圾好几天没人收了",
    "我的单子处理到哪一步了",
    "取消我明天的预约",
    "很满意 五星好评",
    "工作人员态度太差了 我要投诉",
    "社区的电话是好多",
    "你们办公地址在哪里",
    "帮我点一杯奶茶",
    "今天天气好热哦",
    "要带啥子材料",
    "我家住在幸福里小区",
    "你是机器人吗",
    "晚上还办不办",
    "好的 晓得了",
]


def _answers(handbook: Handbook) -> list[str]:
    return [question.answer for item in handbook.items.values() for question in item.questions]


def test_every_item_has_questions(handbook: Handbook) -> None:
    without = [item.id for item in handbook.items.values() if not item.questions]
    assert without == []
    assert sum(len(item.questions) for item in handbook.items.values()) >= 200


# What the card (or one of its facts) answers: no item's question may take these away from it.
CARD_QUESTIONS = [
    "{}要带什么材料",
    "{}要带啥子",
    "{}在哪里办",
    "{}去哪办",
    "{}咋个办",
    "{}怎么申请",
    "{}办理时间",
    "{}几点能办",
    "{}周末能办不",
    "{}网上能办不",
    "{}要好久",
    "{}要钱不",
    "{}需要啥手续",
    "{}的流程",
]


@pytest.mark.parametrize("template", CARD_QUESTIONS)
def test_what_the_card_answers_is_not_an_items_question(services: Services, template: str) -> None:
    asked = []
    for item in services.handbook.items.values():
        text = template.format(item.title)
        if facts.question_answer(Context(Message("r1", "text", text), Conversation(), services), item, text):
            asked.append(text)
    assert asked == []


@pytest.mark.parametrize("text", UNRELATED)
def test_an_unrelated_message_asks_no_items_question(services: Services, text: str) -> None:
    ctx = Context(Message("r1", "text", text), Conversation(), services)
    asked = {item.id for item in services.handbook.items.values() if facts.question_answer(ctx, item, text)}
    assert asked == set()


@pytest.mark.parametrize("text", UNRELATED)
async def test_an_unrelated_message_is_not_answered_by_a_question(services: Services, text: str) -> None:
    answers = _answers(services.handbook)
    first = await Chat(services)(text)
    assert not [a for a in answers if a in first], first
    for item in services.handbook.items.values():  # right after each item's card
        chat = Chat(services)
        card = await chat(f"{item.title}要带啥子材料")
        if "一次性告知" not in card:
            continue  # the title alone did not show the card (a problem report, a choice)
        reply = await chat(text)
        assert not [q.answer for q in item.questions if q.answer in reply], (item.id, reply)


async def test_items_are_reached_by_the_after_card_check(services: Services) -> None:
    """The check above is not vacuous: most items' titles show their card."""
    shown = [
        item.id
        for item in services.handbook.items.values()
        if "一次性告知" in await Chat(services)(f"{item.title}要带啥子材料")
    ]
    assert len(shown) >= 45, shown


async def test_a_request_asked_yes_or_no_is_still_a_request(services: Services) -> None:
    """Only the item's own question, asked yes-or-no, is answered instead of booked."""
    asked = await Chat(services)("老年证可以儿子帮我去办不")
    assert asked.startswith("【老年人优待证办理】家属可以代办"), asked
    booked = await Chat(services)("帮我开一个居住证明 租房合同和身份证我都有 明天上午来拿可以不")
    assert "收到，您要办的是【社区证明开具】" in booked, booked
