"""Staff commands from WeChat: 绑定 CODE, 接单 N, 办结 N 备注, 转交 N 姓名, 保留 N, 我的工单, 值班.

Only a WeChat identity bound with a one-time code may run them; the staff table is consulted only
for messages that start with a command word, so residents' messages never pay for the lookup.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from desk.clocks import local
from desk.masking import without_id_numbers
from desk.refusals import Refused
from handlers.types import Context, Reply
from handlers.wording import STATE_NAMES, refusal
from intents.normalize import simplify

if TYPE_CHECKING:
    from desk.desk import StaffMember, Ticket

COMMAND = re.compile(r"^\s*(绑定|接单|办结|转交|保留|我的工单|值班)\s*[:：]?\s*(.*)$", re.S)
_NUMBER_REST = re.compile(r"^(\d{5,})\s*(.*)$", re.S)
USAGE = {
    "接单": "接单 工单号，例如：接单 10001",
    "办结": "办结 工单号 备注，例如：办结 10001 已上门认证完成",
    "转交": "转交 工单号 姓名，例如：转交 10001 李强",
    "保留": "保留 工单号，例如：保留 10001（交接班时不转给下一班）",
}


def match(text: str) -> re.Match[str] | None:
    return COMMAND.match(simplify(text))


async def handle(ctx: Context, command: re.Match[str]) -> Reply | None:
    """The reply to a staff command; None when a resident says 值班 (an office question, not a command)."""
    desk = ctx.services.desk
    if desk is None:
        return None
    verb, rest = command.group(1), command.group(2).strip()
    try:
        if verb == "绑定":
            member = await desk.staff.bind(ctx.message.resident, rest)
            return Reply(
                f"绑定成功，{member.name}。以后可以在这里发：接单 工单号、办结 工单号 备注、"
                "转交 工单号 姓名、我的工单、值班。"
            )
        member = await desk.staff.by_openid(ctx.message.resident)
        if member is None:
            if verb == "值班":
                return None
            return Reply("这是社区工作人员用的指令。需要办事的话，直接告诉我要办什么就行。")
        if verb == "我的工单":
            return Reply(_my_tickets(ctx, await desk.staff_tickets(member)))
        if verb == "值班":
            return Reply(await _on_duty(ctx))
        parts = _NUMBER_REST.match(rest)
        if not parts or (verb == "转交" and not parts.group(2).strip()):
            return Reply("格式：" + USAGE[verb])
        number, extra = parts.group(1), parts.group(2).strip()
        if verb == "接单":
            return Reply(_claimed(ctx, await desk.claim(member, number)))
        if verb == "保留":
            ticket = await desk.keep(member, number)
            return Reply(f"工单 {ticket.number} 下次交接班时仍由您负责。")
        if verb == "办结":
            ticket = await desk.complete(member, number, extra)
            return Reply(f"工单 {ticket.number} 已办结，已通知居民并请其评价。辛苦了！")
        ticket = await desk.transfer(member, number, extra, ctx.services.handbook.claim_minutes)
        return Reply(f"工单 {ticket.number} 已转交给 {ticket.assignee}，群里已 @ 对方。")
    except Refused as refused:
        return Reply(refusal(refused))


def _claimed(ctx: Context, ticket: Ticket) -> str:
    """The full contact details go to the claiming staff member privately, never to the group."""
    item = ctx.services.handbook.item(ticket.item_id)
    lines = [
        f"接单成功：工单 {ticket.number}【{item.title}】",
        f"居民：{ticket.contact_name} {ticket.contact_mobile}",
    ]
    if ticket.fields.get("address"):
        lines.append(f"地址：{without_id_numbers(ticket.fields['address'])}")
    start, end = local(ticket.wanted_start, ctx.services.tz), local(ticket.wanted_end, ctx.services.tz)
    if start and end:
        lines.append(f"时间：{start:%m月%d日 %H:%M}-{end:%H:%M}")
    if ticket.fields.get("description"):
        lines.append(f"情况：{without_id_numbers(ticket.fields['description'])}")
    lines.append(f"办好后回复：办结 {ticket.number} 备注")
    return "\n".join(lines)


def _my_tickets(ctx: Context, tickets: list[Ticket]) -> str:
    if not tickets:
        return "您手上没有未办结的工单。"
    lines = [f"您手上有 {len(tickets)} 张工单："]
    for ticket in tickets:
        title = ctx.services.handbook.item(ticket.item_id).title
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
