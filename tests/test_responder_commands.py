"""The task list from WeChat (through the real pipeline) and the CLI: 报到 one question at a time,
commands that are not the sender's, 退出 mid-order, 发布任务 and places, the responders file."""

from __future__ import annotations

import asyncio
import copy

import yaml

from desk.desk import ServiceDesk
from handlers import Services
from handlers.conversation import Conversation
from tests.test_cli import run
from tests.test_handlers import Chat

ROBOT = "http://127.0.0.1:9/cgi-bin/webhook/send?key="
DOCUMENT = {
    "groups": [
        {"key": "tax", "name": "税务局第一党支部", "kind": "party_member", "robot": ROBOT + "tax"},
        {"key": "team", "name": "幸福里志愿服务队", "kind": "volunteer", "robot": ROBOT + "team"},
    ]
}


async def bind(say: Chat, desk: ServiceDesk, name: str, openid: str) -> None:
    code, _ = await desk.staff.invite(name)
    assert "绑定成功" in await say(f"绑定 {code}", openid)


async def test_signing_up_asks_one_question_at_a_time_and_can_be_cancelled(
    desk_services: Services, desk: ServiceDesk
) -> None:
    say = Chat(desk_services)
    assert "还没有登记党支部" in await say("报到", "v1")  # no groups imported yet
    await desk.responders.import_document(copy.deepcopy(DOCUMENT), set(desk_services.handbook.items))
    assert "姓名" in await say("志愿者报到", "v1")  # the kind said with the word: not asked again
    assert "1. 幸福里志愿服务队" in await say("周小红", "v1")
    assert "没找到" in await say("7", "v1")
    assert "工作单位" in await say("幸福里", "v1")  # named instead of numbered
    assert "哪个小区" in await say("无", "v1")
    await say("幸福里小区", "v1")
    await say("打扫卫生 辅导作业", "v1")
    assert "手机号" in await say("周末", "v1")
    assert "不是有效的电话号码" in await say("12345", "v1")
    summary = await say("13900003001", "v1")
    assert "能做：打扫卫生、辅导作业" in summary and "单位：无" in summary
    assert "已取消" in await say("取消", "v1")
    assert (await desk.responders.store.signups()) == []
    # The whole way again, submitted.
    await say("报到", "v2")
    for answer in ("2", "吴刚", "1", "无", "幸福里", "跑腿", "晚上", "13900003002"):
        await say(answer, "v2")
    assert "已提交报到（编号 1）" in await say("确认", "v2")
    (signup,) = await desk.responders.store.signups()
    assert (signup.name, signup.kind, signup.group_key, signup.unit) == ("吴刚", "volunteer", "team", "")


async def test_signing_up_with_details_after_the_word_starts_the_signup(
    desk_services: Services, desk: ServiceDesk
) -> None:
    """Blind batch 55: "报到 周明 在区税务局上班 住锦江花园9栋" was sent to the tax office."""
    await desk.responders.import_document(copy.deepcopy(DOCUMENT), set(desk_services.handbook.items))
    say = Chat(desk_services)
    reply = await say("报到 周明 在区税务局上班 住锦江花园9栋", "v9")
    assert "欢迎报到" in reply and "税务局（管" not in reply
    assert "姓名" in await say("在职党员", "v9")


async def test_commands_not_meant_for_the_sender_pass_on(desk_services: Services, desk: ServiceDesk) -> None:
    await desk.responders.import_document(copy.deepcopy(DOCUMENT), set(desk_services.handbook.items))
    say = Chat(desk_services)
    # A resident's "通过 3" and "我的任务" are not office commands; 接单 is the staff route's answer.
    assert "已通过" not in await say("通过 3", "resident")
    assert "还没有报到" in await say("我的任务", "resident")
    assert "工作人员用的指令" in await say("接单 10001", "resident")
    # Staff other than the secretary cannot approve; the duty leader can post a task.
    await bind(say, desk, "李强", "o-li")
    await bind(say, desk, "张敏", "o-zhang")
    signup = await desk.responders.register("o-wu", {"name": "吴刚", "group": "team", "mobile": ""})
    assert "只有社区书记" in await say(f"通过 {signup.id}", "o-li")
    assert "只有值班长或书记" in await say("发布任务 3 清理楼道", "o-li")
    posted = await say("发布任务 2 周六上午清理3栋楼道杂物", "o-zhang")
    assert "已发布社区任务 800001【周六上午清理3栋楼道杂物】，名额 2 人" in posted
    await bind(say, desk, "陈书记", "o-chen")
    assert "待审核的报到 1 个" in await say("报到申请", "o-chen")
    assert "已通过报到" in await say(f"通过 {signup.id}", "o-chen")
    assert "已经处理过了" in await say(f"拒绝 {signup.id} 重复", "o-chen")
    # The volunteer takes a place, lists it, cannot leave while holding it, completes it, leaves.
    assert "第 1/2 个名额" in await say("接单 800001", "o-wu")
    assert "您已经报名" in await say("接单 800001", "o-wu")
    assert "800001 周六上午清理3栋楼道杂物（社区任务）" in await say("我的任务", "o-wu")
    assert "请先办结" in await say("退出", "o-wu")
    assert "已记为完成" in await say("办结 800001 清完了", "o-wu")
    assert "已停止报名（已报 1/2）" in await say("结束任务 800001", "o-zhang")
    assert "已退出" in await say("退出", "o-wu")
    assert await desk.responders.by_openid("o-wu") is None


async def test_leave_word_mid_order_cancels_the_order_not_the_membership(
    desk_services: Services, desk: ServiceDesk
) -> None:
    await desk.responders.import_document(copy.deepcopy(DOCUMENT), set(desk_services.handbook.items))
    signup = await desk.responders.register("o-wu", {"name": "吴刚", "group": "team", "mobile": ""})
    await desk.responders.approve(await desk.staff.by_name("陈书记"), str(signup.id))
    say = Chat(desk_services)
    assert "怎么称呼" in await say("3栋楼道灯坏了", "o-wu")
    assert "预约已取消" in await say("退出", "o-wu")
    assert await desk.responders.by_openid("o-wu") is not None


def test_an_old_conversation_state_with_a_signup_survives_a_reload() -> None:
    from datetime import UTC, datetime

    from handlers.conversation import REGISTERING, Signup

    conversation = Conversation()
    conversation.enter(REGISTERING, Signup("unit", (("kind", "volunteer"), ("name", "吴刚"))))
    saved = conversation.change()
    assert saved is not None
    loaded = Conversation.load(saved, datetime.now(UTC), set())
    assert loaded.get(REGISTERING) == Signup("unit", (("kind", "volunteer"), ("name", "吴刚")))


def test_cli_imports_responders_approves_posts_and_reports_points(tmp_path, services: Services) -> None:
    env = {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'responders.db'}"}
    assert run("staff", "import", "examples/rota.yaml", env=env).returncode == 0
    broken = tmp_path / "broken.yaml"
    broken.write_text("groups: [{key: a b, kind: cadre}]\n", encoding="utf-8")
    refused = run("responders", "import", str(broken), env=env)
    assert refused.returncode == 1 and "groups[0].kind: must be party_member" in refused.stdout
    imported = run("responders", "import", "examples/responders.yaml", env=env)
    assert (
        imported.returncode == 0
        and "imported 3 group(s), the points rule and 2 responder(s)" in imported.stdout
    )
    listing = run("responders", "list", env=env).stdout
    assert "刘建国\t在职党员\t区税务局机关第一党支部" in listing and "未绑定" in listing

    async def sign_up() -> None:
        from desk.desk import ServiceDesk
        from storage.db import Database
        from tests.conftest import SHANGHAI

        database = Database(env["DATABASE_URL"])
        desk = ServiceDesk(database, services.handbook.calendar, SHANGHAI)
        values = {"name": "刘建国", "group": "tax_branch", "mobile": "13900002001"}
        await desk.responders.register("o-liu", values)
        await database.close()

    asyncio.run(sign_up())
    signups = run("responders", "signups", env=env).stdout
    assert "1\t刘建国\t在职党员\ttax_branch" in signups and "139****2001" in signups
    approved = run("responders", "approve", "1", env=env)
    assert approved.returncode == 0 and "已通过报到 1：刘建国" in approved.stdout
    again = run("responders", "approve", "1", env=env)
    assert again.returncode == 2 and "已经处理过了" in again.stderr
    assert "已绑定微信" in run("responders", "list", env=env).stdout
    posted = run("tasks", "post", "走访困难家庭", "--places", "4", "--kinds", "party_member", env=env)
    assert posted.returncode == 0 and "800001" in posted.stdout
    assert "800001\t走访困难家庭\t已报 0/4" in run("tasks", "list", env=env).stdout
    bad = run("tasks", "post", "x", "--places", "0", env=env)
    assert bad.returncode == 2 and "名额" in bad.stderr
    report = run(
        "report",
        "--from",
        "2026-11-01",
        "--to",
        "2026-11-30",
        "--csv",
        str(tmp_path / "r.csv"),
        "--png",
        str(tmp_path / "r.png"),
        env=env,
    )
    assert report.returncode == 0 and "党员/志愿者积分" in report.stdout
    assert "这段时间没有完成的任务" in report.stdout
    assert run("responders", "remove", "刘建国", env=env).returncode == 0
    assert "已退出" in run("responders", "list", env=env).stdout
    with open("examples/responders.yaml", encoding="utf-8") as handle:
        document = yaml.safe_load(handle)
    assert {g["kind"] for g in document["groups"]} == {"party_member", "volunteer"}


def test_handbook_check_names_bad_takers(tmp_path) -> None:
    import shutil

    import pytest

    from knowledge import HandbookError, load_handbook
    from knowledge.loader import default_data_dir

    data = tmp_path / "data"
    shutil.copytree(default_data_dir(), data)
    path = data / "items/home_visit.yaml"
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    raw["order"]["takers"] = ["party_member", "cadre"]
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    with pytest.raises(HandbookError) as caught:
        load_handbook(data)
    known = "staff, grid, party_member, volunteer"
    expected = f"items/home_visit.yaml: order.takers: unknown taker 'cadre' (known: {known})"
    assert expected in caught.value.problems
    assert any("order.takers: must include staff" in p for p in caught.value.problems)


def test_staff_only_is_the_default_and_errands_are_open_to_party_members(services: Services) -> None:
    items = services.handbook.items
    assert items["residence_permit"].order is not None and items["residence_permit"].order.takers == (
        "staff",
    )
    assert set(items["home_visit"].order.takers) >= {"party_member", "volunteer", "grid"}  # type: ignore[union-attr]


async def test_a_second_signup_while_one_waits_is_refused(desk_services: Services, desk: ServiceDesk) -> None:
    await desk.responders.import_document(copy.deepcopy(DOCUMENT), set(desk_services.handbook.items))
    say = Chat(desk_services)
    await say("报到", "v3")
    for answer in ("2", "吴刚", "1", "无", "幸福里", "跑腿", "晚上", "13900003002"):
        await say(answer, "v3")
    assert "已提交报到（编号 1）" in await say("确认", "v3")
    assert "正在等社区书记审核" in await say("报到", "v3")
    assert len([r for r in await desk.outbox.rows() if r.event == "responder_signup"]) == 1
