"""Wording of outbox messages: staff-group pushes (WeCom markdown) and resident notices.

Payloads carry facts written with the ticket change (see desk/desk.py); the wording lives
here with the other replies, so it can change without touching stored rows.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime
from typing import Any

from desk.masking import mask_text
from handlers import task_notices
from handlers.wording import item_title
from intents.when import day_label
from knowledge import Handbook

GROUP_TITLES = {
    "new_ticket": "新工单",
    "transferred": "工单转交",
    "cancelled": "居民已取消",
    "withdrawn": "社区已取消工单",
    "follow_up": "差评回访",
    "claim_reminder": "接单提醒",
    "claim_escalation": "超时未接单·升级",
    "done_warning": "超时预警",
    "done_overdue": "督办：已超过办结时限",
    "appointment": "明日预约提醒",
    "emergency": "紧急情况",
    "detail": "工单补充",
    "hurried": "居民说情况紧急",
    "complaint": "居民投诉",
    "handoff": "转人工",
    "amended": "居民修改了工单",
}
_ACTIONS = {
    "claim_reminder": "还没有人接单，请尽快",
    "claim_escalation": "已超时未接单，请 B角或值班长协调",
    "done_warning": "办结时限已过 80%，请抓紧办结",
    "done_overdue": "已超过办结时限，请书记督办",
    "appointment": "明天按约定时间上门/接待",
}


QUOTED_MAX = 300  # characters of a resident's words in one push; the claimer sees them all
# Links and mentions are ASCII (after NFKC); matching only ASCII keeps the Chinese around them.
_URL_CHARS = r"[!-~]"
_LINK = re.compile(
    rf"(?:https?|ftp)\s*[:：]\s*//{_URL_CHARS}*|www\.{_URL_CHARS}+"
    rf"|[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.(?:com|cn|net|org|top|xyz|io|cc|me|info|vip|site|link)\b{_URL_CHARS}*",
    re.I,
)
_MENTION = re.compile(r"<\s*@[^>]*>?|@[A-Za-z0-9_.-]*")
# WeCom markdown syntax, replaced by full-width look-alikes that render as plain text.
_INERT = str.maketrans(
    {
        "<": "＜",
        ">": "＞",
        "[": "［",
        "]": "］",
        "(": "（",
        ")": "）",
        "*": "＊",
        "_": "＿",
        "`": "＇",
        "#": "＃",
        "~": "～",
        "!": "！",
        "|": "｜",
        "\\": "＼",
        "@": "＠",
    }
)


def quoted(text: object) -> str:
    """A resident's words, safe inside a staff-group push: masked (desk/masking.py), on one line,
    without mentions, links, images, tags or markdown, so nobody can @all the group, forge a
    "请 <@x> 回复 接单" line or a "**新工单**" block, or post a phishing link in the centre's name.
    Use it for every resident-supplied field (description, name, address, comment, detail)."""
    text = unicodedata.normalize("NFKC", str(text or ""))
    # Control and format characters (line and paragraph separators, RTL overrides, zero-width) go.
    text = "".join(" " if unicodedata.category(c)[0] in "CZ" and c != " " else c for c in text)
    text = _LINK.sub("[链接已删除]", mask_text(text))
    text = _MENTION.sub("", text)
    text = " ".join(text.split()).translate(_INERT)
    return text if len(text) <= QUOTED_MAX else text[: QUOTED_MAX - 1] + "…"


def _window(payload: dict[str, Any]) -> str:
    window = payload.get("window")
    if not window:
        return "尽快"
    start, end = (datetime.fromisoformat(w) for w in window)
    return f"{day_label(start.date())}{start:%H:%M}-{end:%H:%M}"


def _title(handbook: Handbook, item_id: str) -> str:
    return item_title(handbook.items, item_id)


# WeCom markdown reads these; in a resident's words they become look-alikes, so a message cannot
# @-mention staff, link, colour or restructure the push ("<@all>", "[点我](http://…)", "# ").
# Bold (**) is harmless and stays, so a masked number still reads 138****5678.


def _due(payload: dict[str, Any]) -> str:
    due = datetime.fromisoformat(payload["due"])
    return f"{due.month}月{due.day}日 {due:%H:%M}"


def handover_markdown(payload: dict[str, Any]) -> str:
    lines = [f"**交接班：{payload['window']}结束**"]
    for move in payload["moves"]:
        if move.get("kept"):
            lines.append(f"> {move['ticket']} 由 {move['from']} 保留")
        elif move.get("to") and not move.get("skipped"):
            mention = f"<@{move['wecom']}>" if move.get("wecom") else move["to"]
            lines.append(f"> {move['ticket']} {move['from']} → {mention}，请接单")
        else:
            lines.append(f"> {move['ticket']} 仍由 {move['from']} 负责（下一班无人接手）")
    return "\n".join(lines)


def emergency_markdown(payload: dict[str, Any]) -> str:
    """An emergency: everyone on duty and the duty leaders mentioned; the address may follow."""
    mentions = " ".join(f"<@{m}>" for m in payload.get("mentions", ()))
    lines = [
        f'<font color="warning">【紧急】{payload.get("hazard", "")}</font> **工单 {payload["ticket"]}**',
        f"> 居民说：{quoted(payload.get('description', ''))}",
        "> 已告诉居民拨打的电话和怎么自救；地址居民补充后另行推送。",
        f"{mentions} 请立即处理，回复“接单 {payload['ticket']}”（负责人 {payload.get('assignee') or '无'}）",
    ]
    return "\n".join(lines)


def hurried_markdown(handbook: Handbook, payload: dict[str, Any]) -> str:
    """A resident says an open ticket became urgent (desk/hurry.py): marked urgent, its words quoted."""
    mentions = " ".join(f"<@{m}>" for m in payload.get("mentions", ()))
    holder = payload.get("assignee") or "无"
    lines = [
        f'<font color="warning">【居民说情况紧急】</font>**工单 {payload["ticket"]}**',
        f"> 事项：{_title(handbook, payload['item_id'])}",
        f"> 居民说：{quoted(payload.get('text', ''))}",
        f"> 联系电话：{payload.get('mobile', '****')}",
        f"{mentions} 工单已标为紧急，请尽快处理（负责人 {holder}）".strip(),
    ]
    return "\n".join(lines)


def complaint_markdown(payload: dict[str, Any]) -> str:
    """A complaint for the secretary (责任追究): the resident's words, escaped, and the ticket it is about."""
    who = f"<@{payload['wecom']}>" if payload.get("wecom") else (payload.get("assignee") or "社区书记")
    lines = [f'<font color="warning">【居民投诉】</font>**工单 {payload["ticket"]}**']
    if payload.get("parent"):
        holder = f"（原负责人 {payload['parent_assignee']}）" if payload.get("parent_assignee") else ""
        lines.append(f"> 关于工单 {payload['parent']}{holder}")
    lines += [
        f"> 居民说：{quoted(payload.get('text', ''))}",
        f"> 联系电话：{payload.get('mobile', '****')}",
        f"{who} 请回复“接单 {payload['ticket']}”，核实后用“回复 {payload['ticket']} 内容”答复居民",
    ]
    return "\n".join(lines)


def handoff_markdown(payload: dict[str, Any]) -> str:
    """A resident asks for a person: the assignee @-mentioned, with what the resident said, escaped."""
    who = f"<@{payload['wecom']}>" if payload.get("wecom") else (payload.get("assignee") or "在班同事")
    by = ""
    if payload.get("answer_by"):
        answer_by = datetime.fromisoformat(payload["answer_by"])
        by = f"（请在 {answer_by.month}月{answer_by.day}日 {answer_by:%H:%M} 前）"
    lines = [f"**转人工 {payload['ticket']}：居民要找工作人员**", "> 居民最近说："]
    lines += [f"> {n}. {quoted(text)}" for n, text in enumerate(payload.get("recent") or (), 1)]
    lines.append(f"{who} 请用“回复 {payload['ticket']} 内容”答复居民{by}")
    return "\n".join(lines)


def group_markdown(event: str, payload: dict[str, Any], handbook: Handbook) -> str:
    """One ticket as a WeCom markdown message; the assignee is @-mentioned by WeCom user id."""
    if event in task_notices.GROUP_EVENTS:
        return task_notices.group_markdown(event, payload, handbook)
    if event == "complaint":
        return complaint_markdown(payload)
    if event == "handoff":
        return handoff_markdown(payload)
    if event == "handover":
        return handover_markdown(payload)
    if event == "bind_guessing":
        one = payload.get("scope") == "bind_locked"
        who = f"一个微信号（尾号 {quoted(payload.get('who', ''))}）" if one else "多个微信号"
        paused = "已暂停它的绑定" if one else "已暂停所有绑定"
        return (
            '<font color="warning">**绑定码被反复猜测**</font>\n'
            f"> {who}在短时间内多次尝试绑定码，{paused}约 {payload.get('minutes', 60)} 分钟。\n"
            "> 如非本人操作，请书记留意；正在用的绑定码不受影响，必要时可重新发码。"
        )
    if event == "emergency":
        return emergency_markdown(payload)
    if event == "hurried":
        return hurried_markdown(handbook, payload)
    if event == "detail":
        label = {"address": "地址", "detail": "补充情况", "not_complaint": "居民说不是投诉"}.get(
            payload.get("field", ""), "补充"
        )
        mention = f"<@{payload['wecom']}> " if payload.get("wecom") else ""
        return (
            f"**工单补充 {payload['ticket']}**\n> {label}：{quoted(payload.get('text', ''))}\n{mention}请查看"
        )
    urgent = payload.get("urgent")
    heading = GROUP_TITLES.get(event, event)
    lines = [
        ('<font color="warning">【紧急·安全隐患】</font>' if urgent else "")
        + f"**{heading} {payload['ticket']}**",
        f"> 事项：{_title(handbook, payload['item_id'])}",
        f"> 时间：{_window(payload)}",
        f"> 联系电话：{payload.get('mobile', '****')}",
    ]
    if payload.get("description"):
        lines.append(f"> 情况：{quoted(payload['description'])}")
    if payload.get("grid"):  # a grid order: its grid member (网格员) first (desk/tasks.py)
        lines.append(f"> 网格：{quoted(payload['grid'])}")
    if payload.get("returned"):
        lines.append("> 任务清单无人接单，转回社区值班")
    if event == "follow_up":
        lines.append(
            f"> 原工单 {payload.get('parent')} 评分 {payload.get('stars')}："
            f"{quoted(payload.get('comment')) or '（无留言）'}"
        )
    if event == "transferred":
        lines.append(f"> 由 {payload.get('by')} 转交")
    if event in _ACTIONS:
        if event.startswith("done_"):
            lines.append(f"> 办结时限：{_due(payload)}")
        mentions = " ".join(f"<@{m}>" for m in payload.get("mentions", ()))
        lines.append(
            f"{mentions} {_ACTIONS[event]}：工单 {payload['ticket']}"
            f"（负责人 {payload.get('assignee') or '无'}）"
        )
        return "\n".join(lines)
    if event == "amended":
        lines.extend(f"> 改动：{quoted(change)}" for change in payload.get("changes", ()))
        who = f"<@{payload['wecom']}> " if payload.get("wecom") else ""
        lines.append(f"{who}请按新的安排办理工单 {payload['ticket']}")
        return "\n".join(lines)
    if event == "cancelled":
        lines.append("> 居民已取消，无需再上门或联系。")
    elif event == "withdrawn":
        lines.append(f"> 社区已取消（{payload.get('reason') or '未写原因'}），无需再上门或联系。")
    elif payload.get("wecom"):
        lines.append(f"请 <@{payload['wecom']}> 在公众号回复“接单 {payload['ticket']}”")
    elif payload.get("assignee"):
        lines.append(f"请 {payload['assignee']} 在公众号回复“接单 {payload['ticket']}”")
    else:
        lines.append(f"暂无值班人员，请在班同事回复“接单 {payload['ticket']}”")
    return "\n".join(lines)


def digest_markdown(rows: list[tuple[str, dict[str, Any]]], handbook: Handbook) -> str:
    """Pushes folded into one message when the robot's per-minute budget runs out."""
    lines = [f"**还有 {len(rows)} 条工单动态（合并发送）**"]
    for event, payload in rows:
        mention = (
            f"<@{payload['wecom']}>"
            if payload.get("wecom") and event not in ("cancelled", "withdrawn")
            else ""
        )
        urgent = "【紧急】" if payload.get("urgent") else ""
        lines.append(
            f"> {urgent}{GROUP_TITLES.get(event, event)} {payload['ticket']} "
            f"{_title(handbook, payload['item_id'])} {_window(payload)} {mention}"
        )
    return "\n".join(lines)


def resident_text(event: str, payload: dict[str, Any], handbook: Handbook) -> str:
    if event in task_notices.RESIDENT_EVENTS:
        return task_notices.resident_text(event, payload, handbook)
    title = _title(handbook, payload["item_id"])
    who = f"{payload.get('staff_surname', '')}老师" if payload.get("staff_surname") else "工作人员"
    if event == "staff_reply":
        return f"{who}回复您（工单 {payload['ticket']}）：\n{payload.get('note', '')}"
    if event == "claimed":
        return f"您的工单 {payload['ticket']}【{title}】已由{who}接单，会尽快和您联系。"
    if event == "done":
        note = f"（{payload['note']}）" if payload.get("note") else ""
        return (
            f"您的工单 {payload['ticket']}【{title}】已办结{note}。\n"
            "请给这次服务打分：回复 1-5 的数字（5 分最满意），也可以在数字后面写几句意见。"
        )
    if event == "withdrawn":
        reason = f"：{payload['note']}" if payload.get("note") else ""
        return f"您的工单 {payload['ticket']}【{title}】已由社区取消{reason}。如有疑问请拨打社区电话。"
    if event == "appointment" and payload.get("start"):
        start = datetime.fromisoformat(payload["start"])
        return (
            f"提醒：您预约的【{title}】在明天 {start:%H:%M}，工单 {payload['ticket']}，由{who}负责。"
            "有变化请回复“取消”或拨打社区电话。"
        )
    return f"您的工单 {payload['ticket']}【{title}】有新进展。"
