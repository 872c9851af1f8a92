"""Whether a time limit in working days (or plain days) has passed, worked out from the day the
resident gives ("低保审批30个工作日 从11月5号算到今天超过没有": trial Z11 r17 got the same ticket list
three times; "11月15号生的 90天以内要交 最晚哪天": trial Z13 r06 had to count it alone).

The day and the count are the resident's; the working days are the handbook's calendar (weekends,
holidays and make-up days), so the answer is the same one the desk's own deadlines use.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from handlers.types import Context, Reply
from intents.normalize import number_said, simplify
from intents.when import day_label

# A count of days: "30", "三十", "九十"
_COUNT_NUMERAL = r"(\d{1,3}|[一二两三四五六七八九十百]{1,4})"
# "30个工作日", "三十个工作日", "20 个工作日内"; plain days only as a limit ("90天以内", "加90天"), not
# "报修3天了" (how long they have waited)
_COUNT = re.compile(
    _COUNT_NUMERAL + r"\s*个?\s*(工作日|天(?=\s*(?:以内|之内|内|期限|时限|有效|是)))"
    r"|(?<=加)\s*" + _COUNT_NUMERAL + r"\s*(天)"
)
# "11月5号", "十一月五日", "11月15加90天"; "11.5" is left alone: too often a price or a version
_NUMERAL = r"(\d{1,2}|[一二三四五六七八九十]{1,3})"
_DAY = re.compile(_NUMERAL + r"\s*月\s*" + _NUMERAL + r"\s*(?:号|日|(?=\s*(?:加|起|开始|算)))")
# "2027年2月15号": the year said right before the month
_YEAR_BEFORE = re.compile(r"(20\d\d)\s*年\s*")
# Counted back from the day: "往前数90天", "到期前90天", "提前90天" (前 of 提前 too)
_BACKWARD = re.compile(r"往前(数|推|算)|前\s*" + _COUNT_NUMERAL + r"\s*天|倒(数|推)")
# Asks whether it is over, or until when: not "要30个工作日吗" alone (that is the item's own time limit).
_ASKS = re.compile(
    r"超(过|时|期)|过了(没|吗|没有)|到期|到(哪天|几号|好久|什么时候|啥时候)|算到|还(差|剩|有)(几|好多|多少)天|"
    r"该到了|最晚|截止|几月几(号|日)|是哪天|是几号"
)


@dataclass(frozen=True)
class Reckoning:
    start: date
    count: int
    working: bool = True  # working days (the calendar's); False: every day counts
    back: bool = False  # "往前数90天", "到期前90天": the day so many days before


def asked(ctx: Context) -> Reckoning | None:
    """The start day and the number of working days when the message asks whether (or when) such a
    time limit runs out; None otherwise."""
    text = simplify(ctx.message.text or "")
    count, day = _COUNT.search(text), _DAY.search(text)
    if count is None or day is None or not _ASKS.search(text):
        return None
    working = (count.group(2) or "") == "工作日"
    year = _YEAR_BEFORE.search(text, 0, day.start() + 1)
    try:
        days = _number(count.group(1) or count.group(3))
        month, day_of_month = _number(day.group(1)), _number(day.group(2))
        today = ctx.services.now().date()
        said_year = int(year.group(1)) if year and year.end() == day.start() else None
        start = date(said_year or today.year, month, day_of_month)
    except ValueError:
        return None  # "13月40号": no such day — not ours to guess
    back = not working and _BACKWARD.search(text) is not None
    if start > today and said_year is None and not back:
        start = start.replace(year=today.year - 1)  # "12月20号" said in January: last December
    if back and said_year is None and start < today:
        start = start.replace(year=today.year + 1)  # "2月15号到期 往前数90天" said in December: next February
    return Reckoning(start, days, working, back) if 0 < days <= 365 else None


async def answer(ctx: Context, reckoning: Reckoning) -> Reply:
    if not reckoning.working:
        return _calendar_days(ctx, reckoning)
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
        f"到 {day_label(due)}。"
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


def _calendar_days(ctx: Context, reckoning: Reckoning) -> Reply:
    """ "11月15号生的 90天以内要交": every day counts, the start day being day 0; "2027年2月15号到期
    往前数90天" (trial Z13's successor Z14 r13 was counted forward and told he was 206 days late)."""
    today = ctx.services.now().date()
    if reckoning.back:
        day = reckoning.start - timedelta(days=reckoning.count)
        start = _ymd(reckoning.start, today)
        head = f"从 {start} 往前数 {reckoning.count} 天，是 {_dated(day, today)}。"
        if today >= day:
            verdict = f"今天 {_md(today)}，这一天已经到了（在 {start} 前的 {reckoning.count} 天之内）。"
        else:
            verdict = f"今天 {_md(today)}，还有 {(day - today).days} 天到这一天。"
        return Reply(f"{head}\n{verdict}")
    due = reckoning.start + timedelta(days=reckoning.count)
    head = f"从 {_md(reckoning.start)} 起算 {reckoning.count} 天，到 {_dated(due, today)}。"
    if today > due:
        verdict = (
            f"今天 {_md(today)}，已经过了 {(today - due).days} 天。回复“人工”，请工作人员帮您看还能不能补办。"
        )
    elif today == due:
        verdict = "今天就是最后一天，请今天去办。"
    else:
        verdict = f"今天 {_md(today)}，还剩 {(due - today).days} 天。"
    return Reply(f"{head}\n{verdict}")


def _dated(day: date, today: date) -> str:
    """The day as said back to residents ("12月17日（周四）"), the year first when not this one."""
    return f"{day.year}年{day_label(day)}" if day.year != today.year else day_label(day)


def _ymd(day: date, today: date) -> str:
    """The year too when it is not this one ("2027年2月13日")."""
    return f"{day.year}年{_md(day)}" if day.year != today.year else _md(day)


def _md(day: date) -> str:
    return f"{day.month}月{day.day}日"


def _number(said: str) -> int:
    """Digits or a Chinese numeral ("三十", "两"); ValueError when it reads as no number."""
    value = number_said(said)
    if value is None:
        raise ValueError(said)
    return value
