"""Emergencies: what to do now and whom to call, as the first lines of the first reply.

Checked before every other route. Where the community should act (a lift with someone inside,
gas in a stairwell, a missing manhole cover, an elderly person missing or unseen), an urgent
ticket is opened at once with what the message says, everyone on duty and the duty leader are
mentioned in the group, and the address is asked afterwards — the ticket does not wait for it.
"""

from __future__ import annotations

from intents.danger import Danger


def first_lines(danger: Danger) -> str:
    """Two or three short lines: the numbers first, then what to do now."""
    numbers = "、".join(f"{n.phone}（{n.label}）" for n in danger.numbers)
    return "\n".join([f"【紧急】请马上拨打 {numbers}！", *danger.hazard.advice])


def community_line(number: int | None, has_address: bool) -> str:
    """What the community does, said only when a ticket backs it."""
    if number is None:
        return ""
    ask = "" if has_address else "请回复具体地址（小区、楼栋、单元、门牌），方便工作人员找到。"
    return f"社区已派紧急工单（编号 {number}），通知了所有值班人员。{ask}"
