"""Emergencies through the signed webhook: the first reply points to help, ordinary questions don't.

Two sets written blind by people who had not seen the detector:
- emergencies.tsv (177 messages: 126 emergencies, 51 look-alikes) was scored before it was used
  for anything: 81/126 detected, 4/51 false alarms. It then drove the second round of changes.
- emergencies_dev.tsv (141 messages) drove the first round (its first partial score: 58/93).
- emergencies_round3.tsv (90 messages: 60 emergencies, 30 look-alikes), written after both rounds
  and scored before the third: 44/60 detected, 0/30 false alarms.
- emergencies_round4.tsv (75 messages: 50 emergencies, 25 look-alikes), scored before the fourth:
  40/50 detected, 3/25 false alarms. One miss is kept on purpose: a gas smell mentioned inside a
  question about 报名 (a service question anywhere in the message still cancels a hazard; without
  that rule "电梯按钮失灵了 按8楼没反应 … 麻烦报个修" would be an alarm).
- emergencies_round5.tsv (100 messages: 60 emergencies, 40 look-alikes, session 16), scored on the
  landed code before the fifth round: 51/60 detected, 6/40 false alarms (told as news, a joke, 没气了
  of the gas, smoke already cleared, 发错了, 每次 of a habit).
- emergencies_round6.tsv (100 messages: 60 emergencies, 40 look-alikes, session 17), scored on the
  landed code before the sixth round: 53/60 detected, 2/40 false alarms (dialect falls 跶倒/梭到地上, a
  bottle used as a weapon, water pouring near a light, a gas pipe after a 物业费 question in one run-on,
  a lift's advert, a TV plot). A service question now cancels a hazard only in the same matter: one
  asked before 还有就是 / 另外 / 对了 is another matter.
- emergencies_round7.tsv (100 messages: 60 emergencies, 40 look-alikes, session 18), scored on the
  landed code before the seventh round: 51/60 detected, 3/40 false alarms (stroke signs 说话说不清 /
  半边手脚没得劲, a child dragged into a van after 学校 read as 学 "learning", tiles falling, sockets
  under water, 瓦斯, a child locked in, "救命 电费这么贵", a smoke alarm's 烟雾, a well cover "有没有人管").
- emergencies_round8.tsv (100 messages: 60 emergencies, 40 look-alikes, session 19), scored on the
  landed code before the eighth round: 52/60 detected, 4/40 false alarms (a lone "火！", 敌敌畏 drunk, a
  bottle of pills swallowed, half a face still while she says she is fine, someone lying in a doorway, a
  dog that will not let go, 要去跳江, a child pulled into a car; a joke with 哈哈哈, a heart "about to act
  up" over stocks, a dream, a novel's plot).
- emergencies_round9.tsv (100 messages: 60 emergencies, 40 look-alikes, session 20), scored on the
  landed code before the ninth round: 54/60 detected, 4/40 false alarms, 2 dogs given 119 first
  (gas "said to be" 煤气 and a hissing stove without flame, 水管暴了, a pole blown down onto railings,
  "我现在好想死…控制不住自己", two transfers in progress; a drill already over, frying oil
  "烧到冒烟吗", a children's game of 警察抓小偷, a fire video).
- emergencies_round10.tsv (100 messages: 60 emergencies, 40 look-alikes, session 21), scored on the
  landed code before the tenth round: 52/60 detected, 5/40 false alarms, 2 wrong first numbers (a smell
  right after opening a new stove's valve, a charging scooter 着起来了, a grandson not back from school,
  a man following her for days, a missing old man after a care-subsidy question, a flowerpot thrown
  down, 不想活了 after 老伴走了以后, a task scam's "再转一万才能提现"; a fire and a lift rescue referred
  to as 那个事, a game's 救命, a lost cat, "以为煤气漏了 结果是鸡蛋臭了"; a faked accident given 120).
- emergencies_round11.tsv (100 messages: 60 emergencies, 40 look-alikes, session 22), scored on the
  landed code before the eleventh round: 55/60 detected, 6/40 false alarms, 4 wrong first numbers
  (pills taken by the handful, pesticide drunk by mistake, screen sharing for a "refund", a cable down
  in standing water, a burst main making a river at the door; a son who keeps saying he does not want
  to live given 110 before 12356, a "your son is in trouble" deposit given the generic help line, a
  power strip live in flood water given the water line; a TV drama's heart attack, "救命 表格咋个填",
  热得要死人, burnt food "about to catch fire", a film's falling lift, a lift rescue already over).
- emergencies_round12.tsv (100 messages: 60 emergencies, 40 look-alikes, session 23), scored on the
  landed code before the twelfth round: 50/60 detected, 4/40 false alarms, 0 wrong first numbers (a
  diabetic shaking in a cold sweat who barely answers, breathless after dialysis with dark lips, a son's
  goodbye message then his phone off, a son who beats and locks in his mother, a mother brainwashed by
  health-product sellers on her way to the bank, a "grandson" who needs money and says not to tell his
  parents, an angler not back after dark, a video call cut off, a sparking socket, a dog that has bitten
  two people; frying sugar until the oil smokes, a lift-rescue drill notice, praise for a past lift
  rescue, a news story about a fraud).
- emergencies_round13.tsv (100 messages: 60 emergencies, 40 look-alikes, session 24), scored on the
  landed code before the thirteenth round: 50/60 detected, 2/40 false alarms, 0 wrong first numbers (a
  bad smell with the stove off, an old man fallen out of bed, moaning behind a door nobody can open, a
  dog chasing a child, 活起莫意思, "a burden to my children", "I can't hold on any more", someone sitting
  on a roof edge, a bottle of sleeping pills swallowed, savings sent and the phone now dead; "救命 this
  medical insurance won't pay", a joke about jumping in the river).
- emergencies_round14.tsv (100 messages: 60 emergencies, 40 look-alikes, session 25), scored on the
  landed code before the fourteenth round: 55/60 detected, 3/40 false alarms, 0 wrong first numbers (着伙了
  for 着火了, a grandchild choking on a rice ball with a purple face, a fall typed 拌到 after a question, an
  old neighbour not out for days with a smell at the door; a mouth on fire from chillies, a phone so slow
  "I could die", a lift that trapped someone this morning and let them out). An estate-wide
  blackout with a hot old man stayed missed until session 30 made a whole building's blackout an alarm.
- emergencies_round15.tsv (100 messages: 60 emergencies, 40 look-alikes, session 26), scored on the
  landed code before the fifteenth round: 53/60 detected, 5/40 false alarms, 0 wrong first numbers (a
  loose wolfhound lunging at people, a family seeing little people after wild mushrooms, money sent to
  someone posing as the son, 电提卡起了, a father alone whose phone 莫得人接, a grandson gone in the park
  "一转身"; a barbecue stall's smoke, a burnt dish already aired, 身体倒还好, "I can't breathe" after three
  offices, the lift sticker's 96333). A whole building's blackout at night stayed missed until
  session 30.
- emergencies_round16.tsv (100 messages: 60 emergencies, 40 look-alikes, session 27), scored on the
  landed code before the sixteenth round: 53/60 detected, 2/40 false alarms, 2 wrong first numbers (low
  blood sugar and nobody home, "活起莫得意思" after the husband died, a road caved into a hole, a crash
  with oil across the road, a fall with no getting up, a grandmother silent after the stairs, savings sent
  to a "grandson" in a crash; a lift that let its rider out ten minutes later, a gas safety visit feared
  to be a scam). A whole building's blackout stayed missed until session 30.
- emergencies_round17.tsv (100 messages: 60 emergencies, 40 look-alikes, session 28), scored on the
  landed code before the seventeenth round: 55/60 detected, 2/40 false alarms, 0 wrong first numbers
  (an asthma inhaler not helping typed 喘不过起, a head knocked on a table corner and dazed, a
  grandmother 滑到了 and unable to get up, a stroke-survivor husband not back from his walk 到处找不到,
  a loose dog chasing children that had bitten one; a child's homework 逼疯了 救命哦, a tree leaning a
  little 担心哪天 it falls).
- emergencies_round18.tsv (100 messages: 60 emergencies, 40 look-alikes, session 28), scored on the
  session's first commit (4d9e217): 52/60 detected, 5/40 false alarms, 0 wrong first numbers (快叫救护车, a
  fall alone with 腰动不到了, a grandson's head caught in the railings, weeping every day since a son's
  death, 不剪了 for 不见了, a husband fallen and silent after 等下 in a vaccine question; 蛇年快乐, a maths
  problem's 救命, a lift that opened by itself, homework to be burnt 笑死了, 一点燃气味道 that was cooking).
  One stays missed: "有人在没得 快点回我一下 急得很" with nothing said
  of what (the blackout is caught since session 30) (a person is asked for; the writer's number was none).
- emergencies_round19.tsv (100 messages: 60 emergencies, 40 look-alikes, session 29), scored on the
  landed code (2b2eba9): 51/60 detected, 3/40 false alarms, 0 wrong first numbers (a mother fainted on
  the floor after a gas water heater, a scooter on fire after 哎呀不说了 in a permit question, a worker
  fallen from scaffolding 一动不动, a child 關住 in the lift, daily weeping 整个人都垮了, 我今晚就去跳江,
  money sent 按那个客服说的 and the phone dead, 快点来人 求求你们了; 跳楼价, a hob with 莫得味道, a lift
  停了 with 里头没关到人). The building's blackout stayed missed until session 30.
- emergencies_round20.tsv (100 messages: 60 emergencies, 40 look-alikes, session 29), scored on the
  session's first commit (18db057): 56/60 detected, 1/40 false alarms, 0 wrong first numbers (气漏了 with a
  valve 关不死, a child fallen from a second-floor window and crying, a child 莫得回来 from school, "帮帮我
  我好怕 出事了" — 好怕 is fear, not a supposition; 万一哪天 far before 心脏病 in a question about an alarm
  button).
- emergencies_round21.tsv (100 messages: 60 emergencies, 40 look-alikes, session 30), scored on the
  landed code (37eebcc): 53/60 detected, 2/40 false alarms, 0 wrong first numbers (快喊就护车, a whole
  building's sudden blackout — now an alarm with 95598 first, which also catches the blackouts that rounds
  14-16 and 19 kept as known misses —, a meal courier knocking for half an hour with yesterday's box still
  on the door, 活到好累 after a husband's death, a son locked in saying he will take sleeping pills, a
  father alone with 好臭的气味 at home, a "policeman" wanting money moved to a 安全帐户; 燃起来了 about a
  dance contest won, 气出心脏病 over a grandson's games).
- emergencies_round22.tsv (100 messages: 60 emergencies, 40 look-alikes, session 30), scored on the
  session's first commit (c86b383): 52/60 detected, 3/40 false alarms, 0 wrong first numbers (然气味 still
  there after 阀门关了, a grandmother 甩了一跤 lying on the floor, a child 没到屋 three hours after school —
  平时五点就回来了 is a habit, not a return —, a bang at the transformer and the area dark, a swarm of hornets
  that had stung two children, strays circling a resident, "觉得自己是个多余的人", money going to an online
  boyfriend at the bank counter; a hob 没气了, snakes heard of before an outing, smoke 散完了).
- emergencies_round23.tsv (100 messages: 60 emergencies, 40 look-alikes, session 31), scored on the
  landed b25922d: 55/60 detected, 0/40 false alarms, 1 wrong first number (a diabetic grandmother sweating
  and slow to answer, a roof tank's pipe split with water running down several floors, a gas meter spinning
  with nobody cooking, 栽了个跟斗 and unable to stand alone at home, a neighbour's child hanging on the air
  conditioner outside the window; a lonely man's television on for three days got 120 only).
- emergencies_round24.tsv (100 messages: 60 emergencies, 40 look-alikes, session 31), scored on 4b13de4:
  55/60 detected, 1/40 false alarms, 0 wrong first numbers (a grandmother 摔到了 unable to move for back
  pain, a mother pinned under a collapsed old house, water spouting like a fountain in the street, rocks
  still falling onto a road, a fake community account draining a card after the code was given — the
  pension allowance named as bait had made it a service question; a boiled-over soup that put out the
  flame, valve shut and the smell gone).
- emergencies_round25.tsv (100 messages: 60 emergencies, 40 look-alikes, session 32), scored on the
  landed a5ce264: 58/60 detected, 3/40 false alarms, 1 wrong first number (a child's hand stuck in the
  window bars, a stray dog that had already jumped at two old people — booked as a complaint; a drama's
  jump, a grandson's 不想活了 as a saying and the lift number asked to pin on the wall raised alarms; a
  caller posing as a crashed grandson got 120 first).
- emergencies_round26.tsv (100 messages: 60 emergencies, 40 look-alikes, session 32: night-time, children
  and carers reporting, shops, markets and parks), scored on 79a82b2: 46/60 detected, 1/40 false alarms,
  0 wrong first numbers (a carer's "我是保姆/我是护工" read as a service asked and silenced five — choking,
  a fire by a bedridden man, gas, a beaten old man, a carer's despair —; rotten-egg smell told by a child,
  a fall down the stairs, a child's arm bent wrong, a lost child in a mall, a child shut in a lift, a
  hit-and-run in the market, a scam call from "the police station"; a school drill's "着火了咋个跑" alarmed).
Every message is sent as its resident's first message, through the real pipeline with the desk.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.app import create_app
from bot.settings import Settings
from desk.desk import ServiceDesk
from handlers import Services
from knowledge import Handbook
from storage import MemoryStore
from storage.db import Database
from tests.conftest import SHANGHAI, FakeClock, example_rota
from tests.test_e2e import Phone

DATA = Path(__file__).parent / "data"


def rows(name: str) -> list[tuple[str, str, str, str]]:
    lines = (DATA / name).read_text(encoding="utf-8").splitlines()
    found = [line.split("\t") for line in lines if line.strip() and not line.startswith("#")]
    return [(*row, "-", "-")[:4] for row in found]


@pytest.fixture
async def sqlite_desk(handbook: Handbook, clock: FakeClock, tmp_path: Path) -> AsyncIterator[ServiceDesk]:
    """The sets run once, on SQLite: the desk's SQL is covered on both databases elsewhere."""
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'tickets.db'}")
    await database.upgrade()
    desk = ServiceDesk(database, handbook.calendar, SHANGHAI, clock)
    await desk.staff.import_rota(example_rota())
    yield desk
    await desk.conversations.flush()  # background writes done before the database closes
    await database.close()


KNOWN_MISSES = {
    "emergencies_round4.tsv": 1,
    "emergencies_round18.tsv": 1,
}


@pytest.mark.parametrize(
    "set_name",
    [
        "emergencies.tsv",
        "emergencies_dev.tsv",
        "emergencies_round3.tsv",
        "emergencies_round4.tsv",
        "emergencies_round5.tsv",
        "emergencies_round6.tsv",
        "emergencies_round7.tsv",
        "emergencies_round8.tsv",
        "emergencies_round9.tsv",
        "emergencies_round10.tsv",
        "emergencies_round11.tsv",
        "emergencies_round12.tsv",
        "emergencies_round13.tsv",
        "emergencies_round14.tsv",
        "emergencies_round15.tsv",
        "emergencies_round16.tsv",
        "emergencies_round17.tsv",
        "emergencies_round18.tsv",
        "emergencies_round19.tsv",
        "emergencies_round20.tsv",
        "emergencies_round21.tsv",
        "emergencies_round22.tsv",
        "emergencies_round23.tsv",
        "emergencies_round24.tsv",
        "emergencies_round25.tsv",
        "emergencies_round26.tsv",
    ],
)
async def test_every_emergency_gets_help_first_and_no_look_alike_does(
    set_name: str, settings: Settings, services: Services, sqlite_desk: ServiceDesk, clock: FakeClock
) -> None:
    desk = sqlite_desk
    desk_services = replace(services, desk=desk, clock=clock, tz=SHANGHAI)
    numbers = {key: n.phone for key, n in desk_services.handbook.emergency.numbers.items()}
    client = TestClient(TestServer(create_app(settings, desk_services, MemoryStore()), host="127.0.0.1"))
    await client.start_server()
    missed, false_alarms, wrong_first, unbacked = [], [], [], []
    try:
        for index, (text, kind, wanted, _acts) in enumerate(rows(set_name)):
            reply = await Phone(client, f"o-{index}")(text)
            alarmed = reply.startswith("【紧急】")
            if kind == "none":
                if alarmed:
                    false_alarms.append(text)
                continue
            if not alarmed or "抱歉" in reply or "怎么称呼" in reply:
                missed.append((text, reply[:40]))
                continue
            first = wanted.split(",")[0].strip()
            if first != "-" and numbers.get(first, first) not in reply.splitlines()[0]:  # "-": none named
                wrong_first.append((text, first))
            if "紧急工单" in reply and not (await desk.tickets.list(resident=f"o-{index}")):
                unbacked.append(text)  # a promise with no ticket behind it
    finally:
        await client.close()
    assert len(missed) <= KNOWN_MISSES.get(set_name, 0), missed
    assert not false_alarms, false_alarms
    assert not unbacked, unbacked
    # The first number to call is a judgement (a burst main: 110 or the water company?); the
    # writers' first number is among ours for all but a handful.
    assert len(wrong_first) <= 3, wrong_first


async def test_the_community_acts_only_with_a_ticket(
    settings: Settings, desk_services: Services, desk
) -> None:
    client = TestClient(TestServer(create_app(settings, desk_services, MemoryStore()), host="127.0.0.1"))
    await client.start_server()
    try:
        reply = await Phone(client, "o-gas")("3栋2单元楼道里好大一股煤气味")
        [ticket] = await desk.tickets.list(resident="o-gas")
        assert f"紧急工单（编号 {ticket.number}）" in reply and ticket.kind == "emergency" and ticket.urgent
        assert "请回复具体地址" not in reply  # the place is in the message
        private = await Phone(client, "o-fall")("我妈摔倒了起不来 头在流血")
        assert "120" in private.splitlines()[0] and "紧急工单" not in private
        assert not await desk.tickets.list(resident="o-fall")
    finally:
        await client.close()


async def test_at_night_the_emergency_names_the_duty_phone_and_its_clock_runs_at_once(
    settings: Settings, desk_services: Services, desk, clock: FakeClock
) -> None:
    """03:20, nobody on duty: the reply gives the duty phone beside "社区会马上派人", and the claim is
    reminded and escalated in wall-clock minutes, not when the office opens (session-6 trial)."""
    clock.set(datetime(2026, 12, 3, 3, 20, tzinfo=SHANGHAI))
    client = TestClient(TestServer(create_app(settings, desk_services, MemoryStore()), host="127.0.0.1"))
    await client.start_server()
    try:
        reply = await Phone(client, "o-night")("3栋2单元501的吴大爷一个人住 好几天没看到他了 敲门也没人应")
        [ticket] = await desk.tickets.list(resident="o-night")
        duty_phone = desk_services.handbook.office.duty_phone
        assert "紧急工单" in reply and "现在不是值班时间" in reply and duty_phone in reply
        minutes = (ticket.claim_remind_at - ticket.created_at).total_seconds() / 60
        escalate = (ticket.claim_escalate_at - ticket.created_at).total_seconds() / 60
        assert 0 < minutes <= 10 and 0 < escalate <= 20, (ticket.claim_remind_at, ticket.claim_escalate_at)
        clock.set(datetime(2026, 12, 3, 10, 0, tzinfo=SHANGHAI))  # in office hours: no duty-phone line
        day = await Phone(client, "o-day")("3栋2单元501的吴大爷一个人住 好几天没看到他了 敲门也没人应")
        assert "紧急工单" in day and "现在不是值班时间" not in day
    finally:
        await client.close()


async def test_without_a_desk_the_advice_still_comes_first(settings: Settings, services: Services) -> None:
    client = TestClient(TestServer(create_app(settings, services, MemoryStore()), host="127.0.0.1"))
    await client.start_server()
    try:
        reply = await Phone(client, "o-lift")("电梯关到人了😭")
        assert reply.startswith("【紧急】") and "96333" in reply and "社区电话" in reply
    finally:
        await client.close()


def test_numbers_are_community_data(desk_services: Services) -> None:
    guide = desk_services.handbook.emergency
    assert {"120", "119", "110", "lift", "gas", "power"} <= set(guide.numbers)
    assert guide.numbers["lift"].phone == "96333" and guide.numbers["power"].phone == "95598"


def test_the_sets_are_large() -> None:
    assert sum(1 for r in rows("emergencies.tsv") if r[1] != "none") >= 60
    assert sum(1 for r in rows("emergencies.tsv") if r[1] == "none") >= 30


def test_the_prefilter_knows_where_each_hazard_word_can_begin() -> None:
    from intents.danger import _first_chars

    assert _first_chars("(燃气|煤气).{0,8}味") == frozenset("燃煤")
    assert _first_chars("(?<!是)(没有|不)着火") == frozenset("没不")
    assert _first_chars("(锁|关)?在车里") == frozenset("锁关在")
    assert _first_chars(".{0,3}火") is None and _first_chars("a?") is None


def test_detection_with_the_prefilter_equals_a_plain_search(services: Services) -> None:
    detector = services.classifier.danger
    texts = [row[0] for name in ("emergencies.tsv", "emergencies_dev.tsv") for row in rows(name)]
    for text in texts:
        normal = detector._normalize(text)
        assert detector._anywhere(normal) == (detector._any.search(normal) is not None), text


def test_a_neighbour_not_answering_about_a_leak_is_no_one_unconscious(classifier) -> None:
    """A hazard's look-alike (emergency.yaml `unless`) hides only the words it explains."""
    detect = classifier.danger.detect
    assert detect("楼上卫生间漏水漏到我屋头天花板了 楼上那家人喊不应") is None
    assert detect("楼上装修吵死了 敲门喊不答应") is None
    assert detect("厨房漏水 我爸滑倒了 喊不应").hazard.kind == "medical"  # no neighbour: someone here
    assert detect("楼上漏水 那家人喊不应 我妈去接水滑倒了起不来").hazard.kind == "medical"
    assert detect("我妈喊不应了").hazard.kind == "medical"


def test_a_spelling_that_only_sounds_like_a_hazard_is_kept_where_it_is_written(classifier) -> None:
    """Same-sound rewriting (楼电 → 漏电) leaves a kept spelling alone only where it is written: 楼电梯
    is a building's lift (session 24: a lift complaint paged the duty officers as a live wire), while
    冰箱楼电了 is still a leaking current."""
    detect = classifier.danger.detect
    assert detect("我们楼电梯坏了三天了 报了物业也没人修 我要投诉") is None
    assert detect("冰箱楼电了 手摸到麻").hazard.kind == "power"
    assert detect("那就明早上来嘛") is None  # 就明 stays kept before any character, as before


def test_a_word_whose_first_character_reads_otherwise_alone_is_still_heard_by_sound(classifier) -> None:
    """着 reads zhao in 着火 and zhe alone: "着伙了" is a fire (emergency round 14), but only with 着 as
    written — 这伙人 (zhe huo) is no fire."""
    detect = classifier.danger.detect
    assert detect("着伙了").hazard.kind == "fire"
    assert detect("厨房着伙了 快来人").hazard.kind == "fire"
    assert detect("这伙人天天在楼下打牌 吵得很") is None


@pytest.mark.parametrize(
    "text",
    [
        "我在深圳，给我妈打了一下午电话都没人接，她一个人住5栋，麻烦谁去看一下",
        "隔壁老爷子平时天天下楼遛弯，这周一次都没见着，晚上屋里灯也没开",
    ],
)
def test_someone_alone_and_unreachable_said_in_another_order_is_an_emergency(classifier, text) -> None:
    """Blind batch 10: the phone first and 'lives alone' after, and 这周 instead of 这几天."""
    assert classifier.danger.detect(text).hazard.kind == "alone"
