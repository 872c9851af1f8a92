"""Emergencies: what to do now and whom to call, as the first lines of the first reply.

Checked before every other route. Where the community should act (a lift with someone inside,
gas in a stairwell, a missing manhole cover, an elderly person missing or unseen), an urgent
ticket is opened at once with what the message says, everyone on duty and the duty leaders are
mentioned in the group, and the address is asked afterwards — the ticket does not wait for it.
"""

from __future__ import annotations

import hashlib
import logging

from desk.desk import Limits
from desk.emergencies import Emergency
from desk.refusals import Refused
from handlers.conversation import EMERGENCY, Reported
from handlers.types import Context, Reply
from handlers.wording import STATE_NAMES
from intents.contact import looks_like_address, names_a_findable_place
from intents.danger import Danger

log = logging.getLogger(__name__)


def first_lines(danger: Danger) -> str:
    """Two or three short lines: the numbers first, then what to do now."""
    numbers = "、".join(f"{n.phone}（{n.label}）" for n in danger.numbers)
    return "\n".join([f"【紧急】请马上拨打 {numbers}！", *danger.hazard.advice])


async def answer(ctx: Context, danger: Danger) -> Reply:
    """The advice first; then, when the community acts, the ticket that backs the promise."""
    lines = [first_lines(danger)]
    ticket_number = await _open_ticket(ctx, danger) if danger.community_acts else None
    if ticket_number is not None:
        has_address = names_a_findable_place(ctx.message.text)  # "我们楼上" is not one
        lines.append(f"社区已派紧急工单（编号 {ticket_number}），已通知所有值班人员。")
        if not has_address:
            lines.append("请回复具体地址（小区、楼栋、单元、门牌），方便工作人员赶到。")
        ctx.conversation.enter(EMERGENCY, Reported(ticket_number, danger.hazard.kind))
    elif danger.community_acts:
        office = ctx.services.handbook.office
        lines.append(f"也请打社区电话 {office.phone}（值班手机 {office.duty_phone}），让社区马上派人。")
    return Reply("\n".join(lines))


async def _open_ticket(ctx: Context, danger: Danger) -> str | None:
    desk, hazard = ctx.services.desk, danger.hazard
    if desk is None or not hazard.item or hazard.item not in ctx.services.handbook.items:
        return None
    item = ctx.services.handbook.item(hazard.item)
    emergency = Emergency(hazard.kind, hazard.title, item.id, item.category, ctx.message.text.strip())
    # One ticket per message, however often WeChat retries it.
    key = hashlib.sha256(f"{ctx.message.resident}\n{ctx.message.text}".encode()).hexdigest()[:32]
    try:
        ticket = await desk.report_emergency(
            ctx.message.resident, emergency, Limits(claim_minutes=hazard.claim_minutes), "sos-" + key
        )
    except Exception:  # the advice must reach the resident even when the database does not answer
        log.exception("emergency ticket for %s could not be opened", hazard.kind)
        return None
    return str(ticket.number)


async def add_details(ctx: Context, reported: Reported) -> Reply | None:
    """After an emergency, what the resident writes next is about it — the address, a name, "警察说要
    等一哈", "社区的人好久到" — and goes onto its ticket, until they ask about a service by name or
    say thanks. (A resident who had to repeat the flat number into an apology was seen in a trial.)"""
    desk = ctx.services.desk
    text = ctx.message.text.strip()
    if desk is None or not text:
        return None
    field = "address" if looks_like_address(text) else "detail"
    if field == "detail":
        result = ctx.services.classifier.classify(text)
        if result.intent == "greeting" or (result.intent in ("consult", "order") and result.named):
            ctx.conversation.forget()
            return None  # a new question, or thanks: not more about the emergency
    try:
        ticket = await desk.add_detail(ctx.message.resident, reported.number, field, text)
    except Refused:
        ctx.conversation.forget()
        return None  # the ticket was closed or cancelled meanwhile: handle the message anew
    what = "地址" if field == "address" else "情况"
    lexicon = ctx.services.classifier.lexicon
    if field == "detail" and lexicon.asks_progress(lexicon.normalize(text)):
        # "有人去了没": where the emergency ticket is, not the same acknowledgement again.
        holder = f"，{ticket.assignee[:1]}老师在负责" if ticket.assignee else ""
        return Reply(
            f"紧急工单 {reported.number}：{STATE_NAMES.get(ticket.state, ticket.state)}{holder}；"
            "您说的也已经加进去了，值班人员会尽快赶到。有危险请先打 110 / 120。"
        )
    return Reply(
        f"收到，{what}已经加到紧急工单 {reported.number}，值班人员马上处理。注意安全！"
        "有危险请先打 110 / 120。"
    )
