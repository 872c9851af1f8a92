"""The order conversation (群众点单): collect what the item needs, one question at a time, then 确认.

The draft (handlers/draft.py) is the conversation's ORDERING state, so it survives between
messages and processes; the turn that starts after 30 idle minutes drops it. The draft's key
becomes the ticket's request key, so a confirmed order creates one ticket however often WeChat
retries or the resident repeats 确认.
"""

from __future__ import annotations

import contextlib
import functools
import re
import uuid
from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import Any, Protocol

from desk import emergencies
from desk.desk import Limits
from desk.refusals import Refused
from desk.states import DEFAULT_CLAIM_MINUTES, OPEN_STATES
from handlers import consult, directions, facts, order, profile, render
from handlers.conversation import AFTER_ITEM, ORDERING, PLACED, Placed
from handlers.draft import OrderDraft
from handlers.office import open_on
from handlers.types import Context, Reply
from handlers.wording import TICKET_NUMBER
from intents import Classification
from intents.contact import (
    NEIGHBOURS,
    ContactError,
    corrected_address,
    corrected_mobile,
    introduced_name,
    is_form_of_address,
    is_full_name,
    landlines_in,
    looks_like_address,
    mobiles_in,
    name_beside_number,
    names_a_place,
    numbers_joined,
    place_in,
    read_address,
    read_address_and_aside,
    read_contact,
    read_description,
    read_mobile,
    read_name,
    value_of,
)
from intents.normalize import simplify
from intents.when import (
    A_NOT_A,
    WhenError,
    WhenUnclear,
    Window,
    check_booked_week,
    day_label,
    first_fit,
    read_window,
)
from knowledge import Item, Office

# Cancel, confirm, correction, field and home-visit words: phrasings.yaml (ordering), compiled in
# ctx.services.classifier.lexicon.
NO_NAME = "（未留称呼）"
_NAME_SAID = re.compile(r"我叫|我是|叫我|我姓")
# Words that ask for the service and say nothing of the problem ("我要报修" is not a description).
_REQUEST_WORDS = re.compile(
    r"我要|我想|想要|帮我|麻烦|请|报修|预约|约|申请|办理|反映|一下|一趟|一次|过来|上门|社区|你们|工作人员|的人|个人|了|的"
)
LABELS = {"name": "姓名", "mobile": "电话", "address": "地址", "time": "时间", "description": "情况"}
QUESTIONS = {
    "name": "请问怎么称呼您？（姓名）",
    "mobile": "请留一个手机号码（没有手机的，留带区号的座机），方便工作人员联系您。",
    "address": "请告诉我详细地址（小区、几栋几单元几号）。",
    "time": "您想约什么时候？比如“明天上午”“周六下午3点”。",
    "description": "请简单说一下情况：在哪里、什么问题。",
}
_FOOTER = "（随时回复“取消”可以不办了）"
NOTE = "note"  # draft.asking after "情况写详细点" said alone: the next message is added to the description
SAME_ITEM_MINUTES = 30  # a second order of one item within this asks before it goes in


async def handle(ctx: Context, result: Classification) -> Reply:
    """Intent `order`: start the conversation for the item (or show the menu when none was named)."""
    if result.ambiguous:
        together = _ordered_together(ctx, result)
        if together is None:
            return await consult.ask_which(ctx, result.intent, result.candidates)
        return await start(ctx, together, ctx.message.text)
    if result.item is None:
        return Reply(render.service_menu(ctx.services.handbook))
    asked = facts.yes_no_question(ctx, ctx.services.handbook.item(result.item), ctx.message.text or "")
    if asked:  # "老年证可以儿子帮我去办不": whether a son may do it, not a booking
        ctx.conversation.enter(AFTER_ITEM, result.item)
        return Reply(asked)
    return await start(ctx, result.item, ctx.message.text)


async def start(ctx: Context, item_id: str, text: str = "") -> Reply:
    """Begin an order for `item_id`; details already in `text` (a number, a time, a place) are kept,
    and a resident who ordered before is asked once about the details kept from then."""
    item = ctx.services.handbook.item(item_id)
    refused = facts.not_done_here_answer(ctx, item, text or ctx.message.text or "")
    if refused is not None:
        return Reply(refused)  # asked for something the community does not do: said so, no booking
    visits = ctx.services.handbook.catch_all() if item.order is None else None
    if (
        visits is not None
        and visits.order is not None
        and ctx.services.desk is not None
        and wishes_visit(ctx, text)
    ):
        # "社保卡找不到了…我81岁了走不动路 能不能来个人帮我弄一下": done at a counter, so what it takes
        # there, and someone booked to come and help — not "不能上门" alone (trial LL r09).
        told = order.book(ctx, item_id).text or ""
        visit = await start(ctx, visits.id, text)
        first = told.split("\n回复“材料”")[0].replace(
            "这项不能预约，也不能上门办理。", "这项本身要到窗口办："
        )
        own = facts.own_answer(ctx, item, text)
        asked = f"【{item.title}】{own}\n\n" if own else ""
        return replace(visit, text=f"{asked}{first}\n走不动的，我先帮您约工作人员上门帮办：\n{visit.text}")
    if item.order is None or ctx.services.desk is None:
        # "社保卡搞丢了 先帮他挂个失嘛": done at a counter, and what they asked for answered first
        # (blind batch 77 was told only where to go, not how to report the loss now).
        told = order.book(ctx, item_id)
        own = facts.own_answer(ctx, item, text) if text else None
        return replace(told, text=f"【{item.title}】{own}\n\n{told.text}") if own else told
    said = ctx.message.text or ""
    booking_asked = bool(said) and facts.aspect_of(ctx, said) == "booking"
    if booking_asked and not mobiles_in(said) and not _time_said(ctx, item, said):
        # "居住登记需要预约吗": whether to book, asked — answered, not booked (trial SS r03 was told no
        # booking is needed while one was begun).
        ctx.conversation.enter(AFTER_ITEM, item_id)
        answered = facts.fact_lines(item, "booking", ctx.services.handbook)
        if answered:
            return Reply(f"【{item.title}】{answered}")
    now = ctx.services.now()
    # Someone to come to the home asked for in so many words: the address is asked whatever the
    # item — a son asked for someone to come to his mother to sign for the survivor's grant, and the
    # form (an item done at the counter) had nowhere for her flat (trial T). Staff see it as a wish.
    asked_home = wishes_visit(ctx, text)
    visit = "address" in item.order.fields or asked_home
    draft = OrderDraft(
        item_id, uuid.uuid4().hex, now, visit, urgent=any(word in text for word in item.order.urgent)
    )
    notes = _prefill(ctx, item, draft, text)
    answers = _answers_at_start(ctx, item, text)
    if booking_asked and item.bookable:
        # "这周六上午过来…需要预约吗" with a time: booked for it, said plainly — not "不预约也能直接来办
        # …回复预约" above the form's first question (trial SS r03).
        booking = facts.fact_lines(item, "booking", ctx.services.handbook) or ""
        answers = [line for line in answers if booking not in line]
        answers.append("不预约也能直接来办；您说了时间，我先帮您约上，免得等，不用约的话回复“取消”。")
    notes.extend(answers)
    if asked_home and not item.home_visit and "address" not in item.order.fields:
        # A repair at a place is visited anyway: "麻烦派人来通一下" asks nothing more (trial EE r19).
        _add_note(draft, VISIT_WISH)
    also = _also_named(ctx, item, text)
    if also:
        # "长护险和残疾证一起帮我弄": one ticket, and the other matters go on it for staff (its text
        # is kept on the ticket); said, so the resident knows they were heard (trial K: only the
        # disability card was mentioned back).
        draft.fields["said"] = draft.fields.get("said") or text.strip()[:300]
        notes.append(f"您说的{_titles(ctx, also)}也写在这张单上，工作人员联系您时一起安排。")
    # 预约 when a time is booked; 报修 only for a problem report (a repair, a sanitation problem);
    # a sign-up with no time (meal assistance, an activity) is 登记 — a trial resident read
    # "帮您报修【老年助餐】".
    fields = item.order.fields
    if visit and item.home_visit:
        kind = "上门服务"
    elif "time" in fields:
        kind = "预约"
    else:
        kind = "报修" if item.default_intent == "order" else "登记"
    intro = f"好的，帮您{kind}【{item.title}】。"
    if await profile.recall(ctx, draft, _fields(item, draft)):
        return profile.ask(ctx, draft, [intro, *notes])
    _from_recent(ctx, item, draft)  # kept details (above) come first: they were confirmed once
    asks_more = any(not draft.has(field) for field in _fields(item, draft))  # else straight to 请核对
    intro += "我问几个问题，一次回答一个就行。" if not notes and asks_more else ""
    return _next(ctx, item, draft, [intro, *notes])


def _answers_at_start(ctx: Context, item: Item, text: str) -> list[str]:
    """What the first message asks about the item it orders ("…能不能借 要不要钱"), answered before the
    form's first question (trial T: booked straight away, the fee never said). A question nothing
    answers is not noted here: the first message reaches the ticket whole."""
    return _clause_answers(ctx, item, "name", _asking_clauses(ctx, simplify(text)))[0]


VISIT_WISH = "居民希望工作人员上门办理（此事项一般到窗口办，请电话确认能否上门帮办）"
# "不用上门 我自己来": a visit refused is no wish for one.
_NO_VISIT = re.compile(
    r"(不要|不用|不需要|不必|用不着|莫|别)(你们|人)?(派人)?(上门|到家|来家|家里来|屋头来|派人)"
)


def wishes_visit(ctx: Context, text: str) -> bool:
    """Does `text` ask for someone to come to the home ("要上门哈", "要到屋头来")?"""
    plain = simplify(text)
    return bool(ctx.services.classifier.lexicon.home_visit.search(plain)) and not _NO_VISIT.search(plain)


def _keep_visit_wish(ctx: Context, item: Item, draft: OrderDraft, text: str) -> bool:
    """A visit asked for mid-order ("礼拜三上午 要到屋头来哈 地址幸福里2栋1单元702" at the time
    question) makes it one, as in a first message: the address is taken or asked, and staff see
    the wish on an item done at the counter (trial X r20 kept only the time). True when newly set."""
    if draft.visit or not wishes_visit(ctx, text):
        return False
    draft.visit = True
    if not item.home_visit:
        _add_note(draft, VISIT_WISH)
    return True


async def start_and_answer(ctx: Context, found: tuple[str, str, str]) -> Reply:
    """The question beside a request answered first, then the order begun (consult.ordered_with_question)."""
    item_id, order_part, answered = found
    started = await start(ctx, item_id, order_part)
    return replace(started, text=f"{answered}\n\n{started.text}")


def _ordered_together(ctx: Context, result: Classification) -> str | None:
    """ "长护险和残疾证一起帮我弄": both named and asked for together — one order for the first that
    can be ordered, the other written on it (trial K: the resident was asked to pick one and the
    other was lost). None when they are alternatives ("哪个")."""
    text = ctx.message.text or ""
    names = ctx.services.classifier.names_in(text)
    if len(names) < 2 or not set(result.candidates) <= set(names) or not TOGETHER.search(text):
        return None
    items = ctx.services.handbook.items
    return next((name for name in names if items[name].order is not None), None)


TOGETHER = re.compile(r"一起|一并|都要|都帮|顺便|还有|同时|和.{0,8}都")  # asked for together


def _titles(ctx: Context, item_ids: tuple[str, ...]) -> str:
    return "、".join(f"【{ctx.services.handbook.item(other).title}】" for other in item_ids)


def _also_named(ctx: Context, item: Item, text: str) -> tuple[str, ...]:
    """Other services `text` names by name, besides the one ordered (the first message, or what
    follows 确认 at the read-back)."""
    if not text:
        return ()
    classifier = ctx.services.classifier
    errand = classifier.lexicon.errand
    if item.fallback and errand is not None and errand.search(classifier.normalize(text)):
        # "有没得志愿者明天早上8点帮忙把我妈背下楼": the volunteer is who helps, not a second service
        # (trial JJ r11); what an errand touches is its object.
        return ()
    # "我们不是低保 …": a service said to be what they are not is not wanted too (trial FF r19).
    denied = classifier.service_said(text)[1]
    items = ctx.services.handbook.items
    return tuple(
        other
        for other in classifier.names_in(text)
        if other != item.id
        and other not in denied
        # "带她身份证户口本过来办": 户口本 is one of its papers, not a second service (blind batch 58)
        and not (other in items and facts.one_of_its_papers(item, items[other]))
    )[:2]


def confirms(ctx: Context, text: str) -> bool:
    return ctx.services.classifier.lexicon.order_confirm.match(simplify(text).strip()) is not None


async def placed_again(ctx: Context, placed: Placed) -> Reply:
    """A second 确认 right after an order went in: say it is in, rather than "I don't understand"."""
    return Reply(f"这个预约已经提交过了，工单号 {placed.number}。回复“进度”可以查看办理情况。")


async def also_on_placed(ctx: Context, found: tuple[Placed, str]) -> Reply:
    """Another service to be done with the order just placed: written onto its ticket for staff."""
    placed, other_id = found
    desk = ctx.services.desk
    other = ctx.services.handbook.item(other_id)
    ctx.conversation.enter(PLACED, placed)
    if desk is None:
        return order.book(ctx, other_id)
    try:
        await desk.add_detail(ctx.message.resident, placed.number, "also", ctx.message.text.strip()[:300])
    except Refused:
        return await start(ctx, other_id, ctx.message.text)  # that ticket is closed: a new order
    documents = "、".join(d.name for d in other.documents[:3]) or "不用带材料"
    return Reply(
        f"好的，【{other.title}】也写进工单 {placed.number} 了，工作人员联系您时一起安排，"
        "能一起办的上门时一起办。\n"
        f"【{other.title}】要带：{documents}。回复“材料”看完整清单。"
    )


async def question_for_staff(ctx: Context, placed: Placed) -> Reply | None:
    """A question about the order just placed that the handbook does not answer ("这个是每周都会去吗
    还是只去一次"): written onto its ticket for the staff member who calls, rather than another
    item's card (trial O got the room-booking card). Declines without a desk or an open ticket."""
    desk = ctx.services.desk
    if desk is None:
        return None
    try:
        await desk.add_detail(
            ctx.message.resident, placed.number, "detail", f"居民问：{ctx.message.text.strip()[:280]}"
        )
    except Refused:
        return None
    ctx.conversation.enter(PLACED, placed)
    office = ctx.services.handbook.office
    return Reply(
        f"您问的已经写进工单 {placed.number}，工作人员和您联系时会一起回答。"
        f"着急的话打社区电话 {office.phone}（值班手机 {office.duty_phone}）。"
    )


async def when_placed_starts(ctx: Context, placed: Placed) -> Reply:
    """When the order just placed is taken up, and who to ring when it cannot wait."""
    item = ctx.services.handbook.item(placed.item)
    office = ctx.services.handbook.office
    ctx.conversation.enter(PLACED, placed)  # a further 确认 is still the same order
    booked = await _booked_window(ctx, placed.number)
    if booked is not None:
        # "我现在约的是哪天来着 我记不到了": the time booked (trial EE r20 was told staff would fix one).
        return Reply(
            f"您的【{item.title}】约的是 {booked.describe()}（工单 {placed.number}）。"
            f"要改时间直接说“改到礼拜五下午”；急的话打社区值班手机 {office.duty_phone}。"
        )
    noted = ""
    if ctx.services.desk is not None:
        # "…明天中午有没得 我不吃辣 牙齿也不好要软和点": what else it says is for the staff (trial P).
        with contextlib.suppress(Refused):
            await ctx.services.desk.add_detail(
                ctx.message.resident, placed.number, "detail", f"居民问：{ctx.message.text.strip()[:280]}"
            )
            noted = "您说的也写进工单了。"
    return Reply(
        noted + f"您的【{item.title}】已经提交（工单 {placed.number}），值班工作人员会和您联系，"
        f"定好从什么时候开始。一般：{render.time_limit_text(item)}。\n"
        f"今天就等着要、不能等的，请直接打社区值班手机 {office.duty_phone}，工作人员尽量当天帮您安排。"
        "查进度回复“进度”。"
    )


class Booked(Protocol):
    """What a booked time is read from: the desk's ticket rows (handlers never import the ORM)."""

    wanted_start: datetime | None
    wanted_end: datetime | None


def ticket_window(ctx: Context, ticket: Booked) -> Window | None:
    """The time a ticket was booked for, in the community's zone; None when it has none."""
    if ticket.wanted_start is None or ticket.wanted_end is None:
        return None
    tz = ctx.services.tz
    return Window(ticket.wanted_start.astimezone(tz), ticket.wanted_end.astimezone(tz))


async def _booked_window(ctx: Context, number: str) -> Window | None:
    """The time the resident's ticket `number` was booked for, if it has one."""
    desk = ctx.services.desk
    if desk is None:
        return None
    tickets = await desk.resident_tickets(ctx.message.resident, limit=10)
    return next((ticket_window(ctx, t) for t in tickets if str(t.number) == str(number)), None)


async def answer(ctx: Context, draft: OrderDraft) -> Reply:
    """The resident's answer to the pending question, checked against what was asked.

    取消 drops the draft; a correction that carries its value ("时间换到后天上午") is applied
    without asking which field; at the read-back a new time, phone or address is a change; a
    question is answered briefly and the field asked again; a refused name becomes a 称呼 or none;
    words asked into the description go there; a visit asked for on the way makes it one.
    """
    draft = replace(draft, fields=dict(draft.fields), at=ctx.services.now())
    item = ctx.services.handbook.item(draft.item)
    text = ctx.message.text.strip()
    plain = simplify(text).strip()
    lexicon = ctx.services.classifier.lexicon
    # Questions are also looked for in the dialect-glossed form: "户口要咋个销" asks 怎么 (a trial
    # resident's question mid-order was taken as the address).
    asks = bool(
        lexicon.order_question.search(plain)
        or lexicon.order_question.search(lexicon.normalize(text).replace(" ", ""))
    ) and not _SAID_ALREADY.search(plain)
    if asks and draft.asking == "name" and _name_with_particle(ctx, plain):
        asks = False  # "叫我何阿姨嘛": its 嘛 asks nothing (trial X r12 noted the name as a question)
    # "姓赵 赵建国 电话136… 快点嘛": hurried, not asked (trial Z4 r12 noted it as a question).
    if (
        asks
        and _HURRY_AT_END.search(plain)
        and not lexicon.order_question.search(_HURRY_AT_END.sub("", plain))
    ):
        asks = False
    _keep_served_person(draft, text)
    _keep_whole_name(draft, text)
    if _GIVE_UP_THEN_CONFIRM.match(plain):
        plain = _GIVE_UP_THEN_CONFIRM.sub("", plain, count=1)  # "算了确认": 算了 (never mind), then 确认
    elif _GIVE_UP_THEN_CHANGE.match(plain):
        plain = _GIVE_UP_THEN_CHANGE.sub("", plain, count=1)
        text = _GIVE_UP_THEN_CHANGE.sub("", simplify(text).strip(), count=1)
    if (
        lexicon.order_cancel.match(plain)
        or _CANCELLED_AT_END.search(plain)
        or lexicon.order_cancel.match(_NO_FIRST.sub("", plain, count=1))
        # "我就是问下有没有工作介绍 不是要办证": a later clause disowns the order (trial Z7 r05).
        or any(_DISOWNED.match(c) and lexicon.order_cancel.match(c) for c in _CLAUSE_BREAK.split(plain))
    ):
        # The form is dropped but not the subject: "好久能拿到" next is still about this item.
        ctx.conversation.enter(AFTER_ITEM, draft.item)
        dropped = (
            "好的，这次的预约已取消，没有提交。想了解这件事，直接问我（比如“要带什么”“要多久”）；"
            "要办时回复“预约”。"
        )
        # "不是要再约！我已经约了10010。我就问能不能开赡养证明": dropped, and the question answered
        # (trial T: the number was read as a phone and the question lost).
        answered = _brief_answer(ctx, item, "confirm", plain) if asks else None
        return Reply(f"{answered.replace('提交后回复', '回复')}\n{dropped}" if answered else dropped)
    onto = await _onto_placed_ticket(ctx, draft, text)
    if onto is not None:
        return onto
    if draft.asking == profile.ASKING:  # "还是用……吗？": 是, a new value, or 不是
        lines, settled, more = profile.settle(ctx, draft, text)
        if more and "time" in _fields(item, draft) and draft.time is None:
            # "是 我说了1月9号上午噻": yes, and the day asked for (trial Z13 r19 was asked it twice).
            with contextlib.suppress(WhenError):
                draft.time = _window(ctx, item, more)
        if more:  # "是 申请装一键呼叫和燃气报警器": yes, and more of the request (trial X r13)
            _add_note(draft, more)
            lines.append("您说的也记在工单上了。")
        return _next(ctx, item, draft, lines) if settled else profile.ask(ctx, draft, lines)
    if draft.asking == NOTE:
        if not lexicon.order_confirm.match(plain) and not lexicon.correction.search(plain):
            _add_note(draft, text)  # what "情况写详细点" said alone asked for
            return _ask(ctx, draft, "confirm", ["好的，已写进工单的情况里。", summary(ctx, item, draft)])
        draft.asking = "confirm"  # 确认 or a change: the read-back's answer after all
    added = await _added_to_description(ctx, item, draft, text)
    if added is not None:
        return added
    wrong = await _wrong_service(ctx, item, draft, text)
    if wrong is not None:
        return wrong
    visit_wished = _keep_visit_wish(ctx, item, draft, text)
    if visit_wished and draft.asking in ("confirm", "confirm_again"):
        # "要上门哈 地址幸福里2栋1单元702" at the read-back: a visit, at the place said (or asked).
        changed = _changes_at_read_back(ctx, item, draft, text, visit_wished=True)
        said = [f"{'、'.join(LABELS[f] for f in changed)}已记下。"] if changed else []
        return _next(ctx, item, draft, ["好的，改成请工作人员上门。", *said])
    part_fixed = _address_part_fixed(ctx, item, draft, text)
    if part_fixed is not None:
        return part_fixed
    if lexicon.correction.search(plain):
        corrected = _correct(ctx, item, draft, plain)
        # "改成2点半到5点半…可以带零食进来吃不": the question beside the change answered too (trial T).
        asked = " ".join(
            c
            for c in _CLAUSE_BREAK.split(plain)
            if c and _clause_asks(ctx, c) and not lexicon.correction.search(c)
        )
        if not asks or not asked:
            return corrected
        return replace(
            corrected, text=f"{_answer_or_note(ctx, item, draft, draft.asking, asked)}\n{corrected.text}"
        )
    if draft.asking in ("confirm", "confirm_again"):
        head, rest = _first_clause(plain)
        confirmed_first = bool(rest) and lexicon.order_confirm.match(head) is not None
        confirmed_and_asks = confirmed_first and asks
        if lexicon.order_confirm.match(plain) or confirmed_first:
            if draft.asking == "confirm" and (earlier := await _same_item_lately(ctx, draft)):
                return _ask(ctx, draft, "confirm_again", [earlier])
            if confirmed_first:
                # "确认 对了残疾人是我弟弟马超": submitted, and what was said after it goes to staff on
                # the ticket (a session-9 trial resident was asked to confirm again and lost the note).
                _add_note(draft, rest)
            placed = await _place(ctx, item, draft)
            if not confirmed_first:
                return placed
            if not confirmed_and_asks:
                return replace(placed, text=f"{placed.text}\n您补充的情况已写进工单。")
            also = _also_named(ctx, item, rest) if TOGETHER.search(rest) else ()
            if also:
                # "确认。养老金停发那天一起办得到不嘛": submitted, and the other service is on the same
                # ticket — the rest was already noted on it (trial XX r01 got that service's card twice).
                return replace(
                    placed,
                    text=f"{placed.text}\n可以：{_titles(ctx, also)}也写进这张工单了，"
                    "工作人员联系您时一起安排、同一天能一起办的一起办。",
                )
            # "确认。要带啥子？": submitted, and the question answered for this item (a session-8
            # trial resident got the form read back again, with another item's documents).
            answered = _brief_answer(ctx, item, "confirm", rest)
            if answered is None:
                # "确认 这回好久来人": it is submitted now, and the question went onto the ticket
                # with the rest (trial O was told to ask again after submitting).
                answered = (
                    f"您问的已经写进工单，工作人员和您联系时会回答；一般：{render.time_limit_text(item)}。"
                )
            return replace(placed, text=f"{placed.text}\n{answered.replace('提交后回复', '回复')}")
        body, confirmed_last = _confirmed_after(ctx, text)
        changed = _changes_at_read_back(ctx, item, draft, body)
        if changed and confirmed_last and not asks:
            # "是阳光苑小区的3栋 确认": the change, then submitted — not 确认 written into the address
            # and the form read back again (trial DD r19).
            placed = await _place(ctx, item, draft)
            return replace(placed, text=f"{'、'.join(LABELS[f] for f in changed)}已改好。\n{placed.text}")
        if changed:
            # "算了改成2点半到5点半…可以带零食进来吃不": the change and the question (trial T).
            answered = [_answer_or_note(ctx, item, draft, "confirm", plain)] if asks else []
            return _next(ctx, item, draft, [f"{'、'.join(LABELS[f] for f in changed)}已改好。", *answered])
        inside = _CONFIRMED_INSIDE.search(plain)
        if inside is not None and not lexicon.correction.search(plain):
            # "搞不醒豁 确认嘛 你们打电话来再说": 确认 said between other words is still 确认 (trial EE
            # r08 was asked to reply 确认 and never submitted); the rest goes onto the ticket.
            rest = (plain[: inside.start()] + " " + plain[inside.end() :]).strip(" ，,。")
            if rest:
                _add_note(draft, rest)
            placed = await _place(ctx, item, draft)
            return replace(placed, text=f"{placed.text}\n您补充的情况已写进工单。") if rest else placed
        if draft.fields.get("repeat") and _ONCE_ONLY.search(plain):
            _keep_recurrence(item, draft, plain)  # "不要定期！只来一次" (trial T: asked three times)
            return _ask(ctx, draft, "confirm", ["好的，只约这一次，不是定期。", summary(ctx, item, draft)])
        if asks:
            answered = _answer_or_note(ctx, item, draft, "confirm", plain)
            return _ask(ctx, draft, "confirm", [answered, summary(ctx, item, draft)])
        said_for_sign_up = bool(item.order and item.order.ask) and len(plain) >= 4
        if (_SAYS_MORE.search(plain) and len(plain) >= 6) or said_for_sign_up:
            # "何小宇 幸福路小学二年级3班" at a sign-up's read-back: who and which class, for the staff
            # (trial KK r13 lost it twice).
            # "等下，晚饭也要送，中午晚上两顿，从星期一开始": more of what they want, noted (trial R).
            _add_note(draft, plain)
            return _ask(ctx, draft, "confirm", ["好的，这些也写进工单了。", summary(ctx, item, draft)])
        return _ask(
            ctx, draft, "confirm", ["请回复“确认”提交；要改就说“改电话”“改时间”等；不办了回复“取消”。"]
        )
    # "我叫王秀英 电话138… 要带啥子不 要收钱不": the values are kept and the question answered
    # too (session-13 trial: a resident giving two values and asking was only told they were kept).
    # Worked out when used, once: answering an unanswerable question notes it on the ticket, and
    # "下礼拜二上午嘛" (a time, its 嘛 no question) was noted as one (trial U).
    asked_too = functools.cache(
        lambda: [_answer_or_note(ctx, item, draft, draft.asking, plain)] if asks else []
    )

    several = _several_values(item, draft, text)
    if several:
        # "礼拜四上午。吴静 151…" at the name question: the time too (trial NN r15 lost it).
        also = _also_said(ctx, item, draft, text)
        kept = [f"{'、'.join(LABELS[f] for f in several)}已记下。"]
        return _next(ctx, item, draft, [*kept, *also, *asked_too()])
    other = _other_field_value(ctx, item, draft, text)
    if other is not None:
        return _next(ctx, item, draft, [f"{LABELS[other]}已记下。", *asked_too()])
    if draft.asking == "name":
        declined = _declined_name(ctx, draft, plain)
        if declined is not None:
            return declined
    if draft.asking == "mobile" and _has_no_phone(ctx, text, plain):
        return _next(ctx, item, draft, [_without_phone(item, draft, text)])
    if draft.asking == "time" and asks:
        # "这周四晚上7点可以不 我白天上班": a time put as a question is the answer, and the clause with
        # it is taken; the rest says why (trial SS r11 got the day-care papers for 白天).
        clauses = [c for c in _CLAUSE_BREAK.split(text) if c]
        timed = next((c for c in clauses if _names_a_time(ctx, c) and _YES_NO.search(c)), None)
        if timed is not None:
            rest = " ".join(c for c in clauses if c != timed)
            if not rest or not _clause_asks(ctx, rest):
                if rest:
                    _add_note(draft, rest)
                text, asks = timed, False
    if lexicon.why_asked.search(plain) or (asks and not _reads_as(ctx, item, draft, draft.asking, text)):
        # The answer worked out above, not a second one (which would note the question twice).
        answered = asked_too() or [_answer_or_note(ctx, item, draft, draft.asking, plain)]
        return _ask(ctx, draft, draft.asking, answered)
    # "你们周六上班不" at the time question names a day and asks about the office: read as the
    # time wanted (the read-back lets them change it) and the question answered too.
    # "12号下周六下午两点到四点 会议室坐得下30个人不": the time, and the room's own question answered
    # (trial JJ r20 asked twice); a time alone with 嘛 asks nothing the item answers.
    aside = (
        asked_too()
        if asks
        and (
            draft.asking != "time"
            or ctx.services.classifier.classify(plain).intent == "office"
            or facts.own_answer(ctx, item, plain) is not None
            or facts.booking_answer(ctx, plain) is not None  # "下个礼拜三上午嘛 弄一次要好久哦"
        )
        else []
    )
    try:
        _take(ctx, item, draft, draft.asking, text)
    except (ContactError, WhenError) as exc:
        kept = _kept_beside_refused_time(ctx, item, draft, text) if isinstance(exc, WhenError) else []
        return _ask(ctx, draft, draft.asking, [*aside, *kept, str(exc)])
    _keep_recurrence(item, draft, text)
    if draft.asking == "time":
        _keep_hurry(item, draft, text)
    notes = (
        _also_said(ctx, item, draft, text) if draft.asking in ("name", "mobile", "address", "time") else []
    )
    if not asks and _more_said(ctx, draft, text):
        notes.append("您补充的情况也记在工单上了。")
        if _PRIVATE.search(simplify(text)):
            notes.append("会保密：您的事只在社区工作人员内部，不会对外说；联系您时按您说的办。")
    return _next(ctx, item, draft, [*aside, *notes])


_DISOWNED = re.compile(r"我?(不是要|没说要|没有说要|又没说要)")

# Hurrying closes the message ("快点嘛", "赶紧来哈"): its particle asks nothing.
_HURRY_AT_END = re.compile(r"(快点|快些|赶紧|快)(来)?(嘛|哈|噻|撒|哦)?[。.!！~\s]*$")
# A particle closing a message ("叫我何阿姨嘛", "王阿姨哈"): it softens, it asks nothing.
_PARTICLE_AT_END = re.compile(r"(?:嘛|吧|哈|哦|噻|啊|呀|哟|嘞|撒)+[。.!！~\s]*$")


def _name_with_particle(ctx: Context, plain: str) -> bool:
    """Is `plain` a name given with a particle after it ("叫我何阿姨嘛")? Only an introduced name, a
    full name or a 称呼 counts: "那好嘛" is no name (trial X r12 noted "叫我何阿姨嘛" as a question)."""
    bare = _PARTICLE_AT_END.sub("", plain).strip()
    if bare == plain or not bare or _CLAUSE_BREAK.search(bare) or _clause_asks(ctx, bare):
        return False
    try:
        name = read_name(bare)
    except ContactError:
        return False
    return bool(_NAME_SAID.search(bare)) or is_full_name(name) or is_form_of_address(name)


# "情况里头加上 …", "写到情况里头", "情况写详细点 …", "备注：…": words for the ticket's description,
# the only field they name. A bare 加上/写上/补充 counts at the start of a clause only: "地址写上5栋"
# is the address.
_PLACE_IN_IT = r"(?:里头|里面|里|上|中|栏)?"
_TO_DESCRIPTION = re.compile(
    rf"(?:情况|备注|描述|说明){_PLACE_IN_IT}(?:再|也|要)?"
    r"(?:加上|加个|加一句|加一下|写上|写清楚|写详细|写具体|补充|添上|注明|加(?!错)|写(?![的得错了])|添)"
    r"(?:一点|一些|点|些|一下)?"
    r"|(?:加上|加个|加一个|加到|加在|加进|写上|写个|写到|写在|写进|填到|填在|补到|补充到|添到|记到)"
    rf"(?:情况|备注|描述|说明){_PLACE_IN_IT}"
    r"|(?:^|(?<=[\s，,。]))(?:另外补充|补充|备注|加上|写上|注明|加一句)(?:一下|一句)?"
)
# Said of a number, it is the contact's ("电话要留我的13916012345", "联系电话改成…"); about someone
# else's ("座机是我爸屋头的") it is not.
_CONTACT_SAID = re.compile(
    r"联系|(?:电话|手机|号码)(?:要|就|还是|请)?(?:留|用|写|打|是|改|换|填)|留我|我的(?:电话|手机|号码|号)|打我|找我"
)
_SOMEONE_ELSE = re.compile(
    r"我爸|我妈|爸爸|妈妈|老人|老汉|老娘|父亲|母亲|爷爷|奶奶|外公|外婆|他|她|座机|固话"
)


def _contact_number(clause: str) -> str | None:
    """The number a clause gives as the resident's own contact, else None."""
    if not _CONTACT_SAID.search(clause) or _SOMEONE_ELSE.search(clause):
        return None
    with contextlib.suppress(ContactError):
        return read_mobile(clause)
    return None


async def _onto_placed_ticket(ctx: Context, draft: OrderDraft, text: str) -> Reply | None:
    """ "不是重新报，是加到我原来那个10019上面": the new form is dropped and what it said goes onto the
    resident's own open ticket named (trial TT r19 was told 10019 is no valid phone number, twice)."""
    desk = ctx.services.desk
    cited = TICKET_NUMBER.findall(text)
    if desk is None or not cited or not _ONTO_EARLIER.search(text):
        return None
    own = {t.number: t for t in await desk.resident_tickets(ctx.message.resident, limit=20)}
    ticket = next((own[n] for n in cited if n in own and own[n].state in OPEN_STATES), None)
    if ticket is None:
        return None
    said = "；".join(part for part in (draft.fields.get("description", ""), text.strip()) if part)
    try:
        await desk.add_detail(ctx.message.resident, ticket.number, "detail", said[:300])
    except Refused:
        return None
    ctx.conversation.forget()
    return Reply(f"好的，不再填新单子了：您说的已经写进工单 {ticket.number}，工作人员处理时会看到。")


_ONTO_EARLIER = re.compile(r"加到|加在|加进|补充|原来|之前那个|前面那个|不是重新|不要新|不用新|上面那个")


async def _added_to_description(ctx: Context, item: Item, draft: OrderDraft, text: str) -> Reply | None:
    """At the read-back, a message asking to add to the description adds its words to it; a phone in
    them is part of them unless said to be the contact's; 确认 with it submits. Trial X r13: "情况里头
    加上 …座机028-84561234…" replaced the contact phone, then "…写到情况里头" made the description
    "里头"; r16: "情况写详细点 …老板不退不换 确认" was ignored. None: not such a message."""
    if draft.asking not in ("confirm", "confirm_again"):
        return None
    plain = numbers_joined(text, spaces_only=True).strip()
    if not _TO_DESCRIPTION.search(plain):
        return None
    lexicon = ctx.services.classifier.lexicon
    clauses = [c for c in _CLAUSE_BREAK.split(plain) if c]
    confirmed = False
    for end in (-1, 0):  # 确认 said after the words, or before them
        while clauses and lexicon.order_confirm.match(clauses[end]):
            clauses.pop(end)
            confirmed = True
    lines: list[str] = []
    said: list[str] = []
    for clause in clauses:
        contact = _contact_number(clause)
        if contact is not None:
            changed = contact != draft.fields.get("mobile")
            draft.fields["mobile"] = contact
            lines.append("电话已改好。" if changed else f"电话就留 {contact}。")
            continue
        words = lexicon.correction.sub("", _TO_DESCRIPTION.sub("", clause)).strip(" ：:，,。")
        if len(_WORDS_ONLY.sub("", words)) >= 2:
            said.append(words)
    if said:
        _add_note(draft, " ".join(said))
        lines.append("好的，已写进工单的情况里。")
    if confirmed:
        if draft.asking == "confirm" and (earlier := await _same_item_lately(ctx, draft)):
            return _ask(ctx, draft, "confirm_again", [*lines, earlier])
        placed = await _place(ctx, item, draft)
        return replace(placed, text=f"{placed.text}\n您补充的情况已写进工单。" if said else placed.text)
    if not said and not lines:
        return _ask(ctx, draft, NOTE, ["好的，要补充什么情况？直接说，我写进工单。"])
    return _ask(ctx, draft, "confirm", [*lines, summary(ctx, item, draft)])


# A first message's clock time is the one wanted only beside a day or a wish for a visit: in "楼上
# 天天晚上12点过了还在跺脚" it describes the trouble (a session-8 trial resident was told 12:00 had passed).
_TIME_WANTED = re.compile(
    r"今天|明天|后天|大后天|周[一二三四五六日天末]|星期|礼拜|下周|\d+\s*[号日]|[月]\s*\d+|"
    r"约|上门|过来|来一趟|来家|来我家|有空|方便|安排|到时候"
)


def _also_said(ctx: Context, item: Item, draft: OrderDraft, text: str, *, first: bool = False) -> list[str]:
    """A phone, address or time said in `text` that the draft does not have yet: kept, not asked for
    again — in a first message, or beside a name, phone or address ("许文 下周四下午吧": a session-7
    trial resident had to say the time twice). A time that cannot be served is explained, not
    silently dropped."""
    fields = _fields(item, draft)
    notes: list[str] = []
    with contextlib.suppress(ContactError):
        mobile = read_contact(text)
        before = simplify(text).split(mobile)[0] if mobile else ""
        if mobile and _ANOTHERS_NUMBER.search(before) and not _LEFT_AS_CONTACT.search(before[-12:]):
            mobile = None  # "我女儿电话137…": hers, for the staff to see in the words; not the contact
        if mobile and "mobile" in fields and not draft.has("mobile"):
            draft.fields["mobile"] = mobile
    if "name" in fields and not draft.has("name") and draft.asking != "name":
        # "我是王秀英 想预约…", "明天上午 陈刚 136…": not asked again
        name = introduced_name(text) or name_beside_number(text)
        if name:
            draft.fields["name"] = name
    if "address" in fields and draft.asking in ("name", "mobile", "time"):
        # "我叫李明 住5栋2单元302", "周六上午嘛 地址是幸福里12栋1单元502": not asked again
        # (session-9 trial H, r7 and r8; trial N)
        place = place_in(text)
        if place:
            _keep_place(draft, place)
    if "time" in fields and not draft.has("time") and (not first or _TIME_WANTED.search(simplify(text))):
        found = place_in(text)
        said = _without(text, found) if found else text  # "四单元 6-2" is a flat, not June 2nd (trial O)
        said = _SCHEDULE.sub(" ", simplify(said))  # "学校是4点10分放学": when school ends, not the time
        said = _CALL_HOURS.sub(" ", said)  # "晚上打座机": when to ring them, not when to come (trial RR r11)
        try:
            window = _window(ctx, item, said)
        except WhenError as exc:
            notes.append(str(exc))
            if isinstance(exc, WhenUnclear):
                draft.fields[_TIME_FIRST] = "1"  # a vague time asked about just now: asked for it next
            # "明天下班过来 大概5点半" out of hours, then "那改成5点": 5 点 that day, asked next (trial DD
            # r11 was asked the name, and 5点 was read as today).
            _remember_day(draft, exc)
        else:
            if window:
                draft.time = window
    return notes


_DOOR_ASKED = "_door_asked"  # the building and door of a visit's address were asked for once
_ADDRESS_DOUBTED = "_address_doubted"  # an answer to the address that named no place was asked again once
# A numbered part of an address: building, unit, room ("3栋", "2单元", "501").
_ADDRESS_PART = re.compile(r"(?:\d+|[一二三四五六七八九十]+)\s*(?:栋|幢|号楼|单元|楼|层|室|号)|\d{3,4}(?!\d)")


def _keep_place(draft: OrderDraft, place: str) -> None:
    """A place said on the way: the draft's address, or completes the one it has."""
    kept = draft.fields.get("address")
    draft.fields["address"] = place if kept is None else _with_place_said(kept, place)


def _estate_of(address: str) -> str:
    """The estate's name before the first numbered part ("锦城小区" of "锦城小区5栋"), or ""."""
    part = _ADDRESS_PART.search(address)
    return address[: part.start()].strip() if part and part.start() >= 2 else ""


def _with_place_said(kept: str, said: str) -> str:
    """The address once a message names a place while the draft has one from before: "幸福里3栋"
    (an earlier message) and "3栋2单元501" (said now) are 幸福里3栋2单元501 (trial X r01 kept the
    older, partial one); a place with more numbered parts than the kept one replaces it; a vaguer
    one ("3栋门口" beside the time) leaves it."""
    if said in kept:
        return kept
    if kept in said:
        return said
    if not _ADDRESS_PART.search(said) and _ADDRESS_PART.match(kept):
        return said + kept  # "9栋楼道" kept, "幸福里小区" said: the estate goes in front (trial GG r11)
    for size in range(min(len(kept), len(said)) - 1, 1, -1):
        overlap = kept[-size:]
        after_a_digit = kept[-size - 1 : -size].isdigit()  # "13栋" does not end in "3栋"
        if said.startswith(overlap) and _ADDRESS_PART.match(overlap) and not after_a_digit:
            return kept + said[size:]
        # "3栋门口" kept and "是阳光苑小区的3栋" said: the estate goes in front (trial DD r19 lost 门口).
        ending = said[-size:]
        if kept.startswith(ending) and _ADDRESS_PART.match(ending) and not said[-size - 1 : -size].isdigit():
            return said + kept[size:]
    return said if len(_ADDRESS_PART.findall(said)) > len(_ADDRESS_PART.findall(kept)) else kept


# "不是调解 是房子漏水要修", "事项也错了 是报修": the resident says the service is not this one.
_NOT_THIS = re.compile(r"不是|不要|(事项|业务|办的事).{0,2}(错|不对)|搞错|弄错")
# "你们不是有那个代办帮跑的吗", "不是说可以上门嘛": a reminder put as a question, denying nothing
# (trial Z14 r20).
_RHETORICAL = re.compile(r"不是(有|说|讲)[^ ]{0,14}(吗|嘛|噻|哦|的)")


_LANDMARK = re.compile(r"[^ ，,。]{0,2}?(的)?(对面|旁边|附近|隔壁|边上|后面|前面|那边|门口|背后|斜对面)")


def _said_as_landmark(ctx: Context, item_id: str, text: str) -> bool:
    """Is every mention of the item's words a place to find something by ("垃圾站对面")?"""
    plain = simplify(text)
    item = ctx.services.handbook.item(item_id)
    spots = [
        m
        for word in (*item.aliases, *item.keywords)
        if len(word) >= 2
        for m in re.finditer(re.escape(word), plain)
    ]
    return bool(spots) and all(_LANDMARK.match(plain, m.end()) for m in spots)


async def _wrong_service(ctx: Context, item: Item, draft: OrderDraft, text: str) -> Reply | None:
    """Mid-order, the service itself corrected: the order goes on as the service named instead,
    keeping the answers given; with none named, the form is dropped and the resident asked what
    it is. A session-7 trial resident's "不是调解 是房子漏水要修" was kept as her name."""
    if not _NOT_THIS.search(_RHETORICAL.sub("", A_NOT_A.sub("", simplify(text)))):
        return None  # "那房东要不要跟到来嘛" asks; it corrects nothing (trial X r10 was switched to 居住证)
    head, rest = _first_clause(simplify(text).strip())
    if rest and ctx.services.classifier.lexicon.order_confirm.match(head):
        return None  # "确认 这个是井盖 不是楼道灯 是两个事": confirmed, and more said (trial LL r11)
    classifier = ctx.services.classifier
    said, excluded = classifier.service_said(text)
    named = said if said != item.id else None
    guessed = classifier.classify(text).item if named is None and item.id in excluded else None
    other = ctx.services.handbook.items.get(guessed or "")
    if other is not None and other.id != item.id and other.order is not None:
        named = other.id  # "不对哦 我是要人来帮我老伴洗澡 不是体检": bathing, in words (trial EE r08)
    if named is not None and classifier.refuses_by_name(text, named):
        return None  # "志愿者报名那个不要 我不报名": the service refused is not the new one (trial P)
    if named is not None and _said_as_landmark(ctx, named, text):
        return None  # "垃圾站对面那根灯杆": where the lamp is, not the rubbish (trial KK r20)
    if named is None and (item.id not in excluded or not classifier.says_name_of(text, item.id)):
        # "不是这个电话": a field, not the service; "是拿药哈 不是打扫卫生": what is to be done,
        # denied in one of the service's words, not its name (trial N lost a medicine errand so).
        return None
    new = ctx.services.handbook.items.get(named or "")
    if new is not None and new.order is None and wishes_visit(ctx, text):
        # "不是 我是说派出所注销户口那个 社区能不能帮我代办": done at a counter, and someone to do it for
        # them asked for — the errand is booked (trial Z5 r01 got the checklist again).
        return await start(ctx, new.id, text)
    if new is not None and new.order is None:
        # "不是育儿补贴 我问的是去派出所给娃娃上户口 要不要提前预约": a service that takes no order,
        # asked about — answered, the form dropped (trial PP r02 was asked what it was).
        ctx.conversation.enter(AFTER_ITEM, new.id)
        asked = facts.question_answer(ctx, new, text) or render.checklist(new, ctx.services.handbook)
        return Reply(f"好的，不是【{item.title}】，这张单子先不提交。\n{asked}")
    if new is None:
        ctx.conversation.enter(AFTER_ITEM, item.id)
        return Reply(
            f"好的，不是【{item.title}】，这张单子先不提交。您要办的是什么事？"
            "直接说就行，比如“楼顶漏水要报修”“约个时间办养老认证”。"
        )
    kept = {k: v for k, v in draft.fields.items() if k in new.order.fields and k != "description"}
    switched = replace(draft, item=new.id, fields=kept, asking="")
    if "time" not in new.order.fields:
        switched.time = None
    with contextlib.suppress(ContactError):
        if _NAME_SAID.search(text):
            switched.fields["name"] = read_name(text)
    # "不是报名兴趣班 是借房间…下周三下午两点到五点 我们有十五六个人": the time and what it is for,
    # said with the correction, are the new order's (trial PP r10 was asked both again).
    also = _also_said(ctx, new, switched, text)
    described = " ".join(
        clause
        for clause in _CLAUSE.split(text.strip())
        if clause and not _SWITCH_CLAUSE.search(clause) and not _NAME_SAID.search(clause)
    )
    if "description" in new.order.fields and not switched.has("description") and len(described) >= 6:
        switched.fields["description"] = described[:200]
    return _next(ctx, new, switched, [f"好的，改成【{new.title}】。", *also])


# A clause of the correction itself ("不是报名兴趣班", "是借房间", "事项也错了"), not what it is for.
_SWITCH_CLAUSE = re.compile(r"^(不是|是|要的是|办的是)|错了|不对")


def _address_part_fixed(ctx: Context, item: Item, draft: OrderDraft, text: str) -> Reply | None:
    """At the read-back, "不是5栋 是6栋2单元 还有地下车库的下水道也堵了": the address's wrong part put
    right and the rest noted (trial RR wrote it all into the description), and "电话最后一位是3不是2"
    the phone's; None: no such message."""
    if draft.asking not in ("confirm", "confirm_again"):
        return None
    kept = draft.fields.get("address")
    found = corrected_address(kept, text) if kept else None
    digits = corrected_mobile(draft.fields.get("mobile", ""), found[1] if found else text)
    if found is None and digits is None:
        return None
    lines = []
    rest = text
    if found is not None:
        draft.fields["address"], rest = found
        lines.append("地址已改好。")
    if digits is not None:
        # "电话最后一位是3不是2" beside it: the number's last digits (trial VV r20).
        draft.fields["mobile"], rest = digits
        lines.append("电话已改好。")
    rest = _SAID_WRONG.sub(" ", rest)  # "哎呀说错了" only says a correction follows
    if len(_WORDS_ONLY.sub("", rest)) >= 4:
        _add_note(draft, rest)
        lines.append("您说的其他情况也写进工单了。")
    return _ask(ctx, draft, "confirm", [*lines, summary(ctx, item, draft)])


def _correct(ctx: Context, item: Item, draft: OrderDraft, plain: str) -> Reply:
    """改电话 / 时间换到后天上午 / 名字写错了，叫…: the named field, with its new value when given; a note
    said after it ("改成后天下午 还有证明上要写单位的名字") goes onto the ticket, not into the field
    (trial Z3 r20 had the time changed and the note dropped)."""
    plain, note = _note_after_change(ctx, plain)
    corrected = _correct_field(ctx, item, draft, plain)
    if not note or draft.asking not in ("confirm", "confirm_again"):
        return corrected
    _add_note(draft, note)
    head, _, summary_text = corrected.text.partition("\n")
    return replace(corrected, text=f"{head}\n您说的其他情况也写进工单了。\n{summary_text}".rstrip())


# A name or number that is an organisation's, not the contact's: "单位的名字", "公司电话".
_NOT_THE_CONTACTS = re.compile(r"(单位|公司|学校|厂里|厂头|医院|部门|店|机构|老板)(的)?(名字|名称|电话|地址)")


# What follows a change as a further wish: "还有证明上要写单位的名字", "另外帮我多开一份" (the lead
# word dropped), "证明上要写单位的名字" (kept whole).
_NOTE_AFTER = re.compile(
    r"(?:^|[\s，,。])(?:(还有|另外|再就是|顺便|对了)|(?=(证明|单子|材料|上面)上?(要|得|需要)?写))"
)


def _note_after_change(ctx: Context, plain: str) -> tuple[str, str]:
    """(the change, the note said after it); no note when that clause asks something (answered
    elsewhere), says too little to be worth writing down, or the change is to the description
    itself ("情况是楼道灯坏了 还有一楼下水道堵了": all of it is the new description)."""
    found = _NOTE_AFTER.search(plain)
    if found is None or found.start() == 0:
        return plain, ""
    change, note = plain[: found.start()].strip(" ，,。"), plain[found.end() :].strip(" ，,。")
    lexicon = ctx.services.classifier.lexicon
    if not lexicon.correction.search(change) or _clause_asks(ctx, note) or lexicon.correction.search(note):
        return plain, ""
    if lexicon.field_words["description"].search(change):
        return plain, ""
    if len(_WORDS_ONLY.sub("", note)) < 4:
        return plain, ""
    return change, note


def _correct_field(ctx: Context, item: Item, draft: OrderDraft, plain: str) -> Reply:
    """The named field, with its new value when given."""
    lexicon = ctx.services.classifier.lexicon
    # The field named first: "改情况：…打电话报过没人来" changes the description, not the phone (trial P).
    # "单位的名字" is what a certificate says, not the contact's name (trial Z3 r20).
    fields_said = _NOT_THE_CONTACTS.sub(lambda hit: "＿" * len(hit.group()), plain)
    found = {f: hit.start() for f, words in lexicon.field_words.items() if (hit := words.search(fields_said))}
    named = sorted(found, key=found.__getitem__)
    if "address" in named and "address" not in _fields(item, draft) and item.home_visit:
        # "改地址" on a booking made without one: they want the visit at home (trial L: "您要改哪一项"
        # twice in a loop).
        draft.visit = True
    several = _several_corrections(ctx, item, draft, plain, found)
    if several:
        return _next(ctx, item, draft, [f"{'、'.join(LABELS[f] for f in several)}已改好。"])
    field = next((f for f in named if f in _fields(item, draft)), None)
    remainder = value_of(lexicon.correction.sub("", plain))
    corrections = list(lexicon.correction.finditer(plain))
    after = value_of(plain[corrections[-1].end() :]) if corrections else ""
    if len(after) >= 2 and not named:
        # "哎今天我要加班，改成星期一下午嘛": the new value is what follows the last 改成; the reason
        # before it names another day (trial S was asked "您要改哪一项？").
        remainder = after
    if field is None:
        field = _field_of_value(ctx, item, draft, remainder)
    if field is None and named:
        # "改时间，中午和晚上都要，下个星期一开始送" on a form that asks no time: what they want goes
        # onto the ticket for staff, not "您要改哪一项？" twice (trial R).
        said = value_of(lexicon.field_words[named[0]].sub("", lexicon.correction.sub("", plain)))
        if len(said.strip(" ，,。")) < 2:
            unasked = f"这项不用约{LABELS[named[0]]}：想怎么安排，直接说，我写进工单给工作人员。"
            return _ask(ctx, draft, draft.asking, [unasked])
        _add_note(draft, plain)
        return _next(ctx, item, draft, ["好的，您说的已经写进工单，工作人员联系您时按这个安排。"])
    if field is None:
        return _ask(ctx, draft, draft.asking, ["您要改哪一项？可以说“改电话”“改时间”“改地址”。"])
    remainder = value_of(lexicon.field_words[field].sub("", remainder))
    if field == "address" and draft.has("address") and _SOMEONE_ELSES_PLACE.search(simplify(plain)):
        # "我说错了 不是隔壁 是楼上602那家": who the trouble comes from, not where the resident lives
        # (trial Z2 r19 had the visit sent to 楼上602那家).
        _add_note(draft, plain)
        kept = draft.fields["address"]
        return _next(ctx, item, draft, [f"好的，对方的位置已经写进工单；您的地址还是 {kept}。"])
    if field == "time":
        remainder = _wanted_part(remainder)
    previous = draft.time if field == "time" else draft.fields.get(field)
    draft.drop(field)
    problem = ""
    if remainder:
        try:
            _take(ctx, item, draft, field, remainder, previous if field == "time" else None)
        except (ContactError, WhenError) as exc:
            problem = str(exc)
    estate = _estate_of(previous) if field == "address" and isinstance(previous, str) else ""
    changed_to = draft.fields.get("address", "") if field == "address" else ""
    if estate and changed_to[:1].isdigit():
        draft.fields["address"] = estate + changed_to  # "地址错了 是6栋2单元301": still 锦城小区 (HH r09)
    if not draft.has(field):
        if previous is not None and problem:
            _restore(draft, field, previous)  # a bad new value does not lose the old one
            return _ask(ctx, draft, field, [problem])
        return _ask(ctx, draft, field, [problem or f"好的，重新说一下{LABELS[field]}。"])
    # "那改成5点 我叫陈思雨": the name (or number, address) said beside the change is kept too
    # (trial DD r11 was asked the name next).
    also = _also_said(ctx, item, draft, plain)
    changed = [field, *_beside_the_change(ctx, item, draft, plain, field)]
    if changed == ["mobile"] and draft.fields.get("mobile") == previous:
        # "改电话 我的是028-85123456 136…是我女儿的": the number kept was already theirs — not
        # "电话已改好" over an unchanged line (trial ZZ r09).
        return _next(ctx, item, draft, [f"电话就留 {previous}。", *also])
    return _next(ctx, item, draft, [f"{'、'.join(LABELS[f] for f in changed)}已改好。", *also])


# Another household's place, said as who causes the trouble: "是楼上602那家", "对门那户".
_SOMEONE_ELSES_PLACE = re.compile(
    rf"(是|在)({NEIGHBOURS})|({NEIGHBOURS})[^ ，,。]{{0,8}}(那家|那户|他家|她家|的人)"
)


# What the resident wants, said after what is wrong: "还是12月9号 我要的是1月16号上午".
_WANTED_IS = re.compile(r"(我)?要的是|应该是|(我)?说的是|改成|改到|换成|换到")


def _wanted_part(text: str) -> str:
    """The words after the last 我要的是 / 改成…: "时间没改到啊 还是12月9号 我要的是1月16号上午" wants
    the 16th, not the 9th it complains about (trial YY r17 was told "时间已改好" and kept the 9th)."""
    wanted = list(_WANTED_IS.finditer(text))
    rest = text[wanted[-1].end() :] if wanted else ""
    return rest if len(rest.strip()) >= 2 else text


def _beside_the_change(ctx: Context, item: Item, draft: OrderDraft, plain: str, done: str) -> list[str]:
    """The time and address said beside a change of another field ("改成后天上午嘛 我名字叫刘淑英 住
    幸福里小区8栋2单元102": trial DD r07 had only the name changed), changed too."""
    fields = _fields(item, draft)
    changed: list[str] = []
    place = place_in(plain)
    if done != "address" and "address" in fields and place:
        kept = draft.fields.get("address", "")
        said = read_address(place)
        # A change: the place said replaces one no more precise, and completes a vaguer one.
        whole = len(_ADDRESS_PART.findall(said)) >= len(_ADDRESS_PART.findall(kept))
        address = said if whole or not kept else _with_place_said(kept, said)
        estate = _estate_of(kept)
        if estate and said[:1].isdigit() and not address.startswith(estate):
            # "锦城小区5栋" kept, "5栋3单元401" said: the estate stays in front (trial HH r09 lost it)
            merged = _with_place_said(kept, said)
            address = merged if merged.startswith(estate) and said in merged else estate + said
        if address != kept:
            draft.fields["address"] = address
            changed.append("address")
    if done != "time" and "time" in fields:
        with contextlib.suppress(WhenError):
            # "周三下午我要接娃儿 改成周四上午嘛 电话也留错了 是138…": the day after 改成, not the one
            # it moves from (trial Z12 r15 had only the phone changed: two days read as unclear).
            said_time = _wanted_part(_without(plain, place) if place else plain)
            window = _window(ctx, item, said_time, draft.time)
            if window is not None and window != draft.time:
                draft.time = window
                changed.append("time")
    return changed


def _several_corrections(
    ctx: Context, item: Item, draft: OrderDraft, plain: str, found: dict[str, int]
) -> list[str]:
    """ "改地址 4栋3单元。情况是楼道灯坏了 还有一楼下水道堵了": each field named gets the words up to
    the next one (trial Q kept the whole sentence as the address). Empty unless two or more of the
    form's fields are named and every value reads; then nothing is changed."""
    fields = _fields(item, draft)
    named = sorted((start, field) for field, start in found.items() if field in fields)
    if len(named) < 2:
        return []
    lexicon = ctx.services.classifier.lexicon
    values: dict[str, str] = {}
    for index, (start, field) in enumerate(named):
        end = named[index + 1][0] if index + 1 < len(named) else len(plain)
        said = lexicon.field_words[field].sub("", lexicon.correction.sub("", plain[start:end]), count=1)
        values[field] = value_of(said.strip(" ：:。，,是为"))
    trial = replace(draft, fields=dict(draft.fields))
    try:
        for field, value in values.items():
            trial.drop(field)
            _take(ctx, item, trial, field, value, draft.time if field == "time" else None)
    except (ContactError, WhenError):
        return []
    draft.fields.update(trial.fields)
    draft.time = trial.time
    return list(values)


def _restore(draft: OrderDraft, field: str, previous: Any) -> None:
    if field == "time":
        draft.time = previous
    else:
        draft.fields[field] = previous


def _field_of_value(ctx: Context, item: Item, draft: OrderDraft, text: str) -> str | None:
    """Which field a bare value fills: a mobile number, a time, an address."""
    fields = _fields(item, draft)
    if not text:
        return None
    with contextlib.suppress(ContactError):
        if "mobile" in fields and read_mobile(text):
            return "mobile"
    with contextlib.suppress(WhenError):
        if "time" in fields and read_window(text, ctx.services.now()) is not None:
            return "time"
    if "address" in fields and looks_like_address(text):
        return "address"
    return None


def _time_said(ctx: Context, item: Item, text: str) -> bool:
    """Does `text` name a time the item can be booked for (its phone numbers aside)?"""
    plain = numbers_joined(text)
    for mobile in mobiles_in(plain):
        plain = plain.replace(mobile, " ")
    try:
        return _window(ctx, item, plain) is not None
    except WhenError:
        return False


def _other_field_value(ctx: Context, item: Item, draft: OrderDraft, text: str) -> str | None:
    """ "电话是139…" while the name is asked: a value for another field is taken, not misread."""
    if draft.asking in ("mobile", "description"):
        return None
    if draft.asking == "time" and _time_said(ctx, item, text):
        # "对 下周五19点 我叫孙立 电话150…" at the time question: the time, with the name and phone
        # kept beside it (trial PP r15 was told only "电话已记下" and asked the time again).
        return None
    place = _place_without_time(ctx, text) if draft.asking == "time" else None
    if place is not None:
        fields = _fields(item, draft)
        if "address" in fields or item.home_visit:
            # "南坪东路 金山小区5栋2单元3楼1号" at the time question: the address (its 1号 is a flat,
            # not New Year's Day: trial O), a visit there, and the time asked again.
            draft.visit = draft.visit or "address" not in fields
            draft.fields["address"] = read_address(place)
            return "address"
    if draft.asking == "address" and "time" in _fields(item, draft) and not looks_like_address(text):
        # "明天上午" when the address is asked: the time, and the address asked again (it was kept
        # as the address).
        with contextlib.suppress(WhenError):
            window = _window(ctx, item, text)
            if window and place_in(text) is None:
                draft.time = window
                return "time"
    if draft.asking == "name" and "time" in _fields(item, draft) and not draft.has("time"):
        # "明天上午10点" at the name question: the time, and the name asked again (it was kept as a
        # note and the time asked for later).
        with contextlib.suppress(WhenError):
            window = _window(ctx, item, text)
            if window and place_in(text) is None and not _names_beside_time(ctx, item, text):
                draft.time = window
                return "time"
    with contextlib.suppress(ContactError):
        mobile = read_contact(text)
        if mobile and draft.has("mobile") and _DIALLED.search(simplify(text)):
            # "那我打这个028-8888 1110就行？": a number they will ring, not theirs (trial Z8 r14 had the
            # police station's number replace the daughter's mobile).
            mobile = None
        if mobile and "mobile" in _fields(item, draft):
            draft.fields["mobile"] = mobile
            rest = simplify(text).replace(mobile, "")
            said = _NAME_SAID.split(rest)[-1].strip()
            if not draft.has("name") and _NAME_SAID.search(rest) and not _NOT_A_NAME.search(said):
                with contextlib.suppress(ContactError):  # "我叫王芳 电话139…"
                    draft.fields["name"] = read_name(said)
            return "mobile"
    return None


# The number just after someone else's (trial Z8 r09: a daughter's mobile became her mother's contact).
_ANOTHERS_NUMBER = re.compile(
    r"(女儿|儿子|老伴|孙子|孙女|媳妇|女婿|闺女|邻居|侄儿|外孙)的?(电话|手机|号码|手机号)(号码)?(是|:|：)?\s*$"
)
_LEFT_AS_CONTACT = re.compile(r"留|联系|找|打")  # "留我女儿电话137…", "有事打我儿子电话…": the contact
_DIALLED = re.compile(r"(打|拨|拨打)(这个|那个|他们的|他们|派出所的?|医院的?)?(电话|号码)?\s*[\d(（]")


def _names_beside_time(ctx: Context, item: Item, text: str) -> bool:
    """Does a clause of `text` that is no time read as a name ("王秀英 明天上午")?"""
    for clause in _CLAUSE_BREAK.split(text.strip()):
        if not clause:
            continue
        try:
            if _window(ctx, item, clause):
                continue
        except WhenError:
            pass
        with contextlib.suppress(ContactError):
            if read_name(clause):
                return True
    return False


# "算了确认 你们自己看地址那栏嘛": 算了 gives up arguing, 确认 submits (a session-10 trial resident's
# repair was dropped as cancelled).
# "算了算了 确认 你们来了就晓得了": said twice too (trial RR r12's report was cancelled).
_GIVE_UP_THEN_CONFIRM = re.compile(r"^(?:(算了|好嘛|行嘛|随便)[\s,，。!！]*)+(?=确认|提交)")
# "算了改成2点半到5点半": 算了 drops the value said before, not the booking (trial T threw the
# booking away and made the resident start again).
_GIVE_UP_THEN_CHANGE = re.compile(
    r"^(算了|不对|哦不|不不)([^，,。!！改换]{0,16}[\s,，。!！]+)?[\s,，。!！]*(?=(还是)?(改|换|就|要|约|时间|定))"
)
_DIGITS = re.compile(r"\d{7,}")  # a phone number, once numbers_joined has joined its groups
_CLAUSE = re.compile(r"[，,；;。\s]+")
# "我是他女儿 电话139…": who they are to the person, not a name.
_NOT_A_NAME = re.compile(
    r"^(他|她|我|你)|女儿|儿子|家属|亲戚|孙(子|女|儿)|老伴|邻居|朋友|电话|手机|号码|地址|住"
)


def _several_values(item: Item, draft: OrderDraft, text: str) -> list[str]:
    """ "邓素华 电话028-85561234 幸福里9栋2单元101" while one of them is asked: every field the message
    gives, taken together (a session-10 trial resident gave all three and was asked for her name,
    then her address, again). Empty unless at least two of name, phone and address are in it."""
    if draft.asking not in ("name", "mobile", "address"):
        return []
    fields = _fields(item, draft)
    found: dict[str, str] = {}
    with contextlib.suppress(ContactError):
        mobile = read_contact(text)
        if mobile and "mobile" in fields:
            found["mobile"] = mobile
    rest = _DIGITS.sub(" ", numbers_joined(text))
    place = place_in(rest) if "address" in fields else None
    if place:
        found["address"] = place
        rest = rest.replace(place, " ")
    if "name" in fields and (draft.asking == "name" or not draft.has("name")):
        first = _CLAUSE.split(rest.strip())[0] if rest.strip() else ""
        said = _NAME_SAID.split(first)[-1] if _NAME_SAID.search(first) else first
        with contextlib.suppress(ContactError):
            if said and len(said) <= 4 and not _NOT_A_NAME.search(said):
                found["name"] = read_name(said)
        short = found.get("name", "")
        if "name" not in found or len(short) == 1:
            # "那我给社区反映…你们登记一下 我叫郑丽 住…": introduced further on (trial V); "我姓邬 邬志强
            # 电话…": the whole name after the surname (trial HH r09 was read back as 姓名：邬)
            introduced = introduced_name(text) or name_beside_number(text)  # "帮我报一个嘛 谢淑华 电话132…"
            if introduced and (not short or introduced.startswith(short)):
                found["name"] = introduced
    if len(found) < 2:
        return []
    for field, value in found.items():
        draft.fields[field] = value
    if "mobile" in found:
        _keep_other_numbers(draft, text, found["mobile"])  # "我女儿电话136… 你们看了跟她说一声"
    return [field for field in ("name", "mobile", "address") if field in found]


# "送饭那个也要登记哈 每天中午一顿": a habit described, not the visit moved to noon (trial W r7 had its
# booked time changed by it at the read-back).
_EVERY_PART = re.compile(r"每(天|日|顿|周|个?礼拜|个?星期)[^ ，,。]{0,3}(早上|上午|中午|下午|晚上|傍晚)")


# A clock time told as when something happens ("学校是4点10分放学", "我6点下班"): a schedule, not the
# time wanted (trial EE r13 was booked for Sunday 16:10).
_SCHEDULE = re.compile(
    r"(?:\d{1,2}|[一二三四五六七八九十]{1,3})\s*(?:点|:|：)(?:\s*(?:\d{1,2}|半|[一二三四五]十[一二三四五六七八九]?)\s*分?)?"
    r"\s*(?:就|才)?(?:放学|下班|上班|上课|下课|开门|关门|起床|睡觉)"
)
# 确认 as a clause of its own among other words ("搞不醒豁 确认嘛 你们打电话来再说"); not 不确认.
_CONFIRMED_INSIDE = re.compile(
    r"(?:^|[\s，,。！!])(?:确认|确定|确认提交)(?:提交)?(?:嘛|吧|了|啊|哈|噻)?(?=$|[\s，,。！!])"
)
_LAST_CLAUSE = re.compile(r"[\s，,。.！!；;]+([^\s，,。.！!；;]+)[\s。.！!]*$")


def _confirmed_after(ctx: Context, text: str) -> tuple[str, bool]:
    """(the text before a closing 确认, True) when the message ends in one, else (text, False)."""
    last = _LAST_CLAUSE.search(text)
    if last is not None and ctx.services.classifier.lexicon.order_confirm.match(simplify(last.group(1))):
        return text[: last.start()], True
    return text, False


def _changes_at_read_back(
    ctx: Context, item: Item, draft: OrderDraft, text: str, *, visit_wished: bool = False
) -> list[str]:
    """At 请核对, a new time, phone or address typed instead of 确认 is a change, not ignored;
    `visit_wished`: the message asked for a visit, so the place it names is where."""
    fields = _fields(item, draft)
    changed: list[str] = []
    plain = simplify(text)
    with contextlib.suppress(ContactError):
        mobile = read_contact(text)
        if mobile and draft.fields.get("mobile") and _ANOTHER_NUMBER.search(plain):
            # "还有我妈的座机028-85431876也记上": a second number for the staff, not a new contact
            # (trial AA r13 had the daughter's mobile replaced by it); noted with the rest below.
            mobile = None
        if mobile and "mobile" in fields:
            draft.fields["mobile"] = mobile
            _keep_other_numbers(draft, text, mobile)
            changed.append("mobile")
    habitual = _EVERY_PART.search(plain) is not None and "改" not in plain
    lexicon = ctx.services.classifier.lexicon
    # "先问一下 礼拜天社区开门没得": whether the centre is open that day, asked — not a new time
    # (trial Z5 r15's booking was moved to Sunday 09:00-17:00 and "时间已改好" said).
    open_asked = bool(lexicon.open_question.search(lexicon.normalize(plain).replace(" ", "")))
    if open_asked and lexicon.correction.search(plain):
        open_asked = False
    if "time" in fields and not habitual and not open_asked:
        with contextlib.suppress(WhenError):
            window = _window(ctx, item, _wanted_part(text), draft.time)
            # "礼拜天那个时间活动室有空没得" with Sunday 14:00-17:00 already on the form: its day asked
            # about, not a new time (trial Z11 r15 was reset to Sunday 09:00-17:00).
            same_day = (
                window is not None
                and draft.time is not None
                and window.start.date() == draft.time.start.date()
                and "改" not in plain
                and not _CLOCK_OR_PART.search(plain)
                and (_ASKS_SOMETHING.search(plain) is not None or _SAME_TIME.search(plain) is not None)
            )
            if window is not None and not same_day:
                draft.time = window
                _note_cut_short(ctx, draft, text)
                changed.append("time")
    wants_place = visit_wished or (not changed and "address" not in fields and item.home_visit)
    place = place_in(text) if wants_place else None
    if place:
        # "是要上门来哈 地址幸福小区12栋3单元502 你这上面咋没得地址": a visit at that address (trial L).
        draft.visit = True
        draft.fields["address"] = read_address(place)
        changed.append("address")
    # "那小区物业的电话是好多" names 小区 and asks: no address (trial TT r08 was told it was changed).
    asks = _ASKS_SOMETHING.search(simplify(text)) is not None
    if not changed and not visit_wished and "address" in fields and not asks and _only_an_address(ctx, text):
        kept = draft.fields.get("address")
        said, aside = read_address_and_aside(text)
        draft.fields["address"] = _with_place_said(kept, said) if kept else said
        changed.append("address")
        if len(_WORDS_ONLY.sub("", aside)) >= 4:
            # "地址是2栋1单元601 药是硝苯地平缓释片": the rest is for the staff (trial SS r13 lost it).
            _add_note(draft, aside)
    return changed


def _only_an_address(ctx: Context, text: str) -> bool:
    """An address and nothing else ("幸福里5栋2单元"), not a problem that names a place ("楼道灯坏了")."""
    plain = simplify(text)
    return looks_like_address(plain) and not ctx.services.classifier.lexicon.problem.search(plain)


def _reads_as(ctx: Context, item: Item, draft: OrderDraft, field: str, text: str) -> bool:
    """Would `text` be a valid answer for `field`? ("明天上午可以吗" is a time, not only a question.)"""
    try:
        if field == "name":
            # A question is never a name; "冯孃孃 刚才都说了的嘛" is a name said crossly, not a question
            # (a session-8 trial resident was answered "这个问题提交后可以再问我").
            # "孙红英，队长。要钱不嘛？": a name, then a question — both taken (trial R).
            head = _first_clause(simplify(text).strip())[0]
            asked = _clause_asks(ctx, head)
            return not asked and head != text.strip() and bool(read_name(head)) and len(head) <= 4
        if field == "mobile":
            return read_mobile(text) is not None
        if field == "time":
            try:
                return _window(ctx, item, text, None, _said_day(draft)) is not None
            except WhenError:
                # "礼拜四上午嘛" for the lawyer who sits on Wednesdays: a time, refused with why — not
                # a question noted for staff (trial Z7 r16).
                return _names_a_time(ctx, text)
        return field in ("address", "description") and looks_like_address(text)
    except (ContactError, WhenError):
        return False


_WHY = {
    "name": "称呼是为了工作人员联系时知道怎么叫您",
    "mobile": "电话是为了工作人员和您约时间、到了联系您",
    "address": "地址是为了工作人员能找到地方",
    "time": "时间是为了安排值班人员",
    "description": "情况说清楚，工作人员好带对工具和材料",
}


# "…他们今天下午来给我道歉了 不用来了 取消嘛": the cancel said last (a session-8 trial resident's
# was ignored).
# "不是 取消 我不报名志愿者" at "还是用……吗？": no, and the booking dropped — not new details asked
# for (trial JJ r11 was walked into a volunteer signup she had refused twice).
_NO_FIRST = re.compile(r"^(不是|不对|不|没有|错了)[\s,，。!！]+")
_CANCELLED_AT_END = re.compile(
    r"(取消|不用来了|不用了|不办了|不要了|不约了|不弄了|不用约了|不用预约了|不用办了|不用登记了)(嘛|吧|哈|了|啦|哦)?[。.!！~\s]*$"
)
# "曾玉兰 刚刚都说了的嘛", "前面说过了噻": a value given again with a sigh, not a question (trial W
# noted it on the ticket as "居民问：曾玉兰 刚刚都说了的嘛").
_SAID_ALREADY = re.compile(r"(说|讲|告诉你|填|写)(过|了)(的)?(嘛|噻|哦|啊|呀)?[!！。.~]*$")
# At the read-back, the form's own day asked about: no time of day said, and "那个时间…有空没得".
_CLOCK_OR_PART = re.compile(r"[上下中]午|晚上|早上|点|[:：]|钟")
_SAME_TIME = re.compile(r"(那个|这个|那|这)(个)?(时间|时候|钟点)|有空没|空不空|有没有空")
# "几天都没人扫", "好几天了": how long it has been, not a question (blind batch 79 got a visit's wait).
_ASKS_SOMETHING = re.compile(
    r"[?？]|什么|啥|怎么|咋|哪|吗|多少|好多|(?<!好)几(?!天都|天没|天了|个月都|个月没)|谁|为什么|为啥|能不能|可不可以"
)
_CLAUSE_BREAK = re.compile(r"[\s,，。.!！~;；]+")


# When to ring which number ("白天打这个，晚上打座机"): no time for the booking.
_CALL_HOURS = re.compile(r"(白天|晚上|上午|下午|中午|早上)[^ ，,。]{0,2}打(这个|座机|手机|电话|我|她|他)")


def _keep_other_numbers(draft: OrderDraft, text: str, kept: str) -> None:
    """A second number said with the first ("我的13530887264 我爸的15902316580 有事先打我爸"): the
    first is the contact, the other goes to staff on the ticket with the words said (trial O lost
    it; trial AA r8 read the note as her own number kept as the other one)."""
    # A landline beside a mobile too: "白天打这个，晚上打座机 028-85551234" (trial RR r11 lost it).
    others = [number for number in (*mobiles_in(text), *landlines_in(text)) if number != kept]
    if others:
        _add_note(draft, f"另一个电话：{'、'.join(dict.fromkeys(others))}（原话：{text.strip()[:120]}）")


# A number added beside the contact, not replacing it: "座机也记上", "我女儿的也留一个", "两个都要".
_ANOTHER_NUMBER = re.compile(
    r"也(记|留|写|加|填|登记)|再(留|记|加|写)一个|另(外|一)个?(电话|号码)|两个都|都要留|备用"
)


# At the read-back, words that add to the request ("晚饭也要送", "从星期一开始", "是我妈不是我").
_SAYS_MORE = re.compile(
    r"也要|还要|还有|另外|从.{1,6}开始|开始送|两顿|每天|不是我|是我(妈|爸|老汉|母亲|父亲)|写清楚|等下|等一下|"
    r"也(记|留|写|加|填)|"
    r"备注|补充|加个|加一句|写上|注明"  # "加个备注：上门地址…" at the read-back (trial T)
)


# "对了一楼那个下水道也堵了 一起报了" beside the phone number: more of the request, not the value.
# The resident asks that it be kept private: said back, and noted for staff.
_PRIVATE = re.compile(
    r"(不要|别|莫)(跟|和|给)?(别人|其他人|外人)(说|讲|晓得|知道)|(不要|别|莫)(告诉|说出去|讲出去)|保密|别提|不要提"
)
_MORE_OF_IT = re.compile(
    r"对了|还有|另外|顺便|也(坏|堵|漏|不亮|要|一起)|一起(报|修|弄|办)"
    # How to be reached, or kept private ("打电话的时候说是社区的就行 别说律师", "这个不要跟别人说哈"):
    # for staff on the ticket (trial Z3 r14 lost both).
    rf"|打电话的时候|打电话时|电话里|{_PRIVATE.pattern}"
)


def _kept_beside_refused_time(ctx: Context, item: Item, draft: OrderDraft, text: str) -> list[str]:
    """A time that cannot be booked as said, and an address or a note beside it ("这周六上午吧 地址是
    幸福里小区7栋2单元401 我妈耳朵有点背 敲门要大声点"): those are kept while the time is asked again
    (trial GG r09 lost both and had to say them at the read-back)."""
    if draft.asking != "time":
        return []
    kept: list[str] = []
    place = place_in(text)
    if place and ("address" in _fields(item, draft) or item.home_visit):
        _keep_place(draft, place)
        kept.append("地址已记下。")
    noted = []
    for clause in _CLAUSE_BREAK.split(simplify(text)):
        if len(clause) < 4 or place_in(clause) or _reads_as_time(ctx, item, clause):
            continue
        noted.append(clause)
    if noted:
        _add_note(draft, " ".join(noted))
        kept.append("您说的情况也记在工单上了。")
    return kept


def _reads_as_time(ctx: Context, item: Item, clause: str) -> bool:
    try:
        return _window(ctx, item, clause) is not None
    except WhenError:
        return True  # a time, only one that cannot be booked


# How many people come, said with the time: "大概15个人", "一共二十来个人".
_HEADCOUNT = re.compile(
    r"(?:大概|差不多|大约|一共|总共|估计|有)?\s*(?:\d+|[二两三四五六七八九十][一二两三四五六七八九十]*)\s*(?:来|多)?\s*"
    r"(?:个人|位|人)(?:左右)?"
)


def _more_said(ctx: Context, draft: OrderDraft, text: str) -> bool:
    """Did an answer to the name or phone question add to the request itself? Then it is noted on
    the ticket (trial Q: a second blocked drain, said with the phone number, was lost)."""
    plain = simplify(text)
    if draft.asking == "time" and (heads := _HEADCOUNT.search(plain)):
        _add_note(draft, heads.group().strip())  # "下周二下午2点到4点 大概15个人" for a room (trial PP)
        return True
    if draft.asking not in ("name", "mobile"):
        return False
    more = _MORE_OF_IT.search(plain)
    if more is None:
        return False
    said = plain[more.start() :].strip(" ，,。")
    if len(said) < 6:
        return False
    _add_note(draft, said)
    return True


# "加个备注：", "补充一下：" before a note: the words that ask to note it, not the note.
_NOTE_LEAD = re.compile(
    r"^(再|帮我|麻烦)?(加个|加一个|加一句|写个|写上|注明)?(备注|补充)(一下|一句|几句)?\s*[:：,，]?\s*"
)


def _add_note(draft: OrderDraft, said: str) -> None:
    """What the resident added when confirming, kept in the ticket's description for staff."""
    said = _NOTE_LEAD.sub("", said.strip(" ，,。.!！"))
    if not said:
        return
    # The first message ("said") heads the description when the item asks for none: staff see the
    # description instead of it, so a note alone would hide what was asked for.
    before = draft.fields.get("description") or draft.fields.get("said", "")
    draft.fields["description"] = f"{before}；补充：{said}" if before else f"补充：{said}"


# A standing arrangement ("每个星期二上午来", "一周两次"): the form books the first visit; the rest is
# agreed with staff, so it is written on the ticket and said back (session-12 leftover: weekly
# bookings were read as one date and the rest silently dropped).
# "我天天在屋头", "每天都在家": when they can be found, not how often to come (trial T: a one-off
# visit went out as 定期：天天).
_RECURRING = re.compile(
    r"(每(个|一)?(周|星期|礼拜)[一二三四五六日天]?|每天|天天|每隔.{1,3}(天|周|星期)|每(个)?月|"
    r"(一|每)(周|个星期|个礼拜)(来)?(一|两|二|三)(次|回|趟)|隔天)(?!都?(在|待|呆|有人|闲))"
    # "楼上天天漏水": how often the trouble happens, not how often to come (trial GG r12 got 定期：天天)
    r"(?!(都|都在|在|也|又|晚上|半夜)?(漏|滴|渗|吵|闹|响|堵|臭|坏|停|跳闸|打|骂))"
)
# What follows a "天天" that tells how often the trouble happens, not the visits.
# "隔壁天天半夜一两点还在打麻将" (trial Z2 r19 got 定期：天天).
_TROUBLE_AFTER = re.compile(
    r"[^ ，,。]{0,10}?(拖|跺|吵|闹|响|漏|滴|渗|堵|臭|坏|停电|停水|骂|敲|唱歌|放音乐|跳"
    r"|打麻将|打牌|搓麻将|喝酒|烧烤)"
)
# "不要定期！只来一次": the standing arrangement read before is taken back.
_ONCE_ONLY = re.compile(r"不要定期|不定期|不是定期|只来一次|就来一次|来一次就(行|够|可以)|一次就(行|够|可以)")


def _keep_recurrence(item: Item, draft: OrderDraft, text: str) -> None:
    """Note a standing arrangement said in `text` once, for items booked at a time; drop it when
    they say it is a one-off."""
    if _ONCE_ONLY.search(simplify(text)) and draft.fields.get("repeat"):
        # The standing arrangement noted before is taken off the description too: the read-back
        # kept showing it after "不是定期" (trial GG r12, three corrections).
        noted = _repeat_note(draft.fields.pop("repeat"))
        description = draft.fields.get("description", "")
        for written in (f"；补充：{noted}", f"补充：{noted}；", f"补充：{noted}"):
            description = description.replace(written, "")
        draft.fields["description"] = description
        _add_note(draft, "只来一次，不是定期")
        return
    plain = simplify(text)
    found = _RECURRING.search(plain)
    if found is None or "time" not in _fields(item, draft) or draft.fields.get("repeat"):
        return
    if _TROUBLE_AFTER.match(plain, found.end()):
        return  # "楼上那家人天天晚上12点过还在拖椅子": how often the noise is (trial II r12)
    draft.fields["repeat"] = found.group(0)
    _add_note(draft, _repeat_note(found.group(0)))


def _repeat_note(repeat: str) -> str:
    return f"定期：{repeat}（第一次按预约时间，以后的时间请和居民商定）"


# "现在！马上！" as the time: today's window is booked, and the hurry is written on the ticket so
# the staff see it (trial S: an urgent visit read as an ordinary one).
_AS_SOON_AS = re.compile(r"马上|立刻|立即|赶紧|赶快|尽快|越快越好|现在就|就现在|^现在")


def _keep_hurry(item: Item, draft: OrderDraft, text: str) -> None:
    """Note once that the resident wants it done at once, for items booked at a time."""
    found = _AS_SOON_AS.search(simplify(text).strip(" ！!。"))
    if found is None or "time" not in _fields(item, draft) or draft.fields.get("_hurry"):
        return
    draft.fields["_hurry"] = "1"
    _add_note(draft, "居民要求尽快（马上）来，请值班人员先电话联系")


def _first_clause(plain: str) -> tuple[str, str]:
    """(first clause, the rest) of a message."""
    found = _CLAUSE_BREAK.search(plain)
    if found is None:
        return plain, ""
    return plain[: found.start()], plain[found.end() :]


def _clause_asks(ctx: Context, clause: str) -> bool:
    """Does one clause ask something (a question word, or a mid-order question cue)?"""
    lexicon = ctx.services.classifier.lexicon
    return bool(_ASKS_SOMETHING.search(clause) or lexicon.order_question.search(lexicon.normalize(clause)))


def _answer_or_note(ctx: Context, item: Item, draft: OrderDraft, field: str, plain: str) -> str:
    """The brief answer to every question asked; a question the handbook does not answer ("可以煮东西
    吃不" while booking a room) goes onto the ticket for the staff and is said to — not "ask me after
    submitting", where nothing answers it either (trial S: asked three times). Two questions in one
    message ("可以煮东西吃不 能不能带音响") are answered one by one: the answered one is not allowed to
    hide the other (trial S)."""
    asked = _asking_clauses(ctx, plain)
    if len(asked) < 2:
        answered = _brief_answer(ctx, item, field, plain)
        # Not "我儿子上班 他能不能…在屋头陪到" read as asking when the centre opens (trial Z13 r01).
        opened = open_on(ctx, plain) if not facts.booking_answer(ctx, plain) else None
        if opened and answered is not None and opened not in answered:
            # "礼拜天社区开门没得 活动室有没有音响": the day's hours beside the room's answer (trial Z5 r15).
            return f"{opened}\n{answered}"
        if answered is not None:
            return answered
        return _noted(ctx, draft, asked or [plain])
    answers, unanswered = _clause_answers(ctx, item, field, asked)
    if unanswered:
        answers.append(_noted(ctx, draft, unanswered))
    return "\n".join(answers)


def _asking_clauses(ctx: Context, plain: str) -> list[str]:
    return [clause for clause in _CLAUSE_BREAK.split(plain) if clause and _clause_asks(ctx, clause)]


def _clause_answers(ctx: Context, item: Item, field: str, clauses: list[str]) -> tuple[list[str], list[str]]:
    """(answers, clauses nothing answers) for questions asked one clause each; the item's title
    once — "【活动室预约】" before each line of one reply is noise."""
    answers: list[str] = []
    unanswered: list[str] = []
    title = f"【{item.title}】"
    for clause in clauses:
        answered = _brief_answer(ctx, item, field, clause, guess_documents=False)
        if answered is None:
            unanswered.append(clause)
        elif answered not in answers:
            said_before = any(a.startswith(title) for a in answers)
            answers.append(answered.removeprefix(title) if said_before else answered)
    return answers, unanswered


def _noted(ctx: Context, draft: OrderDraft, questions: list[str]) -> str:
    """Write the questions (not the name and phone beside them) onto the ticket and say so."""
    _add_note(draft, f"居民问：{' '.join(questions)}")
    office = ctx.services.handbook.office
    said = "、".join(q.strip("?？") for q in questions)
    return f"您问的“{said}”已经写进工单，工作人员联系您时会回答；急的话打社区电话 {office.phone}。"


def _brief_answer(
    ctx: Context, item: Item, field: str, plain: str, *, guess_documents: bool = True
) -> str | None:
    """One or two lines for a question asked in the middle of an order (None: nothing answers it).
    `guess_documents`: a question about the service that asks no fact gets its papers; off for one
    clause of several, where "可以放多少人" must not be answered with the papers."""
    lexicon = ctx.services.classifier.lexicon
    if lexicon.why_asked.search(plain) and field in _WHY:
        return f"{_WHY[field]}，只用于这次办事，不会给别人。"
    own = facts.own_answer(ctx, item, plain)
    if own:  # "好久开始送 钱咋个给" while booking meals: the item's own answer (session-8 trial G)
        return f"【{item.title}】{own}"
    booking = facts.booking_answer(ctx, plain)
    if booking:  # "一次要弄好久", "儿子能不能请假在屋头陪到" (trial Z13: nine residents had them noted)
        return booking
    papers = facts.documents_named(ctx, item, plain)
    if papers:
        # "带租房合同可以吗" while booking a residence certificate: the paper's line says what may
        # stand in for it (trial PP r20's question was noted for staff instead).
        return f"【{item.title}】要带的材料里：\n" + "\n".join(papers)
    result = ctx.services.classifier.classify(plain)
    office = ctx.services.handbook.office
    intent = result.intent
    spoken = lexicon.normalize(plain).replace(" ", "")
    asks_documents = bool(
        lexicon.asks_documents(plain) or lexicon.asks_documents(spoken) or facts.BRING_IT.search(spoken)
    )
    if intent != "office" and asks_documents:
        intent = "consult"  # "要带什么材料" mid-order: about the item being ordered
    near = directions.nearby_asked(ctx, spoken)
    if near is not None and _ASKS_WHERE_OR_NUMBER.search(spoken):
        # "那小区物业的电话是好多" while a repair is read back: the branch the community wrote down
        # (trial TT r08 had it noted for staff); "社区卫生服务中心电话多少" is that place's number,
        # not the community's (trial Z5 r08 got the centre's).
        return render.nearby_line(near)
    if intent == "office":
        return facts.centre_answer(ctx, plain) or _office_line(office, spoken)
    # Another item only when named or sure ("户口要咋个销" mid-way through the funeral grant): "确认
    # 要带啥子" was read as pension certification at 0.76 (认 as in 认证) in a session-8 trial.
    other = result.named or result.confidence >= facts.SURE_OTHER_ITEM
    asked = (ctx.services.handbook.items.get(result.item or "") if other else None) or item
    if asks_documents and asked is not item and facts.one_of_its_papers(item, asked):
        asked = item  # "我要准备些啥子 残疾证是二级的": a paper they have, not its service (trial X r11)
    # The fact asked ("是不是要住满半年", "要好久才办得下来"), not always the documents: a trial
    # resident asking who qualifies mid-booking was told what to bring; a wait asked before anything
    # is submitted is this item's time limit, not a progress question.
    # Whether it can be done at home is answered by the visit being booked (可以喊人上门来办不).
    aspects = tuple(aspect for aspect in facts.aspects_of(ctx, plain) if aspect != "visit")
    if intent in ("consult", "order", "status", "unknown") and aspects and aspects[0] != facts.DOCUMENTS:
        lines = facts.fact_lines(asked, aspects[0], ctx.services.handbook, aspects[1:])
        if lines:
            return f"【{asked.title}】{lines}\n提交后{facts.MORE}"
    if not guess_documents and not asks_documents:
        return None
    if intent in ("consult", "order") and not asked.documents:
        also = [a for a in aspects if a != facts.DOCUMENTS]
        lines = facts.fact_lines(asked, also[0], ctx.services.handbook, tuple(also[1:])) if also else None
        return f"【{asked.title}】不用带材料。{lines or ''}"
    if intent in ("consult", "order"):
        documents = "、".join(d.name for d in asked.documents[:3])
        more = "等" if len(asked.documents) > 3 else ""
        return f"【{asked.title}】要带：{documents}{more}。提交后回复“材料”看完整清单。"
    return None


# "你们周六上班不" mid-booking asks about the weekend: its duty hours are the answer, not only the weekdays'.
_ASKS_WEEKEND = re.compile(r"周六|周日|周天|周末|星期[六天日]|礼拜[六天日]")
_ASKS_LUNCH = re.compile(r"中午|午休")


_ASKS_WHERE_OR_NUMBER = re.compile(r"电话|号码|在哪|哪里|地址|怎么找|咋个找")


def _office_line(office: Office, spoken: str) -> str:
    """The office's phone and the hours the question is about (weekdays; weekend or lunch duty)."""
    hours = [office.hours.get("weekdays", "")]
    if _ASKS_WEEKEND.search(spoken) and office.hours.get("weekend_duty"):
        hours.append(office.hours["weekend_duty"])
    if _ASKS_LUNCH.search(spoken) and office.hours.get("lunch_duty"):
        hours.append(office.hours["lunch_duty"])
    return f"社区电话 {office.phone}，{'；'.join(h for h in hours if h)}。"


def _declined_name(ctx: Context, draft: OrderDraft, plain: str) -> Reply | None:
    """No name given: ask once for a 称呼 (王阿姨); refused again, or 跳过, go on without one."""
    lexicon = ctx.services.classifier.lexicon
    skipped = lexicon.skip.match(plain)
    refused = lexicon.refuse_name.search(plain)
    if not (skipped or refused):
        return None
    if skipped or draft.name_declined:
        draft.fields["name"] = NO_NAME
        return _next(ctx, ctx.services.handbook.item(draft.item), draft, ["好的，不留称呼也可以。"])
    draft.name_declined = True
    return _ask(
        ctx,
        draft,
        "name",
        ["不方便说全名没关系，说个称呼就行，比如“王阿姨”“刘师傅”；不想留也可以回复“跳过”。"],
    )


async def _same_item_lately(ctx: Context, draft: OrderDraft) -> str | None:
    """The question to ask when this resident ordered the same item minutes ago (a reply lost in
    an outage, a draft gone with Redis): a second ticket only when they say so."""
    desk = ctx.services.desk
    assert desk is not None
    since = ctx.services.now() - timedelta(minutes=SAME_ITEM_MINUTES)
    place = _compact(draft.fields.get("address"))
    name = draft.fields.get("name")
    open_ones = [
        t
        for t in await desk.tickets_since(ctx.message.resident, since, draft.item)
        if t.state in OPEN_STATES
        and t.request_key != draft.key
        and not emergencies.is_emergency(t)
        # Another place is another matter: the lamp on the stairs, then the drain at the door
        # (trial ZZ r11 was asked twice whether it wanted a second ticket).
        and not (place and _compact((t.fields or {}).get("address")) not in ("", place))
        # Another person is another booking: her residence permit after his (trial Z13 r04, r20).
        and not (name and t.contact_name and t.contact_name != name)
    ]
    if not open_ones:
        return None
    title = ctx.services.handbook.item(draft.item).title
    return (
        f"您刚刚已经提交过【{title}】，工单号 {open_ones[-1].number}，工作人员会和您联系。\n"
        "还要再提交一张吗？要再提交请回复“确认”；不用了回复“取消”。"
    )


def _compact(value: object) -> str:
    return re.sub(r"\s+", "", str(value or ""))


def _fields(item: Item, draft: OrderDraft) -> tuple[str, ...]:
    return item.order_fields(draft.visit)


_LOCAL_NUMBER = re.compile(r"^\D{0,12}?([2-9]\d{6,7})\D{0,6}$")  # 85123456, 座机8512 3456
_AREA_CODE = re.compile(r"^(0\d{2,3})[-\s]")
# "屋头座机 87654321 手机是儿子给的…我记不到": a home phone named as one, whatever is said after it.
_SAID_LANDLINE = re.compile(
    r"(?:座机|固话|家里电话|屋头电话|家里的电话)(?:是|号码是?)?\D{0,2}([2-9]\d{6,7})(?!\d)"
)


def _local_landline(ctx: Context, text: str) -> str | None:
    """A home phone given without its area code, as residents dial it locally ("85123456"): the
    community's own area code (from the office phone) before it — an 81-year-old in a session-7
    trial was refused until she added 028."""
    plain = re.sub(r"[\s\-–—]", "", simplify(text))
    local = _LOCAL_NUMBER.match(plain) or _SAID_LANDLINE.search(plain)
    area = _AREA_CODE.match(ctx.services.handbook.office.phone)
    return f"{area.group(1)}-{local.group(1)}" if local and area else None


def _take(
    ctx: Context, item: Item, draft: OrderDraft, field: str, text: str, booked: Window | None = None
) -> None:
    """Read `text` as `field` into the draft; raises ContactError/WhenError saying why not."""
    if field == "name":
        try:
            name = read_name(text)
        except ContactError:
            if _kept_as_more(draft, text):
                raise ContactError(KEPT_AS_MORE) from None
            raise
        if ctx.services.classifier.items_in(name):
            # "开药要医保卡 我放在屋头的 来拿就是" at the name question: what the errand needs, not a
            # name (session-13 check: a ticket was made out to 开药要医保卡). Kept for staff.
            _add_note(draft, text.strip())
            raise ContactError("您说的已记下，会写进工单。")
        draft.fields["name"] = name
    elif field == "mobile":
        mobile = _local_landline(ctx, text) or read_contact(text)
        if mobile is None:
            if _kept_as_more(draft, text):
                raise ContactError(KEPT_AS_MORE)
            raise ContactError(
                "没看到电话号码。请发 11 位手机号，比如 13812345678；"
                "没有手机的，发带区号的座机，比如 028-85551234。"
            )
        draft.fields["mobile"] = mobile
        _keep_other_numbers(draft, text, mobile)
    elif field == "address":
        if not (looks_like_address(text) or names_a_place(text)) and not draft.fields.get(_ADDRESS_DOUBTED):
            # "帮我做养老认证" answering the address is what it is for, not where (trial DD r07 was read
            # back with it as the address): kept for staff, the address asked again — once.
            draft.fields[_ADDRESS_DOUBTED] = "1"
            _add_note(draft, text)
            raise ContactError("好的，这个已写进工单的情况里。")
        said = _place_beside_time(ctx, text) or _before_question(ctx, text)
        address, aside = read_address_and_aside(said)
        if aside:
            _add_note(draft, aside)  # "电梯是整栋的" beside the address: for the staff, not the address
        kept = draft.fields.get("address", "")
        if kept and not _ADDRESS_PART.search(kept) and _ADDRESS_PART.search(address) and kept not in address:
            address = kept + address  # "阳光苑", then "5栋2单元602"
        draft.fields["address"] = address
    elif field == "description":
        said = read_description(text)
        noted = draft.fields.get("description", "")
        # Notes taken before the description was asked ("补充：居民希望工作人员上门…") stay after it.
        draft.fields["description"] = f"{said}；{noted}" if noted.startswith("补充：") else said
    elif field == "time":
        if _place_without_time(ctx, text) is not None:
            # "南坪东路 金山小区5栋2单元3楼1号": an address, whose 1号 is no date (trial O).
            raise WhenError("这是地址吧？请说您想哪天办，比如“明天上午”“周六下午3点”。")
        try:
            window = _window(ctx, item, text, booked, _said_day(draft))
        except WhenError as exc:
            _remember_day(draft, exc)  # "12月11日 08:00 不在服务时间内" then "那就9点嘛": that day (trial Q)
            raise
        if window is None:
            raise WhenError("没听明白是什么时候。可以说“明天上午”“周六下午3点”“12月2日上午”。")
        if booked is not None:
            check_booked_week(text, window.start, booked.start)  # "礼拜一我要带孙娃 改成礼拜二下午"
        draft.time = _with_hours_said(ctx, item, draft, text, window)
        draft.fields.pop(_DAY_SAID, None)
        _note_cut_short(ctx, draft, text)


KEPT_AS_MORE = "您说的情况已记下，会写进工单。"


def _has_no_phone(ctx: Context, text: str, plain: str) -> bool:
    """Asked for a number, the resident says there is no phone that works ("屋头座机也坏了好久了",
    "我莫得手机") and gives none: asking again would never end (trial Z)."""
    if not ctx.services.classifier.lexicon.no_phone.search(plain):
        return False
    try:
        return (_local_landline(ctx, text) or read_mobile(text)) is None
    except ContactError:
        return False


def _without_phone(item: Item, draft: OrderDraft, text: str) -> str:
    """The order goes on without a number: the ticket says how staff reach the resident instead."""
    draft.fields["mobile"] = ""
    by_visit = "address" in _fields(item, draft)
    how = "请按地址上门联系" if by_visit else "请当面联系"
    _add_note(draft, f"居民没有能用的电话（原话：{text.strip()}），{how}")
    reach = "工作人员会按您的地址上门找您" if by_visit else "到时候您直接到服务站找工作人员"
    return f"好的，没有电话也能办：{reach}。子女、亲戚或邻居有电话的，也可以随时把号码发过来。"


def _kept_as_more(draft: OrderDraft, text: str) -> bool:
    """A message at the name or phone question that is no name or number but says more about the
    matter ("3到5楼都不亮 物业电话打了没人接"): kept in the description, and the question asked again
    saying so (trial X r12 dropped it). A few words ("不晓得") are only asked again."""
    if len(_WORDS_ONLY.sub("", simplify(text))) < 6:
        return False
    _add_note(draft, text.strip())
    return True


_SAID_WRONG = re.compile(r"(哎呀|哎|唉|啊)?(说错了|搞错了|弄错了|写错了|打错了|不对)")
_WORDS_ONLY = re.compile(r"[\W_]+")


def _before_question(ctx: Context, text: str) -> str:
    """`text` up to the first clause that asks something: "幸福里3栋2单元501 你们几点能到" gives
    its address, and the question is answered beside it (session-13 trial kept it in the address)."""
    question = ctx.services.classifier.lexicon.order_question
    kept: list[str] = []
    for clause in _CLAUSE_BREAK.split(text.strip()):
        if kept and clause and question.search(simplify(clause)):
            break
        kept.append(clause or "")
    return " ".join(part for part in kept if part).strip() or text


# A part of the day ruled out: "莫要中午来", "不要上午", "别晚上打电话".
_AVOIDED = re.compile(r"(莫要|不要|别|莫|不能|不得行)(在)?(凌晨|早上|上午|中午|下午|晚上|周末|星期天|礼拜天)")


def _without(text: str, place: str) -> str:
    """`text` with the place said in it blanked out, so its numbers are not read as a date."""
    return simplify(text).replace(place, " ")


def _names_a_time(ctx: Context, text: str) -> bool:
    """Does `text` name a day or a time at all, whether or not the item can be booked then?"""
    try:
        return read_window(text, ctx.services.now()) is not None
    except WhenError:
        return True


# "…可以不", "…行不行", "…得不得行": a yes-or-no put on what was just said.
_YES_NO = re.compile(
    r"(可以|行|得行|要得|方便|有空)(不|吗|嘛|没|不行|不得行)?[?？]?$|(可不可以|行不行|得不得行)[?？]?$"
)


def _time_in(ctx: Context, text: str) -> Window | None:
    try:
        return read_window(text, ctx.services.now())
    except WhenError:
        return None


def _place_without_time(ctx: Context, text: str) -> str | None:
    """The place `text` names when nothing but the place says a time ("金山小区5栋2单元3楼1号")."""
    place = place_in(text)
    return place if place is not None and _time_in(ctx, _without(text, place)) is None else None


def _place_beside_time(ctx: Context, text: str) -> str | None:
    """The place alone when the answer says a time too ("周六上午嘛 我在屋头 地址是幸福里12栋1单元502":
    trial N's address was the whole sentence); the time is taken as the time."""
    place = place_in(text)
    if place is None:
        return None
    return place if _time_in(ctx, _without(text, place)) is not None else None


def window_for(ctx: Context, item: Item, text: str, booked: Window | None = None) -> Window | None:
    """The time in `text`, fitted to the item's booking hours; WhenError says why it cannot be.
    `booked`: the ticket's time, whose day hours said alone keep ("改到晚上7点到9点")."""
    return _window(ctx, item, text, booked)


# The day of a time refused for its hours, kept in the draft until a time is taken (not on the ticket).
_DAY_SAID = "_day_said"
_HOURS_SAID = "_hours_said"  # the hours said with a day already past ("这周三上午9点半")
_TIME_FIRST = "_time_first"  # the first message's time was asked about: the time is asked next


def _remember_day(draft: OrderDraft, refused: WhenError) -> None:
    """Keep the day of a time refused for its hours: a later "那就9点嘛" means 9 点 that day; and the
    hours of a day already past: a later bare "下周三" means 9 点半 that day (trial GG r15 was booked
    for the whole day)."""
    day = getattr(refused, "day", None)
    if day is not None:
        draft.fields[_DAY_SAID] = day.isoformat()
    hours = getattr(refused, "hours", "")
    if hours:
        draft.fields[_HOURS_SAID] = hours


def _with_hours_said(ctx: Context, item: Item, draft: OrderDraft, text: str, window: Window) -> Window:
    """`window`, narrowed to the hours said with a day already past when only a day is said now."""
    hours = draft.fields.pop(_HOURS_SAID, "")
    if not hours:
        return window
    with contextlib.suppress(WhenError):
        narrower = _window(ctx, item, f"{text} {hours}")
        if (
            narrower is not None
            and narrower.start.date() == window.start.date()
            and narrower.end - narrower.start < window.end - window.start
        ):
            return narrower
    return window


def _said_day(draft: OrderDraft) -> date | None:
    said = draft.fields.get(_DAY_SAID)
    return date.fromisoformat(said) if said else None


def _window(
    ctx: Context, item: Item, text: str, booked: Window | None = None, said_day: date | None = None
) -> Window | None:
    """`booked`: the time already in the draft, whose day a change of hours alone keeps; `said_day`:
    a day said before whose hours did not fit, kept the same way."""
    assert item.order is not None
    now = ctx.services.now()
    avoided = _AVOIDED.search(simplify(text))
    if avoided:
        # "莫要中午来 我要睡午觉" was booked at noon (trial P): a time ruled out is no time wanted —
        # asked again, never guessed.
        raise WhenError(f"好的，不约{avoided.group(3)}。请说想哪天、几点来，比如“明天下午3点以后”。")
    window = read_window(text, now, unsaid_day=booked.start.date() if booked else said_day)
    if window is None:
        return None
    handbook = ctx.services.handbook
    hours = handbook.office.booking_hours[item.order.hours]

    def closed_reason(day: Any) -> str:
        holiday = handbook.calendar.holiday(day)
        if holiday:
            return f"是{holiday}假期"
        if hours.days and day.isoweekday() not in hours.days:
            nearest = handbook.calendar.next_open(hours, now.date())
            then = f"，最近可约 {day_label(nearest)}" if nearest else ""
            return f"不行：{hours.note or '这项只在固定的日子办理'}{then}"
        return "这项业务不办理（周末只办值班事项）"

    try:
        return first_fit(window, lambda day: handbook.calendar.spans(hours, day), closed_reason, now)
    except WhenError as exc:
        exc.day = window.start.date()  # type: ignore[attr-defined]  # the day said, for the next answer
        raise


# An end said in so many words ("2点半到5点半"): cut to the service hours, it is said back (trial T:
# 17:30 became 17:00 on a Sunday without a word).
_END_SAID = re.compile(r"(到|至|-|—|~)\s*(下午|晚上|傍晚)?\s*[\d一二三四五六七八九十两]+\s*[点:：]")


def _note_cut_short(ctx: Context, draft: OrderDraft, text: str) -> None:
    """Keep, for the read-back, that the end asked for was later than the hours allow."""
    draft.fields.pop("_cut", None)
    if draft.time is None or not _END_SAID.search(simplify(text)):
        return
    with contextlib.suppress(WhenError):
        asked = read_window(text, ctx.services.now(), unsaid_day=draft.time.start.date())
        if asked is not None and asked.end.date() == draft.time.end.date() and asked.end > draft.time.end:
            draft.fields["_cut"] = f"{asked.end:%H:%M}"


# The person served, named by the one asking ("我妈叫徐淑芬", "老人名字是刘德明"): the ticket has one
# contact (the caller), so the other name goes into its description for the staff (trial S: a son
# booking for his mother said her name and it was lost).
_SERVED_NAMED = re.compile(
    r"(?P<who>我妈|我爸|我母亲|我父亲|妈妈|爸爸|老汉儿?|老娘|老人家?|我婆婆|我公公|我爷爷|我奶奶|我外婆|我外公|"
    r"我家老人|老伴|我老伴|我老公|我老婆|我岳父|我岳母|我丈母娘|他|她|"
    # 娃儿叫唐浩然: a child booked for by a parent (trial FF kept only the parent's name)
    r"娃儿|娃娃|孩子|小孩|我儿子|我女儿|儿子|女儿|孙子|孙女|外孙女|外孙)(的)?(名字|姓名)?(?P<said>叫|是|姓名是)?\s*"
    r"(?P<name>[\u4e00-\u9fff]{2,3})"
)
# What may follow a name said straight after the kin word ("是我妈刘桂芬要签字", "找我妈刘桂芬，"):
# a break, or a word that cannot end a name.
_AFTER_NAME = re.compile(r"$|[\s,，。.!！;；、?？0-9]|要|住|在|的|她|他|签|来|去|哈|嘛|呢|服务|洗|打扫|看|办")


def _served_person(text: str) -> tuple[str, str] | None:
    """(who, name) of the person served named by the caller ("我妈叫徐淑芬", "我妈刘桂芬要签字")."""
    for found in _SERVED_NAMED.finditer(text):
        if found["who"] in ("他", "她") and found["said"] != "叫":
            continue  # "他叫孙德才" names him; "她是…" says anything
        rest = text[found.start("name") :]
        for size in (3, 2):
            name = rest[:size]
            ends_in_a_verb = _AFTER_NAME.match(name[-1]) is not None  # "王芳要" is 王芳, then 要
            if (
                len(name) == size
                and not ends_in_a_verb
                and is_full_name(name)
                and _AFTER_NAME.match(rest[size:])
            ):
                return found["who"], name
    return None


def _keep_whole_name(draft: OrderDraft, text: str) -> None:
    """ "我叫王福生" after "我姓王": the whole name replaces the surname (trial JJ r09 was booked as 王)."""
    said = str(draft.fields.get("name") or "")
    if len(said) != 1:
        return
    whole = introduced_name(text)
    if whole and len(whole) > 1 and whole.startswith(said):
        draft.fields["name"] = whole


def _keep_served_person(draft: OrderDraft, text: str) -> None:
    """Note the person served when the caller names them, once."""
    found = _served_person(simplify(text))
    if found is None or draft.fields.get("_served"):
        return
    draft.fields["_served"] = found[1]
    _add_note(draft, f"服务对象：{found[0]} {found[1]}")


def _prefill(ctx: Context, item: Item, draft: OrderDraft, text: str) -> list[str]:
    """Keep what the first message already says; a wrong time is explained, not silently dropped."""
    fields = _fields(item, draft)
    if not text:
        return []
    _keep_served_person(draft, text)
    notes = _also_said(ctx, item, draft, text, first=True)
    place = place_in(text) if "address" in fields else None
    if place:  # "3栋2单元楼道灯坏了": the address is not asked again
        draft.fields["address"] = place
    # More than the request itself ("我要报修" says nothing): the problem, who it is for.
    if len(_REQUEST_WORDS.sub("", simplify(text)).strip(" ，,。!！")) >= 4:
        if "description" in fields:
            draft.fields["description"] = read_description(text)
        else:
            draft.fields["said"] = text.strip()[:300]  # it reaches the ticket all the same
    _keep_recurrence(item, draft, text)
    _keep_hurry(item, draft, text)
    return notes


def _from_recent(ctx: Context, item: Item, draft: OrderDraft) -> None:
    """The name introduced and the flat given a few messages before, in this conversation ("幸福里4栋
    2单元201 我妈叫何秀英…我叫杨丽" during a welfare check): not asked again for the visit booked after it
    (trial W: "我都说了三遍了"). The phone is not there to take: the recent texts are kept masked."""
    fields = _fields(item, draft)
    for earlier in reversed(ctx.conversation.recent):
        if "name" in fields and not draft.has("name"):
            name = introduced_name(earlier)
            if name:
                draft.fields["name"] = name
        if "address" in fields and not draft.has("address"):
            place = place_in(earlier)
            if place:
                draft.fields["address"] = place


def resume(ctx: Context, draft: OrderDraft, lines: list[str]) -> Reply:
    """Carry on with a draft another route changed (the kept details erased mid-order)."""
    return _next(ctx, ctx.services.handbook.item(draft.item), draft, lines)


# A repair out of doors ("北门出来那段路的路灯"): the spot said is the address, no door to ask for
# (trial KK r20 was asked for 几栋几单元 three times).
_PUBLIC_SPOT = re.compile(
    r"路灯|路边|路面|[东南西北]门|大门|侧门|广场|停车场|车库|花园|健身器材|绿化|垃圾站|井盖|围墙|球场|坝子|小区里|小区内"
)


def _next(ctx: Context, item: Item, draft: OrderDraft, lines: list[str]) -> Reply:
    missing = [f for f in _fields(item, draft) if not draft.has(f)]
    if "time" in missing and (draft.fields.get(_DAY_SAID) or draft.fields.get(_TIME_FIRST)):
        # A time said that did not fit, or was too vague ("我平时只有中午有空"): that first — trial FF
        # r10's "后天中午12点半嘛" answered the name question and got the office hours.
        return _ask(ctx, draft, "time", lines)
    if missing:
        return _ask(ctx, draft, missing[0], lines)
    address = draft.fields.get("address", "")
    public = _PUBLIC_SPOT.search(f"{draft.fields.get('description', '')} {address}")
    if (
        draft.visit
        and address
        and not public
        and not _ADDRESS_PART.search(address)
        and not draft.fields.get(_DOOR_ASKED)
    ):
        # "阳光苑" alone for a visit: which door, asked once (trial AA r8 was read back with the estate
        # only); an answer without numbers is taken as it is.
        draft.fields[_DOOR_ASKED] = "1"
        return _ask(
            ctx,
            draft,
            "address",
            [*lines, f"地址只有“{address}”，工作人员上门会找不到。"],
        )
    return _ask(ctx, draft, "confirm", [*lines, summary(ctx, item, draft)])


def _ask(ctx: Context, draft: OrderDraft, field: str, lines: list[str]) -> Reply:
    draft.asking = field
    ctx.conversation.enter(ORDERING, draft)
    if field in ("confirm", "confirm_again", NOTE):
        return Reply("\n".join(lines))
    question = QUESTIONS[field]
    item = ctx.services.handbook.items.get(draft.item)
    if field == "description" and item is not None and item.order and item.order.ask:
        question = item.order.ask  # a sign-up: which class, not "where and what is broken" (trial CC r04)
    elif field == "description" and item is not None and item.order and "time" in item.order.fields:
        question = BOOKING_REASON  # an appointment: what it is for, not "what is broken"
    return Reply("\n".join([*lines, question + _FOOTER]))


# The description asked of an appointment (home visits, mediation, the lawyer): staff bring the right
# papers (a session-6 trial's home visit went in without saying what it was for).
BOOKING_REASON = (
    "这次是办什么事？简单说一下（比如给老人办认证、帮忙填表、想咨询的问题），工作人员好提前准备。"
)


def summary(ctx: Context, item: Item, draft: OrderDraft) -> str:
    title = item.title + ("（上门）" if draft.visit and item.home_visit else "")
    lines = ["请核对：", f"事项：{title}"]
    for field in _fields(item, draft):
        value = draft.time.describe() if field == "time" and draft.time else draft.fields[field]
        if field == "mobile" and not value:
            value = "无（没有能用的电话）"
        lines.append(f"{LABELS[field]}：{value}")
    if draft.fields.get("_cut") and draft.time is not None:
        latest = f"{draft.time.end:%H:%M}"
        lines.append(f"（您说到 {draft.fields['_cut']}，这天最晚只能约到 {latest}；要更晚请和工作人员商量）")
    if "description" not in _fields(item, draft) and draft.fields.get("description"):
        # Notes on a form without a description ("服务对象：我妈 刘桂芬") are read back too: a trial
        # resident added the same note three times because nothing showed it was kept (trial T).
        lines.append(f"备注：{draft.fields['description'].removeprefix('补充：')}")
    if draft.fields.get("repeat"):
        lines.append(f"定期：{draft.fields['repeat']}（先约第一次；以后固定的时间，工作人员联系您时商定）")
    lines.append("没问题请回复“确认”；要改就说“改电话”“改时间”等；不办了回复“取消”。")
    return "\n".join(lines)


async def _place(ctx: Context, item: Item, draft: OrderDraft) -> Reply:
    desk = ctx.services.desk
    assert desk is not None
    _note_superseded(ctx, draft)
    fields, window = draft.fields, draft.time
    # Items open to grid members, party members or volunteers go through the task list (desk/tasks.py).
    placement = await desk.tasks.place_order(
        takers=item.order.takers if item.order else ("staff",),
        resident=ctx.message.resident,
        item_id=item.id,
        category=item.category,
        name=fields.get("name", ""),
        mobile=fields.get("mobile", ""),
        fields={k: v for k, v in fields.items() if k not in ("name", "mobile") and not k.startswith("_")},
        window=(window.start, window.end) if window else None,
        urgent=draft.urgent,
        request_key=draft.key,
        # A hazard is dealt with the same day, whatever the item's usual working days.
        limits=replace(limits_of(item), working_days=0) if draft.urgent else limits_of(item),
    )
    number = placement.ticket.number
    ctx.conversation.enter(PLACED, Placed(item.id, number))
    if not placement.created:
        return Reply(f"这个预约已经提交过了，工单号 {number}。回复“进度”可以查看办理情况。")
    lines = [f"已提交！工单号 {number}（请记下，查进度时报这个号）。"]
    if placement.route == "grid":
        lines.append(f"已派给您所在网格的{placement.assignee[:1]}老师（网格员），会尽快和您联系。")
    elif placement.route == "groups":
        lines.append("已发到社区党员和志愿者的接单群，有人接单后会通知您，并和您联系。")
    elif placement.assignee and placement.on_duty:
        lines.append(f"已派给值班的{placement.assignee[:1]}老师，会尽快和您联系。")
    elif placement.opens_at is not None:
        opens = placement.opens_at.astimezone(ctx.services.tz)
        lines.append(f"现在不是值班时间，{_moment(opens)}值班工作人员上班后会马上处理，并和您联系。")
    else:
        lines.append("工作人员上班后会和您联系。")
    if draft.urgent:
        # Said plainly: a trial resident with sewage at his door read only the usual 3 working days (Z4 r12).
        lines.append("已按紧急报修处理，当天安排人来看。")
        lines.append("如有燃气味、井盖缺失等危险，请先远离，并拨打 119 或燃气公司抢修电话。")
    lines.append(f"查进度回复“进度”；不办了回复“取消 {number}”。办好后会通知您，请给我们的服务打个分。")
    kept = await profile.remember(ctx, draft)  # consent by informing: what is kept, how to erase it
    return Reply("\n".join([*lines, kept] if kept else lines))


def _note_superseded(ctx: Context, draft: OrderDraft) -> None:
    """The first message kept in the description says a time or phone changed since ("这个礼拜六下午2点到5点",
    then 改到礼拜天): the value booked is noted after it, so staff reading the description are not misled
    (trial Z4 r15 and r19: the ticket still said Saturday and the wrong number)."""
    said = draft.fields.get("said") or draft.fields.get("description") or ""
    if not said:
        return
    if draft.time is not None:
        try:
            first = read_window(said, draft.at)
        except WhenError:
            first = None
        if first is not None and (first.start, first.end) != (draft.time.start, draft.time.end):
            _add_note(draft, f"时间已改为 {draft.time.describe()}")
    mobile = draft.fields.get("mobile", "")
    if mobile and mobile not in said and mobiles_in(said):
        _add_note(draft, f"电话已改为 {mobile}")


def limits_of(item: Item) -> Limits:
    """The handbook's time limits for the item: claim minutes, and working days to complete (0: 即办)."""
    working_days = item.time_limit.days if item.time_limit.kind == "working_days" else 0
    return Limits(item.order.claim_minutes if item.order else DEFAULT_CLAIM_MINUTES, working_days)


def _moment(moment: datetime) -> str:
    return f"{day_label(moment.date())}{moment:%H:%M}"
