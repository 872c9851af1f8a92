"""Whether a time limit in working days has passed, worked out from the day the resident gives
("低保审批30个工作日 从11月5号算到今天超过没有": trial Z11 r17 got the same ticket list three times).

The day and the count are the resident's; the working days are the handbook's calendar (weekends,
holidays and make-up days), so the answer is the same one the desk's own deadlines use.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

import cn2an

from handlers.types import Context, Reply
from intents.normalize import simplify

# "30个工作日", "三十个工作日", "20 个工作日内"
_COUNT = re.compile(r"(\d{1,3}|[一二两三四五六七八九十百]{1,4})\s*个?\s*工作日")
# "11月5号", "十一月五日", "11.5" is left alone: too often a price or a version
_NUMERAL = r"(\d{1,2}|[一二三四五六七八九十]{1,3})"
_DAY = re.compile(_NUMERAL + r"\s*月\s*" + _NUMERAL + r"\s*(?:号|日)")
# Asks whether it is over, or until when: not "要30个工作日吗" alone (that is the item's own time limit).
_ASKS = re.compile(
    r"超(过|时|期)|过了(没|吗|没有)|到期|到(哪天|几号|好久|什么时候|啥时候)|算到|还(差|剩|有)几天|该到了"
)


@dataclass(frozen=True)
class Reckoning:
    start: date
    count: int


def asked(ctx: Context) -> Reckoning | None:
    """The start day and the number of working days when the message asks whether (or when) such a
    time limit runs out; None otherwise."""
    text = simplify(ctx.message.text or "")
    count, day = _COUNT.search(text), _DAY.search(text)
    if count is None or day is None or not _ASKS.search(text):
        return None
    try:
        days = _number(count.group(1))
        month, day_of_month = _number(day.group(1)), _number(day.group(2))
        today = ctx.services.now().date()
        start = date(today.year, month, day_of_month)
    except ValueError:
        return None  # "13月40号": no such day — not ours to guess
    if start > today:
        start = start.replace(year=today.year - 1)  # "12月20号" said in January: last December
    return Reckoning(start, days) if 0 < days <= 365 else None


async def answer(ctx: Context, reckoning: Reckoning) -> Reply:
    calendar = ctx.services.handbook.calendar
    today = ctx.services.now().date()
    due, passed = reckoning.start, 0
    while passed < reckoning.count:  # the start day itself is day 0, as the centre counts
        due += timedelta(days=1)
        passed += calendar.is_workday(due)
    elapsed = range(1, (today - reckoning.start).days + 1)
    used = sum(calendar.is_workday(reckoning.start + timedelta(days=k)) for k in elapsed)
    head = (
        f"从 {_md(reckoning.start)} 起算 {reckoning.count} 个工作日（不算周末和法定节假日），"
        f"到 {_md(due)}（周{'一二三四五六日'[due.weekday()]}）。"
    )
    if today > due:
        verdict = (
            f"今天 {_md(today)}，已经超过 {used - reckoning.count} 个工作日了。"
            "回复“人工”，请工作人员帮您催办、查原因。"
        )
    elif today == due:
        verdict = "今天就是最后一天；今天还没有结果的，明天回复“人工”请工作人员帮您查。"
    else:
        left = reckoning.count - used
        verdict = f"今天 {_md(today)}，已过 {used} 个工作日，还没超过，还有 {left} 个工作日。"
    return Reply(f"{head}\n{verdict}")


def _md(day: date) -> str:
    return f"{day.month}月{day.day}日"


def _number(said: str) -> int:
    """Digits or a Chinese numeral ("三十", "两"), via cn2an rather than a table of our own."""
    if said.isdigit():
        return int(said)
    return int(cn2an.cn2an(said.replace("两", "二"), "smart"))
