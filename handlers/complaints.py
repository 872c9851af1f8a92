"""Complaints and "a person, please": both reach people, and the resident is told who and by when.

A complaint (投诉, 态度差, 推诿, 不作为…) opens a complaint ticket for the community secretary; the
reply gives its number, who handles it and by when. "没人管"/"拖着" is a complaint only about the
resident's own open ticket; without one it is left to the classifier (a report: "垃圾没人管").
A resident asked to rate a just-completed ticket who answers with a rating ("差评 态度差") is
rating it: that stays with handlers/rate.py, which opens the secretary's follow-up.

"人工"/"转人工" (and the classifier's `human` intent) opens a handoff for the staff member on duty,
who sees the resident's last messages and answers with "回复 N 内容".
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from desk import complaints
from desk.masking import mask_text
from desk.refusals import Refused
from desk.states import OPEN_STATES
from handlers import rate
from handlers.conversation import AFTER_ITEM, COMPLAINED, HANDED_OFF, REFERRED, HandedOff
from handlers.types import Context, Reply
from intents import Classifier
from intents.contact import ContactError, name_said, read_mobile
from intents.normalize import simplify
from intents.when import day_label
from knowledge import Item, Office

if TYPE_CHECKING:
    from desk.desk import Ticket

log = logging.getLogger(__name__)

_NUMBER = re.compile(r"(?<!\d)(1\d{4})(?!\d)")


@dataclass(frozen=True, slots=True)
class Complaint:
    """What the complaint matcher extracted: the text, whether a complaint word was said (not only
    "没人管"), and the ticket number named, if any."""

    text: str
    strong: bool
    number: str | None


_NOT_A_COMPLAINT = re.compile(r"(不是|没有|没说|不想|不要)(要)?投诉")
# "我不是问这个投诉单 我是问上个月报路灯那个单子": another ticket asked after; the complaint stands
# (trial Z3 r12).
_ANOTHER_TICKET_ASKED = re.compile(r"不是问[^ ]{0,3}投诉(单|的单)")
# Asking where a request stands, even with a neglect word in it ("现在什么情况了 有没有人管嘛"): progress,
# for the own-tickets route — a session-7 trial resident's question minutes after reporting was filed
# as a complaint.
_CHECK = re.compile(
    r"查(一)?下|查查|查询|查得到|查不查得到|查不到|进度|到哪(一步|步)了|什么情况|怎么样了|有没有人(管|来|处理)"
)


_NOT_ABOUT_US = re.compile(r"(我)?(不是|又不是|没有)(问|说|投诉|找|怪)?(你们|社区)[^ ]*")


def complaint_of(ctx: Context) -> Complaint | None:
    """A complaint word, or a neglect word ("没人管") that may be about the resident's ticket."""
    text = ctx.message.text.strip()
    lexicon = ctx.services.classifier.lexicon
    plain = lexicon.normalize(text)
    strong = lexicon.complaint.search(plain) is not None and _NOT_A_COMPLAINT.search(plain) is None
    strong = strong and _ANOTHER_TICKET_ASKED.search(plain) is None
    if not strong and lexicon.neglect.search(plain) is None:
        return None
    if _WHICH_PLACE_TO_COMPLAIN.search(plain) and _NUMBER.search(plain) is None:
        return None
    if _SET_ASIDE.search(plain):
        return None  # "投诉归投诉 我妈的高龄补贴还是要办…": the complaint stands; this is a service (trial L)
    if _COMPLAINT_WRITTEN.search(plain):
        return None  # "社区法律顾问可以帮我…写投诉，律师哪天在": help to complain elsewhere (trial TT r15)
    if _COMPLAINT_CHECKED.search(plain) or _RATED.search(plain):
        # "投诉10020现在啥进度 陈书记看到没有", "我是给10018打分 2分 不是再投诉": the complaint's
        # progress, or a score for the service — not more for the complaint (trial SS r19, four times).
        return None
    if not strong and _CHECK.search(plain):
        # "报修的下水道 咋个还没人来 查一下": where it stands, for the own-tickets route (a trial
        # resident's progress question was filed as a complaint to the secretary).
        return None
    classifier = ctx.services.classifier
    found = _NUMBER.search(simplify(text))
    # "买到假货 去哪投诉": another agency's business (12315), not about the community. A listed word,
    # or the model's guess for a complaint that names no ticket of ours ("网上买的冰箱是坏的 商家不退
    # 我去哪里投诉" was filed to the secretary in a session-6 trial; "10001 一直没人管" is ours).
    elsewhere = classifier.referrals.find(plain) or (strong and found is None and classifier.referral(plain))
    # "我不是问你们上班时间 是理发店老板卷钱跑了…找哪个投诉": the community named only as what it is
    # not about (trial KK r15 was filed to the secretary).
    if elsewhere and lexicon.about_community.search(_NOT_ABOUT_US.sub(" ", plain)) is None:
        return None
    if elsewhere and lexicon.question.search(plain) and _names_ours(classifier, text):
        # "是不是该打12315投诉嘛 还是社区调解能管": which of two places, one of them our own service —
        # a question, not a complaint about the community (trial X r16 was filed to the secretary).
        return None
    if (
        ctx.conversation.get(REFERRED) is not None
        and found is None
        and lexicon.about_community.search(plain) is None
        and lexicon.question.search(plain)
    ):
        # Right after a referral, "投诉要准备些啥子证据" asks how to complain to that agency (12315
        # about a gym): filed against the community in trial W and escalated to the secretary.
        return None
    if (
        found is None
        and lexicon.about_community.search(plain) is None
        and _ASKS_HOW_TO_COMPLAIN.search(plain)
    ):
        # "我们好几个人一起去投诉可不可以" after the wage-arrears answer: how to complain elsewhere,
        # not a complaint about the community (trial HH r15's question was filed to the secretary).
        return None
    return Complaint(text, strong, found.group(1) if found else None)


_ASKS_HOW_TO_COMPLAIN = re.compile(
    r"去[^ ]{0,4}投诉[^ ]{0,6}(可不可以|可以不|行不行|能不能|有没有用|管不管|吗|不$)"
    r"|投诉[^ ]{0,4}(可不可以|可以不|行不行|有没有用)|(怎么|咋个|在哪|哪里|找哪个|去哪)[^ ]{0,4}投诉"
    r"|(是不是|要不要|该不该|能不能|可不可以)[^ ]{0,3}去[^ ]{0,8}投诉"
    # "单位不给我办退休 投诉哪个": whom to complain to (trial Z3 r04)
    r"|投诉(哪个|谁|哪里|哪儿|到哪|哪个部门|哪家)(?![^ ]{0,2}(工作人员|书记|网格员))"
)
# "工地在郫都区 我住你们这边 是去郫都投诉还是在这边投诉": which place to complain to, whoever else is
# named (trial MM r16 was filed to the secretary).
_WHICH_PLACE_TO_COMPLAIN = re.compile(r"投诉还是|还是[^ ]{0,6}投诉|(哪边|哪个区|哪个地方)[^ ]{0,2}投诉")
_SURE_OURS = 0.9  # the model this sure of one of our items: a service asked about beside the agency


def _names_ours(classifier: Classifier, text: str) -> bool:
    """Does the message name one of our services, or the model all but name it? Asked only once an
    agency and a question are found: a complaint word alone does not pay for a classification."""
    return classifier.classify(text).named or classifier.sure_item(text, _SURE_OURS) is not None


# Help asked to write or file a complaint elsewhere: "帮我理材料写投诉", "律师帮我写投诉书".
_COMPLAINT_WRITTEN = re.compile(r"(写|理|准备|整理)[^ ]{0,4}投诉|投诉(材料|书|信)")
# Where a complaint stands ("投诉10020现在啥进度", "陈书记看到没有"): its progress, for the own-tickets route.
_COMPLAINT_CHECKED = re.compile(
    r"投诉[^ ]{0,8}(进度|到哪|咋样|怎么样|处理得|处理了没|看到没|看了没|回复了没|有回音)"
    r"|(书记|领导|主任)[^ ]{0,4}(看到|看了|收到)(了)?(没|没有|吗)"
)
# A score given ("打个2分", "评价 10018 2分", "给10018打分"): the rating route's.
_RATED = re.compile(
    r"(打|给|评|评价)[^ ]{0,8}\d\s*(分|星)|打分|评分|(\d|一|两|二|三|四|五)\s*(分|颗星|星)(?!钟)"
)


# The complaint put to one side to ask about something else.
_SET_ASIDE = re.compile(r"投诉归投诉|意见归意见|(投诉|意见)(的事)?(先)?(放一边|不说了|另外说)|先不说投诉")


def withdrawal_of(ctx: Context) -> str | None:
    """ "我不是投诉社区 我是说物业…": said after a complaint was lodged, it is not one (the handler
    checks there is one; a session-6 trial resident's correction was added to the complaint)."""
    text = ctx.message.text.strip()
    plain = ctx.services.classifier.lexicon.normalize(text)
    return text if _NOT_A_COMPLAINT.search(plain) and not _ANOTHER_TICKET_ASKED.search(plain) else None


async def withdraw(ctx: Context, text: str) -> str | None:
    """Tell the secretary on the resident's complaint of today that it is not one; the line to say
    to the resident, or None when they have no open complaint from today."""
    desk, resident = ctx.services.desk, ctx.message.resident
    if desk is None:
        return None
    now = ctx.services.now()
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    lodged = [
        t
        for t in await desk.tickets_since(resident, midnight)
        if t.kind == "complaint" and t.state in OPEN_STATES
    ]
    if not lodged:
        return None
    complaint = lodged[-1]  # the newest (tickets_since lists oldest first)
    await desk.add_detail(resident, complaint.number, "not_complaint", text)
    return (
        f"明白了，您说的不是投诉社区。已告诉社区负责人（投诉编号 {complaint.number}），"
        "他们核实后会撤掉这条投诉。"
    )


def said_besides_withdrawal(ctx: Context, text: str) -> bool:
    """Whether the message says more than "我不是投诉(社区)" (then that is answered too)."""
    plain = ctx.services.classifier.lexicon.normalize(text)
    rest = _NOT_A_COMPLAINT.sub("", plain)
    rest = re.sub(r"^[\s，,。]*(社区|你们|工作人员)?", "", rest)
    return len(rest.replace(" ", "")) >= 4


def handoff_word(ctx: Context) -> str | None:
    """ "人工", "转人工", "找个真人", "叫个人跟我说": the resident wants a person."""
    text = ctx.message.text.strip()
    lexicon = ctx.services.classifier.lexicon
    # "好嘛等人工回。那娃娃医保咋个办": waiting for the person already asked — the question after it
    # is answered as any other (trial SS r02's was swallowed into the handoff ticket).
    waited = _WAITING_FOR_A_PERSON.sub(" ", text)
    if lexicon.handoff.search(lexicon.normalize(waited)):
        return text
    if (
        ctx.conversation.get(HANDED_OFF) is not None
        and (_phone_given(text) or name_said(text))
        and not lexicon.order_strong.search(lexicon.normalize(text))
    ):
        # "我电话 028 84521367 座机 白天都在屋": for the person asked to call (trial MM r06); "叫刘丽华
        # 身份证尾号是0422", "名字也加上 刘丽华": who the person is to call (trial Z4 r17 lost it four times).
        # "那我先报个名嘛 …我叫陈静 电话136…" orders: the booking, not a note (trial Z5 r06).
        return text
    return None


def after_waiting(text: str) -> str:
    """What a message says besides waiting for the person asked ("好嘛等人工回。那娃娃医保咋个办" →
    the question), "" when it says nothing else or waits for no one."""
    if not _WAITING_FOR_A_PERSON.search(text):
        return ""
    return _WAITING_FOR_A_PERSON.sub(" ", text).strip(" ，,。.!！")


_WAITING_FOR_A_PERSON = re.compile(r"等(着)?(人工|工作人员|真人|老师)(回|回复|回话|联系|打电话)?(吧|嘛|哈)?")


def _phone_given(text: str) -> str | None:
    """The phone number a message gives, or None (an invalid number is not one)."""
    try:
        return read_mobile(text)
    except ContactError:
        return None


# "你们找个人给我打电话嘛": a call asked for, so a number is wanted if none was given.
_CALL_ASKED = re.compile(r"打(个)?电话|来电话|回电话|电话联系")


def when(moment: datetime, now: datetime) -> str:
    """A time a resident reads at a glance: 今天 12:45, 明天 09:15, 12月1日（周二）09:15."""
    days = (moment.date() - now.date()).days
    day = {0: "今天", 1: "明天", 2: "后天"}.get(days, day_label(moment.date()))
    return f"{day} {moment:%H:%M}"


def _day(deadline: datetime) -> str:
    """The last day of a working-day limit (a limit ending at midnight ends the day before)."""
    last = (deadline - timedelta(minutes=1)).date()
    return day_label(last)


async def lodge(ctx: Context, complaint: Complaint) -> Reply | None:
    """A complaint ticket for the secretary; declines for "没人管" about nothing of the resident's."""
    desk, resident = ctx.services.desk, ctx.message.resident
    office = ctx.services.handbook.office
    if desk is None:
        if not complaint.strong:
            return None
        return Reply(
            f"非常抱歉给您带来不好的体验。请拨打社区电话 {office.phone}（值班手机 {office.duty_phone}）"
            "反映，社区书记会亲自处理。"
        )
    rating = rate.stars_of(complaint.text, ctx.services.classifier.lexicon)
    if rating is not None and await desk.awaiting_rating(resident) is not None:
        return await rate.rate_ticket(ctx, rating)  # the answer to "请给这次服务打分"
    tickets = await desk.resident_tickets(resident, limit=20)
    # Which of their tickets it names: any item word counts here (items_in), as a complaint is
    # about their own ticket and not a service question.
    named = ctx.services.classifier.items_in(complaint.text)
    item = named[0] if named else None
    parent = complaints.about(tickets, complaint.number, item)
    if parent is None and not complaint.strong:
        waiting = complaints.candidates(tickets)
        if complaint.number is not None or len(waiting) != 1:
            return None  # not about a ticket of theirs: a report or a question, for the classifier
        if item is not None and waiting[0].item_id != item:
            return None  # "单元门口垃圾好几天没人收" while a light repair waits: a new report
        parent = waiting[0]
    lodged = await lodge_text(ctx, complaint.text, parent)
    fix = _problem_to_fix(ctx, complaint.text, named) if parent is None else None
    if fix is None:
        return lodged
    # "下水道堵了 粪水从地漏冒出来 你们到底管不管": the complaint goes to the secretary, and the
    # problem itself can be fixed now — a reply away (a trial-J resident waited five days for an
    # answer to a complaint while the sewage kept rising).
    ctx.conversation.enter(AFTER_ITEM, fix.id)
    return Reply(f"{lodged.text}\n问题还没解决的，回复“报修”，马上帮您登记【{fix.title}】派人处理。")


def _problem_to_fix(ctx: Context, text: str, named: tuple[str, ...]) -> Item | None:
    """The repair-type item (problem reports: default_intent order) a complaint's own problem is;
    `named`: the items the complaint's words name (items_in, already read by lodge)."""
    classifier = ctx.services.classifier
    result = classifier.classify(text)
    items = ctx.services.handbook.items
    found = (items[i] for i in named if i in items)
    item = items.get(result.item or "") or next(found, None)
    if item is None or item.default_intent != "order" or item.order is None:
        return None
    return item if classifier.lexicon.problem.search(classifier.normalize(text)) else None


async def lodge_text(ctx: Context, text: str, parent: Ticket | None = None) -> Reply:
    """Open the complaint (once per resident, text and day) and tell the resident what happens next."""
    desk, resident = ctx.services.desk, ctx.message.resident
    assert desk is not None
    now = ctx.services.now()
    key = hashlib.sha256(f"{resident}\n{text.strip()}\n{now.date()}".encode()).hexdigest()[:32]
    lodged = await desk.complain(resident, text.strip(), parent, "complaint-" + key)
    ctx.conversation.enter(COMPLAINED, str(lodged.ticket.number))
    office = ctx.services.handbook.office
    about = f"（关于工单 {lodged.parent.number}）" if lodged.parent is not None else ""
    who = f"社区书记{lodged.handler.name[:1]}书记" if lodged.handler is not None else "社区负责人"
    by = f"，{_day(lodged.due)}前给您答复" if lodged.due is not None else "，会尽快给您答复"
    if lodged.added:
        return Reply(
            f"收到，已补充到您今天的投诉（编号 {lodged.ticket.number}）{about}。\n由{who}负责处理{by}。\n"
            + _further(office)
        )
    return Reply(
        f"非常抱歉给您带来不好的体验。您的投诉已登记{about}，投诉编号 {lodged.ticket.number}。\n"
        f"由{who}负责处理{by}。\n"
        f"着急的话也可以拨打社区电话 {office.phone}。\n" + _further(office)
    )


def _further(office: Office) -> str:
    """Where to go when the community's answer does not satisfy: a session-8 trial resident asked
    "社区处理不好的话 我还可以找哪个投诉" twice and was only told his complaint was added to."""
    street = office.places.get("street")
    above = f"{street.name}（{street.address}）" if street is not None else "街道办事处"
    return f"对处理结果不满意，可以向{above}反映，或拨打 12345 政务服务便民热线。"


async def hand_off(ctx: Context, text: str) -> Reply | None:
    """Open (or add to) a handoff and say who answers and by when; declines without a desk."""
    desk = ctx.services.desk
    if desk is None:
        return None
    office = ctx.services.handbook.office
    recent = [*ctx.conversation.recent, mask_text(text.strip())]
    try:
        handoff = await desk.hand_off(ctx.message.resident, recent)
    except Exception:  # the resident must still learn how to reach a person
        log.exception("handoff could not be opened")
        return None
    number = handoff.ticket.number
    ctx.conversation.enter(HANDED_OFF, HandedOff(str(number), ctx.conversation.item))
    fallback = f"着急的话请拨打社区电话 {office.phone}（值班手机 {office.duty_phone}）。"
    phone = _phone_given(text)
    if phone:
        # The ticket's contact: the staff member who claims it reads it in full (the group, masked).
        with contextlib.suppress(Refused):
            await desk.add_detail(ctx.message.resident, number, "mobile", phone)
        fallback = f"您的电话 {phone} 已转给工作人员，会打这个电话联系您。\n{fallback}"
    elif _CALL_ASKED.search(text):
        fallback = f"要工作人员打电话给您，请留个电话号码（手机，或带区号的座机）。\n{fallback}"
    name = name_said(text)
    if name:
        with contextlib.suppress(Refused):
            await desk.add_detail(ctx.message.resident, number, "name", name)
        fallback = f"您的名字 {name} 也记在工单上了。\n{fallback}"
    if handoff.assignee is None:
        return Reply(f"已经记下了（工单 {number}），工作人员上班后会在这里回复您。{fallback}")
    teacher = f"{handoff.assignee[:1]}老师"
    by = f"，{when(handoff.answer_by, ctx.services.now())} 前" if handoff.answer_by else ""
    if handoff.reused:
        return Reply(
            f"已经请{teacher}回复您了（工单 {number}），您刚才说的也转给了{teacher}{by}会在这里回复您。"
            f"\n{fallback}"
        )
    if handoff.on_duty:
        return Reply(
            f"好的，已请值班的{teacher}来回复您（工单 {number}）{by}会在这里回复您，"
            f"您之前说的情况{teacher}都能看到。\n{fallback}"
        )
    return Reply(
        f"现在不在值班时间。已请{teacher}在下一个值班时段回复您（工单 {number}）{by}会在这里回复您。\n"
        f"{fallback}"
    )
