"""How old someone is, from the birth year and month the resident gives ("我妈是1946年2月出生的 到现在
满没满80", "我66年11月 我老公67年2月 我们两个哪个满60了": trial Z13 r08 and r20 were given the rule
and left to count).

Ages are full years (周岁), as every age threshold in the handbook is; a birth month not said is
told so rather than guessed. Written by hand: the sum is one subtraction, and no library reads
"我老公67年2月的" as a person and a birth month.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from handlers import facts
from handlers.conversation import AFTER_ITEM
from handlers.types import Context, Reply
from intents.normalize import number_said, simplify
from intents.when import LUNAR_MONTHS

# "1946年2月出生", "46年2月的", "1940年的", "67年2月": the year, and the month when said. Not "交了11年".
_BIRTH = re.compile(
    r"(?<![\d交缴满差])((?:19|20)\d{2}|[4-9]\d)\s*年\s*(?:(\d{1,2}|[一二三四五六七八九十]{1,3}|腊|正|冬)\s*月份?)?"
    r"(?=\s*(?:出生|生的|生|的|[，,\s]|$))"
)
# Who was born then: the words right before the year ("我妈是", "我老公").
_WHO = re.compile(
    r"(我妈|我爸|我母亲|我父亲|我老公|我老婆|我爱人|我老伴|老伴|我外婆|我外公|我奶奶|我爷爷|我|她|他)(?:是|今年)?\s*$"
)
# The question: whether an age is reached, or how old ("满没满80", "哪个满60了", "今年多大").
_ASKS = re.compile(
    r"满没满|满了没|满(?:了)?(?:没有|没)|够没够|够不够|哪个满|谁满|(?:今年|现在|到现在)(?:多大|几岁|好大|好多岁|多少岁)|"
    r"算几岁|算多大|还差几(?:年|个月)|还有几年|多少岁了|好多岁了|几岁了|今年算[一二三四五六七八九]十几"
)
_AGE = re.compile(r"满\s*(\d{2,3}|[一二三四五六七八九十百]{2,3})\s*(?:周岁|岁)?")


@dataclass(frozen=True, slots=True)
class Born:
    who: str
    year: int
    month: int | None
    lunar: str = ""  # "腊月", "正月": a month of the lunar calendar, said so back


@dataclass(frozen=True, slots=True)
class AgeQuestion:
    people: tuple[Born, ...]
    threshold: int | None  # "满80": the age asked about


def asked(ctx: Context) -> AgeQuestion | None:
    """The people, their births and the age asked about, when the message asks whether or how old."""
    text = simplify(ctx.message.text or "")
    if not _ASKS.search(text):
        return None
    today = ctx.services.now().date()
    people = []
    for match in _BIRTH.finditer(text):
        year = _year(match.group(1), today)
        month = _month(match.group(2)) if match.group(2) else None
        if year is None or not 1900 < year <= today.year or (month is not None and not 1 <= month <= 12):
            continue
        who = _WHO.search(text[max(0, match.start() - 6) : match.start()])
        lunar = f"{match.group(2)}月" if match.group(2) and f"{match.group(2)}月" in LUNAR_MONTHS else ""
        people.append(Born(who.group(1) if who else "", year, month, lunar))
    if not people or len(people) > 4:
        return None
    age = _AGE.search(text)
    threshold = number_said(age.group(1)) if age else None
    return AgeQuestion(tuple(people), threshold if threshold and 40 <= threshold <= 120 else None)


async def answer(ctx: Context, question: AgeQuestion) -> Reply:
    today = ctx.services.now().date()
    lines = [_line(born, question.threshold, today) for born in question.people]
    lines.append("按身份证上的出生日期算；农历生日的，身份证上一般登记的是公历日子。")
    # "高龄津贴是不是满80就有 她现在够没够": the service's own answer after the sum (trial Z13 r08).
    handbook = ctx.services.handbook
    named = [i for i in ctx.services.classifier.items_in(ctx.message.text or "") if i in handbook.items]
    if named:
        item = handbook.item(named[0])
        own = facts.own_answer(ctx, item, ctx.message.text or "")
        lines.append(f"【{item.title}】{own}" if own else f"【{item.title}】回复“材料”看要带什么。")
        ctx.conversation.enter(AFTER_ITEM, item.id)
    return Reply("\n".join(lines))


def _line(born: Born, threshold: int | None, today: date) -> str:
    month = f"农历{born.lunar}" if born.lunar else f"{born.month}月"
    said = f"{born.who + '：' if born.who else ''}{born.year}年{month if born.month else ''}出生"
    if born.month is None:
        years = today.year - born.year
        head = f"{said}，今年满 {years} 周岁（生日过了才算满；说一下出生月份我帮您算准）"
        if threshold is None:
            return head + "。"
        if years > threshold:
            return f"{head}，已满 {threshold} 周岁。"
        if years == threshold:
            return f"{head}，今年生日那个月满 {threshold} 周岁。"
        return f"{head}，{born.year + threshold}年满 {threshold} 周岁，还差 {threshold - years} 年左右。"
    months = (today.year - born.year) * 12 + today.month - born.month
    years = months // 12
    head = f"{said}，到今天（{today.year}年{today.month}月{today.day}日）满 {years} 周岁"
    if threshold is None:
        return head + "。"
    if years >= threshold:
        return f"{head}（{born.year + threshold}年{born.month}月满的 {threshold} 周岁）。"
    short = threshold * 12 - months
    return f"{head}，还没满 {threshold} 周岁：{born.year + threshold}年{born.month}月满，还差 {short} 个月。"


def _year(said: str, today: date) -> int | None:
    year = int(said)
    if year >= 100:
        return year
    return 1900 + year if 1900 + year <= today.year else None


def _month(said: str) -> int | None:
    return LUNAR_MONTHS.get(f"{said}月") or number_said(said)
