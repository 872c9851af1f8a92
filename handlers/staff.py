"""Staff commands from WeChat: 绑定 CODE, 登录 CODE, 接单 N, 办结 N 备注, 转交 N 姓名, 保留 N, 回复 N 内容,
我的工单, 值班.

Only a WeChat identity bound with a one-time code may run them; the staff table is consulted only
for messages that start with a command word, so residents' messages never pay for the lookup.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from desk.clocks import local
from desk.masking import without_id_numbers
from desk.refusals import Refused
from handlers.types import Context, Reply
from handlers.wording import STATE_NAMES, item_title, refusal
from intents.normalize import simplify

if TYPE_CHECKING:
    from desk.desk import ServiceDesk, StaffMember, Ticket

COMMAND = re.compile(r"^\s*(绑定|登录|接单|办结|转交|保留|回复|我的工单|值班)\s*[:：]?\s*(.*)$", re.S)
_NUMBER_REST = re.compile(r"^(\d{5,})\s*(.*)$", re.S)
USAGE = {
    "接单": "接单 工单号，例如：接单 10001",
    "办结": "办结 工单号 备注，例如：办结 10001 已上门认证完成",
    "转交": "转交 工单号 姓名，例如：转交 10001 李强",
    "保留": "保留 工单号，例如：保留 10001（交接班时不转给下一班）",
    "回复": "回复 工单号 内容，例如：回复 10002 您好，我是社区的李老师，您说的事我来办",
}
log = logging.getLogger("baishitong.desk")
NEEDS_REST = ("转交", "回复")  # verbs whose text after the number is required (a name, the answer)
# "回复" is a command only with a ticket number: a resident's "回复我一下" is not one.
NUMBERED_ONLY = ("回复",)
# "登录" is a command only with a console sign-in code: a resident's "登录不上社保网站" is not one.
_SIGNIN_CODE = re.compile(r"^[A-Za-z0-9]{3}[\s-]?[A-Za-z0-9]{3}$")


@dataclass(frozen=True, slots=True)
class StaffCommand:
    """A staff command as typed: the verb, the ticket number (None when absent) and the rest."""

    verb: str
    number: str | None
    rest: str


def parse(text: str) -> StaffCommand | None:
    """The command in `text`, or None when it does not start with a command word."""
    found = COMMAND.match(simplify(text))
    if found is None:
        return None
    verb, rest = found.group(1), found.group(2).strip()
    if verb == "登录":
        return StaffCommand(verb, None, rest) if _SIGNIN_CODE.match(rest) else None
    parts = _NUMBER_REST.match(rest) if verb in USAGE else None
    if parts:
        return StaffCommand(verb, parts.group(1), parts.group(2).strip())
    if verb in NUMBERED_ONLY and rest:
        return None
    if verb == "我的工单" and rest:
        return None  # "我的工单到哪一步了 李老师联系我没有": a resident's question (trial II r20 was refused)
    return StaffCommand(verb, None, rest)


async def run(ctx: Context, command: StaffCommand) -> Reply | None:
    """The reply to a staff command; None when a resident says 值班 (an office question, not a command)."""
    desk = ctx.services.desk
    if desk is None:
        return None
    try:
        if command.verb == "绑定":
            return Reply(await _bind(ctx, desk, command))
        member = await desk.staff.by_openid(ctx.message.resident)
        if member is None:
            if command.verb in ("值班", "我的工单"):
                return None  # a resident's own words: 值班 asks the office, 我的工单 their tickets
            return Reply("这是社区工作人员用的指令。需要办事的话，直接告诉我要办什么就行。")
        if command.verb in USAGE and (
            command.number is None or (command.verb in NEEDS_REST and not command.rest)
        ):
            return Reply("格式：" + USAGE[command.verb])
        return Reply(await VERBS[command.verb](ctx, desk, member, command))
    except Refused as refused:
        number = (command.number or "")[:24]
        log.info("refused %s %s for %s: %s", command.verb, number, ctx.message.resident, refused.reason)
        return Reply(refusal(refused))


async def _bind(ctx: Context, desk: ServiceDesk, command: StaffCommand) -> str:
    member = await desk.bind(ctx.message.resident, command.rest)
    return (
        f"绑定成功，{member.name}。以后可以在这里发：接单 工单号、办结 工单号 备注、"
        "转交 工单号 姓名、回复 工单号 内容、我的工单、值班。"
    )


async def _sign_in(ctx: Context, desk: ServiceDesk, member: StaffMember, command: StaffCommand) -> str:
    """登录 CODE: the browser showing CODE signs in to the staff console as this member."""
    await desk.signin.confirm(member, command.rest, ctx.message.resident)
    return (
        f"已确认，{member.name}：浏览器上的工作台马上会登录。"
        "如果不是您本人正在登录，请马上告诉社区书记，并在工作台上“退出所有设备”。"
    )


async def _claim(ctx: Context, desk: ServiceDesk, member: StaffMember, command: StaffCommand) -> str:
    return claimed_text(ctx, await desk.claim(member, _number(command)))


async def _keep(ctx: Context, desk: ServiceDesk, member: StaffMember, command: StaffCommand) -> str:
    ticket = await desk.keep(member, _number(command))
    return f"工单 {ticket.number} 下次交接班时仍由您负责。"


async def _complete(ctx: Context, desk: ServiceDesk, member: StaffMember, command: StaffCommand) -> str:
    ticket = await desk.complete(member, _number(command), command.rest)
    return f"工单 {ticket.number} 已办结，已通知居民并请其评价。辛苦了！"


async def _transfer(ctx: Context, desk: ServiceDesk, member: StaffMember, command: StaffCommand) -> str:
    ticket = await desk.transfer(member, _number(command), command.rest, ctx.services.handbook.claim_minutes)
    return f"工单 {ticket.number} 已转交给 {ticket.assignee}，群里已 @ 对方。"


async def _reply(ctx: Context, desk: ServiceDesk, member: StaffMember, command: StaffCommand) -> str:
    ticket = await desk.reply(member, _number(command), command.rest)
    return (
        f"已发给工单 {ticket.number} 的居民（48 小时内没有联系过的，居民下次发消息时会看到）。已记在工单上。"
    )


async def _mine(ctx: Context, desk: ServiceDesk, member: StaffMember, command: StaffCommand) -> str:
    return _my_tickets(ctx, await desk.staff_tickets(member))


async def _duty(ctx: Context, desk: ServiceDesk, member: StaffMember, command: StaffCommand) -> str:
    return await _on_duty(ctx)


def _number(command: StaffCommand) -> str:
    assert command.number is not None  # handle() answers with the usage first
    return command.number


Verb = Callable[[Context, "ServiceDesk", "StaffMember", StaffCommand], Awaitable[str]]
VERBS: dict[str, Verb] = {
    "登录": _sign_in,
    "接单": _claim,
    "办结": _complete,
    "转交": _transfer,
    "保留": _keep,
    "回复": _reply,
    "我的工单": _mine,
    "值班": _duty,
}


def claimed_text(ctx: Context, ticket: Ticket) -> str:
    """The full contact details go to the claiming staff member privately, never to the group."""
    lines = [
        f"接单成功：工单 {ticket.number}【{item_title(ctx.services.handbook.items, ticket.item_id)}】",
        f"居民：{ticket.contact_name} {ticket.contact_mobile}",
    ]
    if ticket.fields.get("address"):
        lines.append(f"地址：{without_id_numbers(ticket.fields['address'])}")
    start, end = local(ticket.wanted_start, ctx.services.tz), local(ticket.wanted_end, ctx.services.tz)
    if start and end:
        lines.append(f"时间：{start:%m月%d日 %H:%M}-{end:%H:%M}")
    if ticket.fields.get("description"):
        lines.append(f"情况：{without_id_numbers(ticket.fields['description'])}")
    if ticket.kind in ("handoff", "complaint"):
        lines.append(f"答复居民：回复 {ticket.number} 内容")
    lines.append(f"办好后回复：办结 {ticket.number} 备注")
    return "\n".join(lines)


def _my_tickets(ctx: Context, tickets: list[Ticket]) -> str:
    if not tickets:
        return "您手上没有未办结的工单。"
    lines = [f"您手上有 {len(tickets)} 张工单："]
    for ticket in tickets:
        title = item_title(ctx.services.handbook.items, ticket.item_id)
        lines.append(f"{ticket.number} {title} — {STATE_NAMES[ticket.state]}")
    return "\n".join(lines)


async def _on_duty(ctx: Context) -> str:
    assert ctx.services.desk is not None
    windows = await ctx.services.desk.on_duty_now()
    if not windows:
        return "现在不在值班时段。"
    return "\n".join(
        f"{label}：{'、'.join(_name(m) for m in people) or '（无人）'}" for label, people in windows
    )


def _name(member: StaffMember) -> str:
    return member.name + ("（值班长）" if "leader" in member.roles else "")
