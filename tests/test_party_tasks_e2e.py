"""End to end (issue 16): the task list through signed, encrypted WeChat requests to the real app,
with fake WeCom robots on loopback for the community group and two party-branch/team groups, on
SQLite and PostgreSQL.

Two in-service party members register (报到) from WeChat and the secretary approves them (通过 N);
a resident orders an errand for an elderly neighbour; the task reaches the party branch's group
with the contact masked; both members reply 接单 at once and exactly one gets it and sees the
contact; they complete it; the resident rates 5; the member's points and the branch's total are
in the report and in the monthly push. Another order from a building in a grid goes to its grid
member first, though she is not on duty that day.
"""

from __future__ import annotations

import asyncio
from datetime import date, datetime

from bot.report import points_report
from bot.settings import Settings
from desk.desk import ServiceDesk
from desk.points import lines as points_lines
from handlers import Services
from tests.conftest import SHANGHAI, FakeClock
from tests.fake_platforms import FakeRobot
from tests.test_e2e import Phone, eventually, running_bot

BRANCH = "区税务局机关第一党支部"
TEAM = "幸福里志愿服务队"


def responders_document(branch_url: str, team_url: str) -> dict:
    return {
        "groups": [
            {"key": "tax_branch", "name": BRANCH, "kind": "party_member", "robot": branch_url},
            {"key": "xingfu_team", "name": TEAM, "kind": "volunteer", "robot": team_url},
        ],
        "points": {
            "stars": {5: 10, 4: 8, 3: 5, 2: 2, 1: 0},
            "unrated": 6,
            "weights": {"default": 1, "home_visit": 2},
        },
    }


async def register(phone: Phone, name: str, mobile: str) -> None:
    """报到 from WeChat, one question at a time, as a party member of the tax branch."""
    assert "1. 在职党员" in await phone("报到")
    assert "姓名" in await phone("1")
    assert f"1. {BRANCH}" in await phone(name)
    assert "工作单位" in await phone("1")
    await phone("区税务局")
    await phone("幸福里小区")
    await phone("跑腿代办、陪老人看病")
    assert "手机号" in await phone("周末")
    summary = await phone(mobile)
    assert f"姓名：{name}" in summary and BRANCH in summary
    assert "已提交报到" in await phone("确认")


async def test_an_errand_reaches_a_branch_one_member_takes_it_and_earns_the_points(
    settings: Settings, desk_services: Services, desk: ServiceDesk, clock: FakeClock
) -> None:
    branch_robot, team_robot = FakeRobot(key="tax-branch"), FakeRobot(key="xingfu-team")
    document = responders_document(await branch_robot.start(), await team_robot.start())
    await desk.responders.import_document(document, set(desk_services.handbook.items))
    try:
        async with running_bot(settings, desk_services) as bot:
            community = bot.robot  # the community staff group (WECOM_WEBHOOK_URL default)
            secretary = Phone(bot.client, "o-secretary-chen")
            code, _ = await desk.staff.invite("陈书记")
            assert "绑定成功" in await secretary(f"绑定 {code}")

            members = {"o-member-liu": ("刘建国", "13900002001"), "o-member-he": ("何晓梅", "13900002002")}
            for openid, (name, mobile) in members.items():
                await register(Phone(bot.client, openid), name, mobile)
            await eventually(lambda: sum("报到申请" in c for c in community.contents) == 2)
            signups = "\n".join(c for c in community.contents if "报到申请" in c)
            assert "139****2001" in signups and "13900002001" not in signups
            assert "已通过报到 1" in await secretary("通过 1")
            assert "已通过报到 2" in await secretary("通过 2")
            await eventually(lambda: all(len(bot.wechat.texts_to(o)) == 1 for o in members))
            assert "报到已通过" in bot.wechat.texts_to("o-member-liu")[0]

            # A resident orders an errand for her elderly neighbour.
            resident = Phone(bot.client, "o-resident-sun")
            assert "怎么称呼" in await resident(
                "隔壁独居的王奶奶腿脚不便，想请社区派人上门代办，帮她去药店买药"
            )
            await resident("孙秀兰")
            await resident("13712345678")
            await resident("幸福里小区5栋2单元301")
            assert "11月28日（周六）15:00-16:00" in await resident("今天下午3点")
            placed = await resident("确认")
            assert "工单号 10001" in placed and "党员和志愿者的接单群" in placed

            # The task reaches the branch's own group (and the volunteers'), the contact masked.
            await eventually(lambda: len(branch_robot.received) == 1 and len(team_robot.received) == 1)
            push = branch_robot.contents[0]
            assert "任务清单 10001" in push and "上门服务预约" in push and "接单 10001" in push
            assert "137****5678" in push and "13712345678" not in push
            assert "幸福里小区" in push and "5栋2单元301" not in push and "孙秀兰" not in push
            assert not any("10001" in c for c in community.contents)  # not the duty group's, yet

            # Both members reply 接单 at once: exactly one holds it and sees the contact.
            phones = {o: Phone(bot.client, o) for o in members}
            replies = dict(
                zip(phones, await asyncio.gather(*(p("接单 10001") for p in phones.values())), strict=True)
            )
            winners = [o for o, reply in replies.items() if "接单成功" in reply]
            assert len(winners) == 1, replies
            winner = winners[0]
            (loser,) = [o for o in members if o != winner]
            assert "13712345678" in replies[winner] and "幸福里小区5栋2单元301" in replies[winner]
            assert "已经有人接了" in replies[loser] and "13712345678" not in replies[loser]
            name = members[winner][0]
            ticket = await desk.tickets.get(10001)
            assert ticket.state == "accepted" and ticket.assignee == name
            await eventually(lambda: len(bot.wechat.texts_to("o-resident-sun")) == 1)
            assert f"已由在职党员{name[0]}同志（{BRANCH}）接单" in bot.wechat.texts_to("o-resident-sun")[0]
            await eventually(lambda: len(branch_robot.received) == 2)
            assert "任务 10001 已有人接单" in branch_robot.contents[1]
            # The one who did not get it cannot complete it, nor see it among their tasks.
            assert "只有负责人能办结" in await phones[loser]("办结 10001 我也去了")
            assert "没有未办结的任务" in await phones[loser]("我的任务")

            assert "已办结" in await phones[winner]("办结 10001 药已送到王奶奶家")
            await eventually(lambda: len(bot.wechat.texts_to("o-resident-sun")) == 2)
            assert "请给这次服务打分" in bot.wechat.texts_to("o-resident-sun")[1]
            assert "5 分" in await resident("5 很满意")
            ticket = await desk.tickets.get(10001)
            assert ticket.state == "closed" and ticket.rating == 5

            # The report: the member's points (home_visit weight 2 × 10 for 5 stars) and the branch's.
            report = "\n".join(points_lines(await points_report(desk, date(2026, 11, 1), date(2026, 11, 30))))
            assert f"{name}\t{BRANCH}\t1\t5.00\t20" in report
            assert f"\n{BRANCH}\t1\t5.00\t20" in report
            assert members[loser][0] not in report

            # Another order, from a building in a grid: its grid member (王芳) first, though the
            # Saturday duty (李强, 赵磊 for her) would have had it.
            neighbour = Phone(bot.client, "o-resident-li")
            assert "怎么称呼" in await neighbour("锦绣花园三栋楼道里堆满了杂物没人清理")
            await neighbour("李大爷")
            assert "请核对" in await neighbour("13812345679")
            placed = await neighbour("确认")
            assert "工单号 10002" in placed and "网格的王老师" in placed
            assert (await desk.tickets.get(10002)).assignee == "王芳"
            await eventually(lambda: any("新工单 10002" in c for c in community.contents))
            push = next(c for c in community.contents if "新工单 10002" in c)
            assert "<@wangfang>" in push and "138****5679" in push and "网格：锦绣花园第一网格" in push
            assert all("10002" not in c for c in branch_robot.contents + team_robot.contents)

            # The monthly push on 1 December carries the branch's total and the member's points.
            clock.set(datetime(2026, 12, 1, 9, 5, tzinfo=SHANGHAI))
            await eventually(lambda: any("党员/志愿者积分" in c for c in community.contents))
            monthly = next(c for c in community.contents if "党员/志愿者积分" in c)
            assert f"{BRANCH}：完成 1 项，积分 20" in monthly and f"{name}（{BRANCH}）20 分" in monthly
    finally:
        await branch_robot.close()
        await team_robot.close()
