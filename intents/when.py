"""Read a wanted time ("明天上午", "礼拜五下午两点到四点", "下个月3号") into a window, or ask again.

Pure: the caller passes `now`, so tests and the chat behave the same on any day. A time is read
correctly or not at all: a vague one (过几天, 节后) or a bare hour that could be morning or evening
raises `WhenUnclear`, whose message asks again with examples; nothing silently becomes today.

Written by hand because the parsers on PyPI read other things: dateparser and jionlp's time
parser want whole dates or return spans for every 点 in a sentence ("快一点" is 1 o'clock to
them) and know nothing of booking hours; cn2an turns every 一 into 1. Lunar festivals (春节, 中秋,
端午) come from lunar-python. Checking the window against service hours and holidays is
`fit_window`, also pure.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from lunar_python import Lunar, Solar

from intents.normalize import simplify

WEEKDAY_NAMES = "一二三四五六日"
_WEEKDAY_NUMBER = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6, "七": 6}
_WEEKDAY_NUMBER.update({str(n): n - 1 for n in range(1, 8)})

# Parts of the day as residents say them, and the window each means.
PARTS: dict[str, tuple[time, time]] = {
    "上午": (time(9), time(12)),
    "早上": (time(9), time(12)),
    "早晨": (time(9), time(12)),
    "一早": (time(9), time(12)),
    "中午": (time(12), time(14)),
    "午间": (time(12), time(14)),
    "午休": (time(12), time(14)),
    "下午": (time(14), time(17, 30)),
    "午后": (time(14), time(17, 30)),
    "傍晚": (time(17, 30), time(20)),
    "晚上": (time(17, 30), time(21)),
    "夜里": (time(20), time(23, 59)),
    "深夜": (time(22), time(23, 59)),
    "半夜": (time(22), time(23, 59)),
    "凌晨": (time(0), time(6)),
}
# Day words that carry a part of the day with them.
_DAY_PARTS = {"今早": "上午", "明早": "上午", "今晚": "晚上", "明晚": "晚上", "昨晚": "晚上"}
# Hours below the limit are afternoon or evening ones in that part: "下午3点" is 15:00.
_PM_LIMIT = {"下午": 12, "午后": 12, "傍晚": 12, "晚上": 12, "夜里": 12, "中午": 6, "午间": 6, "午休": 6}

# Relative day words, dialect forms (Sichuan, Chongqing, northern 儿化) included.
_RELATIVE_DAYS = {
    "大前天": -3,
    "前天": -2,
    "前儿个": -2,
    "前儿": -2,
    "昨天": -1,
    "昨日": -1,
    "昨儿个": -1,
    "昨儿": -1,
    "昨晚": -1,
    "今天": 0,
    "今日": 0,
    "今儿个": 0,
    "今儿": 0,
    "今早": 0,
    "今晚": 0,
    "明天": 1,
    "明日": 1,
    "明儿个": 1,
    "明天儿": 1,
    "明儿": 1,
    "明早": 1,
    "明晚": 1,
    "后天": 2,
    "后日": 2,
    "后儿个": 2,
    "后儿": 2,
    "大后天": 3,
    "大后儿": 3,
}
# Festivals by the date they fall on: solar (month, day) or lunar ("lunar", month, day).
_FESTIVALS: dict[str, tuple] = {
    "元旦": (1, 1),
    "五一": (5, 1),
    "劳动节": (5, 1),
    "国庆": (10, 1),
    "十一长假": (10, 1),
    "春节": ("lunar", 1, 1),
    "过年": ("lunar", 1, 1),
    "大年初一": ("lunar", 1, 1),
    "正月初一": ("lunar", 1, 1),
    "除夕": ("eve",),
    "大年三十": ("eve",),
    "元宵": ("lunar", 1, 15),
    "端午": ("lunar", 5, 5),
    "七夕": ("lunar", 7, 7),
    "中秋": ("lunar", 8, 15),
    "重阳": ("lunar", 9, 9),
    "清明": ("清明",),
}

FESTIVAL_NAMES = ("元旦", "春节", "过年", "清明", "五一", "劳动节", "端午", "中秋", "国庆")

_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7}
_CN_DIGITS.update({"八": 8, "九": 9})
_CN = "零〇一二两三四五六七八九十"
# A Chinese numeral before a time or date unit, or after 月 / 点; "一点" only where it is a time
# ("快一点", "早一点", "一点点" are not 1 o'clock).
_CN_NUMBER = re.compile(
    rf"(?<![快早晚慢好多少差有大小近远再])[{_CN}]+(?=[点时月日号分:])(?!点点|点儿)|(?<=[月点])[{_CN}]+(?![{_CN}]*[刻天])"
)
_ASAP = re.compile(r"尽快|越快越好|马上|现在就|立刻|立即|赶紧|赶快|随时")
_VAGUE = re.compile(
    r"过几天|过两天|过段时间|过些天|过一阵|改天|改日|有空|有时间的时候|抽空|回头|下次|以后再|到时候|"
    r"下班后|下班以后|放学后|节后|节前|年后|年前|过完年|(?<![正冬腊])月初|月中(?!风)|上旬|中旬|下旬|(?:元旦|春节|国庆|中秋|五一|端午|清明)[前后]|"
    r"明年(?!\s*[\d一二三四五六七八九十]{1,3}\s*月\s*[\d一二三四五六七八九十]{1,3})|下个?月(?![\d底末初])|(?:下个?|这个?|本)(?:周|礼拜|星期)(?![一二三四五六日天七1-7末])|"
    r"等.{1,8}(?:再说|以后|之后|的时候|暖和|凉快|好了)|"
    # A deadline or a start, not a day: "最好这个月15号以前交" was booked on the 15th (trial AA r13).
    r"(?:\d{1,2}\s*(?:号|日)|(?:周|星期|礼拜)[一二三四五六日天]|月底|月末)\s*(?:以前|之前|以后|之后|前(?!天|面|头))|"
    # "1月20几号", "十几号": a day not said, only its tens (trial FF r13 was booked on the 20th).
    r"(?:\d{1,2}|[一二三]?十)几\s*(?:号|日)"
)
# "Any time": read only when nothing else in the message names a day or time ("明天都可以" is tomorrow).
_PAST_ANSWER_CHARS = 8
# Vague only alone: "明天上午过来办 到时候当面问" (trial X r9), "我老公周末才有空" (trial PP r02) say
# the day beside them.
_POINTS_BACK = frozenset(
    {"到时候", "有空", "有时间的时候", "过完年", "年后"}
)  # "过完年初八": the 8th of 正月
# 明年 before a month and day is no vague word: "改到明年1月16号上午" names the day (trial YY r17).
# "残疾证明年到期要换": when a paper runs out, not when to come (trial PP r11 was asked which day
# "明年" meant).
_EXPIRES = re.compile(r"[^ ]{0,2}(到期|过期|期满|满期|作废|失效|年审|截止)")
_ANY_TIME = re.compile(r"随便|哪天都|什么时候都|啥时候都|都可以|都行|都方便")
_PAST_VAGUE = re.compile(r"上个?月|去年|前年|上(?:周|个?礼拜|个?星期)(?![一二三四五六日天七1-7])")
_FULL_DATE = re.compile(r"(20\d\d)\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})")
_MONTH_DAY = re.compile(
    r"(?<!\d)(\d{1,2})\s*(?:月份?|[-/.])\s*(\d{1,2})\s*[日号]?(?![\d\-楼栋幢单室元块岁斤个天周次年])"
)
_OTHER_MONTH_DAY = re.compile(r"(?<![早晚马])(上|下|这|本)个?月\s*(\d{1,2})\s*[日号]")
_MONTH_END = re.compile(r"(下个?|这个?|本)?月(?:底|末)")
_DAY_ONLY = re.compile(r"(?<![\d月])(\d{1,2})\s*[日号](?![楼栋幢单院门室房铺线路车床])")
_WEEKDAY = re.compile(
    r"((?<![早晚马])上上|(?<![早晚马])上个?|下下个?|下个?|这个?|本)?(?:周|星期|礼拜)([一二三四五六日天七1-7])"
)
_WEEKEND = re.compile(r"(下下个?|下个?|这个?|本)?周末")
_RELATIVE = re.compile("|".join(sorted(_RELATIVE_DAYS, key=len, reverse=True)))
# "排元旦节目", "中秋晚会": what the booking is for, not the day it is wanted (a session-10 trial choir
# booking for next Tuesday was asked which day it meant).
_FESTIVAL = re.compile(
    f"(?:{'|'.join(sorted(_FESTIVALS, key=len, reverse=True))})(?!节目|晚会|演出|联欢|汇演|表演|文艺|的节目)"
)
_PART = re.compile("|".join(sorted([*PARTS, *_DAY_PARTS], key=len, reverse=True)))
# Minutes are no date's digits: "晚上7点 12月11号" is 19:00 (trial LL r16 got 19:12).
_CLOCK = r"(\d{1,2})\s*(?:[点时:]\s*(半|一刻|三刻|\d{1,2}(?![\d月号日]))?\s*分?)"
_CLOCK_RE = re.compile(_CLOCK)
_RANGE = re.compile(
    r"(\d{1,2})\s*(?:[点时:]\s*(半|一刻|三刻|\d{1,2}(?![\d月号日]))?\s*分?)?\s*(?:到|至|-|~|—)\s*(?:(上午|下午|中午|晚上)\s*)?"
    + _CLOCK
)

# A bare hour ("3点") is read as whichever of 3:00 and 15:00 falls in these service hours.
SERVICE_HOURS = (time(9), time(17, 30))

EXAMPLES = "例如：明天上午、周五下午3点、12月8号上午10点"
CLOCK_GRACE = timedelta(minutes=5)


class WhenError(ValueError):
    """A time that cannot be served; the message tells the resident why, in their words."""


# Before dawn "明天" may mean the day they wake up to (today) or the one after.
_DAWN = time(5)
_TOMORROW_SAID = re.compile(r"明天|明早|明儿|明日|明上午|明下午")


class WhenUnclear(WhenError):
    """A time that cannot be read with certainty: the resident is asked again, never guessed for."""


@dataclass(frozen=True, slots=True)
class Window:
    start: datetime
    end: datetime
    asap: bool = False  # "尽快": the first service hours from now, on whichever day that is
    exact: bool = False  # a clock time the resident named ("3点"): gone once it has started

    def describe(self) -> str:
        """How the window is read back to a resident: 11月28日（周六）12:00-14:00."""
        day = self.start
        return f"{day_label(day.date())}{day:%H:%M}-{self.end:%H:%M}"

    def as_json(self) -> dict[str, str]:
        return {"start": self.start.isoformat(), "end": self.end.isoformat()}

    @classmethod
    def from_json(cls, raw: dict[str, str]) -> Window:
        return cls(datetime.fromisoformat(raw["start"]), datetime.fromisoformat(raw["end"]))

    def gone(self, now: datetime) -> bool:
        """Already past: it ended, or it is a named clock time that has begun (grace: five minutes)."""
        return self.end <= now or (self.exact and self.start < now - CLOCK_GRACE)


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
    return _CN_NUMBER.sub(lambda m: str(_cn_int(m.group())), _APPROXIMATE.sub(_as_range, text))


# "两三点钟", "三四点", "十一二点": about one hour or the next — a range, not 23 or 34 o'clock
# (trial V booked 23:00 for "下礼拜三下午 两三点钟"). By hand: cn2an reads 两三 as one number.
_NEIGHBOURS = {"一二": (1, 2), "两三": (2, 3), "二三": (2, 3), "三四": (3, 4), "四五": (4, 5), "五六": (5, 6)}
_NEIGHBOURS |= {"六七": (6, 7), "七八": (7, 8), "八九": (8, 9), "九十": (9, 10), "十一二": (11, 12)}
_NEIGHBOUR_WORDS = "|".join(sorted(_NEIGHBOURS, key=len, reverse=True))
_APPROXIMATE = re.compile(f"(?<![一二两三四五六七八九十])({_NEIGHBOUR_WORDS})点钟?")


def _as_range(match: re.Match[str]) -> str:
    first, last = _NEIGHBOURS[match.group(1)]
    return f"{first}点到{last}点"


def _names_a_moment(text: str, now: datetime) -> bool:
    """A day, a part of the day or a clock time, beside an "as soon as possible"."""
    try:
        return (
            _read_day(text, now.date()) is not None
            or bool(_PART.search(text))
            or bool(_CLOCK_HINT.search(text))
        )
    except WhenError:
        return True  # an impossible date: read the message normally, which says what is wrong


def _day_of_next_month(vague: str, text: str, now: datetime) -> bool:
    """ "下个月也要洗一回 帮我再约一个 1月9号礼拜六上午" in December: 下个月 is said of the day named
    after it, no vague word (trial Z13 r19 was asked twice which day 下个月 meant)."""
    if not vague.startswith("下"):
        return False
    following = now.month % 12 + 1
    return any(int(m.group(1)) == following for m in _MONTH_DAY.finditer(text))


def _says_a_day(text: str, now: datetime) -> bool:
    """A day named in so many words ("明天", "周三", "12月8号"); an impossible one counts too."""
    try:
        return _read_day(text, now.date()) is not None
    except WhenError:
        return True


_CLOCK_HINT = re.compile(r"\d{1,2}\s*[点:：时]|[一二三四五六七八九十]{1,3}点")


# Said about a day rather than choosing it: "今天就是周四" (what today is), "今天不行" (refused).
_DAY_STATED = re.compile(
    r"(今天|今儿|今日|明天|后天)(就|已经|才|刚好)?(是(周|星期|礼拜|\d|[一二三四五六七八九十])"
    r"|(周|星期|礼拜)[一二三四五六日天七]了)"  # "哦 今天礼拜六了嗦 那就是下个礼拜五上午嘛" (trial V)
)
# "楼上那家周末在屋头": when someone else is at home, said beside the day wanted (trial GG r12 was
# asked to choose between 周六 and 周末).
_SOMEONE_ELSES_DAY = re.compile(
    r"(他|她|他们|她们|那家|那户|楼上|楼下|隔壁|对门|人家|对方)[^ ]{0,6}"
    r"(周末|(周|星期|礼拜)[一二三四五六日天]|晚上|白天)[^ ]{0,2}(都|才|一般|才会)?(在|有人|回来)"
)
# "下午我要睡午觉 上午来": a part of the day ruled out by what they do then (trial JJ r09 was booked
# for the afternoon).
_DAY_REFUSED = re.compile(
    r"不是|不要|不行|不得行|不可以|没空|没时间|不方便|去不了|来不了|来不到|去不到|来不成|去不成|走不开|不在家|有事|不得空"
    r"|睡午觉|午睡|午休|要睡觉|在上班|要上班|要出门|不在屋|住院|做手术|开刀"
)
# An A-not-A question ("得不得行", "行不行", "要不要"): it asks, its 不 refuses or corrects nothing.
# "礼拜二下午三点得不得行" was a refused day (trial X r10); the order form reads it the same way.
A_NOT_A = re.compile(r"([\u4e00-\u9fff])[不没]\1")
# "明天上午 不对 后天上午", "改成周五": what is said after the correction is the moment meant.
# A clause opening with 是 ("哪个半夜23点哦 是下午2点半": trial V) says which one was meant.
_CORRECTED = re.compile(
    r"不对|说错了|搞错了|改成|改到|换成|还是改|算了|(?:^|(?<=[\s,，。;；!！?？]))(?:是|应该是|我说的是|我是说)"
)
_CLAUSE = re.compile(r"[\s,，。;；!！?？、]+")


def _the_moment_meant(text: str, now: datetime) -> str:
    """The part of `text` that names the moment wanted, when it says more than one.

    Written by hand: the date parsers (jionlp, lunar-python) read one expression at a time; none
    knows that in "今天就是周四 那下周一上午" or "今天不行 明天吧" the first day is not the one asked
    for (session-7 trial: booked for today). Two different days both offered are asked again,
    never guessed (WhenUnclear).
    """
    corrections = list(_CORRECTED.finditer(text))
    if corrections:
        after = text[corrections[-1].end() :]
        if _names_a_moment(after, now):
            return after
    clauses = [c for c in _CLAUSE.split(text) if c]
    if len(clauses) < 2:
        return text
    today = now.date()
    kept: list[str] = []
    days: dict[date, str] = {}
    hours_refused_on: set[date] = set()  # "明天下午不在家": that afternoon is refused, not that day
    for clause in clauses:
        refused = _DAY_REFUSED.search(A_NOT_A.sub("", clause))
        if refused and _names_a_moment(clause, now) and (_PART.search(clause) or _CLOCK_HINT.search(clause)):
            with contextlib.suppress(WhenError):
                if (day := _read_day(clause, today)) is not None:
                    hours_refused_on.add(day)
        if (
            _DAY_STATED.search(clause)
            or (refused and _names_a_moment(clause, now))
            or _SOMEONE_ELSES_DAY.search(clause)
        ):
            continue
        kept.append(clause)
        try:
            day = _read_day(clause, today)
        except WhenError:
            return text  # an impossible date: read_window says what is wrong with it
        if day is not None:
            days.setdefault(day, clause)
    if len(days) == 2:
        agreed = _weekday_agrees(days, today)
        if agreed is not None:
            return agreed
    if len(days) > 1:
        first, second = list(days.values())[:2]
        raise WhenUnclear(f"您说了“{first}”和“{second}”，约哪一天？请说一个日子，{EXAMPLES}。")
    if kept and not days and len(hours_refused_on) == 1:
        # "明天下午不在家 上午来": the other hours of the day said (it was read as today's morning).
        (day,) = hours_refused_on
        return f"{day.month}月{day.day}日 {' '.join(kept)}"
    return " ".join(kept) if kept and len(kept) < len(clauses) else text


# "这周随便哪天嘛 周四", "下个礼拜 礼拜二上午": the week said apart from its day (trial OO was asked
# which day 这周 meant); "这周工作日下午都行": any day of it, so the first one still ahead.
_WEEK_APART = re.compile(r"(下个?|这个?|本)(?:周|礼拜|星期)(?![一二三四五六日天七1-7末])")
_BARE_WEEKDAY = re.compile(r"(?<![上下这本个])(周|星期|礼拜)([一二三四五六日天])")
_ANY_DAY_OF_WEEK = re.compile(r"工作日|哪天|随便|都行|都可以|都方便")


def _week_joined(text: str) -> str:
    """The week word joined to the weekday said later, or dropped for "any day of this week"."""
    week = _WEEK_APART.search(text)
    if week is None:
        return text
    clause_end = _CLAUSE.search(text, week.end())
    if clause_end is not None and _DAY_REFUSED.search(text, week.end(), clause_end.start()):
        # "这周有事 下周三吧": that week is refused; a bare "周五" after it stays unclear (which week?).
        rest = text[clause_end.end() :]
        return _week_joined(rest) if _WEEK_APART.search(rest) or _said_with_week(rest) else text
    next_week = week.group(1).startswith("下")
    day = _BARE_WEEKDAY.search(text, week.end())
    if day is not None:
        rest = text[: week.start()] + text[week.end() : day.start()]
        return rest + ("下" if next_week else "") + text[day.start() :]
    if _ANY_DAY_OF_WEEK.search(text, week.end()):
        return text[: week.start()] + ("下周一" if next_week else "") + text[week.end() :]
    return text


def _said_with_week(text: str) -> bool:
    """A day said with its week or date ("下周三", "12号"), not a bare weekday."""
    return bool(_DATE_SAID.search(text) or re.search(r"[下这本]个?(?:周|礼拜|星期)[一二三四五六日天]", text))


_DATE_SAID = re.compile(r"\d+\s*(?:号|日)|[一二三四五六七八九十]+\s*(?:号|日)")
_WEEKDAY_SAID = re.compile(r"(?:下下|下|这|本)?(?:个)?(?:礼拜|星期|周)([一二三四五六日天])")


def _weekday_agrees(days: dict[date, str], today: date) -> str | None:
    """ "下礼拜一上午 14号", "12月14号 礼拜一上午": a date and a weekday that fall on the same day of the
    week are one day said twice, not two (trial GG r13 was asked which day twice, in a loop). The
    weekday's words are dropped so the date is read with the hours beside it. "下礼拜一" with the
    date a week after it agrees only when said on a Sunday, when "next week's Monday" can mean
    either; on a Wednesday "下礼拜一 14号" names two Mondays and is asked again."""
    (day_a, said_a), (day_b, said_b) = days.items()
    pairs = (((day_a, said_a), (day_b, said_b)), ((day_b, said_b), (day_a, said_a)))
    for (later, said_later), (earlier, said_earlier) in pairs:
        # "礼拜四上午 就是这个礼拜四" on a weekend: this week's Thursday is past, the coming one is
        # meant, said twice (trial PP r11 was asked which Thursday, with 12月10号 said beside them).
        this_week = _WEEKDAY_SAID.search(said_earlier)
        if (
            this_week
            and this_week.group().startswith(("这", "本"))
            and today.weekday() >= 5
            and earlier < today
            and (later - earlier).days == 7
        ):
            return said_later
    for (day, dated), (weekday_day, weekday) in pairs:
        named = _WEEKDAY_SAID.search(weekday)
        if not (named and _DATE_SAID.search(dated) and not _DATE_SAID.search(weekday)):
            continue
        if _WEEKDAY_NUMBER[named.group(1)] != day.weekday():
            continue
        ahead = (day - weekday_day).days
        next_week = named.group().startswith("下") and not named.group().startswith("下下")
        if next_week and not (ahead == 0 or (today.weekday() == 6 and ahead == 7)):
            continue
        return f"{dated} {_WEEKDAY_SAID.sub('', weekday)}".strip()
    return None


def read_window(
    text: str,
    now: datetime,
    service_hours: tuple[time, time] = SERVICE_HOURS,
    *,
    unsaid_day: date | None = None,
) -> Window | None:
    """The window a message names, or None when it names no day, part of day or time.

    A day alone is the whole day (fit_window clips it to service hours); a clock time is one hour
    from then; a range ("2点到4点") is kept as given. Raises WhenError for dates that do not exist
    (2月30日) and WhenUnclear for times that must be asked again (过几天, a bare 8点). `unsaid_day`
    is the day meant when none is said: a booking's own day when only its hours are changed
    ("改时间 是下午两点到五点" moved a session-10 trial booking from Tuesday to today).
    """
    text = _the_moment_meant(_week_joined(_digits(simplify(text))), now)
    tz = now.tzinfo
    if _ASAP.search(text) and not _names_a_moment(text, now):
        # "尽快" alone; "越快越好 明天上午" names the moment it means (a trial booked it as today).
        return Window(now, datetime.combine(now.date() + timedelta(days=1), time(0), tz), asap=True)
    vague = next(
        (
            v
            for v in _VAGUE.finditer(text)
            if not _EXPIRES.match(text, v.end()) and not _day_of_next_month(v.group(), text, now)
        ),
        None,
    )
    if vague and not (vague.group() in _POINTS_BACK and _says_a_day(text, now)):
        # "我明天上午过来办 到时候当面问": the day is said; 到时候 points back at it (trial X r9).
        raise WhenUnclear(f"“{vague.group()}”具体是哪一天、什么时候？请说一个日子，{EXAMPLES}。")
    if now.time() < _DAWN and _TOMORROW_SAID.search(text) and not _WEEKDAY.search(text):
        # "明天上午" said at two in the morning: the morning after they wake (today) or the next
        # day's — asked, never guessed (trial TT r01 was booked for Tuesday, meaning Monday).
        today, tomorrow = now.date(), now.date() + timedelta(days=1)
        raise WhenUnclear(
            f"现在是夜里，您说的“明天”是今天{day_label(today)}白天，还是{day_label(tomorrow)}？"
            f"请说日期或星期几，例如：今天上午、{tomorrow.month}月{tomorrow.day}号上午。"
        )
    day = _read_day(text, now.date())
    part_match = _PART.search(text)
    part = _DAY_PARTS.get(part_match.group(), part_match.group()) if part_match else ""
    span = _read_clock(text, part, service_hours)
    if day is None and not part and span is None:
        past = _PAST_VAGUE.search(text)
        # Only as an answer about when ("上个月吧"): in a longer message it is history ("他前年中风了
        # 现在瘫在床上": trial PP r11's first message was told 前年 had passed).
        if past and len(text.replace(" ", "")) <= _PAST_ANSWER_CHARS:
            raise WhenError(f"“{past.group()}”已经过去了，只能约以后的时间，{EXAMPLES}。")
        if _ANY_TIME.search(text):
            raise WhenUnclear(f"好的，请定一个您方便的日子，{EXAMPLES}；想越快越好就说“尽快”。")
        return None
    no_day_said = day is None and unsaid_day is None
    day = day or unsaid_day or now.date()
    if span is not None:
        (start_hour, start_minute), (end_hour, end_minute) = span
        start = datetime.combine(day, time(start_hour, start_minute), tz)
        if (end_hour, end_minute) == (start_hour, start_minute):
            return Window(start, start + timedelta(hours=1), exact=True)
        return Window(start, datetime.combine(day, time(end_hour, end_minute), tz))
    if part:
        begin, end = PARTS[part]
        nearly_over = datetime.combine(day, end, tz) <= now + _ANY_DAY_LEAD
        over = datetime.combine(day, end, tz) <= now
        if day == now.date() and ((_ANY_TIME.search(text) and nearly_over) or (no_day_said and over)):
            # "哪天都可以 上午好些" after this morning is over, or nearly (trial DD r07 at 11:53 got
            # 11:53-12:00): any day's morning, so the next one (a session-7 trial resident was told
            # 09:00 had passed). A part of the day alone, said after it is over ("上午嘛" at 20:37),
            # is the next one too (trial MM r07); the read-back shows the date before anything is booked.
            day += timedelta(days=1)
        return Window(datetime.combine(day, begin, tz), datetime.combine(day, end, tz))
    return Window(datetime.combine(day, time(0), tz), datetime.combine(day + timedelta(days=1), time(0), tz))


Clock = tuple[int, int]

# Said of any day: a part of today with less than this left is no slot to offer; the next day's is.
_ANY_DAY_LEAD = timedelta(hours=1)


def _read_clock(text: str, part: str, service_hours: tuple[time, time]) -> tuple[Clock, Clock] | None:
    """(start, end) hour and minute; end equals start for a single time. None when no clock."""
    ranged = _RANGE.search(text)
    if ranged:
        first = (int(ranged.group(1)), _minutes(ranged.group(2)))
        second = (int(ranged.group(4)), _minutes(ranged.group(5)))
        second_part = ranged.group(3) or part
        said = ranged.group().strip()
        if part or second_part:
            start = _with_part(first, part or second_part, said)
            end = _with_part(second, second_part, said)
        else:
            start, end = _bare_pair(first, second, service_hours, said)
        if end <= start:
            raise WhenUnclear(f"“{said}”是几点到几点？请再说一下，例如：下午2点到4点。")
        return start, end
    clock = _CLOCK_RE.search(text)
    if not clock:
        return None
    said = clock.group().strip()
    hour_minute = (int(clock.group(1)), _minutes(clock.group(2)))
    single = _with_part(hour_minute, part, said) if part else _bare(hour_minute, service_hours, said)
    return single, single


def _valid(hour: int, minute: int, said: str) -> Clock:
    if hour > 23 or minute > 59:
        raise WhenError(f"“{said}”不是有效的时间，请再说一下几点。")
    return hour, minute


def _with_part(clock: Clock, part: str, said: str) -> Clock:
    hour, minute = clock
    if hour < _PM_LIMIT.get(part, 0):
        hour += 12
    if part in ("深夜", "半夜") and hour == 12:
        hour = 0
    return _valid(hour, minute, said)


def _bare(clock: Clock, service_hours: tuple[time, time], said: str) -> Clock:
    """A bare hour: 24-hour forms as said; otherwise the one reading inside service hours, or ask."""
    hour, minute = _valid(*clock, said)
    if hour == 0 or hour > 12:
        return hour, minute
    readings = {(hour, minute), (hour + 12 if hour < 12 else hour, minute)}
    inside = [r for r in readings if service_hours[0] <= time(*r) <= service_hours[1]]
    if len(inside) == 1:
        return inside[0]
    raise WhenUnclear(f"“{said}”是上午还是下午（晚上）？请说“上午{hour}点”或“下午{hour}点”这样。")


def _bare_pair(
    first: Clock, second: Clock, service_hours: tuple[time, time], said: str
) -> tuple[Clock, Clock]:
    """ "2点到4点": both hours read the same way, so the range lies inside service hours."""
    for shift in (0, 12):
        start = (first[0] + shift, first[1]) if first[0] + shift < 24 else None
        end = (second[0] + shift, second[1]) if second[0] + shift < 24 else None
        if start is None or end is None or end <= start:
            continue
        if service_hours[0] <= time(*start) and time(*end) <= service_hours[1]:
            return start, end
    # Mixed forms ("11点到2点"): start inside the morning, end in the afternoon.
    start = _bare(first, service_hours, said)
    end = _bare(second, service_hours, said)
    return start, end


def _minutes(text: str | None) -> int:
    if not text:
        return 0
    return {"半": 30, "一刻": 15, "三刻": 45}.get(text) or int(text)


def _read_day(text: str, today: date) -> date | None:
    """The day a message names; a weekday said beside a date or 明天 that it contradicts ("明天星期六"
    said after midnight on Saturday: a trial resident was answered for Sunday) is asked again."""
    weekday = _WEEKDAY.search(text)
    if weekday is None or _WEEKDAY.search(text[weekday.end() :]):
        return _named_day(text, today)
    said = _weekday(today, weekday.group(1) or "", _WEEKDAY_NUMBER[weekday.group(2)])
    day = _named_day(text[: weekday.start()] + " " + text[weekday.end() :], today)
    if day is None:
        return said  # the weekday is the only day named: "周六上午"
    if said.weekday() != day.weekday():
        raise WhenUnclear(
            f"{_day_text(day, today)}是周{WEEKDAY_NAMES[day.weekday()]}，“{weekday.group()}”是"
            f"{_day_text(said, today)}，您要约哪一天？请说一个日子，{EXAMPLES}。"
        )
    return day


def _day_text(day: date, today: date) -> str:
    relative = {0: "（今天）", 1: "（明天）", 2: "（后天）"}.get((day - today).days, "")
    return f"{day.month}月{day.day}日{relative}"


def _named_day(text: str, today: date) -> date | None:
    match = _FULL_DATE.search(text)
    if match:
        return _date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    lunar = _lunar_day(text, today)
    if lunar is not None:
        return lunar
    match = _RELATIVE.search(text)
    if match:
        return today + timedelta(days=_RELATIVE_DAYS[match.group()])
    match = _FESTIVAL.search(text)
    if match:
        return _festival(match.group(), today)
    match = _WEEKEND.search(text)
    if match:
        return _weekend(today, match.group(1) or "")
    match = _WEEKDAY.search(text)
    if match:
        return _weekday(today, match.group(1) or "", _WEEKDAY_NUMBER[match.group(2)])
    match = _OTHER_MONTH_DAY.search(text)
    if match:
        which = match.group(1)
        year, month = (today.year, today.month)
        if which == "下":
            year, month = _next_month(today)
        elif which == "上":
            year, month = (today.year - 1, 12) if today.month == 1 else (today.year, today.month - 1)
        return _date(year, month, int(match.group(2)))
    match = _MONTH_END.search(text)
    if match:
        following_month = (match.group(1) or "").startswith("下")
        year, month = _next_month(today) if following_month else (today.year, today.month)
        following = _next_month(date(year, month, 1))
        return date(*following, 1) - timedelta(days=1)
    match = _MONTH_DAY.search(text)
    if match and not _CLOCK_RE.match(text, match.start()):
        month, day = int(match.group(1)), int(match.group(2))
        if not 1 <= month <= 12:
            raise WhenError(f"没有{month}月，请再说一下日期，{EXAMPLES}。")
        candidate = _date(today.year, month, day)
        return candidate if candidate >= today - timedelta(days=31) else _date(today.year + 1, month, day)
    match = _DAY_ONLY.search(text)
    if match:
        day = int(match.group(1))
        if today.day <= day <= 31:
            with_this_month = _maybe_date(today.year, today.month, day)
            if with_this_month:
                return with_this_month
        year, month = _next_month(today)
        return _date(year, month, day)
    return None


def _next_month(today: date) -> tuple[int, int]:
    return (today.year + 1, 1) if today.month == 12 else (today.year, today.month + 1)


def _weekday(today: date, prefix: str, weekday: int) -> date:
    """周六: the coming one (today if it is Saturday); 下周六: the one in next week (Monday-based)."""
    monday = today - timedelta(days=today.weekday())
    if prefix.startswith("上"):
        weeks = 2 if prefix.startswith("上上") else 1
        return monday - timedelta(weeks=weeks) + timedelta(days=weekday)
    if prefix.startswith("下"):
        weeks = 2 if prefix.startswith("下下") else 1
        return monday + timedelta(weeks=weeks, days=weekday)
    if prefix in ("这", "这个", "本"):
        return monday + timedelta(days=weekday)  # 这周一 said on Wednesday: already past (fit says so)
    return today + timedelta(days=(weekday - today.weekday()) % 7)


def _weekend(today: date, prefix: str) -> date:
    """周末: this week's Saturday (today on a Sunday); 下周末: next week's Saturday."""
    monday = today - timedelta(days=today.weekday())
    if prefix.startswith("下"):
        weeks = 2 if prefix.startswith("下下") else 1
        return monday + timedelta(weeks=weeks, days=5)
    return today if today.weekday() == 6 else monday + timedelta(days=5)


# A lunar date residents say around the Spring Festival: "腊月二十八", "正月初八", "初三" beside 过年.
# Only the months no solar month is called (正月, 冬月, 腊月): "二月初二" stays ambiguous and unread.
LUNAR_MONTHS = {"正月": 1, "冬月": 11, "腊月": 12}
_LUNAR_NUMBER = rf"(?:初)?(?:\d{{1,2}}|[{_CN}]{{1,3}})(?![\d{_CN}点:：时月])"
_LUNAR_DATE = re.compile(rf"(正月|冬月|腊月)\s*({_LUNAR_NUMBER})")
_FIRST_DAYS = re.compile(rf"(?<![月\d])初(\d{{1,2}}|[{_CN}]{{1,2}})(?![\d{_CN}点:：时月])")
_NEW_YEAR_SAID = re.compile(r"正月|过年|过了年|过完年|年后|春节|大年|拜年")


def _lunar_day(text: str, today: date) -> date | None:
    """The next solar day a lunar date falls on (lunar-python does the calendar); None when none said,
    WhenError for a day the lunar month lacks."""
    match = _LUNAR_DATE.search(text)
    if match:
        month, number = LUNAR_MONTHS[match.group(1)], _lunar_number(match.group(2))
    else:
        first = _FIRST_DAYS.search(text)
        if first is None or not _NEW_YEAR_SAID.search(text):
            return None
        month, number = 1, _lunar_number(first.group(1))
    if not 1 <= number <= 30:
        raise WhenError(f"农历没有{number}这一天，请再说一下日期，{EXAMPLES}。")
    for year in (today.year - 1, today.year, today.year + 1):
        try:
            solar = Lunar.fromYmd(year, month, number).getSolar()
        except Exception:  # lunar-python raises a bare Exception for a 30th the month lacks
            continue
        day = date(solar.getYear(), solar.getMonth(), solar.getDay())
        if day >= today:
            return day
    if (month, number) == (12, 30):
        return _festival("除夕", today)  # 腊月三十 in a year whose last month has 29 days: the eve
    raise WhenError(f"农历这个月没有{number}这一天，请再说一下日期，{EXAMPLES}。")


def _lunar_number(said: str) -> int:
    said = said.removeprefix("初")
    return int(said) if said.isdigit() else _cn_int(said)


def _festival(name: str, today: date) -> date:
    """The festival's next first day (today counts)."""
    rule = _FESTIVALS[name]
    for year in (today.year, today.year + 1):
        if rule[0] == "lunar":
            found = Lunar.fromYmd(year, rule[1], rule[2]).getSolar()
            day = date(found.getYear(), found.getMonth(), found.getDay())
        elif rule[0] == "eve":
            found = Lunar.fromYmd(year, 1, 1).getSolar()
            day = date(found.getYear(), found.getMonth(), found.getDay()) - timedelta(days=1)
        elif rule[0] == "清明":
            found = Solar.fromYmd(year, 6, 1).getLunar().getJieQiTable()["清明"]
            day = date(found.getYear(), found.getMonth(), found.getDay())
        else:
            day = date(year, rule[0], rule[1])
        if day >= today:
            return day
    return day


def _maybe_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _date(year: int, month: int, day: int) -> date:
    found = _maybe_date(year, month, day)
    if found is None:
        raise WhenError(f"没有{month}月{day}日这一天，请再说一下日期，{EXAMPLES}。")
    return found


def _hours_said(window: Window) -> str:
    """The part of the day a window asks for, in the words a resident would say it back."""
    start, end = window.start, window.end
    if end - start <= timedelta(hours=1):
        return f"{start.hour}点半" if start.minute == 30 else f"{start.hour}点" if not start.minute else ""
    if end.hour <= 12 and (end.hour, end.minute) != (0, 0) and start.hour < 12:
        return "上午"
    if start.hour >= 12 and end.hour <= 18 and end.hour != 0:
        return "下午"
    return ""


def check_booked_week(text: str, said: datetime, booked: datetime) -> None:
    """A bare weekday ("星期三我要带孙子 改到星期四", "改成礼拜二下午") read in a week before the booked one
    may mean the booked week's: asked, never guessed (a session-7 trial's 12月9日 booking was moved to
    12月3日; trial VV r18's Monday the 14th became Tuesday the 8th, meaning the 15th)."""
    if not _BARE_WEEKDAY.search(simplify(text)):
        return
    booked_week = booked.date() - timedelta(days=booked.weekday())
    if said.date() >= booked_week:
        return
    weeks = -(-(booked_week - said.date()).days // 7)  # whole weeks up to the booked one
    later = said + timedelta(days=7 * weeks)
    day = f"周{WEEKDAY_NAMES[said.weekday()]}"
    other = f"{later.month}月{later.day}"
    raise WhenError(
        f"您说的{day}，是 {said.month}月{said.day}日（{day}），"
        f"还是原来预约那一周的 {other}日（{day}）？请说日期，比如“{other}号下午”。"
    )


def day_label(day: date) -> str:
    """How a day is said back to residents: "12月9日（周三）"."""
    return f"{day.month}月{day.day}日（周{WEEKDAY_NAMES[day.weekday()]}）"


def fit_window(
    window: Window, spans: tuple[tuple[time, time], ...], now: datetime, closed_reason: str = ""
) -> Window:
    """The part of `window` inside the day's service spans and not yet past, or WhenError saying why.

    `spans` are that day's service hours (empty: closed; `closed_reason` says why, e.g. 国庆节).
    """
    day = window.start.date()
    label = day_label(day)
    if day < now.date():
        if (now.date() - day).days < 7:
            # "这个星期五" said on a Sunday: this week's Friday is gone; the coming one is offered as a
            # question, never booked unasked (trial CC r11 was only told it was past).
            later = day + timedelta(days=7)
            weekday = WEEKDAY_NAMES[day.weekday()]
            # The hours said go into the reply asked for: "这周六上午" → "下周六上午" (trial GG r09 said
            # 下周六 as told and was booked for the whole day).
            hours = _hours_said(window)
            past = WhenError(
                f"{label}已经过去了。您是说下周{weekday}（{later.month}月{later.day}日）吗？"
                f"是的话请回复“下周{weekday}{hours}”，也可以说别的时间。"
            )
            past.hours = hours  # type: ignore[attr-defined]  # kept by the form for a bare "下周三"
            raise past
        raise WhenError(f"{label}已经过去了，只能约以后的时间，{EXAMPLES}。")
    if window.gone(now):
        raise WhenError(f"{label}{window.start:%H:%M}已经过了，请换一个以后的时间。")
    if not spans:
        reason = closed_reason or "不办公"
        raise WhenError(f"{label}{reason}，请换一个工作日或值班日。")
    tz = window.start.tzinfo
    start = max(window.start, now)
    for begin, end in merged(spans):
        span_start, span_end = datetime.combine(day, begin, tz), datetime.combine(day, end, tz)
        if start < span_end and window.end > span_start:
            return Window(max(start, span_start), min(window.end, span_end))
    hours = "、".join(f"{b:%H:%M}-{e:%H:%M}" for b, e in merged(spans))
    if start.date() == day and start > window.start and datetime.combine(day, spans[-1][1], tz) <= start:
        raise WhenError(f"{label}的服务时间（{hours}）已经过了，请换一天。")
    raise WhenError(f"{label}{window.start:%H:%M}-{window.end:%H:%M}不在服务时间内。那天可约：{hours}。")


def merged(spans: tuple[tuple[time, time], ...]) -> list[tuple[time, time]]:
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
