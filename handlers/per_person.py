"""Per-person income worked out from the resident's own figures, set against a means-tested item's
line ("屋头四个人 一个月加起来三千二 平均下来一个人好多 够不够得到低保": blind batch 85 got the
method only, and had to do the sum themselves).

The line and the words for below, inside and above it are the item's data (`income_line` in
knowledge/data/items); this module only reads the household size and the income out of the message
and divides. Written by hand: no library reads "屋头四个人" as a household of four.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from handlers.conversation import AFTER_ITEM
from handlers.types import Context, Reply
from intents.normalize import number_said, simplify
from knowledge import Item

_NUMERAL = r"(\d+(?:\.\d+)?|[零一二两三四五六七八九十百千万]+)"
# "屋头四个人", "五口人", "一家三口" — not "两个娃娃", "八个人工钱"
_SIZE = re.compile(r"([一二两三四五六七八九十\d]{1,2})\s*(?:个人|口人|口)(?![工钱])|一家([三四五六七八九])口")
# "她一个人住", "我一个人过": a household of one; "我一个人带两个娃": one and the children
_ALONE = re.compile(r"一个人(?:住|过|生活|在家|在屋头)|独居|就(?:我|她|他)一个人")
_WITH_CHILDREN = re.compile(r"一个人带(?:着)?([一二两三四五\d])个(?:娃|孩子|小孩|娃儿|娃娃|儿子|女儿)")
_GAP = r"[^0-9零一二两三四五六七八九十百千万\s]{0,6}"
_MONTHLY = re.compile(r"(?:一个月|每个月|月收入|月工资|每月|月入|一月)(" + _GAP + r")" + _NUMERAL)
_YEARLY = re.compile(r"(?:一年|每年|年收入|全年)(" + _GAP + r")" + _NUMERAL)
_TOTAL = re.compile(r"加起来|一共|总共|合计|全家")
_NO_INCOME = re.compile(r"(没|莫)(有|得)?(任何)?收入|一分钱(的)?收入都?(没|莫)|零收入|收入为零")


@dataclass(frozen=True, slots=True)
class Household:
    item: Item
    people: int
    monthly: int  # the household's income per month, in yuan


def asked(ctx: Context) -> Household | None:
    """The household's size and monthly income when the message gives both about an item with an
    income line (named, or the one just discussed); None otherwise."""
    text = simplify(ctx.message.text or "")
    # The figures first: two patterns, where the item's names need the classifier's segmenting, and
    # this route is tried on every message that reaches it.
    people = _people(text)
    monthly = _monthly_income(text) if people is not None else None
    if people is None or monthly is None or not 0 < people <= 20:
        return None
    handbook = ctx.services.handbook
    named = ctx.services.classifier.items_in(text)
    candidates = named or ((ctx.conversation.item,) if ctx.conversation.item else ())
    item = next(
        (handbook.items[i] for i in candidates if i in handbook.items and handbook.items[i].income_line),
        None,
    )
    return Household(item, people, monthly) if item is not None else None


async def answer(ctx: Context, household: Household) -> Reply:
    line = household.item.income_line
    assert line is not None
    each = round(household.monthly / household.people)
    said = (
        f"按您说的：家里 {household.people} 个人，每月收入合计 {household.monthly} 元，人均每月 {each} 元。"
        if household.monthly
        else f"按您说的：家里 {household.people} 个人，眼下没有收入。"
    )
    if each < line.low:
        verdict = line.below
    elif each <= line.high:
        verdict = line.within
    else:
        verdict = line.above
    ctx.conversation.enter(AFTER_ITEM, household.item.id)  # "要带啥子" next is about this item
    return Reply(f"【{household.item.title}】{said}\n{verdict}\n想申请，回复“材料”看要带什么。")


def _people(text: str) -> int | None:
    children = _WITH_CHILDREN.search(text)
    if children:
        count = _number(children.group(1))
        return 1 + count if count else None  # "我一个人带两个娃" (blind batch 86 was told a household of 1)
    # Not "一个人" itself: "我一个人…" is one person only as _ALONE says ("一个人住").
    found = next((m for m in _SIZE.finditer(text) if (m.group(1) or m.group(2)) != "一"), None)
    if found:
        return _number(found.group(1) or found.group(2))
    return 1 if _ALONE.search(text) else None


def _monthly_income(text: str) -> int | None:
    """The household's monthly income: a total said ("加起来三千二") wins; otherwise every monthly
    figure said is one person's and they add up; a yearly figure is divided by twelve."""
    monthly = [(m.group(1), _number(m.group(2))) for m in _MONTHLY.finditer(text)]
    yearly = [(m.group(1), _number(m.group(2))) for m in _YEARLY.finditer(text)]
    # Under 50 yuan is no income said: "一个月两个人都没收入" reads 两 after 一个月.
    figures = [(gap, n) for gap, n in monthly if n and n >= 50]
    figures += [(gap, round(n / 12)) for gap, n in yearly if n and n >= 600]
    if not figures:
        return 0 if _NO_INCOME.search(text) else None
    totals = [n for gap, n in figures if _TOTAL.search(gap)]
    return totals[0] if totals else sum(n for _, n in figures)


def _number(said: str) -> int | None:
    """A figure in digits or Chinese numerals; a run that goes on into the next words ("三千二两个娃娃"
    reads 三千二两) is cut back from the right until it reads."""
    if said[:1].isdigit():
        return int(float(said)) or None
    for end in range(len(said), 0, -1):
        value = number_said(said[:end])
        if value is not None:
            return value if value > 0 else None
    return None
