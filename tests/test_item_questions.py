"""Items' own questions (handbook `questions`) answer what they ask and nothing else.

The scripted conversations in tests/data/conversations_questions.yaml check that a question is
answered first and after the card; here: every item has questions, and messages that ask none of
them (greetings, the office's hours, a repair, a ticket, something outside the community) are
answered as before — neither as a first message nor right after any item's card; and what the
card already answers (what to bring, where, when, how long) is not taken by a question; a
question asked yes-or-no in a longer message, beside the time limit, of two items at once or while
a numbered choice waits is answered (session-7 trial).
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


async def test_a_yes_or_no_question_inside_a_longer_message_is_answered(services: Services) -> None:
    """吗 closes a question wherever it stands, and a clause may end in 不: the rest of the message
    says why (a session-7 trial resident asking whether she could apply for her mother was booked)."""
    text = "低保我可以替我妈去社区申请吗她身体不好不方便出门"
    first = await Chat(services)(text)
    assert first.startswith("【最低生活保障（低保）申请】可以。"), first
    chat = Chat(services)
    await chat("低保咋个申请")
    assert (await chat(text)).startswith("【最低生活保障（低保）申请】可以。")
    clause = await Chat(services)("老年证可以儿子帮我去办不 我腿脚不方便")
    assert clause.startswith("【老年人优待证办理】家属可以代办"), clause


async def test_the_time_limit_asked_beside_an_own_question_follows_its_answer(services: Services) -> None:
    chat = Chat(services)
    await chat("低保咋个申请")
    reply = await chat("我是大学毕业刚回来的我也算家庭成员吗我没收入会不会影响审核还有审批下来要多久")
    assert "共同生活的家庭成员" in reply and "办多久：30 个工作日内" in reply, reply
    assert reply.endswith(facts.MORE)
    # The question's own words are not read again as the fact: 多久内 asks the deadline only.
    alone = await Chat(services)("新生儿上户口有没有期限")
    assert "办多久" not in alone, alone


async def test_a_question_two_items_could_answer_gets_both_answers_not_which_one(services: Services) -> None:
    """Both items it could be about answer it: each answer, then a number shows that checklist."""
    chat = Chat(services)
    reply = await chat("我父亲户口在老家绵阳，不在这个社区，能用这边的老年食堂和日间照料吗？")
    assert "您想问的是哪一项" not in reply, reply
    assert "【老年助餐】能吃。" in reply and "【居家养老服务与日间照料】能用。" in reply, reply
    assert "1. 老年助餐" in reply and "2. 居家养老服务与日间照料" in reply
    assert len(reply.encode("utf-8")) <= 2048
    assert (await chat("2")).startswith("【居家养老服务与日间照料】一次性告知")


async def test_a_question_while_a_numbered_choice_waits_is_answered_by_the_listed_items(
    services: Services,
) -> None:
    """ "1和2都想知道，外地户口能不能用" names no single number: the listed items' own answers (the
    trial resident got the residence permit); one listed item named: only its answer; a service not
    listed: that service, as before."""
    chat = Chat(services)
    await chat("老年证和高龄津贴有什么区别")
    both = await chat("1和2都想知道，外地户口能不能领")
    assert "【高龄津贴申领】高龄津贴一般要本地户籍" in both and "【老年人优待证办理】外地户口" in both, both
    chat = Chat(services)
    await chat("老年证和高龄津贴有什么区别")
    one = await chat("高龄津贴 户口在老家能领不")
    assert one.startswith("【高龄津贴申领】高龄津贴一般要本地户籍") and "老年人优待证办理】" not in one, one
    chat = Chat(services)
    await chat("老年证和高龄津贴有什么区别")
    other = await chat("外地户口能办居住证吗")
    assert other.startswith("【居住证办理】"), other
    chat = Chat(services)
    await chat("老年证和高龄津贴有什么区别")
    assert (await chat("2")).startswith("【老年人优待证办理】")  # a number still picks
