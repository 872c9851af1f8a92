"""status and cancel: a resident's earlier requests, from their tickets."""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING

from desk.refusals import Refused
from desk.states import CANCELLABLE
from handlers import complaints, consult, facts, own_tickets, render
from handlers.types import Context, Reply
from handlers.wording import STATE_NAMES, item_title, refusal
from intents import Classification
from intents.normalize import simplify

if TYPE_CHECKING:
    from desk.desk import Ticket

log = logging.getLogger("baishitong.desk")

# A ticket number is any run of five or more digits, whatever its first digit ("取消 25000", "取消 99999");
# "取消 9" alone is read as a number too. Tickets are numbered from 10001, but a person may mistype.
_NUMBER = re.compile(r"(?<!\d)(\d{5,})(?!\d)")
# "在窗口交的", "打电话报的", "低保申请": a request made some other way than here, to be looked up.
_MADE_ELSEWHERE = re.compile(r"窗口|柜台|现场|打电话|电话里|交了|交的|递了|递的|申请|报的|报了")
# "前天约的上门…咋个还没来", "报名的那个培训啥时候通知上课": their own request made some other way, and
# they wait on it — a person looks it up, not the service's checklist (blind batch 77 got it).
# "残疾证说一个月办好 现在两个月了" (blind batch 85): a time promised, and the time it has taken.
_MADE_BEFORE = re.compile(
    r"约的|约了|约好|约上|说好|报名的|报了名|报名了|交上去|递上去|说[^ ]{0,6}(办好|弄好|修好|来)|"
    r"现在[0-9一二两三四五六七八九十几]+个?(月|天|礼拜|星期|周)了|评了|说今天|说明天|"
    + _MADE_ELSEWHERE.pattern
)
_WAITING_ON_IT = re.compile(
    r"还没(有)?(来|人来|到|消息|通知|修|弄|办|批|动静|回)|(咋个|怎么|为啥|为什么)还没|(啥|什么)时候通知|"
    r"审到|到哪(一步|了)|批没批|有没(有|得)?(消息|人管)|有人管没|(弄|办|修)好没|处理没|还黑起"
    # "说好三个工作日内上门 今天都第五天了 人呢", "昨天约的上门认证 今天几点来" (blind batch 84)
    r"|人呢|人影都|第[0-9一二三四五六七八九十]+天了|(几点|啥时候|什么时候|好久)(来|上门|到(?!账|期|龄|手))"
    # "上个礼拜报的楼道灯坏了 咋个到现在都没得人来修", "约的活动还在不在", "认证到底约上没有" (blind batch 85)
    r"|(咋个|怎么|为啥|为什么)?(到现在|现在)?(都|还)没(得|有)?人(来|管|修|理|弄|联系)|约(上|好|到)(了)?(没有|没|吗|不)"
    r"|还在不在|还算不算|还作数"
    # "说今天来 等到下午4点都莫来 到底来不来", "上个月评了残 残疾证好久发得下来" (blind batch 86)
    r"|都(没|莫)(得)?(人)?(来|到)|到底来不来|(好久|多久|什么时候|啥时候)[^ ]{0,2}(发|批|办)得?(下来|到)"
)
# A ticket number said: after 单号/工单/编号, or five digits alone as tickets are numbered (10003), not
# a phone number's part nor a sum ("补贴10000元"), nor a hotline (own_tickets.hotline_numbers). Wider
# than own_tickets' reading, which needs a verb right before it: "单号是10003" and 14 digits count.
_TICKET_NUMBER = re.compile(
    r"(?:单号|工单号?|编号|单子)[^\d]{0,6}(\d{4,14})(?!\d)|(?<!\d)(1\d{4})(?![\d元块多万])"
)
_ONLY_NUMBER = re.compile(r"^\D{0,6}?(\d+)\s*(?:号|号工单)?$")


async def handle_status(ctx: Context, result: Classification) -> Reply:
    office = ctx.services.handbook.office
    desk = ctx.services.desk
    tickets = await desk.resident_tickets(ctx.message.resident) if desk else []
    said_number = _TICKET_NUMBER.search(simplify(ctx.message.text or ""))
    number = said_number.group(said_number.lastindex or 1) if said_number else None
    if number in own_tickets.hotline_numbers(ctx):
        number = None  # "我打了12345 他们说找社区 我那个申请进度呢": the hotline, no ticket's number
    if number is not None and desk and number not in {t.number for t in tickets}:
        # "查进度 工单10003" with 10003 not theirs: never shown to another WeChat, and said so — not
        # only their own list again (trial Z11 r17 got it three times); a person looks it up.
        return await own_tickets.placed_elsewhere(ctx, ctx.message.text, tickets, number=number)
    if not tickets:
        text = ctx.message.text
        plain = simplify(text)  # "上個月評了殘" reads as 评了 (blind batch 86)
        waiting = _MADE_BEFORE.search(plain) is not None and _WAITING_ON_IT.search(plain) is not None
        # "单位已经给我报了 那我养老金啥时候到账": nothing of theirs here, a question about the service.
        asked = None if waiting else await _question_instead(ctx, result, None)  # a service named
        if asked is not None:
            return asked
        # "说好今天来装扶手 人呢 我在屋头等起的": waiting on a promise, whatever it names (blind batch 85).
        elsewhere = waiting or _MADE_ELSEWHERE.search(text) or ctx.services.classifier.items_in(text)
        checked = await complaints.hand_off(ctx, text) if elsewhere else None
        if checked is not None:
            # "十月底在窗口交的低保申请…到底批没批": made at the window or by phone, so nothing here to
            # show — a person looks it up (a session-10 trial resident was sent back to the phone he
            # had just said nobody answered).
            return Reply(
                f"在窗口、电话或别的微信上办的事，我这里查不到进度，已经请工作人员帮您查。\n{checked.text}"
            )
        return Reply(
            f"您还没有在这里提交过预约或报修。之前打电话办的，请拨打 {office.phone}（值班手机 "
            f"{office.duty_phone}）查询。"
        )
    if own_tickets.placed_by_phone_call(ctx.message.text):
        # "我上个月打电话报的那个 你们系统头查得到不": not among the tickets placed here — a person
        # looks it up; the ones placed here are listed after (trial ZZ r12 got only those).
        return await own_tickets.placed_elsewhere(ctx, ctx.message.text, tickets, by_phone=True)
    said = (ctx.message.text, *ctx.conversation.recent[-2:])
    if any(map(own_tickets.placed_by_someone_else, said)):
        # "上次是用我老公微信报的…你查一下那个单子": another WeChat's ticket, never shown here by a
        # number anyone can type; a person looks it up (trial Z3 r12 got this WeChat's complaint).
        return await own_tickets.placed_elsewhere(ctx, ctx.message.text, tickets)
    named = set(ctx.services.classifier.names_in(ctx.message.text))
    if named and not named & {t.item_id for t in tickets}:
        # "上个月我在社区窗口交了高龄津贴的申请 钱还没到 一般要好久": a service none of their tickets is,
        # asked about — its answer, not their other tickets (trial VV r19 got her handoff's state).
        asked = await _question_instead(ctx, result, None)
        if asked is not None:
            return asked
    lines = ["您最近的工单："]
    for ticket in tickets:
        title = item_title(ctx.services.handbook.items, ticket.item_id)
        who = f"，{ticket.assignee[:1]}老师负责" if ticket.assignee and ticket.state != "cancelled" else ""
        lines.append(f"{ticket.number} {title}：{STATE_NAMES[ticket.state]}{who}")
    lines.append("要取消，回复“取消 工单号”。")
    return Reply("\n".join(lines))


async def handle_cancel(ctx: Context, result: Classification) -> Reply:
    discussed = ctx.conversation.item
    ctx.conversation.forget()
    office = ctx.services.handbook.office
    desk = ctx.services.desk
    if desk is None:
        return Reply(f"好的。已预约的服务要取消，请拨打 {office.phone} 告诉工作人员，我们会及时调整安排。")
    text = simplify(ctx.message.text).strip()
    match = _NUMBER.search(text) or _ONLY_NUMBER.match(text)
    if match:
        number = match.group(1)
    else:
        tickets = [t for t in await desk.resident_tickets(ctx.message.resident) if t.state in CANCELLABLE]
        meant = [t for t in tickets if t.kind == "order" and _names_ticket(ctx, t, text)]
        if _BOOKED.search(text) and not meant:
            # "送饭那个停了嘛" with only a handoff open (or another booking): a booking made elsewhere,
            # not the open ticket (a session-28 script cancelled the handoff asking to cancel a class).
            tickets = []
        if not tickets:
            asked = await _question_instead(ctx, result, discussed) or await _order_instead(ctx)
            if asked is not None:
                return asked
            coming = _coming_in(ctx, discussed, text)
            if coming is not None:
                return coming
            relayed = await _cancel_made_elsewhere(ctx, text)
            if relayed is not None:
                return relayed
            return Reply("您现在没有可以取消的预约。")
        if len(tickets) > 1:
            listed = "、".join(t.number for t in tickets)
            return Reply(
                f"您有 {len(tickets)} 张未办结的工单（{listed}），要取消哪一张？请回复“取消 工单号”。"
            )
        number = tickets[0].number
    try:
        ticket = await desk.cancel(ctx.message.resident, number)
    except Refused as refused:
        log.info("refused cancel %s for %s: %s", number[:24], ctx.message.resident, refused.reason)
        if refused.reason == "not_your_ticket":
            # "单号20250110008 撤销 灯已经有人修好了": a number from the window or another WeChat — how
            # to have it cancelled, not a dead end (blind batch 84); the same words whether the number
            # is someone else's or no one's.
            return Reply(f"{refusal(refused)}。{_CANCEL_ELSEWHERE}")
        return Reply(f"{refusal(refused)}。")
    return Reply(f"工单 {ticket.number} 已取消，我们会通知工作人员。需要时再约。")


# A booking they made, said as made: "约的活动室", "报的修灯", "我们报了两个人" (not "不约了"), or
# called off by its name or day: "下周三那个预约先取消", "明天那个上门的不用来了", "送饭那个停了嘛".
_BOOKED = re.compile(
    r"(?<![不没别])(约的|约了|约好的|报的|报了|报名的|订的|定的|借的|借了|登记的|交上去的)|"
    r"那个(预约|上门|单子|活动室|会议室|场地)|"  # "明天下午借的那个活动室不要了" (blind batch 79)
    r"(上门|送饭|托管|预约)的?(那个)?[^ ]{0,4}"
    r"(取消|不用来|不要来|停了|停掉|退掉|撤了|撤掉|不来了|不要了|不报了)"
)


def _names_ticket(ctx: Context, ticket: Ticket, text: str) -> bool:
    """Does the message name the ticket's service, or no service at all (then it may mean this one)?"""
    named = ctx.services.classifier.names_in(text)
    return not named or ticket.item_id in named


async def _cancel_made_elsewhere(ctx: Context, text: str) -> Reply | None:
    """ "明天上午10点约的活动室 取消哈" with nothing booked here: made by phone, at the window or on another
    WeChat, so a person cancels it — the room or the visit is freed, not left waiting (blind batch 77
    was told there was nothing to cancel); None when the message names neither a booking nor a service."""
    # "老年食堂送餐先停了嘛", "我那个调解不搞了": a service named and called off is one made elsewhere
    # too (blind batch 83: four such first messages were told there was nothing to cancel).
    if not _BOOKED.search(text) and not ctx.services.classifier.items_in(text):
        return None
    return await own_tickets.relayed_elsewhere(ctx, ctx.message.text, "取消")


_CANCEL_ELSEWHERE = "在窗口、电话或别的微信上约的，回复“人工”，请工作人员帮您核对、取消。"


# "算了 我明天直接过来办": never mind the questions, they will come in — not a cancel (trial Z4 r05).
_COMING_IN = re.compile(r"(直接|自己|亲自)?(过来|来|去|到社区|到窗口)[^ ]{0,3}(办|弄|交|问|申请|登记)")


def _coming_in(ctx: Context, discussed: str | None, text: str) -> Reply | None:
    """Where, when and what to bring for the service just discussed, when the resident says they
    will come in to do it; None otherwise."""
    if discussed is None or discussed not in ctx.services.handbook.items or not _COMING_IN.search(text):
        return None
    handbook = ctx.services.handbook
    item = handbook.item(discussed)
    lines = facts.fact_lines(item, "where", handbook, ("hours",)) or ""
    documents = render.documents_line(item) if item.documents else ""
    said = "\n".join(line for line in (lines, documents) if line)
    return Reply(f"好的，欢迎来办【{item.title}】。\n{said}".rstrip())


async def _order_instead(ctx: Context) -> Reply | None:
    """With nothing to cancel, "把那个紧急单子撤了！…我要报修车棚的监控": the service one clause asks
    for by name is begun (trial SS r14 was told there was nothing to cancel); None when none is."""
    from handlers import ordering  # ordering reaches status through its routes

    # A clause that says the booking was made ("预约的明天上门 不用来了") names what is called off, not
    # a new request (blind batch 81 booked a home visit).
    clauses = [c for c in _CLAUSES.split(ctx.message.text or "") if not _BOOKED.search(c)]
    found = facts.named_order(ctx, clauses)
    return await ordering.start(ctx, *found) if found is not None else None


_CLAUSES = re.compile(r"[\s,，。;；!！?？]+")


async def _question_instead(ctx: Context, result: Classification, discussed: str | None) -> Reply | None:
    """With nothing to cancel or to check, "本人去不了…电话多少？" or "养老金啥时候到账" asks about the
    service (a session-7 trial resident got "您现在没有可以取消的预约", another "您还没有…提交过"):
    the consult answer for the item named, or the one just discussed; None when it asks nothing."""
    lexicon = ctx.services.classifier.lexicon
    item = result.item or next(iter(ctx.services.classifier.items_in(ctx.message.text)), None) or discussed
    if item is None or item not in ctx.services.handbook.items:
        return None
    # The narrower question words: "周六订的活动室不用了 我们改时间了" names 时间 and asks nothing
    # (blind batch 56 got the room's checklist); the item's own question asks ("失业金每个月几号打
    # …这个月还没到": blind batch 79 was handed to a person without the pay day).
    norm = lexicon.normalize(ctx.message.text)
    asks = lexicon.order_question.search(norm) is not None
    own = lexicon.question.search(norm) and facts.own_answer(ctx, ctx.services.handbook.item(item), norm)
    if not asks and not own:
        return None
    return await consult.handle(ctx, result._replace(intent="consult", item=item, candidates=(item,)))
