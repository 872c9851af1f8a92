"""No dead ends (SQLite and PostgreSQL, through the pipeline): life events list their items, other
agencies' business names the agency, a lonely resident hears what is on offer, an unsure reading
offers choices — and every one of these, with the number then picked, is recorded for review."""

from __future__ import annotations

import pytest

from desk.desk import ServiceDesk
from handlers import Services
from intents import Classifier
from tests.conftest import FakeClock
from tests.test_handlers import Chat


@pytest.fixture
def say(desk_services: Services) -> Chat:
    return Chat(desk_services)


async def recorded(desk: ServiceDesk, classifier: Classifier, days: int = 1):
    return await desk.unanswered.review(days, classifier.normalize)


async def test_a_life_event_lists_its_items_and_the_pick_is_recorded(say, desk, classifier) -> None:
    reply = await say("我爸上个礼拜走了 后头要去办些啥子手续")
    assert "家人去世后要办的事" in reply
    assert "1. 死亡登记与户口注销" in reply and "回复数字" in reply
    picked = await say("2")
    assert "【丧葬补助金与抚恤金申领】" in picked
    [group] = await recorded(desk, classifier)
    assert group.outcome == "life:bereavement"
    assert group.offered[:2] == ("death_registration", "funeral_subsidy")
    assert group.picked == {"funeral_subsidy": 1}


async def test_a_service_named_inside_a_life_event_is_answered_directly(say, desk, classifier) -> None:
    reply = await say("我妈走了 丧葬补助金咋个领")
    assert "【丧葬补助金与抚恤金申领】" in reply
    assert await recorded(desk, classifier) == []


@pytest.mark.parametrize(
    ("text", "place"),
    [
        ("驾照扣满12分了咋个办", "车管所"),
        ("身份证掉了 补办要去哪里", "派出所"),
        ("公积金能取出来装修房子不", "公积金"),
    ],
)
async def test_another_agencys_business_names_the_agency(say, desk, classifier, text, place) -> None:
    reply = await say(text)
    assert "不归社区办" in reply and place in reply
    assert "帮不上忙" not in reply
    [group] = await recorded(desk, classifier)
    assert group.outcome.startswith("referral:")


async def test_nothing_found_names_the_hotline_and_is_recorded(say, desk, classifier) -> None:
    reply = await say("讲个笑话听听嘛")
    assert "12345" in reply and "人工" in reply
    [group] = await recorded(desk, classifier)
    assert group.outcome == "apology" and group.count == 1


async def test_a_lonely_resident_hears_what_is_on_offer(say, desk, classifier) -> None:
    reply = await say("一个人在屋头好无聊哦 娃儿些都在外地")
    assert "挂念" in reply and "社区活动" in reply and "人工" in reply
    assert "【社区活动与老年兴趣班报名】" in await say("1")


async def test_a_neighbour_not_seen_for_days_is_an_emergency_with_a_visit_ticket(say, desk) -> None:
    reply = await say("对门那个独居嬢嬢的窗帘三天都没拉开过 有点担心")
    assert "【紧急】" in reply and "110" in reply
    [ticket] = await desk.tickets.list()
    assert ticket.item_id == "elderly_visiting" and ticket.urgent


async def test_the_review_masks_mobiles_and_groups_the_same_question(
    say, desk, classifier, clock: FakeClock
) -> None:
    await say("讲个笑话听听嘛 我电话13812345678")
    await say("讲个笑话听听嘛 我电话13812345678", resident="r2")
    clock.advance(minutes=40)
    [group] = await recorded(desk, classifier)
    assert group.count == 2
    assert "13812345678" not in group.text and "138****5678" in group.text
    clock.advance(days=3)
    assert await recorded(desk, classifier, days=1) == []


async def test_a_number_sent_long_after_the_offer_is_not_recorded_as_its_pick(
    say, desk, classifier, clock
) -> None:
    await say("老人走了")
    clock.advance(minutes=45)
    await desk.unanswered.picked("r1", "death_registration")
    [group] = await recorded(desk, classifier)
    assert group.picked == {}


def test_staff_list_the_review_from_the_command_line(tmp_path) -> None:
    from tests.test_cli import run

    env = {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'review.db'}"}
    assert run("chat", stdin="讲个笑话嘛\n驾照扣分了咋个办\n讲个笑话嘛\n", env=env).returncode == 0
    listed = run("nlu", "unanswered", "--days", "1", env=env)
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.splitlines()
    assert lines[0].startswith("2\t道歉\t讲个笑话")
    assert any("转介：车管所（交警）" in line for line in lines)


@pytest.mark.parametrize("text", ["今天好冷哦", "天天下雨 烦死了"])
async def test_chat_that_asks_nothing_gets_company_not_a_refusal(say, desk, classifier, text) -> None:
    reply = await say(text)
    assert "我在呢" in reply and "人工" in reply
    assert "办不了" not in reply
    [group] = await recorded(desk, classifier)
    assert group.outcome == "chat"


async def test_calling_out_is_answered_warmly(say) -> None:
    """ "妹儿 在不在嘛" is read as a greeting since blind batch 14 was folded: hello and what the bot
    can do, never a refusal."""
    reply = await say("妹儿 在不在嘛")
    assert ("我在呢" in reply or "您好" in reply) and "办不了" not in reply


@pytest.mark.parametrize("text", ["明天重庆下不下雨哦", "给我讲个笑话嘛"])
async def test_a_question_or_request_outside_services_names_the_hotline(say, text) -> None:
    reply = await say(text)
    assert "12345" in reply and "我在呢" not in reply


async def test_the_same_checklist_asked_again_is_recorded_for_review(say, desk, classifier) -> None:
    assert "一次性告知" in await say("娃儿生了上户口要带啥子")
    # (Session 28: where the newborn's hukou goes is now the item's own answer, so the same matter
    # said again without a question stands for the checklist not answering.)
    reply = await say("你还是没说清楚 我问的是娃儿上户口的事")
    assert "一次性告知" not in reply and "人工" in reply
    [group] = await recorded(desk, classifier)
    assert group.outcome == "again" and group.count == 1
