"""Wording of the task list's outbox messages: pushes to party-branch and volunteer-team groups,
the 报到 note for the secretary, and notices to residents and responders.

Every resident-supplied or self-registered text goes through notices.quoted (masked, escaped);
group pushes carry the resident's mobile masked and the compound only, never the address.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from handlers.wording import item_title
from intents.when import day_label
from knowledge import Handbook

KIND_NAMES = {"party_member": "在职党员", "volunteer": "志愿者"}
GROUP_EVENTS = frozenset({"task_offer", "task_taken", "community_task", "responder_signup"})
RESIDENT_EVENTS = frozenset({"task_claimed", "grid_task", "responder_approved", "responder_rejected"})


def _window(payload: dict[str, Any]) -> str:
    window = payload.get("window")
    if not window:
        return "尽快"
    start, end = (datetime.fromisoformat(w) for w in window)
    return f"{day_label(start.date())}{start:%H:%M}-{end:%H:%M}"


def group_markdown(event: str, payload: dict[str, Any], handbook: Handbook) -> str:
    from handlers.notices import quoted  # notices dispatches here: imported late, no cycle

    if event == "task_offer":
        lines = [
            f"**任务清单 {payload['ticket']}：{item_title(handbook.items, payload['item_id'])}**",
            f"> 地点：{quoted(payload.get('area')) or '辖区'}一带（详细地址接单后可见）",
            f"> 时间：{_window(payload)}",
            f"> 联系电话：{payload.get('mobile', '****')}",
        ]
        if payload.get("description"):
            lines.append(f"> 情况：{quoted(payload['description'])}")
        lines.append(
            f"{quoted(payload.get('group'))}的同志请在公众号回复“接单 {payload['ticket']}”，先到先得。"
        )
        return "\n".join(lines)
    if event == "task_taken":
        who = KIND_NAMES.get(payload.get("kind", ""), "")
        return (
            f"**任务 {payload['ticket']} 已有人接单**\n"
            f"> 由{who}{quoted(payload.get('taker'))}（{quoted(payload.get('group'))}）负责，谢谢大家！"
        )
    if event == "community_task":
        lines = [
            f"**社区任务 {payload['task']}：{quoted(payload.get('title'))}**（名额 {payload['places']} 人）"
        ]
        if payload.get("detail"):
            lines.append(f"> {quoted(payload['detail'])}")
        lines.append(f"> 发布：{quoted(payload.get('posted_by'))}")
        lines.append(f"愿意参加的同志请在公众号回复“接单 {payload['task']}”，报满为止。")
        return "\n".join(lines)
    # responder_signup: a 报到 waits for the secretary
    skills = "、".join(quoted(s) for s in payload.get("skills") or ()) or "未填"
    return "\n".join(
        [
            f"**报到申请 {payload['signup']}**",
            f"> {quoted(payload.get('name'))}（{KIND_NAMES.get(payload.get('kind', ''), '')}）"
            f"· {quoted(payload.get('group'))}",
            f"> 单位：{quoted(payload.get('unit')) or '未填'}；"
            f"住：{quoted(payload.get('community')) or '未填'}",
            f"> 能做：{skills}；有空：{quoted(payload.get('availability')) or '未填'}",
            f"> 电话：{payload.get('mobile') or '未填'}",
            f"书记请在公众号回复“通过 {payload['signup']}”或“拒绝 {payload['signup']} 理由”。",
        ]
    )


def resident_text(event: str, payload: dict[str, Any], handbook: Handbook) -> str:
    if event == "responder_approved":
        return (
            f"{payload.get('name', '')}同志，您的报到已通过，欢迎加入{payload.get('group', '')}！\n"
            "群里发任务后，在这里回复“接单 编号”接单，接到后能看到居民的联系方式；"
            "办好后回复“办结 编号 备注”。回复“我的任务”查看手上的任务，回复“退出”退出。"
        )
    if event == "responder_rejected":
        note = f"（{payload['note']}）" if payload.get("note") else ""
        return f"您的报到没有通过{note}。如有疑问请联系社区书记。"
    title = item_title(handbook.items, payload["item_id"])
    if event == "grid_task":
        return (
            f"网格任务：工单 {payload['ticket']}【{title}】，在您负责的{payload.get('grid', '')}"
            f"（{payload.get('area', '')}）。请回复“接单 {payload['ticket']}”，接单后能看到居民的联系方式。"
        )
    who = KIND_NAMES.get(payload.get("kind", ""), "")
    group = f"（{payload['group']}）" if payload.get("group") else ""
    return (
        f"您的工单 {payload['ticket']}【{title}】已由{who}{payload.get('taker', '')[:1]}同志{group}接单，"
        "会尽快和您联系。"
    )
