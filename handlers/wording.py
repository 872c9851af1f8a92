"""How WeChat (and the CLI) word the desk's states and refusals, in Chinese.

The desk returns reasons and facts (desk.refusals.Refused); a web console words them its own way.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from desk.refusals import Refused

# A ticket number as residents write it ("加到10019上面", "我是问10010"): five digits, not inside a mobile.
TICKET_NUMBER = re.compile(r"(?<!\d)(\d{5})(?!\d)")

STATE_NAMES = {
    "open": "待派单",
    "assigned": "已派单",
    "accepted": "已签收",
    "done": "已办结",
    "closed": "已关闭",
    "cancelled": "已取消",
}
ACTION_NAMES = {
    "assign": "派单",
    "accept": "接单",
    "transfer": "转交",
    "reassign": "改派",
    "handover": "交接",
    "complete": "办结",
    "close": "关闭",
    "cancel": "取消",
    "keep": "保留",
    "note": "备注",
    "reply": "回复居民",
    "amend": "修改",
}

_REFUSALS: dict[str, Callable[[dict[str, Any]], str]] = {
    "unknown_ticket": lambda f: f"没有编号为 {f['number'] or '（空）'} 的工单",
    "not_your_ticket": lambda f: f"没有找到您编号为 {f['number']} 的工单",
    "unknown_staff": lambda f: f"没有叫“{f['name']}”的工作人员",
    "wrong_state": lambda f: (
        f"工单 {f['number']} 现在{STATE_NAMES[f['state']]}，不能{ACTION_NAMES[f['action']]}"
    ),
    "already_claimed": lambda f: f"工单 {f['number']} 已由 {f['assignee']} 接单",
    "owner_only": lambda f: f"工单 {f['number']} 由 {f['assignee']} 负责，只有负责人能办结",
    "owner_or_leader": lambda f: f"工单 {f['number']} 由 {f['assignee']} 负责，只有负责人或值班长能转交",
    "leader_only": lambda f: f"工单 {f['number']} 只有值班长能{ACTION_NAMES[f['action']]}",
    "not_for_you": lambda f: (
        f"工单 {f['number']} 不能接：只有负责人、在班且能办这类事项的同事、值班长或书记可以接单。"
        "需要的话请值班长转交给您"
    ),
    "not_qualified": lambda f: f"{f['name']} 不办这类事项，工单 {f['number']} 不能转给他/她",
    "not_holder": lambda f: f"工单 {f['number']} 不在您手上，不能保留",
    "already_with": lambda f: f"工单 {f['number']} 已经在 {f['name']} 手上",
    "needs_assignee": lambda f: f"{ACTION_NAMES[f['action']]}需要指定接收人",
    "busy": lambda f: f"工单 {f['number']} 正在被其他人处理，请稍后再试",
    "bad_stars": lambda f: "评分请用 1 到 5 分",
    "bad_code": lambda f: "绑定码无效、已用过或已过期，请向社区书记要一个新的。",
    "bind_locked": lambda f: f"绑定尝试次数太多，请 {f['minutes']} 分钟后再试，或向社区书记确认绑定码。",
    "bind_paused": lambda f: f"绑定码近来被大量尝试，绑定已暂停，请 {f['minutes']} 分钟后再试。",
    "bound_elsewhere": lambda f: f"这个微信已绑定为“{f['name']}”，不能再绑定“{f['wanted']}”。",
    "bad_leave": lambda f: "请假结束日期早于开始日期",
    "signin_code": lambda f: "登录码不对或已过期（5 分钟内有效）。请刷新工作台的登录页，发送新显示的登录码。",
    "signin_locked": lambda f: f"登录尝试次数太多，已暂停，请 {f['minutes']} 分钟后再试。",
    "signin_expired": lambda f: "这次登录已过期，请刷新登录页重新登录。",
    "signin_link": lambda f: "登录链接无效、已用过或已过期，请向社区书记要一个新的。",
    "secretary_only": lambda f: f"只有社区书记能看{f.get('page', '投诉和回访')}。",
    "leader_or_secretary": lambda f: f"只有值班长和社区书记能看{f.get('page', '这一页')}。",
    "secretary_record": lambda f: f"只有社区书记能修改{f['name']}（书记）的资料。",
    "roles_secretary_only": lambda f: "只有社区书记能设置值班长和书记。",
    "last_secretary": lambda f: f"{f['name']}是唯一的社区书记：请先让另一位同事担任书记。",
    "holds_tickets": lambda f: (
        f"{f['name']}手上还有 {len(f['numbers'])} 张未办完的工单（{'、'.join(f['numbers'])}），"
        "请选一位同事接手后再停用。"
    ),
    "rota_changed": lambda f: "值班表刚被别人改过，请重新打开值班表再改（您这次的修改没有保存）。",
    "unknown_action": lambda f: "没有这个操作",
    "needs_text": lambda f: f"{ACTION_NAMES[f['action']]}需要写内容",
    "handbook_changed": lambda f: (
        f"手册刚被别人发布了新版本（第 {f['number']} 版），这次的修改没有发布。"
        "请重新打开这一页，在新版本上再改。"
    ),
    "unknown_item": lambda f: f"手册里没有“{f['item']}”这个事项",
    "unknown_version": lambda f: f"没有第 {f['number']} 版手册",
    "phrase_known": lambda f: f"“{f['phrase']}”已经在“{f['title']}”的居民说法里了",
    "needs_phrase": lambda f: "请写要加的说法",
    "reply_not_allowed": lambda f: (
        f"工单 {f['number']} 由 {f['assignee'] or '（未派）'} 负责，只有负责人、值班长或书记能回复居民"
    ),
}
# Tickets that are not about a handbook item (desk/complaints.py, desk/handoff.py).
KIND_TITLES = {"complaint": "居民投诉", "handoff": "转人工"}


# What the bot did with a message it could not answer outright (desk/unanswered.py's outcomes).
OUTCOME_NAMES = {
    "apology": "道歉",
    "choice": "让居民选",
    "lonely": "陪伴",
    "referral": "转介",
    "life": "人生大事",
    "again": "同一清单又问",
    "unanswered": "事项里没有答案",
}


def outcome_label(outcome: str, places: Mapping[str, str] | None = None) -> str:
    """How the bot answered, in words: "apology" → 道歉; "referral:police_station" → 转介：派出所（公安）
    (the agency's name from `places`, referrals.yaml's id → name)."""
    kind, _, detail = outcome.partition(":")
    said = OUTCOME_NAMES.get(kind, kind)
    detail = (places or {}).get(detail, detail)
    return f"{said}：{detail}" if detail else said


def item_title(items: Mapping[str, Any], item_id: str) -> str:
    """The title staff and residents read for a ticket's item; complaints and handoffs have none."""
    item = items.get(item_id)
    return item.title if item is not None else KIND_TITLES.get(item_id, item_id)


def refusal(refused: Refused) -> str:
    """The sentence a person reads for `refused`."""
    word = _REFUSALS.get(refused.reason)
    return word(refused.facts) if word else f"办不了：{refused.reason}"


def closest(text: str, names: Iterable[str], n: int = 3) -> list[str]:
    """The names most like `text` (a typo, a part of a title), best first, for "是不是：…"."""
    names = list(dict.fromkeys(names))
    found = difflib.get_close_matches(text, names, n=n, cutoff=0.4)
    return found or [name for name in names if text and (text in name or name in text)][:n]


def state_id(text: str) -> str | None:
    """A state given as its id (accepted) or its Chinese name (已签收)."""
    text = text.strip()
    if text in STATE_NAMES:
        return text
    return next((state for state, name in STATE_NAMES.items() if name == text), None)


def item_id_of(items: Mapping[str, Any], text: str) -> str | None:
    """An item given as its id, its title or one of its aliases (居住证 → residence_permit)."""
    text = text.strip()
    if text in items or text in KIND_TITLES:
        return text
    for kind, title in KIND_TITLES.items():
        if text == title:
            return kind
    for item in items.values():
        if text == item.title or text in item.aliases:
            return str(item.id)
    return None


def item_suggestions(items: Mapping[str, Any], text: str) -> list[str]:
    """Titles of the items whose title or alias is closest to `text`."""
    by_name: dict[str, str] = {}
    for item in items.values():
        for name in (item.title, *item.aliases):
            by_name.setdefault(name, item.title)
    return list(dict.fromkeys(by_name[name] for name in closest(text, by_name, n=5)))[:3]
