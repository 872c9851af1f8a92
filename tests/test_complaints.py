"""Complaints and handoffs through the real handlers and a real database (SQLite and PostgreSQL):
a complaint is a ticket for the secretary, "人工" reaches the staff member on duty with what the
resident said, and only the holder, a duty leader or the secretary answers with "回复 N 内容"."""

from __future__ import annotations

from datetime import datetime

import pytest

from desk.desk import ServiceDesk
from handlers import Services
from handlers.conversation import PLACED, Conversation, Placed
from handlers.notices import group_markdown, resident_text
from tests.conftest import SHANGHAI, FakeClock
from tests.test_handlers import Chat
from tests.test_staff_commands import bind


@pytest.fixture
def say(desk_services: Services) -> Chat:
    return Chat(desk_services)


async def pushes(desk: ServiceDesk, event: str) -> list:
    return [r for r in await desk.outbox.rows() if r.channel == "group" and r.event == event]


async def report_lamp(say: Chat, resident: str = "r1") -> str:
    """An order for a broken stairwell lamp (facility repair), confirmed."""
    await say("3栋楼道灯坏了", resident=resident)
    await say("李大爷", resident=resident)
    await say("13812345678", resident=resident)
    await say("阳光苑3栋", resident=resident)
    placed = await say("确认", resident=resident)
    assert "工单号 10001" in placed
    return placed


async def test_a_complaint_is_a_ticket_for_the_secretary_pushed_to_the_group(say, desk, handbook) -> None:
    reply = await say("工作人员态度太差了，我要投诉")
    assert "投诉编号 10001" in reply and "陈书记" in reply and "前给您答复" in reply
    assert "13800001005" not in reply  # the secretary's own mobile is never given out
    ticket = await desk.tickets.get(10001)
    assert ticket.kind == "complaint" and ticket.assignee == "陈书记" and ticket.state == "assigned"
    assert ticket.done_due_at is not None and ticket.claim_remind_at is not None  # the clocks follow it up
    [push] = await pushes(desk, "complaint")
    text = group_markdown(push.event, push.payload, handbook)
    assert "<@chenshuji>" in text and "居民投诉" in text and "态度太差" in text
    # Three working days from Saturday lunchtime: Monday to Wednesday.
    assert "12月2日（周三）前给您答复" in reply


COMPLAINTS = ("態度很差，我要投訴", "你们推来推去踢皮球", "社区不作为", "办事敷衍得很", "态度撇得很")


@pytest.mark.parametrize("text", [*COMPLAINTS, "我要向街道反映", "说话凶得很"])
async def test_complaints_in_dialect_and_traditional_characters(say, desk, text: str) -> None:
    assert "投诉编号 10001" in await say(text)
    assert (await desk.tickets.get(10001)).kind == "complaint"


async def test_a_complaint_about_an_open_ticket_names_it_as_parent(say, desk, handbook) -> None:
    await report_lamp(say)
    reply = await say("投诉 楼道灯的事情一直不作为")
    assert "关于工单 10001" in reply and "投诉编号 10002" in reply
    lamp, complaint = await desk.tickets.get(10001), await desk.tickets.get(10002)
    assert complaint.parent_id == lamp.id and complaint.kind == "complaint"
    [push] = await pushes(desk, "complaint")
    text = group_markdown(push.event, push.payload, handbook)
    assert "关于工单 10001" in text and "138****5678" in text and "13812345678" not in text
    # "10001 一直没人管" names the ticket: a complaint about it, though no complaint word was said;
    # the same day it joins the complaint already open instead of opening a second one.
    again = await say("10001 一直没人管")
    assert "已补充到您今天的投诉（编号 10002）" in again and "关于工单 10001" in again
    assert (await desk.tickets.get(10002)).fields["more"] == "10001 一直没人管"
    assert [t.number for t in await desk.tickets.list(resident="r1")] == ["10001", "10002"]
    assert len(await pushes(desk, "detail")) == 1


async def test_neglect_without_a_ticket_of_the_residents_is_a_report_not_a_complaint(say, desk) -> None:
    reply = await say("楼道垃圾没人管")
    assert "投诉编号" not in reply
    assert await desk.tickets.list(resident="r1") == []
    # Somebody else's ticket number does not make it a complaint about that ticket.
    await report_lamp(say, resident="r2")
    assert "投诉编号" not in await say("10001 一直没人管", resident="r3")


async def test_a_low_rating_for_a_just_completed_ticket_is_a_rating(say, desk) -> None:
    await report_lamp(say)
    lamp = await desk.tickets.get(10001)
    member = await desk.staff.by_name(lamp.assignee or "")
    await desk.claim(member, 10001)
    await desk.complete(member, 10001, "灯已换")
    reply = await say("差评 态度太差")
    assert "收到您给工单 10001 的 1 分" in reply
    kinds = [t.kind for t in await desk.tickets.list(resident="r1")]
    assert kinds == ["order", "follow_up"]  # the secretary's 回访, not a second complaint


async def test_an_unhappy_word_without_a_ticket_to_rate_is_backed_by_a_complaint(say, desk) -> None:
    reply = await say("不满意")
    assert "投诉编号 10001" in reply
    assert (await desk.tickets.get(10001)).assignee == "陈书记"


async def test_handoff_reaches_the_staff_member_on_duty_with_the_last_messages(say, desk, handbook) -> None:
    await say("低保怎么申请")
    await say("我电话13812345678，身份证510104195001011234")
    reply = await say("转人工")
    # Saturday lunchtime: 李强 and 赵磊 are on weekend duty; 李强 has fewer tickets by name order.
    assert "李老师" in reply and "工单 10001" in reply and "今天 12:45 前" in reply
    assert "028-8888 6666" in reply
    ticket = await desk.tickets.get(10001)
    assert ticket.kind == "handoff" and ticket.assignee == "李强" and ticket.state == "assigned"
    [push] = await pushes(desk, "handoff")
    text = group_markdown(push.event, push.payload, handbook)
    assert "<@liqiang>" in text and "低保怎么申请" in text and "转人工" in text
    assert "138＊＊＊＊5678" in text and "13812345678" not in text and "510104195001011234" not in text
    assert "回复 10001 内容" in text


@pytest.mark.parametrize("text", ["人工", "转人工", "找个真人", "叫个人跟我说", "我要找人工"])
async def test_every_way_of_asking_for_a_person_opens_a_handoff(say, desk, text: str) -> None:
    assert "李老师" in await say(text)
    assert (await desk.tickets.get(10001)).kind == "handoff"


async def test_asking_again_adds_to_the_open_handoff(say, desk, handbook) -> None:
    await say("人工")
    again = await say("怎么还没人理我，转人工")
    assert "已经请李老师回复您了（工单 10001）" in again
    assert len(await desk.tickets.list(resident="r1")) == 1
    [detail] = await pushes(desk, "detail")
    assert "<@liqiang>" in group_markdown(detail.event, detail.payload, handbook)


async def test_off_duty_the_next_window_answers_and_the_resident_is_told_when(
    say, desk, clock: FakeClock
) -> None:
    clock.set(datetime(2026, 11, 28, 22, 0, tzinfo=SHANGHAI))
    reply = await say("人工")
    # Sunday's weekend duty (张敏, 赵磊) starts at 09:00; the claim clock gives 15 minutes.
    assert "不在值班时间" in reply and "明天 09:15 前" in reply and "值班手机" in reply
    ticket = await desk.tickets.get(10001)
    assert ticket.assignee in ("张敏", "赵磊")
    [push] = await pushes(desk, "handoff")
    assert push.due_at.replace(tzinfo=None) == datetime(2026, 11, 29, 1, 0)  # 09:00 in Shanghai, UTC


async def test_the_holder_answers_with_reply_n_and_it_reaches_the_resident(say, desk, handbook) -> None:
    await say("转人工")
    await bind(say, desk, "李强", "wx-li")
    answered = await say("回复 10001 您好，我是社区的李老师，低保的事我来帮您办", resident="wx-li")
    assert "已发给工单 10001 的居民" in answered
    [row] = [r for r in await desk.outbox.rows() if r.channel == "resident"]
    assert row.target == "r1" and row.event == "staff_reply"
    text = resident_text(row.event, row.payload, handbook)
    assert text.startswith("李老师回复您（工单 10001）") and "低保的事我来帮您办" in text
    events = await desk.tickets.events(10001)
    assert events[-1].action == "note" and "低保的事我来帮您办" in events[-1].detail["note"]
    ticket = await desk.tickets.get(10001)
    assert ticket.claim_remind_at is None  # answered: no reminder chases it


async def test_only_the_holder_a_duty_leader_or_the_secretary_may_reply(say, desk) -> None:
    await say("转人工")
    assert "工作人员用的指令" in await say("回复 10001 你好", resident="r2")  # a resident
    await bind(say, desk, "王芳", "wx-wang")
    refused = await say("回复 10001 你好", resident="wx-wang")  # staff, but not the holder
    assert "只有负责人、值班长或书记能回复居民" in refused
    await bind(say, desk, "陈书记", "wx-chen")
    assert "已发给" in await say("回复 10001 我是陈书记，您的事我们记下了", resident="wx-chen")
    await bind(say, desk, "张敏", "wx-zhang")  # a duty leader
    assert "已发给" in await say("回复 10001 明天上午给您回电话", resident="wx-zhang")
    assert len([r for r in await desk.outbox.rows() if r.channel == "resident"]) == 2
    await bind(say, desk, "李强", "wx-li")
    assert "格式：回复 工单号 内容" in await say("回复 10001", resident="wx-li")


async def test_a_residents_own_reply_word_is_not_a_staff_command(say) -> None:
    assert "工作人员用的指令" not in await say("回复我一下嘛")


async def test_resident_text_cannot_mention_or_link_in_the_group(say, desk, handbook) -> None:
    await say("<@all> [点我](http://evil.example) **急**")
    await say("人工")
    [push] = await pushes(desk, "handoff")
    text = group_markdown(push.event, push.payload, handbook)
    assert "<@all>" not in text
    assert "](" not in text and "evil.example" not in text and "链接已删除" in text
    assert text.count("<@") == 1  # only the assignee


def test_recent_texts_survive_state_changes() -> None:
    conversation = Conversation()
    for n in range(7):
        conversation.remember(f"第{n}句")
    conversation.enter(PLACED, Placed("elderly_card", "10001"))
    saved = conversation.change()
    assert saved is not None and saved["recent"] == [f"第{n}句" for n in range(2, 7)]
    loaded = Conversation.load(saved, datetime.now(SHANGHAI), {"elderly_card"})
    assert loaded.get(PLACED) == Placed("elderly_card", "10001") and len(loaded.recent) == 5
    loaded.forget()
    kept = loaded.change()
    assert kept == {"v": 2, "recent": [f"第{n}句" for n in range(2, 7)]}
    assert Conversation.load(kept, datetime.now(SHANGHAI), set()).recent == loaded.recent
