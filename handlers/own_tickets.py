"""A resident's own tickets come first: "我的单子呢", "居住证那个不办了", "10006 改时间".

Checked before the classifier, so a message about a ticket the resident already has (naming its
number, its item, its time, or just "那个单子") is a status, cancel or change request for that
ticket and never a new order. The matcher only reads the message; the handler loads the
resident's open tickets and declines when there are none (or none fits), so the message goes on
to the classifier as before. Which ticket: by number, then item, then the kind of request (an
appointment or a repair), then time, then the only one; when two remain, it asks (WHICH_TICKET).
A change without its value ("时间要改一下") asks for it (AMENDING).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from desk.amend import Amendment
from desk.clocks import local
from desk.masking import mask_mobile, mask_text
from desk.refusals import Refused
from desk.states import OPEN_STATES
from handlers import complaints, facts, ordering
from handlers.conversation import AFTER_ITEM, AMENDING, WHICH_TICKET, Amending, Pending
from handlers.office import open_on
from handlers.types import Context, Reply
from handlers.wording import STATE_NAMES, item_title, refusal
from intents.classifier import BOOKED_SAID, ORDERED_ANEW
from intents.contact import ContactError, read_address, read_mobile, read_name
from intents.normalize import simplify
from intents.when import WhenError, Window, check_booked_week, read_window


class Ticket(Protocol):
    """What these handlers read of a ticket (the desk's rows; handlers never import the ORM)."""

    number: str
    item_id: str
    state: str
    assignee: str | None
    fields: dict[str, Any]
    wanted_start: datetime | None
    wanted_end: datetime | None
    claim_remind_at: datetime | None
    done_due_at: datetime | None
    updated_at: datetime | None


# A number right after 取消 / 查 / 进度 / 工单 is the ticket the resident means, whatever its length.
_SAID_NUMBER = re.compile(r"(?:取消|撤销|撤回|查|进度|工单|单号)\s*[#＃号]?\s*(\d+)")
_NUMBER = re.compile(r"(?<!\d)(\d{5,10})(?!\d)")  # a ticket number of any length; 11 digits: a mobile
_CHOICE = re.compile(r"^\s*(?:第)?([1-9])(?:个|张|号)?\s*$")
_NOT = re.compile(r"(不是|而不是).*$")
_LEAD = re.compile(r"^[了是为成到：:，,\s]+")
_PLACE = re.compile(r"栋|幢|号楼|小区|苑|院|村|路|街|花园|家园|公寓")
FIELDS = ("time", "address", "name", "mobile")
LABELS = {"time": "时间", "address": "地址", "name": "联系人", "mobile": "电话"}
QUESTIONS = {
    "time": "想改到什么时候？比如“礼拜五下午”“下周一上午10点”。",
    "address": "新的地址是？（小区、几栋几单元几号）",
    "name": "联系人改成谁？请说姓名。",
    "mobile": "新的手机号码是？",
}


@dataclass(frozen=True, slots=True)
class OwnRequest:
    """What a message asks about the resident's own tickets, as read from the text alone."""

    # status | cancel | change | add | hurry | note | included | handler_phone | waiting | in_person
    action: str
    text: str
    number: str | None = None  # a ticket number it names
    items: tuple[str, ...] = ()  # items it names (classifier's item detection)
    kind: str | None = None  # booking | report: an appointment or a repair
    when: Window | None = None  # a time that refers to the ticket ("礼拜五那个")
    own: bool = False  # says it is the resident's own ("我报的", "我的单子")
    every: bool = False  # "两个都取消"
    fields: tuple[str, ...] = ()  # change: what to change
    value: str = ""  # change: the words after the change cue (the new value)


_ASKS_WHICH_DAY = re.compile(r"哪天|哪一天|礼拜几|星期几|周几|几号|几点|什么时候|啥时候|好久")
_NUMBER_OR_PHONE = re.compile(r"1\d{10}|\d{3,4}-?\d{7,8}")
_NO_CHANGE = re.compile(r"^(不改|不用改|不要改|不是要改|没说要改|没有要改|不是改)")
# What may stand around a ticket number when the message is only the number.
_BARE_NUMBER_WORDS = re.compile(r"工单|单号|单子|编号|号码|号|我的|那个|这个|是|的|查|一下|\d+")


def read(ctx: Context, text: str) -> OwnRequest | None:
    """The request in `text`, or None when it asks nothing about the resident's tickets."""
    lexicon = ctx.services.classifier.lexicon
    own = lexicon.own_tickets
    norm = lexicon.normalize(text)
    mine = lexicon.own_request.search(norm.replace(" ", "")) is not None
    if not norm or (lexicon.human.search(norm) and not mine) or lexicon.rate.search(norm):
        # A person, a complaint or a rating: their own routes — unless the person is the one their
        # own request is waiting for ("我前两天约的打扫 咋个还没得人给我打电话": trial BB r19).
        return None
    if (
        lexicon.in_general.search(norm)
        and not mine
        and not _NUMBER.search(simplify(text))
        and ctx.services.classifier.items_in(text)
        and not lexicon.cancel.search(norm)
    ):
        return None  # "一般报修好久来修嘛": how long it usually takes, not their ticket (trial Z5 r17)
    noted = own["note"].match(norm.replace(" ", "")) if "note" in own else None
    if ORDERED_ANEW.search(norm) and not lexicon.cancel.search(norm):
        return None  # "那还是重新报个修嘛 催一下": a new request, for the order route
    if lexicon.cancels_only_if(norm):
        # "…还有用没得 不行的话就取消算了": the question first; the ticket stays until they say so
        # (trial GG r19's visit was cancelled and the question left unanswered).
        return None
    if "in_person" in own and own["in_person"].search(norm) and not _EXPLICIT_CANCEL.search(norm):
        action = "in_person"  # "算了 我明天问上门的人": the booking stands (trial Z6's was cancelled)
    elif lexicon.cancel.search(norm) or own["cancel"].search(norm):
        action = "cancel"
    elif noted and not _NUMBER_OR_PHONE.search(norm[noted.end() :]):
        action = "note"  # "补充一句 上门前先打电话": opens with it, and gives no new number
    elif "add_on" in own and own["add_on"].search(norm) and (mine or BOOKED_SAID.search(norm)):
        action = "add"  # "棋牌室我订的星期六 再加个星期天": onto the booking, for the staff to confirm
    elif _placed_from_another_wechat(text) and (
        lexicon.asks_progress(norm) or _NUMBER.search(simplify(text))
    ):
        action = "status"  # "工单号10006 现在啥子情况了 我换了个手机登的微信": no new phone (trial YY r16)
    elif (
        own["change"].search(norm)
        # "那天上门我要提前准备啥子": 提前 there is not moving the visit (a session-8 trial resident
        # was walked into changing its time).
        and not lexicon.asks_documents(norm.replace(" ", ""))
        and (fields := _fields(ctx, norm, text))
    ):
        action = "change"
    elif "included" in own and own["included"].search(norm):
        action = "included"  # "下水道那个也一起报了没有": is it on the ticket? (trial NN)
    elif "handler_phone" in own and own["handler_phone"].search(norm):
        action = "handler_phone"  # "王老师电话多少嘛": how to reach whoever has it (trial AA r12, r19)
    elif "hurry" in own and own["hurry"].search(norm):
        action = "hurry"  # "漏得越来越凶了 快点来": the ticket they have, now urgent
    elif "note" in own and own["note"].search(norm):
        action = "note"  # "补充一下工单10003 老人叫张秀英 耳朵有点背": words for the staff on it
    elif "waiting" in own and own["waiting"].search(norm) and not lexicon.question.search(norm):
        action = "waiting"  # "好嘛 那我等赵老师电话": said back, not the service menu (trial HH r11)
    elif lexicon.asks_progress(norm) or (mine and _ASKS_WHICH_DAY.search(norm)):
        # "我约的那个是礼拜几来着": when their own booking is (trial FF r20 got the office hours).
        action = "status"
    elif _NUMBER.search(simplify(text)) and not _BARE_NUMBER_WORDS.sub("", norm.replace(" ", "")):
        action = "status"  # "工单号10001", "10001": the ticket itself (a trial got a phone company)
    elif _NUMBER.search(simplify(text)) and (
        lexicon.question.search(norm) or lexicon.availability.search(norm)
    ):
        # "10001那个一般好多天能修好嘛" (session-7 trial), "那10009那个单子还算数不" (trial N): a
        # question about that ticket
        action = "status"
    else:
        return None
    reference, value = norm, ""
    if action == "change":
        last = list(own["change"].finditer(norm))[-1]
        reference, value = norm[: last.start()], norm[last.end() :]
    number = _NUMBER.search(simplify(text))
    hotlines = hotline_numbers(ctx)
    if number is not None and number.group(1) in hotlines:
        # "实在不行我打12345了": a hotline's number, not a ticket's (trial R was sent to 12345)
        number = None
        if action == "status" and not lexicon.asks_progress(norm):
            return None
    said_number = _SAID_NUMBER.search(simplify(text))
    if said_number and said_number.group(1) in hotlines:
        said_number = None
    if said_number and (number is None or said_number.group(1) != number.group(1)):
        return None  # "取消 9", "取消 12147483648": a number that is no ticket's; never guess which
    kind = next((k for k in ("booking", "report") if own[k].search(reference)), None)
    return OwnRequest(
        action,
        text,
        number.group(1) if number else None,
        ctx.services.classifier.items_in(text),
        kind,
        _when(reference, ctx.services.now()),
        bool(lexicon.own_request.search(norm)),
        bool(own["every"].search(norm)),
        fields if action == "change" else (),
        value,
    )


def hotline_numbers(ctx: Context) -> set[str]:
    """Every public number the handbook gives (12345, 12315, 12123…): never a ticket's number."""
    handbook = ctx.services.handbook
    numbers = {place.phone for place in handbook.referrals if place.phone}
    if handbook.emergency is not None:
        numbers |= {number.phone for number in handbook.emergency.numbers.values()}
    return numbers


def own_request(ctx: Context) -> OwnRequest | None:
    """The route's matcher: a status, cancel or change request in the message."""
    return read(ctx, ctx.message.text.strip())


def _fields(ctx: Context, norm: str, text: str) -> tuple[str, ...]:
    """What a change asks to change; () when the message names nothing changeable."""
    own = ctx.services.classifier.lexicon.own_tickets
    found = [name for name in ("address", "name", "mobile") if own[name].search(norm)]
    try:
        if "mobile" not in found and read_mobile(_NUMBER.sub(" ", text)):
            found.append("mobile")
    except ContactError:
        pass
    words = ctx.services.classifier.lexicon.field_words["time"]
    if own["retime"].search(norm) or words.search(norm) or (not found and _when(norm, ctx.services.now())):
        found.insert(0, "time")
    return tuple(found)


def _when(text: str, now: datetime) -> Window | None:
    text = _SAID_NOW.sub(" ", text)
    try:
        return read_window(text, now) if text.strip() else None
    except WhenError:
        return None


# The time it is now, said in passing ("现在凌晨四点老人在睡觉"): no time asked for (session-12
# trial P: a visit was moved to 04:00).
_SAID_NOW = re.compile(
    r"(现在|这会儿|此刻|眼下)(是|都|已经)?(凌晨|早上|上午|中午|下午|晚上|半夜)?[0-9一二三四五六七八九十两]+点(半|多|钟)?"
)


# ---- the handlers -------------------------------------------------------------------------------


async def answer(ctx: Context, request: OwnRequest) -> Reply | None:
    """Status, cancel or change of the ticket the message means; None (declined) when it means none."""
    desk = ctx.services.desk
    if desk is None:
        return None
    tickets = await desk.resident_tickets(ctx.message.resident, limit=10)
    open_tickets = [t for t in tickets if t.state in OPEN_STATES]
    if request.number is not None:
        named = [t for t in tickets if t.number == request.number]
        if (
            not named
            and request.action == "status"
            and any(map(placed_by_someone_else, (request.text, *ctx.conversation.recent)))
        ):
            # "工单号10006 现在啥子情况了 我换了个手机登的微信": placed from another WeChat — never shown
            # here (numbers are guessable), looked up by a person (trial YY r16 was told nothing was
            # ever placed and walked into a new repair form).
            return await placed_elsewhere(ctx, request.text, open_tickets)
        if not named:
            return None  # not one of theirs: the classifier's status/cancel words the refusal
        chosen = named
    else:
        if not open_tickets:
            again = await _booked_again(ctx, request, tickets)
            return again if again is not None else await _made_elsewhere(ctx, request)
        booking_said = request.action == "add" or {"time", "address"} & set(request.fields)
        if booking_said and all(t.kind in _NOT_BOOKINGS for t in open_tickets):
            # "那我帮她改个时间 改到礼拜四上午" with only a hand-off open: the booking is another
            # WeChat's, so the change goes to the person answering (trial Z13 r12's hand-off had its
            # time and address changed instead); its own phone or name is still changed ("电话改一下").
            return await _passed_on(ctx, request, open_tickets[0])
        # A note with one open ticket is for that ticket, whatever its words name ("上门前先打电话").
        one = request.action == "note" and len(open_tickets) == 1
        picked = open_tickets if one else pick(ctx, request, open_tickets)
        if picked is None and request.action in ("handler_phone", "included", "in_person"):
            picked = open_tickets  # "王老师电话多少 我白天上班": whoever has any of them (白天 is no booking)
        if picked is None:
            return await _made_elsewhere(ctx, request)
        chosen = picked
    ctx.conversation.forget()
    if request.action == "handler_phone":
        return _handler_phone(ctx, chosen)
    if request.action == "included":
        return await _included(ctx, request, chosen)
    if request.action == "status" and _placed_from_another_wechat(request.text):
        # "我是用我儿子手机报的 电话138…": that ticket is another WeChat's, not shown here and never
        # looked up by a phone number anyone can type — a person finds it (trial XX r12 was walked
        # into a new repair form three times).
        return await placed_elsewhere(ctx, request.text, chosen)
    if request.action == "status" and placed_by_phone_call(request.text):
        return await placed_elsewhere(ctx, request.text, chosen, by_phone=True)
    if request.action == "status" and (before := _said_before_them(ctx, request.text, chosen)):
        # "上个月那个报修单你们查得到不" with only today's repair here: last month's was made at the
        # window or by phone — said so and looked up, not today's shown (trial Z11 r12).
        return await placed_elsewhere(ctx, request.text, chosen, before=before)
    if request.action == "status":
        if len(chosen) == 1 and chosen[0].item_id in ctx.services.handbook.items:
            ctx.conversation.enter(AFTER_ITEM, chosen[0].item_id)  # a question next is about its item
        asked = _asked_fact(ctx, request.text, chosen)
        told = []
        # "周二去过了 材料都交了 现在到哪一步了": what they did goes onto the ticket for the staff to
        # update (trial SS r20 was told only the booking's time).
        said_done = len(chosen) == 1 and _SAYS_DONE.search(simplify(request.text)) is not None
        if said_done and await _noted(ctx, chosen[0], request.text.strip()[:300]):
            told.append("您说的已经写进工单，工作人员核对后会更新进度、和您联系。")
        lines = [*(status_line(ctx, t) for t in chosen), *told, *asked, _STATUS_FOOTER]
        return Reply("\n".join(lines))
    if request.action == "hurry" and len(chosen) > 1:
        undated = [t for t in chosen if t.wanted_start is None]  # a repair or report, not a booking
        chosen = undated if len(undated) == 1 else chosen
    if request.action == "hurry" and len(chosen) == 1:
        return await _hurry(ctx, request, chosen[0])
    if request.action == "note" and len(chosen) == 1:
        return await _note(ctx, request, chosen[0])
    if request.action == "add" and len(chosen) == 1:
        return await _add(ctx, request, chosen[0])
    if request.action == "waiting":
        return await _waiting(ctx, request, chosen)
    if request.action == "in_person":
        return _in_person(ctx, chosen)
    if request.action == "cancel" and request.every:
        return await _cancel(ctx, chosen)
    if len(chosen) > 1:
        return _ask_which(ctx, request, chosen)
    if request.action == "cancel" and _unsure(ctx, request.text):
        return _cancel_or_retime(ctx, chosen[0])
    if request.action == "cancel":
        return await _cancel(ctx, chosen)
    return await change(ctx, request, chosen[0])


# Said to have been done on their side: "周二去过了 材料都交了".
_SAYS_DONE = re.compile(
    r"(去过了|来过了|已经去了|已经来了|(材料|资料)[^ ]{0,2}(都|已经)?交(了|过了|上去了)|交过材料)"
)


async def _waiting(ctx: Context, request: OwnRequest, tickets: list[Ticket]) -> Reply:
    """ "好 我等电话": who will call about which ticket, and the duty phone if it cannot wait; "周一上午
    我在屋头等你们" (a time said) is written onto the one ticket (trial PP r07 was asked for it again)."""
    office = ctx.services.handbook.office
    said = request.text.strip()[:300]
    if len(tickets) == 1 and _when(ctx.services.classifier.lexicon.normalize(said), ctx.services.now()):
        ticket = tickets[0]
        if await _noted(ctx, ticket, said):
            who = _teacher(ticket, "值班的工作人员")
            return Reply(
                f"好的，“{said}”已经写进工单 {ticket.number}【{_title(ctx, ticket)}】，{who}会按这个时间"
                f"联系您。着急的话打社区值班手机 {office.duty_phone}。"
            )
    lines = []
    for ticket in tickets:
        who = _teacher(ticket, "值班的工作人员")
        lines.append(f"好的，工单 {ticket.number}【{_title(ctx, ticket)}】{who}会打电话联系您。")
    lines.append(f"着急的话打社区值班手机 {office.duty_phone}；方便接电话的时间告诉我，我写进工单。")
    return Reply("\n".join(lines))


def _handler_phone(ctx: Context, tickets: list[Ticket]) -> Reply:
    """Staff members' own mobiles are theirs: the resident is told who has the ticket, that they
    will call, and the duty phone that reaches someone now (trial AA asked twice and got the office
    card, then the home-care checklist)."""
    office = ctx.services.handbook.office
    lines = []
    for ticket in tickets:
        who = _teacher(ticket, "值班工作人员")
        lines.append(f"工单 {ticket.number}：{who}负责，会用社区的电话和您联系，来电请留意接听。")
    lines.append(
        f"工作人员的个人手机不能在这里发给您；要找负责的人，打社区值班手机 {office.duty_phone}"
        f"（或社区电话 {office.phone}）并报工单号，会帮您转告。"
    )
    return Reply("\n".join(lines))


async def _note(ctx: Context, request: OwnRequest, ticket: Ticket) -> Reply:
    """What the resident adds for the staff, written onto the ticket (kept with what was added before)."""
    if not await _noted(ctx, ticket, request.text.strip()[:300]):
        return Reply(f"工单 {ticket.number} 已经办结或取消了，补充的话请回复“人工”告诉工作人员。")
    return Reply(f"好的，已经写进工单 {ticket.number}，工作人员处理时会看到。还有要补充的直接说。")


async def _add(ctx: Context, request: OwnRequest, ticket: Ticket) -> Reply:
    """ "再加个星期天 两天都要": written onto the booking for the staff, who confirm whether the extra
    day, portion or person can be fitted in — never a second booking the duplicate check refuses."""
    if not await _noted(ctx, ticket, request.text.strip()[:300]):
        return Reply(f"工单 {ticket.number} 已经办结或取消了，要加的请重新约，或回复“人工”告诉工作人员。")
    who = _teacher(ticket, "值班的工作人员")
    return Reply(
        f"好的，您要加的已经写进工单 {ticket.number}【{_title(ctx, ticket)}】，{who}确认能不能安排后"
        "在这里回复您；原来约的照旧。"
    )


# Tickets that are no booking: a change of time or place is words for the person on them.
_NOT_BOOKINGS = frozenset({"handoff", "complaint"})


async def _passed_on(ctx: Context, request: OwnRequest, ticket: Ticket) -> Reply:
    """The change written onto the hand-off or complaint for the person answering it."""
    if not await _noted(ctx, ticket, request.text.strip()[:300]):
        return Reply("要改的预约不在这个微信上：请回复“人工”，告诉工作人员要改哪一张、改成什么。")
    who = _teacher(ticket, "值班的工作人员")
    return Reply(
        f"这个微信上没有可以改的预约；您要改的已经转告{who}（工单 {ticket.number}），"
        "核对是哪一张后帮您改，改好在这里告诉您。"
    )


async def _made_elsewhere(ctx: Context, request: OwnRequest) -> Reply | None:
    """A change or addition to a booking with none open here ("预约的星期三去办居住证 改到星期五行不行",
    "法律咨询约的明天下午 能改成上午不"): made at the window, by phone or on another WeChat, so a
    person makes the change — not the service's checklist (blind batch 85 got it five times); None
    when the message does not say a booking was made."""
    if request.action not in ("change", "add"):
        return None
    if request.action == "change" and "time" not in request.fields:
        return None  # "身份证上名字写错了 能改成…": a question, not a booking's change
    # Said as made ("约的", "我订的"): "活动室要提前几天约" asks the rule, and books nothing.
    norm = ctx.services.classifier.lexicon.normalize(request.text)
    if not (request.own or BOOKED_SAID.search(norm)):
        return None
    return await relayed_elsewhere(ctx, request.text, "改" if request.action == "change" else "加上")


async def relayed_elsewhere(ctx: Context, text: str, wanted: str) -> Reply | None:
    """A booking made at the window, by phone or on another WeChat, to be changed, added to or called
    off (`wanted`: 改, 加上, 取消): a person does it, with a ticket; None without a desk."""
    relayed = await complaints.hand_off(ctx, text)
    if relayed is None:
        return None
    return Reply(
        f"我这里查不到您在微信上约的；在窗口、电话或别的微信上约的，已经请工作人员帮您{wanted}。\n{relayed.text}"
    )


async def _noted(ctx: Context, ticket: Ticket, said: str) -> bool:
    """`said` added to the ticket's note; False when the ticket is closed."""
    desk = ctx.services.desk
    assert desk is not None
    before = (ticket.fields or {}).get("note", "")
    try:
        await desk.add_detail(
            ctx.message.resident, ticket.number, "note", f"{before}；{said}" if before else said
        )
    except Refused:
        return False
    return True


async def _included(ctx: Context, request: OwnRequest, tickets: list[Ticket]) -> Reply:
    """ "下水道那个也一起报了没有": yes, quoting the ticket that says it; else it is added to the
    latest open ticket as a note, so the promise "会一起处理" has the ticket behind it."""
    lexicon = ctx.services.classifier.lexicon
    norm = lexicon.normalize(request.text)
    cue = lexicon.own_tickets["included"].search(norm)
    subject = _INCLUDED_LEAD.sub("", norm[: cue.start()] if cue else "").strip()
    if not subject and cue is not None and cue.end() < len(norm):
        # "单子上有没有我说的东门垃圾站和我电话…": what the ticket holds, read back to them.
        return Reply("\n".join([*(_written_on(ctx, t) for t in tickets), _STATUS_FOOTER]))
    if not subject:
        return Reply("\n".join([*(status_line(ctx, t) for t in tickets), _STATUS_FOOTER]))
    wanted = subject.replace(" ", "")
    for ticket in tickets:
        fields = ticket.fields or {}
        for written in (str(fields.get("description", "")), *str(fields.get("note", "")).split("；")):
            if wanted in lexicon.normalize(written).replace(" ", ""):
                return Reply(
                    f"报了：工单 {ticket.number}【{_title(ctx, ticket)}】里写着“{written[:60]}”，"
                    "工作人员会一起处理。"
                )
    latest = max(tickets, key=lambda t: t.created_at)
    if not await _noted(ctx, latest, f"还有：{subject}"):
        return Reply(f"工单 {latest.number} 已经办结或取消了，要另外报请直接说是什么事、在哪里。")
    return Reply(
        f"工单 {latest.number}【{_title(ctx, latest)}】里原来没写“{subject}”，已经补进去了，"
        "工作人员处理时会一起看；不是一回事、要另外报的，直接说是什么事、在哪里。"
    )


def _written_on(ctx: Context, ticket: Ticket) -> str:
    """What a ticket holds, as its resident may see it: place, phone (masked), their words, notes."""
    fields = ticket.fields or {}
    labels = (
        ("address", "地址"),
        ("mobile", "电话"),
        ("description", "情况"),
        ("more", "补充"),
        ("note", "备注"),
    )
    said = [
        f"{label}：{mask_mobile(value) if key == 'mobile' else mask_text(value)}"
        for key, label in labels
        if (value := str(fields.get(key) or "").strip())
    ]
    body = "；".join(said) if said else "还没有写地址、电话和情况"
    return f"工单 {ticket.number}【{_title(ctx, ticket)}】里记着：{body[:300]}。"


# Said before the thing asked about: "还有那个", "那", "就是".
_INCLUDED_LEAD = re.compile(
    r"^(还有|另外|那|就是|我|新的|刚才的|刚刚的|今天的|这个|那个|这张|那张)+|(那个|那件事|那件|的事|的)$"
)


def pick(ctx: Context, request: OwnRequest, tickets: list[Ticket]) -> list[Ticket] | None:
    """The tickets the request can mean, narrowed by item, kind and time; None: it means none of them."""
    handbook = ctx.services.handbook
    candidates = tickets
    if "time" in request.fields:
        timed = [t for t in candidates if t.wanted_start is not None or _has(ctx, t, "time")]
        candidates = timed or candidates
    items = [i for i in request.items if i in handbook.items]
    if items:
        by_item = [t for t in candidates if t.item_id in items]
        named = set(ctx.services.classifier.names_in(request.text))
        if by_item:
            candidates = by_item
        elif _HANDED_IN_ELSEWHERE.search(simplify(request.text)):
            return None  # "上个月我在社区窗口交了高龄津贴的申请 钱还没到": not a ticket of theirs here
        elif request.action in ("add", "change") and named.intersection(items):
            return None  # "棋牌室我订的星期六 再加个星期天" with only a permit booked here: made elsewhere
        elif request.action == "hurry" and not named.intersection(items):
            pass  # "这都好几天了 能不能催一下": a keyword only (好几天), still their ticket (trial R)
        elif request.action == "hurry" or (
            request.action != "change" and not request.own and not request.kind
        ):
            return None  # it names another service: a question about that, not about these tickets
    if request.kind and len(candidates) > 1:
        booking = request.kind == "booking"
        by_kind = [t for t in candidates if (t.wanted_start is not None) == booking]
        candidates = by_kind or candidates
    if request.when is not None and len(candidates) > 1:
        at = [t for t in candidates if t.wanted_start and _overlaps(ctx, t, request.when)]
        candidates = at or candidates
    return candidates


# "我是用我儿子手机报的", "我换了个手机登的微信": the ticket was placed from another phone or WeChat.
_ANOTHER_WECHAT = re.compile(
    r"(用|拿|在)(我|我们)?(儿子|女儿|儿媳|媳妇|女婿|老伴|老公|老婆|孙子|孙女|外孙|别人|家里人|亲戚|邻居)"
    r"(的)?(手机|微信|电话|号)|换了?(个|一个|新)?(手机|微信|号)|(新|另一个|另外一个|别的)(手机|微信|号)"
    r"|(用|拿)(他|她)(的)?(手机|微信|号)"  # "是我老公用他的微信报的" (trial ZZ r16)
)
# "我老公今天上午在你们这报了楼道灯坏了 工单号10006": a family member placed it — only read so when
# the number cited is not one of this WeChat's (a son may well have used his mother's phone).
_FAMILY_PLACED = re.compile(
    r"(老公|老婆|丈夫|爱人|儿子|女儿|儿媳|媳妇|女婿|老伴|孙子|孙女|外孙|家里人|亲戚|邻居|老汉儿?|我妈|我爸)"
    r"[^。？！?!]{0,14}(报的|报了|约的|约了|提交的|登记的|反映的|反映了)"
)
# "我上个月打电话报的那个 你们系统头查得到不": placed by a phone call, not in this WeChat's list.
_BY_PHONE_CALL = re.compile(
    r"(打|拨)(了|的)?(个)?电话(来|过来)?(报|反映|说|投诉|登记)|电话里(报|反映|说|登记)"
)
# Why such a ticket is not shown here, said before a person is asked to look it up.
_UNSEEN_BY_PHONE = (
    "打电话报的事记在值班电话的登记本上，不在这个微信的单子里，我这里查不到；已经请工作人员帮您查是哪个接的、"
    "办到哪一步了。"
)
_UNSEEN_BEFORE = (
    "这个微信上没有{before}报的单子；{before}在窗口、电话或别的微信上报的，我这里查不到，"
    "已经请工作人员帮您查是哪个接的、为啥子还没办。"
)
_UNSEEN_NUMBER = (
    "工单 {number} 不是这个微信报的，我这里查不到，也不按单号给别的微信看（保护大家的信息）。"
    "在窗口、电话或别的微信上办的，已经请工作人员帮您核对。"
)
_UNSEEN_ANOTHER_WECHAT = (
    "换了手机、微信，或者用家里人的手机报的单，记在报单的那个微信名下，我这里查不到，也不按单号、"
    "电话号码给别的微信看（保护大家的信息）。用报单的那个微信发“进度”就能查；已经请工作人员帮您核对。"
)


def _placed_from_another_wechat(text: str) -> bool:
    return _ANOTHER_WECHAT.search(simplify(text)) is not None


def placed_by_phone_call(text: str) -> bool:
    return _BY_PHONE_CALL.search(simplify(text)) is not None


def placed_by_someone_else(text: str) -> bool:
    """Another WeChat's ticket, or one a family member placed (read only for a number not theirs)."""
    return _placed_from_another_wechat(text) or _FAMILY_PLACED.search(simplify(text)) is not None


# A request said to date from before: "上个月那个报修单", "去年报的".
_EARLIER = re.compile(r"上上个月|上个月|上月|上个?礼拜|上个?星期|上周|去年|几个月前|一个多月前|两个月前")


def _said_before_them(ctx: Context, text: str, tickets: list[Ticket]) -> str | None:
    """The words dating the request meant ("上个月") when every one of `tickets` was placed after the
    time they name; None when nothing is dated or one of them fits."""
    said = _EARLIER.search(simplify(text))
    if said is None or not tickets:
        return None
    today = ctx.services.now().astimezone(ctx.services.tz).date()
    word = said.group()
    if "年" in word:
        bound = today.replace(month=1, day=1)
    elif "礼拜" in word or "星期" in word or "周" in word:
        bound = today - timedelta(days=today.weekday())
    else:
        bound = today.replace(day=1)  # 上个月, 几个月前: before this month began
    placed = [t.created_at.astimezone(ctx.services.tz).date() for t in tickets]
    return word if all(day >= bound for day in placed) else None


async def placed_elsewhere(
    ctx: Context,
    text: str,
    shown: list[Ticket],
    *,
    by_phone: bool = False,
    number: str = "",
    before: str = "",
) -> Reply:
    """A ticket placed from another WeChat or by a phone call, or a number that is none of this
    WeChat's: said why it is not shown, a person asked to look it up, and this WeChat's own tickets
    (the status route uses it too)."""
    checked = await complaints.hand_off(ctx, text)
    unseen = _UNSEEN_BY_PHONE if by_phone else _UNSEEN_ANOTHER_WECHAT
    if number:
        unseen = _UNSEEN_NUMBER.format(number=number)
    elif before:
        unseen = _UNSEEN_BEFORE.format(before=before)
    lines = [
        unseen,
        *([checked.text] if checked is not None and checked.text else []),
    ]
    if shown:
        lines.extend(["您在这个微信上的：", *(status_line(ctx, t) for t in shown)])
    return Reply("\n".join(lines))


# A service applied for in person, not through the bot (trial VV r19 got her handoff ticket's state).
_HANDED_IN_ELSEWHERE = re.compile(r"窗口|当面|柜台|(去|在|到)社区(交|办|申请|递)|(去|在|到)(街道|民政)")


def _has(ctx: Context, ticket: Ticket, field: str) -> bool:
    item = ctx.services.handbook.items.get(ticket.item_id)
    return bool(item and item.order and field in item.order.fields)


def _overlaps(ctx: Context, ticket: Ticket, when: Window) -> bool:
    assert ticket.wanted_start is not None and ticket.wanted_end is not None
    start = ticket.wanted_start.astimezone(ctx.services.tz)
    end = ticket.wanted_end.astimezone(ctx.services.tz)
    return start < when.end and when.start < end


def _teacher(ticket: Ticket, nobody: str) -> str:
    """How residents call the staff member who has `ticket` (王老师), or `nobody` when no one has it."""
    return f"{ticket.assignee[:1]}老师" if ticket.assignee else nobody


def _title(ctx: Context, ticket: Ticket) -> str:
    """The item's title; complaints and handoffs by their Chinese names (a trial saw 【complaint】)."""
    return item_title(ctx.services.handbook.items, ticket.item_id)


def _moment(ctx: Context, moment: datetime) -> str:
    local = moment.astimezone(ctx.services.tz)
    today = ctx.services.now().date()
    day = "今天" if local.date() == today else f"{local.month}月{local.day}日"
    return f"{day} {local:%H:%M}"


_STATUS_FOOTER = "要改时间、地址或电话，直接说“改到礼拜五下午”“电话改成…”；不办了回复“取消 工单号”。"


def _asked_fact(ctx: Context, text: str, tickets: list[Ticket]) -> list[str]:
    """ "10001 一般好多天能修好": besides where the ticket is, the fact asked of its item (its time
    limit, fee, hours…), from the handbook."""
    if len(tickets) != 1:
        return []
    item = ctx.services.handbook.items.get(tickets[0].item_id)
    if item is None:
        return []
    # "好久来修哦 今晚…有人踩进去咋办": the item's own question asked beside the progress (trial SS r12).
    own = facts.own_answer(ctx, item, text)
    if own:
        return [own]
    aspect = facts.aspect_of(ctx, text)
    line = facts.fact(item, aspect, ctx.services.handbook) if aspect is not None else None
    return [line] if line else []


def status_line(ctx: Context, ticket: Ticket) -> str:
    """One ticket for the resident: item, state, who has it, the booked time, and the clock."""
    lines = [f"工单 {ticket.number}【{_title(ctx, ticket)}】：{STATE_NAMES[ticket.state]}"]
    teacher = _teacher(ticket, "")
    if ticket.state == "open" or not teacher:
        lines.append("还在等待派单，值班人员上班后会马上处理。")
    elif ticket.state == "assigned":
        clock = f"，按规定 {_moment(ctx, ticket.claim_remind_at)} 前接单" if ticket.claim_remind_at else ""
        late = (
            ticket.claim_remind_at is not None
            and local(ticket.claim_remind_at, ctx.services.tz) < ctx.services.now()
        )
        if late:
            # The deadline already passed (trial T was told "今天 09:10 前接单" at 09:12): said, with
            # what happens now — the deadline clock reminds them and, later, their superior.
            phone = ctx.services.handbook.office.phone
            clock += f"，已经超时，系统已提醒他，再不接会报给社区负责人；着急请打社区电话 {phone}"
        lines.append(f"已派给{teacher}负责{clock}，接单后会和您联系。")
    elif ticket.state == "accepted":
        due = f"，限 {_moment(ctx, ticket.done_due_at)} 前办结" if ticket.done_due_at else ""
        lines.append(f"{teacher}已接单负责{due}。")
    elif ticket.state == "done":
        lines.append(f"{teacher}已办好，请给这次服务打个分（1-5分）。")
    if ticket.kind == "complaint" and ticket.done_due_at and ticket.state in ("open", "assigned"):
        # "好多天之内给答复": a complaint's promise is its answer, not when someone takes it (session 8)
        lines.append(f"按规定 {_moment(ctx, ticket.done_due_at)} 前给您答复。")
    window = ordering.ticket_window(ctx, ticket)
    if window is not None and ticket.state in OPEN_STATES:
        lines.append(f"预约时间：{window.describe()}")
    return "\n".join(lines)


async def _hurry(ctx: Context, request: OwnRequest, ticket: Ticket) -> Reply:
    """Mark the ticket urgent (desk/hurry.py) and say so, with where it stands."""
    desk = ctx.services.desk
    assert desk is not None
    try:
        updated, told = await desk.hurry(ctx.message.resident, ticket.number, request.text)
    except Refused as refused:
        return Reply(refusal(refused))
    head = (
        "收到，已把您的工单标为紧急，马上发到了社区工作人员的群里。"
        if told
        else "刚才已经告诉社区工作人员了，您的工单是紧急的，他们会尽快处理。"
    )
    return Reply("\n".join([head, status_line(ctx, updated), _HURRY_FOOTER]))


_HURRY_FOOTER = "如果有人受伤、有危险，请先打 120（急救）、119（消防）或 110（报警），不要等我们。"


def _ask_which(ctx: Context, request: OwnRequest, tickets: list[Ticket]) -> Reply:
    verb = {"cancel": "取消", "change": "修改", "status": "查看", "hurry": "催办"}[request.action]
    lines = [f"您有 {len(tickets)} 张未办结的工单，要{verb}哪一张？请回复序号："]
    for index, ticket in enumerate(tickets, 1):
        window = ordering.ticket_window(ctx, ticket)
        when = f" {window.describe()}" if window else ""
        lines.append(f"{index}. 工单 {ticket.number}【{_title(ctx, ticket)}】{when}")
    ctx.conversation.enter(
        WHICH_TICKET, Pending(request.action, tuple(t.number for t in tickets), request.text)
    )
    return Reply("\n".join(lines))


async def choose(ctx: Context, pending: Pending) -> Reply | None:
    """The answer to "which ticket?": a number from the list or a ticket number; else declined."""
    text = simplify(ctx.message.text).strip()
    chosen = _CHOICE.match(text)
    number = None
    if chosen and int(chosen.group(1)) <= len(pending.numbers):
        number = pending.numbers[int(chosen.group(1)) - 1]
    elif (found := _NUMBER.search(text)) and found.group(1) in pending.numbers:
        number = found.group(1)
    ctx.conversation.forget()
    if number is None:
        return None
    request = read(ctx, pending.text) or OwnRequest(pending.action, pending.text)
    return await answer(ctx, replace(request, number=number))


def _in_person(ctx: Context, tickets: list[Ticket]) -> Reply:
    """The question kept for whoever comes: the bookings stand, said with their times."""
    lines = []
    for ticket in tickets:
        window = ordering.ticket_window(ctx, ticket)
        when = f"，时间 {window.describe()}" if window is not None else ""
        lines.append(f"好的，工单 {ticket.number}【{_title(ctx, ticket)}】照常{when}。")
    lines.append("到时候当面问工作人员就行；想先问我的，直接发过来。")
    return Reply("\n".join(lines))


def _unsure(ctx: Context, text: str) -> bool:
    """ "去不了了 咋个整": unable to come and asking what to do, with no word that says cancel (a
    trial resident's booking was cancelled when she wanted another day)."""
    lexicon = ctx.services.classifier.lexicon
    norm = lexicon.normalize(text)
    return lexicon.own_tickets["unsure"].search(norm) is not None and not _EXPLICIT_CANCEL.search(norm)


_EXPLICIT_CANCEL = re.compile(r"取消|不要了|不办了|不用了|退掉|撤销|撤回|作废")


def _cancel_or_retime(ctx: Context, ticket: Ticket) -> Reply:
    title = _title(ctx, ticket)
    return Reply(
        f"工单 {ticket.number}【{title}】：要取消，请回复“取消 {ticket.number}”；"
        "想换个时间，直接说新的时间，比如“改到下周三下午”。"
    )


async def _cancel(ctx: Context, tickets: list[Ticket]) -> Reply:
    desk = ctx.services.desk
    assert desk is not None
    lines = []
    for ticket in tickets:
        try:
            await desk.cancel(ctx.message.resident, ticket.number)
        except Refused as refused:
            lines.append(f"{refusal(refused)}。")
            continue
        lines.append(f"工单 {ticket.number}【{_title(ctx, ticket)}】已取消，我们会通知工作人员。")
    return Reply("\n".join([*lines, "需要时再找我。"]))


async def change(ctx: Context, request: OwnRequest, ticket: Ticket) -> Reply:
    """Read the new values and amend the ticket; ask for what is missing or cannot be served."""
    amendment = Amendment()
    for field in request.fields:
        try:
            amendment = _take(ctx, ticket, field, request, amendment)
        except (ContactError, WhenError) as exc:
            ctx.conversation.enter(AMENDING, Amending(ticket.number, field))
            return Reply(f"{exc}\n{QUESTIONS[field]}")
    missing = next((f for f in request.fields if not _given(amendment, f)), None)
    if not amendment:
        field = missing or "time"
        ctx.conversation.enter(AMENDING, Amending(ticket.number, field))
        what = f"工单 {ticket.number}【{_title(ctx, ticket)}】的{LABELS[field]}"
        return Reply(f"好的，改{what}。{QUESTIONS[field]}")
    return await _amend(ctx, ticket, amendment)


def _given(amendment: Amendment, field: str) -> bool:
    return (amendment.window if field == "time" else getattr(amendment, field)) is not None


def _take(ctx: Context, ticket: Ticket, field: str, request: OwnRequest, amendment: Amendment) -> Amendment:
    """`field` read from the request into the amendment (unchanged when the value was not said)."""
    value = request.value
    if field == "mobile":
        mobile = read_mobile(_NUMBER.sub(" ", request.text))  # not the ticket number
        return replace(amendment, mobile=mobile) if mobile else amendment
    if field == "name":
        for word in re.split(r"[\s，,。:：]+", value):
            word = re.sub(r"^(?:是|为|成|叫)", "", word)
            # Nor a time: "改成后天下午嘛" beside a name word was read as the contact (trial Z3 r20).
            if (
                word
                and not word.startswith("我")
                and not re.search(r"电话|手机|\d", word)
                and not _when(word, ctx.services.now())
            ):
                try:
                    return replace(amendment, name=read_name(word))
                except ContactError:
                    continue
        return amendment
    if field == "address":
        said = _NOT.sub("", _LEAD.sub("", value)).strip()
        if not said or not re.search(r"\d|[一二三四五六七八九十]", said):
            return amendment
        old = (ticket.fields or {}).get("address", "")
        new = read_address(said)
        if old and not _PLACE.search(new):  # "4楼和5楼之间那盏": where in the place already given
            new = f"{old}，{new}"
        return replace(amendment, address=new)
    item = ctx.services.handbook.items.get(ticket.item_id)
    if item is None or item.order is None:
        return amendment
    current = ordering.ticket_window(ctx, ticket)
    if current is not None and ctx.services.classifier.lexicon.own_tickets["week"].search(request.text):
        later = current.start + timedelta(days=7)  # "往后推一个礼拜": the same hours a week later
        said = f"{later.month}月{later.day}日{later:%H:%M}到{current.end + timedelta(days=7):%H:%M}"
        window = ordering.window_for(ctx, item, said)
    else:
        # Hours alone keep the booked day: "改到晚上7点到9点" of a Monday booking is Monday evening,
        # not this evening (a session-20 trial resident's change was read on the day she wrote).
        value = _without_booked_day(ctx, value, current)
        window = ordering.window_for(ctx, item, value, current) if value.strip() else None
        if window is not None and current is not None and _whole_day_said(ctx, value, current):
            # "改成礼拜三 时间还是一样的": the day moved, the booked hours kept (trial OO r19 was
            # booked for 09:00-21:00).
            day = window.start
            said = f"{day.month}月{day.day}日{current.start:%H:%M}到{current.end:%H:%M}"
            window = ordering.window_for(ctx, item, said)
    if window is not None and current is not None:
        check_booked_week(value, window.start, current.start)
    return replace(amendment, window=(window.start, window.end)) if window else amendment


def _without_booked_day(ctx: Context, value: str, current: Window | None) -> str:
    """The new time's words without a clause that names the booked day as the reason ("改到星期五行不行
    星期三要加班走不脱" of a Wednesday booking: blind batch 85 was asked which of the two days)."""
    clauses = [c for c in re.split(r"[\s,，。;；!！?？]+", value) if c]
    if current is None or len(clauses) < 2:
        return value
    now = ctx.services.now()
    kept = []
    for clause in clauses:
        try:
            said = read_window(clause, now)
        except WhenError:
            said = None
        # The weekday, not the date: "星期三" said in the week before the booked Wednesday is that day.
        if said is None or said.start.weekday() != current.start.weekday():
            kept.append(clause)
    return " ".join(kept) if kept and len(kept) < len(clauses) else value


def _whole_day_said(ctx: Context, value: str, current: Window) -> bool:
    """Only a day said (no part of it, no clock): the change keeps the booked hours."""
    try:
        said = read_window(value, ctx.services.now(), unsaid_day=current.start.date())
    except WhenError:
        return False
    return said is not None and said.end - said.start >= timedelta(hours=23)


async def _amend(ctx: Context, ticket: Ticket, amendment: Amendment) -> Reply:
    desk = ctx.services.desk
    assert desk is not None
    try:
        changed = await desk.amend(ctx.message.resident, ticket.number, amendment)
    except Refused as refused:
        return Reply(f"{refusal(refused)}。")
    said = []
    window = ordering.ticket_window(ctx, changed)
    if amendment.window and window:
        said.append(f"时间改为 {window.describe()}")
    if amendment.address:
        said.append(f"地址改为 {amendment.address}")
    if amendment.name:
        said.append(f"联系人改为 {amendment.name}")
    if amendment.mobile:
        said.append(f"电话改为 {amendment.mobile}")
    who = f"已通知{_teacher(changed, '值班工作人员')}"
    if changed.item_id in ctx.services.handbook.items:
        # "对了 我爸户口本找不到了 只有身份证 还能办不" next is about that ticket's item (trial DD
        # r20 got the household registration).
        ctx.conversation.enter(AFTER_ITEM, changed.item_id)
    done = f"工单 {changed.number}【{_title(ctx, changed)}】已改好：{'，'.join(said)}。{who}。"
    # "改到礼拜六上午嘛 礼拜六你们能办不": the day's hours too (trial Z5 r20 asked again).
    opened = open_on(ctx, ctx.message.text) if amendment.window else None
    return Reply(f"{done}\n{opened}" if opened else done)


REBOOK_REACH = timedelta(hours=2)


def _cancelled_lately(ctx: Context, tickets: list[Ticket]) -> Ticket | None:
    """The resident's latest ticket when it was cancelled less than REBOOK_REACH ago."""
    latest = tickets[0] if tickets else None
    if latest is None or latest.state != "cancelled" or latest.updated_at is None:
        return None
    cancelled = latest.updated_at
    if cancelled.tzinfo is None:  # SQLite hands datetimes back without their zone; they are UTC
        cancelled = cancelled.replace(tzinfo=UTC)
    return latest if cancelled >= ctx.services.now() - REBOOK_REACH else None


async def _booked_again(ctx: Context, request: OwnRequest, tickets: list[Ticket]) -> Reply | None:
    """A status or cancel asked about a booking cancelled a moment ago is told so; a change asked for
    one ("哎 我搞错了 复查是礼拜三 那还是要办 改到礼拜四下午行不行": trial EE r20 got the apology):
    a cancelled ticket stays cancelled, so the same service is booked anew with the time said."""
    latest = _cancelled_lately(ctx, tickets)
    if latest is None:
        return None
    if request.action in ("status", "cancel"):
        # "取消了王老师那边晓得不 不会再给我留着吧": about the cancellation just made, not "您现在没有可以
        # 取消的预约" (trial GG r20).
        teacher = _teacher(latest, "值班的工作人员")
        return Reply(
            f"工单 {latest.number}【{_title(ctx, latest)}】已经取消了，{teacher}那边也通知到了，"
            "不会再给您留着。要重新约，直接说就行。"
        )
    if request.action != "change" or latest.item_id not in ctx.services.handbook.items:
        return None
    started = await ordering.start(ctx, latest.item_id, request.text)
    again = f"工单 {latest.number} 已经取消了，不能恢复；我帮您重新约一张。"
    return replace(started, text=f"{again}\n{started.text}")


async def amend_value(ctx: Context, amending: Amending) -> Reply | None:
    """The new value asked for ("想改到什么时候？"); another request is handled as itself."""
    desk = ctx.services.desk
    text = ctx.message.text.strip()
    if desk is None:
        return None
    plain = ctx.services.classifier.normalize(text).replace(" ", "")
    if ctx.services.classifier.lexicon.own_tickets["keep_as_is"].fullmatch(plain):
        # "算了" to the question just asked drops the change, never the ticket (a trial resident's
        # mediation was cancelled this way).
        ctx.conversation.forget()
        number = amending.number
        return Reply(f"好的，不改了，工单 {number} 照旧。要撤销整张工单，请回复“取消 {number}”。")
    other = read(ctx, text)
    if other is not None and other.action != "change":
        ctx.conversation.forget()
        return None
    try:
        ticket = await desk.tickets.get(amending.number)
    except Exception:
        ctx.conversation.forget()
        return None
    request = OwnRequest("change", text, amending.number, fields=(amending.field,), value=text)
    if other is not None and other.fields:
        request = replace(other, number=amending.number)
    try:
        amendment = _take(ctx, ticket, amending.field, request, Amendment())
    except (ContactError, WhenError) as exc:
        return Reply(f"{exc}\n{QUESTIONS[amending.field]}（不改了回复“算了”）")
    if not amendment and _NO_CHANGE.match(plain):
        # "不改时间！我是问要准备啥子": no change; the rest is a question about the ticket's item.
        ctx.conversation.enter(AFTER_ITEM, ticket.item_id)
        return None
    if not amendment:
        if ctx.services.classifier.classify(text).intent not in ("unknown", "greeting"):
            ctx.conversation.forget()
            return None  # a new question: the change is dropped
        return Reply(f"没看明白。{QUESTIONS[amending.field]}（不改了回复“算了”）")
    ctx.conversation.forget()
    return await _amend(ctx, ticket, amendment)


def book_later_asked(ctx: Context) -> str | None:
    """ "要是她问不到 我下个礼拜一上午再来约得行不" after a cancel: may they book again later — not a
    booking now (trial MM r20 got the welcome menu)."""
    cue = ctx.services.classifier.lexicon.own_tickets.get("book_later")
    text = ctx.message.text.strip()
    if cue is None or not cue.search(ctx.services.classifier.normalize(text)):
        return None
    return text


async def answer_book_later(ctx: Context, _text: str) -> Reply:
    item = ctx.services.handbook.items.get(ctx.conversation.item or "")
    how = f"说“约{item.title}”" if item is not None else "直接说要办的事"
    return Reply(f"可以，什么时候想办了随时再约：{how}就行，我帮您登记。想先了解要带什么，也可以直接问我。")


__all__ = [
    "OwnRequest",
    "amend_value",
    "answer",
    "answer_book_later",
    "book_later_asked",
    "choose",
    "own_request",
    "read",
]
