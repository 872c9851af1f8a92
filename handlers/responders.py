"""Party members' and volunteers' WeChat: 报到 (one question at a time), 接单 N, 办结 N 备注,
我的任务, 退出; and the office's side: 报到申请, 通过 N, 拒绝 N 理由 (the secretary), 发布任务 名额
标题 and 结束任务 N (the duty leader or the secretary).

接单 and 办结 are shared with staff: this route answers them only for a responder and declines
for anyone else, so the staff route (handlers/staff.py) handles staff exactly as before.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

from desk.refusals import Refused
from desk.responders import KINDS, Group
from desk.tasks import is_task_number
from handlers import staff as staff_commands
from handlers.conversation import ORDERING, REGISTERING, Signup
from handlers.types import Context, Reply
from handlers.wording import item_title, refusal
from intents.contact import ContactError, read_mobile
from intents.normalize import simplify

if TYPE_CHECKING:
    from desk.desk import StaffMember
    from desk.tasks import CommunityTask, Responder, Ticket

log = logging.getLogger("baishitong.desk")

# "报到", or "报到 周明 在区税务局上班 住锦江花园9栋": the details follow, one question at a time
# (blind batch 55 was sent to the tax office).
_SIGNUP_START = re.compile(r"^(我要|我来)?(双报到|在职党员报到|党员报到|志愿者报到|报到)(\s+\S.*)?$", re.S)
_LEAVE = re.compile(r"^(退出|退出接单|退出报到|取消报到|退出志愿服务队|退出服务队)$")
_RESPONDER = re.compile(r"^\s*(接单|办结)\s*[:：]?\s*(\d{5,})\s*(.*)$", re.S)
_MINE = re.compile(r"^我的任务$")
_OFFICE = re.compile(r"^\s*(通过|拒绝)\s*(\d{1,9})\s*(.*)$", re.S)
_POST = re.compile(r"^\s*发布任务\s*(\d{1,3})\s*(?:人|名|个)?\s+(\S.*)$", re.S)
_CLOSE = re.compile(r"^\s*结束任务\s*(\d{6,})\s*$")
_SIGNUPS = re.compile(r"^(报到申请|报到审核)$")
_CANCEL = re.compile(r"^(取消|算了|不报了|不报到了|不要了)$")
_CONFIRM = re.compile(r"^(确认|确定|对|是|是的|没问题|好|好的)$")
_SPLIT = re.compile(r"[、,，;；/\s]+")
STEPS = ("kind", "name", "group", "unit", "community", "skills", "availability", "mobile", "confirm")
QUESTIONS = {
    "kind": "欢迎报到！您是：\n1. 在职党员（双报到，到居住地社区报到）\n2. 志愿者\n请回复 1 或 2。",
    "name": "请问您的姓名？",
    "unit": "您的工作单位？（如：区税务局；没有请回复“无”）",
    "community": "您家住哪个小区？（如：幸福里小区）",
    "skills": (
        "您能做哪些服务？可以写几样，用顿号隔开，比如：跑腿代办、陪老人看病、小修小补、辅导作业、打扫卫生"
    ),
    "availability": "您一般什么时候有空？比如：工作日晚上、周末",
    "mobile": "请留一个手机号，社区和居民联系您用（只有接单后的居民和社区能看到）。",
}
_FOOTER = "（随时回复“取消”可以不报了）"


@dataclass(frozen=True, slots=True)
class Command:
    verb: str
    number: str = ""
    rest: str = ""


def command_of(ctx: Context) -> Command | None:
    """A responder's or the office's command in this message, or None (pure)."""
    text = simplify(ctx.message.text).strip()
    if _SIGNUP_START.match(text):
        return Command("报到", rest=text)
    if _LEAVE.match(text) and ctx.conversation.get(ORDERING) is None:
        return Command("退出")
    if _MINE.match(text):
        return Command("我的任务")
    if _SIGNUPS.match(text):
        return Command("报到申请")
    for pattern in (_RESPONDER, _OFFICE):
        found = pattern.match(text)
        if found:
            return Command(found.group(1), found.group(2), found.group(3).strip())
    found = _POST.match(text)
    if found:
        return Command("发布任务", found.group(1), found.group(2).strip())
    found = _CLOSE.match(text)
    if found:
        return Command("结束任务", found.group(1))
    return None


async def run(ctx: Context, command: Command) -> Reply | None:
    """The reply; None (declined) when the sender is not who the command is for."""
    desk = ctx.services.desk
    if desk is None:
        return None
    try:
        if command.verb == "报到":
            return await _start(ctx, command.rest)
        if command.verb in ("通过", "拒绝", "发布任务", "结束任务", "报到申请"):
            member = await desk.staff.by_openid(ctx.message.resident)
            return None if member is None else Reply(await _office(ctx, member, command))
        responder = await desk.responders.by_openid(ctx.message.resident)
        if responder is None:
            if command.verb == "我的任务":
                return Reply("您还没有报到。在职党员、志愿者回复“报到”即可登记，社区书记审核后就能接单。")
            return None  # staff (接单/办结) or a resident: the next routes answer
        return Reply(await _responder(ctx, responder, command))
    except Refused as refused:
        log.info(
            "refused %s %s for %s: %s",
            command.verb,
            command.number[:12],
            ctx.message.resident,
            refused.reason,
        )
        return Reply(wording(refused))


async def _responder(ctx: Context, responder: Responder, command: Command) -> str:
    desk = ctx.services.desk
    assert desk is not None
    if command.verb == "接单":
        taken = await desk.tasks.take(responder, command.number)
        if is_task_number(command.number):
            taken = cast("CommunityTask", taken)
            return (
                f"报名成功：社区任务 {taken.number}【{taken.title}】，"
                f"第 {taken.taken}/{taken.places} 个名额。\n"
                f"{taken.detail}\n完成后回复：办结 {taken.number}".replace("\n\n", "\n")
            )
        return staff_commands.claimed_text(ctx, cast("Ticket", taken))
    if command.verb == "办结":
        done = await desk.tasks.complete(responder, command.number, command.rest)
        if is_task_number(command.number):
            return f"社区任务 {done.number}【{done.title}】已记为完成，辛苦了！"
        return f"工单 {done.number} 已办结，已通知居民并请其评价。辛苦了！"
    tickets, places = await desk.tasks.holding(responder)
    if command.verb == "退出":
        await desk.responders.leave(responder, [t.number for t in tickets] + [p.number for p in places])
        return f"{responder.name}同志，您已退出，不会再收到任务。感谢您的服务！想再参加时回复“报到”。"
    if not tickets and not places:
        return "您手上没有未办结的任务。群里发任务后，回复“接单 编号”即可接单。"
    lines = [f"您手上有 {len(tickets) + len(places)} 项任务："]
    lines += [f"{t.number} {item_title(ctx.services.handbook.items, t.item_id)}" for t in tickets]
    lines += [f"{p.number} {p.title}（社区任务）" for p in places]
    lines.append("办好后回复：办结 编号 备注")
    return "\n".join(lines)


async def _office(ctx: Context, member: StaffMember, command: Command) -> str:
    desk = ctx.services.desk
    assert desk is not None
    if command.verb == "通过":
        responder = await desk.responders.approve(member, command.number, command.rest or None)
        return f"已通过报到 {command.number}：{responder.name} 加入了，已通知本人。"
    if command.verb == "拒绝":
        await desk.responders.reject(member, command.number, command.rest)
        return f"已拒绝报到 {command.number}，已通知本人。"
    if command.verb == "发布任务":
        task = await desk.tasks.post(member, command.rest, int(command.number))
        return (
            f"已发布社区任务 {task.number}【{task.title}】，名额 {task.places} 人，已推送到各支部和服务队群。"
        )
    if command.verb == "结束任务":
        task = await desk.tasks.close_task(member, command.number)
        return f"社区任务 {task.number}【{task.title}】已停止报名（已报 {task.taken}/{task.places}）。"
    signups = await desk.responders.pending(member)
    if not signups:
        return "没有待审核的报到。"
    lines = [f"待审核的报到 {len(signups)} 个："]
    lines += [f"{s.id} {s.name}（{KINDS.get(s.kind, s.kind)}）{s.unit}" for s in signups]
    lines.append("回复“通过 编号”或“拒绝 编号 理由”。")
    return "\n".join(lines)


# ---- 报到, one question at a time ----------------------------------------------------------


async def _start(ctx: Context, text: str) -> Reply:
    desk = ctx.services.desk
    assert desk is not None
    await desk.responders.may_register(ctx.message.resident)
    if not (await desk.responders.roster()).groups:
        return Reply("社区还没有登记党支部和志愿服务队，暂时不能在线报到。请联系社区书记。")
    signup = Signup("kind")
    if "党员" in text:
        return await _ask(ctx, signup.with_answer("kind", "party_member", "name"), [])
    if "志愿" in text:
        return await _ask(ctx, signup.with_answer("kind", "volunteer", "name"), [])
    return await _ask(ctx, signup, [])


async def answer(ctx: Context, signup: Signup) -> Reply:
    """The answer to the pending 报到 question."""
    text = simplify(ctx.message.text).strip()
    if _CANCEL.match(text):
        ctx.conversation.forget()
        return Reply("好的，这次报到已取消，没有提交。想报到时再回复“报到”。")
    step = signup.asking
    next_step = STEPS[STEPS.index(step) + 1] if step != "confirm" else "confirm"
    if step == "kind":
        kind = (
            "party_member"
            if text in ("1", "党员", "在职党员")
            else "volunteer"
            if text in ("2", "志愿者")
            else ""
        )
        if not kind:
            return await _ask(ctx, signup, ["请回复 1（在职党员）或 2（志愿者）。"])
        return await _ask(ctx, signup.with_answer("kind", kind, next_step), [])
    if step == "group":
        groups = await _groups(ctx, signup.get("kind"))
        chosen = _chosen(text, groups)
        if chosen is None:
            return await _ask(ctx, signup, ["没找到这个，请回复列表里的编号。"])
        return await _ask(ctx, signup.with_answer("group", chosen.key, next_step), [])
    if step == "mobile":
        try:
            mobile = read_mobile(text)
        except ContactError as exc:
            return await _ask(ctx, signup, [str(exc)])
        if not mobile or not re.fullmatch(r"1[3-9]\d{9}", mobile):
            return await _ask(ctx, signup, ["请发 11 位手机号，比如 13812345678。"])
        return await _ask(ctx, signup.with_answer("mobile", mobile, next_step), [])
    if step == "confirm":
        if not _CONFIRM.match(text):
            return await _ask(ctx, signup, ["请回复“确认”提交；不报了回复“取消”。"])
        return await _submit(ctx, signup)
    value = "" if text in ("无", "没有", "跳过") and step == "unit" else ctx.message.text.strip()
    if not value and step != "unit":
        return await _ask(ctx, signup, [])
    limit = 32 if step == "name" else 64
    if step == "skills":
        value = "、".join(s for s in _SPLIT.split(value) if s)[:200]
    return await _ask(
        ctx, signup.with_answer(step, value[:limit] if step != "skills" else value, next_step), []
    )


async def _groups(ctx: Context, kind: str) -> list[Group]:
    desk = ctx.services.desk
    assert desk is not None
    return [g for g in (await desk.responders.roster()).groups.values() if g.kind == kind]


def _chosen(text: str, groups: list[Group]) -> Group | None:
    if text.isdigit() and 1 <= int(text) <= len(groups):
        return groups[int(text) - 1]
    named = [g for g in groups if text and (text in g.name or g.name in text)]
    return named[0] if len(named) == 1 else None


async def _ask(ctx: Context, signup: Signup, lines: list[str]) -> Reply:
    ctx.conversation.enter(REGISTERING, signup)
    step = signup.asking
    if step == "group":
        groups = await _groups(ctx, signup.get("kind"))
        if not groups:
            ctx.conversation.forget()
            what = "党支部" if signup.get("kind") == "party_member" else "志愿服务队"
            return Reply(f"社区还没有登记{what}，暂时不能在线报到。请联系社区书记。")
        what = "您所在的党支部" if signup.get("kind") == "party_member" else "您想加入的志愿服务队"
        listing = "\n".join(f"{n}. {g.name}" for n, g in enumerate(groups, 1))
        return Reply("\n".join([*lines, f"{what}是哪一个？请回复编号：\n{listing}{_FOOTER}"]))
    if step == "confirm":
        return Reply("\n".join([*lines, await _summary(ctx, signup)]))
    return Reply("\n".join([*lines, QUESTIONS[step] + ("" if step == "kind" else _FOOTER)]))


async def _summary(ctx: Context, signup: Signup) -> str:
    groups = {g.key: g for g in await _groups(ctx, signup.get("kind"))}
    group = groups.get(signup.get("group"))
    return "\n".join(
        [
            "请核对：",
            f"身份：{KINDS.get(signup.get('kind'), '')}",
            f"姓名：{signup.get('name')}",
            f"所在：{group.name if group else ''}",
            f"单位：{signup.get('unit') or '无'}",
            f"住：{signup.get('community')}",
            f"能做：{signup.get('skills')}",
            f"有空：{signup.get('availability')}",
            f"电话：{signup.get('mobile')}",
            "没问题请回复“确认”，社区书记审核后通知您；不报了回复“取消”。",
        ]
    )


async def _submit(ctx: Context, signup: Signup) -> Reply:
    desk = ctx.services.desk
    assert desk is not None
    values = {
        "name": signup.get("name"),
        "group": signup.get("group"),
        "unit": signup.get("unit"),
        "community": signup.get("community"),
        "skills": [s for s in signup.get("skills").split("、") if s],
        "availability": signup.get("availability"),
        "mobile": signup.get("mobile"),
    }
    registered = await desk.responders.register(ctx.message.resident, values)
    ctx.conversation.forget()
    return Reply(
        f"已提交报到（编号 {registered.id}），社区书记审核后会在这里通知您。"
        "通过后，支部和服务队群里的任务，您回复“接单 编号”就能接。"
    )


# ---- refusals in a responder's words ---------------------------------------------------------

_WORDS = {
    "task_not_for_you": lambda f: f"任务 {f['number']} 不是派给您所在支部或服务队的，不能接。",
    "task_returned": lambda f: f"任务 {f['number']} 已超时无人接，转回社区值班人员办理了。",
    "already_claimed": lambda f: f"任务 {f['number']} 已经有人接了，谢谢您！请留意群里的下一个任务。",
    "task_full": lambda f: f"社区任务 {f['number']} 的 {f.get('places', '')} 个名额已经报满了，谢谢您！",
    "place_held": lambda f: f"您已经报名了社区任务 {f['number']}。",
    "task_closed": lambda f: f"社区任务 {f['number']} 已停止报名。",
    "no_place": lambda f: f"您没有报名社区任务 {f['number']}，或已经记为完成了。",
    "unknown_task": lambda f: f"没有编号为 {f['number']} 的社区任务。",
    "still_holding": lambda f: (
        f"您手上还有任务 {'、'.join(f['numbers'])}，请先办结（回复“办结 编号”）再退出。"
    ),
    "already_registered": lambda f: f"{f['name']}同志，您已经报到过了。回复“我的任务”查看手上的任务。",
    "signup_pending": lambda f: f"您的报到（编号 {f['number']}）正在等社区书记审核，审核后会在这里通知您。",
    "unknown_signup": lambda f: f"没有编号为 {f['number']} 的报到申请。",
    "needs_reason": lambda f: f"拒绝要写原因，会告诉本人：拒绝 {f['number']} 原因",
    "signup_decided": lambda f: f"报到 {f['number']} 已经处理过了。",
    "name_taken": lambda f: (
        f"已有人叫“{f['name']}”。请回复“通过 {f['number']} 姓名（单位）”换个名字通过，"
        f"比如“通过 {f['number']} {f['name']}（税务局）”。"
    ),
    "secretary_only": lambda f: "报到审核只有社区书记能做。",
    "leader_or_secretary": lambda f: "发布和结束社区任务只有值班长或书记能做。",
    "bad_task": lambda f: (
        f"格式：发布任务 名额 标题，例如：发布任务 5 周六上午清理3栋楼道杂物（名额 1-{f['most']}）。"
    ),
    "bad_task_groups": lambda f: f"不认识：{'、'.join(f['names'])}。",
    "no_groups": lambda f: "还没有登记党支部或志愿服务队（baishitong responders import），任务发不出去。",
    "bad_signup": lambda f: "报到信息不完整：" + "；".join(f["problems"]),
    "unknown_responder": lambda f: f"没有叫“{f['name']}”的党员或志愿者。",
}


def wording(refused: Refused) -> str:
    word = _WORDS.get(refused.reason)
    return word(refused.facts) if word else refusal(refused)
