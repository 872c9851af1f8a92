"""Read a wanted time ("明天上午", "周六中午12点半", "11月25号下午3点") into a window.

Pure: the caller passes `now`, so tests and the chat behave the same on any day. Written by hand
because the date parsers on PyPI read Western formats; none reads 下周三上午 or 两点半.
Checking the window against service hours and holidays is `fit_window`, also pure.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from intents.normalize import simplify

WEEKDAY_NAMES = "一二三四五六日"
_WEEKDAY_NUMBER = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6, "七": 6}
_WEEKDAY_NUMBER.update({str(n): n - 1 for n in range(1, 8)})

# Parts of the day as residents say them, and the window each means.
PARTS: dict[str, tuple[time, time]] = {
    "上午": (time(9), time(12)),
    "早上": (time(9), time(12)),
    "早晨": (time(9), time(12)),
    "中午": (time(12), time(14)),
    "午间": (time(12), time(14)),
    "午休": (time(12), time(14)),
    "下午": (time(14), time(17, 30)),
    "傍晚": (time(17, 30), time(20)),
    "晚上": (time(17, 30), time(21)),
}
_RELATIVE_DAYS = {"今天": 0, "今日": 0, "明天": 1, "明日": 1, "明早": 1, "后天": 2, "大后天": 3}

_CN_DIGITS = {
    "零": 0,
    "〇": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_CN_NUMBER = re.compile(
    r"[零〇一二两三四五六七八九十]+(?=[点时月日号分:])|(?<=[月点])[零〇一二两三四五六七八九十]+"
)
_ASAP = re.compile(r"尽快|越快越好|马上|现在就|立刻|赶紧|随时")
_FULL_DATE = re.compile(r"(20\d\d)\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})")
_MONTH_DAY = re.compile(r"(\d{1,2})\s*(?:月|[-/.])\s*(\d{1,2})\s*[日号]?")
_DAY_ONLY = re.compile(r"(?<![\d月])(\d{1,2})\s*[日号]")
_WEEKDAY = re.compile(r"(下下|下个?|这个?|本)?(?:周|星期|礼拜)([一二三四五六日天七1-7])")
_RELATIVE = re.compile("|".join(sorted(_RELATIVE_DAYS, key=len, reverse=True)))
_PART = re.compile("|".join(PARTS))
_CLOCK = re.compile(r"(\d{1,2})\s*(?:[点时:]\s*(半|一刻|三刻|\d{1,2})?\s*分?)")


class WhenError(ValueError):
    """A time that cannot be served; the message tells the resident why, in their words."""


@dataclass(frozen=True, slots=True)
class Window:
    start: datetime
    end: datetime
    asap: bool = False  # "尽快": the first service hours from now, on whichever day that is

    def describe(self) -> str:
        """How the window is read back to a resident: 11月28日（周六）12:00-14:00."""
        day = self.start
        return f"{day.month}月{day.day}日（周{WEEKDAY_NAMES[day.weekday()]}）{day:%H:%M}-{self.end:%H:%M}"

    def as_json(self) -> dict[str, str]:
        return {"start": self.start.isoformat(), "end": self.end.isoformat()}

    @classmethod
    def from_json(cls, raw: dict[str, str]) -> Window:
        return cls(datetime.fromisoformat(raw["start"]), datetime.fromisoformat(raw["end"]))


def _cn_int(text: str) -> int:
    """一→1, 十→10, 十二→12, 二十→20, 二十五→25, 两→2."""
    if "十" in text:
        tens, _, units = text.partition("十")
        return (_CN_DIGITS.get(tens, 1) if tens else 1) * 10 + (_CN_DIGITS.get(units, 0) if units else 0)
    value = 0
    for char in text:
        value = value * 10 + _CN_DIGITS[char]
    return value


def _digits(text: str) -> str:
    return _CN_NUMBER.sub(lambda m: str(_cn_int(m.group())), text)


def read_window(text: str, now: datetime) -> Window | None:
    """The window a message names, or None when it names no day, part of day or time.

    A day alone is the whole day (fit_window clips it to service hours); a clock time is one hour
    from then. Raises WhenError for dates that do not exist (2月30日).
    """
    text = _digits(simplify(text))
    if _ASAP.search(text):
        return Window(now, datetime.combine(now.date() + timedelta(days=1), time(0), now.tzinfo), asap=True)
    day = _read_day(text, now.date())
    part = _PART.search(text)
    clock = _CLOCK.search(text)
    if day is None and part is None and clock is None:
        return None
    day = day or now.date()
    tz = now.tzinfo
    if clock:
        hour, minute = int(clock.group(1)), _minutes(clock.group(2))
        part_name = part.group() if part else ""
        # "下午3点" is 15:00; "中午1点" is 13:00; a bare "3点" at a service desk means 15:00 too.
        afternoon_limit = {"下午": 12, "傍晚": 12, "晚上": 12, "中午": 6, "午间": 6, "午休": 6, "": 7}
        if hour < afternoon_limit.get(part_name, 0) and (part_name or hour >= 1):
            hour += 12
        if hour > 23 or minute > 59:
            raise WhenError(f"“{clock.group().strip()}”不是有效的时间，请再说一下几点。")
        start = datetime.combine(day, time(hour, minute), tz)
        return Window(start, start + timedelta(hours=1))
    if part:
        begin, end = PARTS[part.group()]
        return Window(datetime.combine(day, begin, tz), datetime.combine(day, end, tz))
    return Window(datetime.combine(day, time(0), tz), datetime.combine(day + timedelta(days=1), time(0), tz))


def _minutes(text: str | None) -> int:
    if not text:
        return 0
    return {"半": 30, "一刻": 15, "三刻": 45}.get(text) or int(text)


def _read_day(text: str, today: date) -> date | None:
    match = _FULL_DATE.search(text)
    if match:
        return _date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    match = _RELATIVE.search(text)
    if match:
        return today + timedelta(days=_RELATIVE_DAYS[match.group()])
    match = _WEEKDAY.search(text)
    if match:
        return _weekday(today, match.group(1) or "", _WEEKDAY_NUMBER[match.group(2)])
    match = _MONTH_DAY.search(text)
    if match and not _CLOCK.match(text, match.start()):
        month, day = int(match.group(1)), int(match.group(2))
        candidate = _date(today.year, month, day)
        return candidate if candidate >= today - timedelta(days=31) else _date(today.year + 1, month, day)
    match = _DAY_ONLY.search(text)
    if match:
        day = int(match.group(1))
        candidate = _date(today.year, today.month, day)
        if candidate >= today:
            return candidate
        month, year = (1, today.year + 1) if today.month == 12 else (today.month + 1, today.year)
        return _date(year, month, day)
    return None


def _weekday(today: date, prefix: str, weekday: int) -> date:
    """周六: the coming one (today if it is Saturday); 下周六: the one in next week (Monday-based)."""
    if prefix.startswith("下"):
        weeks = 2 if prefix.startswith("下下") else 1
        monday = today - timedelta(days=today.weekday()) + timedelta(weeks=weeks)
        return monday + timedelta(days=weekday)
    ahead = (weekday - today.weekday()) % 7
    if prefix in ("这", "这个", "本") and weekday < today.weekday():
        ahead = weekday - today.weekday()  # 这周一 said on Wednesday: already past (fit_window says so)
    return today + timedelta(days=ahead)


def _date(year: int, month: int, day: int) -> date:
    try:
        return date(year, month, day)
    except ValueError:
        raise WhenError(f"没有{month}月{day}日这一天，请再说一下日期。") from None


def fit_window(
    window: Window, spans: tuple[tuple[time, time], ...], now: datetime, closed_reason: str = ""
) -> Window:
    """The part of `window` inside the day's service spans and not yet past, or WhenError saying why.

    `spans` are that day's service hours (empty: closed; `closed_reason` says why, e.g. 国庆节).
    """
    day = window.start.date()
    label = f"{day.month}月{day.day}日（周{WEEKDAY_NAMES[day.weekday()]}）"
    if window.end <= now:
        raise WhenError(f"{label}{window.start:%H:%M}已经过了，请换一个以后的时间。")
    if not spans:
        reason = closed_reason or "不办公"
        raise WhenError(f"{label}{reason}，请换一个工作日或值班日。")
    tz = window.start.tzinfo
    start = max(window.start, now)
    for begin, end in _merged(spans):
        span_start, span_end = datetime.combine(day, begin, tz), datetime.combine(day, end, tz)
        if start < span_end and window.end > span_start:
            return Window(max(start, span_start), min(window.end, span_end))
    hours = "、".join(f"{b:%H:%M}-{e:%H:%M}" for b, e in _merged(spans))
    if start.date() == day and start > window.start and datetime.combine(day, spans[-1][1], tz) <= start:
        raise WhenError(f"{label}的服务时间（{hours}）已经过了，请换一天。")
    raise WhenError(f"{label}{window.start:%H:%M}-{window.end:%H:%M}不在服务时间内。那天可约：{hours}。")


def _merged(spans: tuple[tuple[time, time], ...]) -> list[tuple[time, time]]:
    """Adjacent spans as one (9-12, 12-14, 14-17:30 is 9-17:30 to a resident)."""
    out: list[tuple[time, time]] = []
    for begin, end in sorted(spans):
        if out and begin <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((begin, end))
    return out


def first_fit(
    window: Window,
    spans_of: Callable[[date], tuple[tuple[time, time], ...]],
    closed_reason_of: Callable[[date], str],
    now: datetime,
) -> Window:
    """fit_window for the window's day; for "尽快", the first day within two weeks that has hours left."""
    day = window.start.date()
    try:
        return fit_window(window, spans_of(day), now, closed_reason_of(day))
    except WhenError:
        if not window.asap:
            raise
    tz = window.start.tzinfo
    for ahead in range(1, 15):
        later = day + timedelta(days=ahead)
        if spans_of(later):
            whole = Window(
                datetime.combine(later, time(0), tz), datetime.combine(later + timedelta(days=1), time(0), tz)
            )
            return fit_window(whole, spans_of(later), now)
    raise WhenError("最近两周都没有可约的时间，请直接拨打社区电话。")
