"""Answer the question that was asked: one fact of an item first, then where the full checklist is.

"高龄津贴多少钱一个月" wants the amount, not the whole checklist; "老年证和高龄津贴有什么区别"
wants the two items' scope side by side. The facts are handbook data (amount, fee, eligibility,
time limit, where, online, hours); the words that ask for each are phrasings (aspects).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable

from handlers import render
from handlers.types import Context
from knowledge import Handbook, Item

MORE = "回复“材料”看完整清单。"


def aspect_of(ctx: Context, text: str) -> str | None:
    """Which single fact the message asks about, or None (then the whole checklist is the answer)."""
    lexicon = ctx.services.classifier.lexicon
    plain = lexicon.normalize(text).replace(" ", "")
    for aspect, words in lexicon.aspects:
        if words.search(plain):
            return aspect
    return None


def question_answer(ctx: Context, item: Item, text: str) -> str | None:
    """The answer to one of the item's own questions (handbook `questions`) the message asks."""
    if not item.questions:
        return None
    normalize = ctx.services.classifier.lexicon.normalize
    plain = normalize(text).replace(" ", "")
    for question in item.questions:
        if any(word in plain for word in _asked_by(normalize, question.ask)):
            return f"【{item.title}】{question.answer}\n{MORE}"
    return None


_YES_NO = re.compile(r"(不|吗|嘛|没|没有|不嘛)[?？。!！~]*$")


def yes_no_question(ctx: Context, item: Item, text: str) -> str | None:
    """The answer to one of the item's own questions asked yes-or-no, when the message reads as a
    request: "老年证可以儿子帮我去办不", "签了以后医生能到屋头来看我妈不" ask whether, they do not
    book (trial residents were walked into an order). Not a question about their own ticket."""
    lexicon = ctx.services.classifier.lexicon
    compact = lexicon.normalize(text).replace(" ", "")
    if not _YES_NO.search(compact) or lexicon.own_request.search(compact):
        return None
    return question_answer(ctx, item, text)


@functools.lru_cache(maxsize=1024)
def _asked_by(normalize: Callable[[str], str], ask: tuple[str, ...]) -> tuple[str, ...]:
    """A question's ask words as messages are normalised: once per handbook, not per message."""
    return tuple(normalize(word).replace(" ", "") for word in ask)


def fact(item: Item, aspect: str, handbook: Handbook) -> str | None:
    """One or two lines with the fact, then where to see the rest; None when the item has no such fact."""
    line = _line(item, aspect, handbook)
    return f"【{item.title}】{line}\n{MORE}" if line else None


def _line(item: Item, aspect: str, handbook: Handbook) -> str | None:
    if aspect == "amount":
        if item.amount:
            return f"标准：{item.amount}"
        return f"费用：{item.fee}" if item.fee else None
    if aspect == "fee":
        return f"费用：{item.fee}" if item.fee else None
    if aspect == "who":
        return (
            "谁能办：" + "；".join(e.rstrip("。") for e in item.eligibility[:2]) if item.eligibility else None
        )
    if aspect == "duration":
        return f"办多久：{render.time_limit_text(item)}"
    if aspect == "online":
        return f"网上办：{item.online}" if item.online else "这项要到现场办理，行动不便的可以预约上门。"
    if aspect == "where":
        return f"在哪办：{render.place_text(item, handbook.office)}"
    if aspect == "hours":
        return f"办理时间：{render.hours_text(item, handbook.office)}"
    if aspect == "proxy":
        return _proxy_line(item)
    return None


_PROXY_WORDS = ("代办", "代领", "代理", "委托", "家属", "监护人")


def _proxy_line(item: Item) -> str:
    """Whether someone else may do it, read from the item's own documents: the card already says
    what a proxy brings ("代办人身份证：家属代办时带"); a trial resident asking "我儿子可以帮我去办不"
    after the card got an apology."""
    brought = [
        f"{d.name}（{d.note}）" if d.note else d.name
        for d in item.documents
        if any(word in d.name + (d.note or "") for word in _PROXY_WORDS)
    ]
    if brought:
        return "可以请家属或别人代办，代办时要带：" + "；".join(brought) + "。以当地为准。"
    visit = "行动不便的可以回复“预约”请工作人员上门。" if item.home_visit else ""
    return f"材料里没写代办，一般要本人去办；{visit}能不能代办请先打社区电话问一下，以当地为准。"


def compare(items: list[Item]) -> str:
    """Two (or three) items' scope in a line each, and how to get either checklist."""
    lines = [f"{i}. {item.title}：{_scope(item)}" for i, item in enumerate(items[:3], 1)]
    return "\n".join(["这几项的区别：", *lines, "想看哪一项的材料，请回复数字。"])


def _scope(item: Item) -> str:
    if item.scope:
        return item.scope
    return item.notes[0] if item.notes else "；".join(item.eligibility[:1])
