"""Which month someone retires in, worked out from their birth month (trial SS r04 asked four times and
was walked into two bookings nobody wanted).

The arithmetic is knowledge/retirement_age.py; this reads the birth month and who they are (man, woman
worker, woman cadre) from the message or the last few, and answers in one line, or asks for what is
missing.
"""

from __future__ import annotations

import re
from datetime import date

from handlers.conversation import AFTER_ITEM
from handlers.types import Context, Reply
from intents.normalize import simplify
from knowledge.retirement_age import MEN, WOMEN_CADRES, WOMEN_WORKERS, Cohort

ITEM = "retirement_application"

# "1977年3月出生", "77年3月生的", "1977.3"; "明年三月满50岁" gives it too.
_BORN = re.compile(r"((?:19|20)?\d{2})\s*(?:年|\.|-|/)\s*(\d{1,2})\s*月?")
_TURNS = re.compile(r"(今年|明年|后年)\s*(\d{1,2})\s*月\s*(?:份)?\s*满\s*(50|55|60)\s*岁")
_ASKS_WHEN = re.compile(
    r"(哪年|哪一年|哪个月|几月|几时|什么时候|啥时候|哪个时候|好久|哪天)[^ ，,。？?]{0,4}(退|到龄|到点)"
    # not "过了退休年龄好几年才去办…能补发不": past it already, a question about late claims (trial ZZ r04)
    r"|(帮我|给我|你)?(算一下|算下|算算|算一哈|计算)|(?<!过了)(?<!超过)(?<!超过了)(?<!没到)(?<!未到)(?<!不到)"
    r"退休年龄(?!之前|以前|前)|几岁退|多少岁退|好多岁退|多大岁数退|几岁才能退|好多岁才能退"
    # "我又不是干部也不是工人 我是灵活就业 算哪种嘛" (trial VV r04 got the item's paragraph three times)
    r"|算哪(一)?种|按哪(一)?种|按哪个算|哪一行|(50|五十)岁?还是(55|五十五)"
    # "是不是60就能退…延迟退休了 我要推好久" (trial Z10 r04 got the general rule, not his month)
    r"|(60|六十|55|五十五|50|五十)(岁)?(就)?能退|推(迟)?(好久|多久|几个月|多少)|延(迟|后)?(好久|多久|几个月)"
)
# "算一下" alone asks for a reckoning: of the age, unless money is what was asked.
_ONLY_RECKONS = re.compile(r"(帮我|给我|你)?(算一下|算下|算算|算一哈|计算)")
_MONEY = re.compile(r"钱|能拿|能领|拿好多|领好多|拿多少|领多少|养老金|退休金|退休工资|待遇")
_MAN = re.compile(r"男|我爸|老公|老汉|丈夫|爷爷|先生|满60|满六十")  # 满60: the men's old age (trial Z7 r04)
_WOMAN = re.compile(r"女|我妈|老婆|媳妇|婆婆|阿姨|孃孃|嬢嬢")
_CADRE = re.compile(r"干部|管理岗|技术岗|公务员|事业单位|原来55|55岁退")
_WORKER = re.compile(r"工人|职工|企业|工厂|厂里|原来50|50岁退|满50|满五十")
# "我又不是干部也不是工人": a kind denied is no kind said (trial VV r04 was given the cadres' row).
_DENIED = re.compile(r"(不是|又不是|也不是|没当过|不算|没得)(干部|工人|职工)")
# Insured on their own account: which of the women's two rows applies is each province's rule.
_FLEXIBLE = re.compile(r"灵活就业|个体|自由职业|自己交|自己缴|个人身份|以个人")
_CORRECTED = re.compile(r"说错了|搞错了|写错了|打错了|不对|记错了|我是说")
_MONTHS = "一二三四五六七八九十"
_MONTH_SAID = re.compile(r"(十[一二]?|[一二三四五六七八九])月")


def asked(ctx: Context) -> tuple[date, tuple[Cohort, ...]] | None:
    """(birth month, the cohorts it may be) when the message asks when they retire, or gives its
    birth month right after the retirement item; None otherwise or when nothing is known of the birth."""
    text = simplify(ctx.message.text or "")
    earlier = " ".join(_month_digits(simplify(said)) for said in ctx.conversation.recent[-4:])
    # "那我到底哪年哪月退" after the retirement list: 退休 said a message or two before.
    about = "退休" in text or "退休" in earlier or ctx.conversation.get(AFTER_ITEM) == ITEM
    if not about:
        return None
    today = ctx.services.now().date()
    text = _month_digits(text)
    said_now = _birth(text, today)
    # A birth month alone, right after the retirement item ("1977年3月 女工人"), answers it too; so
    # does one corrected ("哎呀我说错了 是67年1月生的 下个月才满60": trial Z7 r04 got a choice).
    after = ctx.conversation.get(AFTER_ITEM) == ITEM
    corrected = _CORRECTED.search(text) is not None  # "about" holds: 退休 was said just before
    given = said_now is not None and ((after and len(text) <= 20) or corrected)
    whens = [found.group(0) for found in _ASKS_WHEN.finditer(text)]
    if not whens and not given:
        return None
    last = simplify(ctx.conversation.recent[-1]) if ctx.conversation.recent else ""
    if whens and all(_ONLY_RECKONS.fullmatch(when) for when in whens) and _MONEY.search(f"{last} {text}"):
        return None  # "有没有啥子办法自己算一下" after "每个月大概能拿好多钱": the pension (trial Z3 r04)
    born = said_now or _birth(earlier, today)
    if born is None:
        return None
    said = _DENIED.sub(" ", f"{earlier} {text}")
    return born, _cohorts(said)


async def answer(ctx: Context, found: tuple[date, tuple[Cohort, ...]]) -> Reply:
    born, cohorts = found
    lines = ["按 2025 年起实行的渐进式延迟退休："]
    today = ctx.services.now().date()
    past = False
    for cohort in cohorts:
        years, months, year, month = cohort.retires_at(born.year, born.month)
        age = f"{years} 岁" + (f" {months} 个月" if months else "")
        born_in = f"{born.year} 年 {born.month} 月出生的{cohort.label}"
        # "75年3月 工人" asked in December 2026: that month is behind them (trial Z3 r04 had to see it alone).
        gone = (year, month) < (today.year, today.month)
        past = past or gone
        lines.append(
            f"{born_in}：退休年龄 {age}，{year} 年 {month} 月到龄" + ("（已经过了）。" if gone else "。")
        )
    recent = " ".join((*ctx.conversation.recent[-4:], ctx.message.text or ""))
    if WOMEN_WORKERS in cohorts and WOMEN_CADRES in cohorts and _FLEXIBLE.search(simplify(recent)):
        lines.append(
            "灵活就业、个体户（自己交社保）的女性原来按 50 岁还是 55 岁退休，各地规定不一样：不少地方按 55 岁"
            "（干部那一行），也有地方按档案里原来的身份算（当过企业工人的按 50 岁）。带身份证到区社保经办机构"
            "或打 12333 问一下按哪一行，以社保核定为准。"
        )
    elif len(cohorts) > 1:
        lines.append("您是哪一种，看上面对应的那一行。")
    if past:
        lines.append(
            "已经过了到龄月份还没办的，现在就去办，越早越好：养老金一般从批准的次月起发，前面的月份不一定补。"
        )
    lines.append(
        "到龄前 1-3 个月由单位申报（没有单位的本人到街道或区社保申请）；"
        "以社保部门核定为准，也可以在“掌上12333”App 的退休年龄计算器上核对。"
    )
    ctx.conversation.enter(AFTER_ITEM, ITEM)
    return Reply("\n".join(lines))


def _birth(text: str, today: date) -> date | None:
    turns = _TURNS.search(text)
    if turns:
        year = today.year + {"今年": 0, "明年": 1, "后年": 2}[turns.group(1)] - int(turns.group(3))
        month = int(turns.group(2))
        return date(year, month, 1) if 1 <= month <= 12 else None
    for found in _BORN.finditer(text):
        year, month = int(found.group(1)), int(found.group(2))
        year += 1900 if year < 100 else 0
        if 1940 <= year <= today.year - 16 and 1 <= month <= 12:
            return date(year, month, 1)
    return None


def _month_digits(text: str) -> str:
    """三月 → 3月, 十二月 → 12月: a month said in characters (the year is said in digits here)."""
    return _MONTH_SAID.sub(lambda found: f"{_month_number(found.group(1))}月", text)


def _month_number(said: str) -> int:
    if said[0] == "十":
        return 10 + (_MONTHS.index(said[1]) + 1 if len(said) == 2 else 0)
    return _MONTHS.index(said) + 1


def _cohorts(said: str) -> tuple[Cohort, ...]:
    if _MAN.search(said) and not _WOMAN.search(said):
        return (MEN,)
    if _WOMAN.search(said) or _WORKER.search(said) or _CADRE.search(said):
        if _CADRE.search(said):
            return (WOMEN_CADRES,)
        if _WORKER.search(said) and _WOMAN.search(said):
            return (WOMEN_WORKERS,)
        if _WOMAN.search(said):
            return (WOMEN_WORKERS, WOMEN_CADRES)
    return (MEN, WOMEN_WORKERS, WOMEN_CADRES)
