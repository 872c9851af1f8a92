"""rate: a resident judges a service they received (群众评议): 1-5 stars and a comment."""

from __future__ import annotations

import re
from datetime import timedelta

from desk.refusals import Refused
from desk.states import OPEN_STATES
from handlers.types import Context, Reply
from intents import Classification, Lexicon
from intents.normalize import simplify

_STARS = re.compile(r"^\s*([1-5一二三四五])\s*(?:分|星|颗星)?(?:[\s,，。.!！:：]+(.*))?$", re.S)


# A score said inside a sentence: "我要给你们打分 1分 上礼拜报的到现在都没修" (trial T was thanked
# for its encouragement); after the ticket's number: "评价 10018 2分" (trial SS r19).
_STARS_INSIDE = re.compile(
    r"(?:打分|评分|打个分|给你们打|给个|评价|打)[^0-9一二三四五]{0,6}(?:\d{5}[^0-9]{1,4})?([1-5一二三四五])\s*(?:分|星|颗星)"
)


def stars_of(text: str, lexicon: Lexicon) -> tuple[int, str] | None:
    """(stars, comment) when the message is a rating: "5", "4分 态度好", a rating word ("满意")."""
    plain = simplify(text).strip()
    match = _STARS.match(plain)
    if match:
        return _stars(match.group(1)), (match.group(2) or "").strip()
    inside = _STARS_INSIDE.search(plain)
    if inside:
        return _stars(inside.group(1)), plain
    for word, stars in lexicon.rating_stars:
        if word in plain:
            return stars, plain
    return None


def _stars(digit: str) -> int:
    """1-5 from a digit written either way ("3", "三")."""
    return "一二三四五".find(digit) + 1 or int(digit)


def looks_like_rating(text: str) -> bool:
    return _STARS.match(simplify(text).strip()) is not None


async def handle(ctx: Context, result: Classification) -> Reply:
    rating = stars_of(ctx.message.text, ctx.services.classifier.lexicon)
    rated = await rate_ticket(ctx, rating) if rating else None
    if rated is not None:
        return rated
    noted = await _noted_on_open_ticket(ctx, rating) if rating else None
    if noted is not None:
        return noted
    lexicon = ctx.services.classifier.lexicon
    text = lexicon.normalize(ctx.message.text)
    low = rating is not None and rating[0] <= 2  # one or two stars with no ticket to put them on
    if low or any(word in text for word in lexicon.unhappy):
        if ctx.services.desk is not None:  # "负责人会联系您" is kept only by a ticket for the secretary
            from handlers import complaints

            return await complaints.lodge_text(ctx, ctx.message.text)
        office = ctx.services.handbook.office
        return Reply(
            f"非常抱歉给您带来不好的体验。您的意见我们记下了，社区负责人会联系您回访；"
            f"也可以直接拨打 {office.phone} 反映。"
        )
    if rating is None and _ASKS_HOW_TO_RATE.search(text.replace(" ", "")):
        # "要是今天收了 我咋个给你们打分": how, not a rating (trial X r19 was thanked twice).
        return Reply(
            "办好以后，我会在这里发消息请您打分：直接回复 1-5 的数字就行（5 分最满意），后面可以接一句意见，"
            "比如“5 分 来得快”。不满意的地方直接说，社区负责人会回访。"
        )
    return Reply("谢谢您的评价和鼓励！我们会转达给工作人员，继续把服务做好。")


# How far back an open ticket of the resident's is the one a rating in words is about.
_RATED_REACH = timedelta(days=30)


async def _noted_on_open_ticket(ctx: Context, rating: tuple[int, str]) -> Reply | None:
    """A score for a ticket staff have not closed yet ("灯已经修好了 师傅来得快 5分 满意"): written on
    the resident's latest open ticket for the staff handling it, not thanked and lost (trial Z r20).
    None when they have no open ticket."""
    desk = ctx.services.desk
    if desk is None:
        return None
    since = ctx.services.now() - _RATED_REACH
    tickets = await desk.tickets_since(ctx.message.resident, since)
    # A service ordered, not a complaint, handoff or emergency of theirs: a score is for work done.
    open_ones = [t for t in tickets if t.state in OPEN_STATES and t.kind == "order"]
    if not open_ones:
        return None
    ticket = open_ones[-1]
    stars, _ = rating
    try:
        said = f"居民评价 {stars} 分：{ctx.message.text}"
        await desk.add_detail(ctx.message.resident, ticket.number, "detail", said)
    except Refused:
        return None
    return Reply(
        f"收到您给工单 {ticket.number} 的 {stars} 分，已经写在工单上，办理的工作人员会看到。"
        "办结后如果再请您打分，直接回复数字就行。谢谢您！"
    )


# Asking how or where to rate, not rating: "咋个给你们打分", "在哪里评价".
_ASKS_HOW_TO_RATE = re.compile(
    r"(怎么|咋个|咋|如何|在哪里?|哪里|哪儿|去哪)[^，。]{0,6}(打分|评分|评价|打个分|打星)"
)


async def rate_ticket(ctx: Context, rating: tuple[int, str]) -> Reply | None:
    """Rate the resident's latest completed ticket (stars, comment); None when nothing awaits a rating."""
    desk = ctx.services.desk
    if desk is None:
        return None
    ticket = await desk.awaiting_rating(ctx.message.resident)
    if ticket is None:
        return None
    stars, comment = rating
    follow_up = await desk.rate(ctx.message.resident, ticket, stars, comment)
    if follow_up is not None:
        return Reply(
            f"收到您给工单 {ticket.number} 的 {stars} 分。非常抱歉没让您满意，社区书记会尽快回访您，"
            "把问题解决好。"
        )
    return Reply(f"收到您给工单 {ticket.number} 的 {stars} 分，谢谢您的评价！")
