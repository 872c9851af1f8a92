"""Emergencies: what to do now and whom to call, as the first lines of the first reply.

Checked before every other route. Where the community should act (a lift with someone inside,
gas in a stairwell, a missing manhole cover, an elderly person missing or unseen), an urgent
ticket is opened at once with what the message says, everyone on duty and the duty leaders are
mentioned in the group, and the address is asked afterwards — the ticket does not wait for it.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import re
from collections.abc import Iterable
from dataclasses import replace
from datetime import timedelta

from desk import emergencies
from desk.desk import Limits, ServiceDesk
from desk.emergencies import Emergency
from desk.refusals import Refused
from desk.states import OPEN_STATES
from handlers import complaints, directions, facts, render
from handlers.conversation import EMERGENCY, ORDERING, Reported
from handlers.types import Context, Reply
from handlers.wording import STATE_NAMES, TICKET_NUMBER
from intents import Classification
from intents.contact import (
    address_said,
    looks_like_address,
    mobiles_in,
    names_a_findable_place,
    names_a_place,
    place_in,
)
from intents.danger import Danger
from intents.normalize import simplify
from knowledge.emergency import EmergencyGuide, EmergencyNumber, Hazard
from knowledge.models import Nearby

log = logging.getLogger(__name__)


def first_lines(danger: Danger) -> str:
    """Two or three short lines: the numbers first, then what to do now."""
    return _lines(danger.hazard, danger.numbers)


def _lines(hazard: Hazard, numbers: Iterable[EmergencyNumber]) -> str:
    said = "、".join(f"{n.phone}（{n.label}）" for n in numbers)
    return "\n".join([f"【紧急】请马上拨打 {said}！", *hazard.advice])


async def answer(ctx: Context, danger: Danger) -> Reply:
    """The advice first; then, when the community acts, the ticket that backs the promise. Either
    way the next messages stay with the emergency (add_details): a trial resident who smelt gas at
    home asked for the number again and for someone to come, and got the office hours."""
    reported = ctx.conversation.get(EMERGENCY)
    if reported is not None and reported.kind == danger.hazard.kind:
        # "120打了…是不是中风了 我要不要给他吃点速效救心丸": the same emergency, talked about again —
        # its question answered and its ticket added to, not the first reply again (session-10 trial J).
        followed = await add_details(ctx, reported)
        if followed is not None:
            return followed
    lines = [first_lines(danger)]
    desk = ctx.services.desk
    same = (
        await _still_open(ctx, desk, danger.hazard.kind)
        if desk is not None and danger.community_acts
        else None
    )
    if desk is not None and same is not None:
        # "是井盖丢了那个事，刚才你说的紧急工单10006，我要补充位置": the one already sent, not a second
        # team (trial BB r12 got ticket 10007 for the same hole).
        paused = ctx.conversation.get(ORDERING) or (reported.paused if reported is not None else None)
        ctx.conversation.enter(EMERGENCY, Reported(same, danger.hazard.kind, paused))
        given = mobiles_in(ctx.message.text)
        with contextlib.suppress(Refused):
            await desk.add_detail(ctx.message.resident, same, "detail", ctx.message.text.strip())
            if given:  # "还有电话打错了，是139…": the ticket's contact (trial TT r12 never heard back)
                await desk.add_detail(ctx.message.resident, same, "mobile", given[0])
        changed = f"联系电话已改为 {given[0]}，" if given else ""
        told = f"这件事已有紧急工单 {same}，{changed}您说的已经加进去了"
        lines.append(f"{told}，值班人员马上处理，不重复派单。")
        return Reply("\n".join(lines))
    ticket_number = await _open_ticket(ctx, danger.hazard) if danger.community_acts else None
    if ticket_number is not None:
        lines.extend(_ticket_lines(ctx, ticket_number))
        if not await _anyone_on_duty(ctx):
            office = ctx.services.handbook.office
            lines.append(f"现在不是值班时间，已通知社区负责人；请同时打社区值班手机 {office.duty_phone}。")
    elif danger.community_acts:
        office = ctx.services.handbook.office
        lines.append(f"也请打社区电话 {office.phone}（值班手机 {office.duty_phone}），让社区马上派人。")
    paused = ctx.conversation.get(ORDERING) or (reported.paused if reported is not None else None)
    earlier = reported.number if reported is not None and not ticket_number else ""
    if earlier and desk is not None:
        # "开锁进去看到张大爷倒在厕所门口…120正在来的路上" after the neighbour not seen: the same
        # emergency gone further, on its ticket — the next "120拉走了 他儿子联系上没得" is still about it
        # (trial TT r18 was told "医生到了就好" with the ticket forgotten).
        with contextlib.suppress(Refused):
            await desk.add_detail(ctx.message.resident, earlier, "detail", ctx.message.text.strip())
            lines.append(f"已加到紧急工单 {earlier}，值班人员会跟进。")
    ctx.conversation.enter(EMERGENCY, Reported(ticket_number or earlier, danger.hazard.kind, paused))
    return Reply("\n".join(lines))


async def _still_open(ctx: Context, desk: ServiceDesk, kind: str) -> str | None:
    """The resident's emergency ticket of this kind from the last hour, still open, if any."""
    since = ctx.services.now() - STAND_DOWN_REACH
    said = ctx.message.text.strip()
    for ticket in await desk.tickets_since(ctx.message.resident, since):
        fields = ticket.fields or {}
        if (
            emergencies.is_emergency(ticket)
            and ticket.state in OPEN_STATES
            and fields.get("hazard") == kind
            and fields.get("description") != said  # WeChat sending the same message again: its own ticket
        ):
            return str(ticket.number)
    return None


async def _anyone_on_duty(ctx: Context) -> bool:
    """Whether someone is on duty now: at 3 a.m. "社区会马上派人" needs the duty phone beside it (a
    trial resident's night-time report promised someone and named nobody to call). Unknown: yes."""
    desk = ctx.services.desk
    if desk is None:
        return True
    try:
        return any(members for _, members in await desk.on_duty_now())
    except Exception:
        log.exception("who is on duty could not be read")
        return True


def _ticket_lines(ctx: Context, number: str, said: str = "") -> list[str]:
    """The ticket's number; the address asked unless `said` (what the resident wrote so far, else
    this message) gave one (trial S: "派人" after an address was asked for the address again)."""
    lines = [f"社区已派紧急工单（编号 {number}），已通知所有值班人员。"]
    text = said or ctx.message.text
    # A number to call them back on, asked with the address: a trial DD emergency ended with "他们可能
    # 会打电话跟您确认" and no number on the ticket.
    phone = "" if mobiles_in(text) else "和一个能打通的电话"
    if not names_a_findable_place(text):  # "我们楼上" is not one
        lines.append(f"请回复具体地址（小区、楼栋、单元、门牌）{phone}，方便工作人员赶到、联系您。")
    elif phone:
        lines.append("请回复一个能打通的电话，方便值班人员联系您。")
    return lines


async def _open_ticket(ctx: Context, hazard: Hazard, said: str = "") -> str | None:
    desk = ctx.services.desk
    if desk is None or not hazard.item or hazard.item not in ctx.services.handbook.items:
        return None
    item = ctx.services.handbook.item(hazard.item)
    text = said or ctx.message.text.strip()
    emergency = Emergency(hazard.kind, hazard.title, item.id, item.category, text)
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


SURE_VISIT = 0.9  # how sure the model must be of a service asked for in a stand-down message


_WHERE_OR_NUMBER = re.compile(r"(电话|号码)(是|号码)?(好多|多少|几号|是好多|是多少)|电话号码|在哪|地址在")


def _place_asked(ctx: Context, plain: str) -> Nearby | None:
    """The nearby office of another agency whose number or address the message asks for."""
    return directions.nearby_asked(ctx, plain) if _WHERE_OR_NUMBER.search(plain) else None


async def add_details(ctx: Context, reported: Reported) -> Reply | None:
    """After an emergency, what the resident writes next is about it — the address, a name, "警察说要
    等一哈", "社区的人好久到" — and goes onto its ticket, until they ask about a service by name or
    say thanks. (A resident who had to repeat the flat number into an apology was seen in a trial.)
    With no ticket (gas in one's own kitchen), asking for the number gets it again and asking for
    someone opens the ticket then."""
    desk = ctx.services.desk
    text = ctx.message.text.strip()
    if not text:
        return None
    guide = ctx.services.handbook.emergency
    norm = ctx.services.classifier.normalize(text)
    lexicon = ctx.services.classifier.lexicon
    asks_arrival = lexicon.asks_progress(norm) or bool(guide and re.search(guide.ask_arrival, norm))
    # "到底派哪个来管？单号是好多": who has it and its number — the ticket's state answers that.
    asks_arrival = asks_arrival or _WHO_HAS_IT.search(norm.replace(" ", "")) is not None
    # A question is not the address, though it names a place ("好久能到 我在楼下等" had replaced
    # the real address on a trial's emergency ticket).
    # "社区能不能帮忙联系楼上业主" names 楼上, not where they are: an address has a number or a place name.
    # A question is an address only with a place that can be found ("要不要去敲三楼的门" is not one).
    placed = looks_like_address(text) and names_a_place(text)
    if placed and lexicon.question.search(norm) and not names_a_findable_place(text):
        placed = False
    field = "address" if placed and not asks_arrival else "detail"
    # "消防来了…120拉到医院去了 现在窗子都开了 没事了" names places but says it is over (a session-10
    # trial resident's was added to the ticket as the address).
    over = guide is not None and re.search(guide.over_before, norm) is not None
    plain = norm.replace(" ", "")
    hazard = guide.hazard(reported.kind) if guide else None
    written = simplify(text).replace(" ", "")
    answer = hazard_answer(hazard, plain, written) if hazard else None
    found_hurt = hazard is not None and hazard.kind in _FOUND_HURT and _HURT.search(plain) is not None
    # Someone hurt behind a locked door ("要不要把门撬开 她哼的声音越来越小了": trial EE r18 got the
    # trapped script again), or the neighbour not seen found hurt ("门开了 婆婆摔在地上了…要不要把她
    # 扶起来": trial X r18 got "call 110" twice): the medical emergency's answers.
    hurt_inside = found_hurt or (hazard is not None and hazard.kind == "trapped")
    # "…120拉到区医院去了": taken to hospital already, so no first aid (trial Z8 r10 got it twice).
    if answer is None and guide is not None and hurt_inside and not over:
        medical = guide.hazard("medical")
        answer = hazard_answer(medical, plain, written) if medical else None
        if answer is None and medical is not None and found_hurt:
            # "门开了 婆婆摔在地上还有气 120在路上了": what to do until the ambulance comes, not the
            # "call 110, don't break in" of the first reply (trial CC r18).
            answer = "\n".join(medical.advice)
    if reported.number and desk is not None:
        cited = await _another_ticket_cited(ctx, desk, reported.number, plain)
        if cited:
            # "我是问我之前报修那个单子 10010 进度": another request of theirs, not this emergency
            # (trial DD r19 got the emergency ticket's state three times).
            if guide is not None and _says_over(guide.stand_down, norm):
                stood = await _stand_down(ctx, reported, text)
                answered = await _answered_anew(ctx)
                return replace(answered, text=f"{stood.text}\n\n{answered.text}") if answered else stood
            ctx.conversation.forget()
            return None
    if guide is not None and _says_over(guide.stand_down, norm) and (not asks_arrival or over):
        # "120已经拉走了！我问的是她的门锁不上 猫哪个管 她女儿联系上没有": over, whatever else it
        # asks — the rest goes to the duty staff with it (trial O got the arrival line); what it
        # asks that the emergency answers ("水停了…损失找哪个赔") is answered first (trial S).
        stood = await _stand_down(ctx, reported, text)
        if lexicon.handoff.search(norm):
            # "没事了 找个真人跟我说 人工": over, and a person asked for (trial PP r01 got "没事就好").
            handed = await complaints.hand_off(ctx, text)
            if handed is not None:
                return replace(handed, text=f"{stood.text}\n{handed.text}")
        if asks_arrival and reported.number:
            # "人都拉走了。社区的人好久能到？": over, and when someone comes still asked (trial BB r18).
            office = ctx.services.handbook.office
            stood = replace(
                stood,
                text=f"{stood.text}\n社区值班人员会尽快过来（紧急工单 {reported.number}）；"
                f"急的话直接打社区值班手机 {office.duty_phone}。",
            )
        asked = answer and lexicon.question.search(norm)  # "抬下去了 谢谢" tells, asks nothing
        if asked:
            return replace(stood, text=f"{answer}\n{stood.text}")
        classifier = ctx.services.classifier
        wanted = classifier.classify(text)
        item = wanted.item if wanted.intent == "order" else None
        asked_for = text
        # "把那个紧急单子撤了！不是紧急情况。我要报修车棚的监控": a clause of its own asks for a
        # service by name (trial SS r14's repair was not started).
        in_a_clause = facts.named_order(ctx, _CLAUSE.split(text)) if item is None else None
        if in_a_clause is not None:
            item, asked_for = in_a_clause
        guess = classifier.sure_item(text, SURE_VISIT) if item is None else None
        if guess is not None and classifier.asks_to_act(text, guess):
            item = guess  # "手机没电了" is the telecom's word, but the visit is what is asked
        if item in ctx.services.handbook.items:
            # "我妈没事 是手机没电了 那以后能不能每个礼拜去看她一次": over, and a visit asked for in
            # the same breath — begun now, not "有别的事直接跟我说" (trial W).
            from handlers import ordering  # ordering reaches safety through its routes

            started = await ordering.start(ctx, item, asked_for)
            return replace(started, text=f"{stood.text}\n\n{started.text}")
        still_on = ctx.conversation.get(EMERGENCY) is not None  # help asked for: the rest is on the ticket
        wants_worker = _WANTS_WORKER.search(simplify(text)) is not None
        if not still_on and (
            wants_worker or (lexicon.question.search(norm) and _asks_a_service(ctx, wanted, norm))
        ):
            # "没得那么凶 闸已经关了的…就是要找个师傅来换管子": over, and a repair asked for (trial TT
            # r08's was lost).
            # "现在不紧急了 我是问以后 独居老人定期探访咋个申请", "醒了…这个软管要我们自己出钱换吗": over,
            # and a question of its own, answered as any other (trial AA: only "没事了" was said).
            answered = await _answered_anew(ctx)
            if answered is not None:
                return replace(answered, text=f"{stood.text}\n\n{answered.text}")
        return stood
    family_number = _family_number_given(plain) and mobiles_in(text)
    if family_number and reported.number and desk is not None:
        # "他女儿电话我有 139 1111 2222 要不要给你们": the family's number given, not asked for (trial SS
        # r17 was told twice that it could not be given out).
        with contextlib.suppress(Refused):
            await desk.add_detail(ctx.message.resident, reported.number, "detail", f"家属电话：{text}")
            return Reply(
                "\n".join(
                    [
                        *([answer] if answer else []),
                        f"好的，家属的电话记下了（紧急工单 {reported.number}），值班人员会打过去通知家属。",
                    ]
                )
            )
    family_asked = (
        guide is not None and re.search(guide.ask_family, plain) and not _RESIDENT_CALLS.search(plain)
    )
    if family_asked and not placed and not asks_arrival:
        return await _reach_family(ctx, reported, text, answer)
    # "幸福里9栋2单元402 …电话136… 她儿子的电话我没得", "我就问你们晓不晓得是…402 啥时候有人过来": the
    # address and arrival first, the family reached besides (trial VV r10 had her own number taken for
    # the son's and the address ignored).
    family_line = "社区登记了家属电话的，值班人员会联系家属。" if family_asked else ""
    # What fits every emergency ("我好怕", "我已经出来了 然后呢"), when its own questions said nothing.
    any_hazard = _answers(guide.questions, (plain, written)) if guide is not None else None
    if field == "detail" and answer is None:
        result = ctx.services.classifier.classify(text)
        # Thanks or goodbye, not "好嘛 我还是打了110…我叫周红 电话139…" (read as a greeting by its
        # first word: trial N's details went to another ticket and the emergency was forgotten).
        words = _NUMBER.sub(" ", norm)  # 88 (bye) is no goodbye inside 13883219904
        parting = result.intent == "greeting" and any(w in words for w in (*lexicon.thanks, *lexicon.bye))
        # "然后呢" is short, but asks what next about the emergency (its any-hazard answer).
        short_greeting = result.intent == "greeting" and len(plain) <= 6 and any_hazard is None
        # "以后…", "另外问一下 厕所头想装个扶手…社区有没得补贴": a service for later or another matter,
        # asked by name (trial WW r06 got the 120 script twice more).
        aside = _LATER.search(norm) is not None or _ASIDE.search(norm) is not None
        later = aside and _asks_a_service(ctx, result, norm)
        # "我打的是139…，我先搬了个垃圾桶挡起": the phone asked for, whatever service a word names
        # (trial TT r12 got a sanitation order).
        named_anew = result.intent in ("consult", "order") and result.named and not mobiles_in(text)
        if parting or short_greeting or later or named_anew:
            # A new question, thanks, or what to arrange later ("以后他回来还是一个人住 社区有没得紧急
            # 呼叫的设备或者定期来看一下": trial AA got the emergency advice again): not more about it.
            ctx.conversation.forget()
            return None
    if guide is None or hazard is None:
        ctx.conversation.forget()
        return None
    if reported.over and reported.number and desk is not None and answer is None and not asks_arrival:
        return await _aftermath(ctx, reported, text)
    again = _lines(hazard, [guide.numbers[key] for key in hazard.call][:3])
    answer = answer or any_hazard
    if answer:
        # The question answered, then only the numbers to call: the whole advice again under an
        # answer read as the same boilerplate (trial HH r17 got it three times).
        again = f"{answer}\n{again.splitlines()[0]}"
    if not reported.number:
        return await _without_ticket(ctx, hazard, again, plain)
    if desk is None:
        return None
    # "电话13688997766": giving their number, not asking for ours (the advice was repeated in a trial).
    asks_numbers = re.search(guide.ask_numbers, plain) is not None and not _GIVES_NUMBER.search(plain)
    asks_numbers = asks_numbers and not family_asked  # "我没得电话 你们社区有没得": the family's number
    try:
        # "哎呀我说错了 不是6栋 是8栋门口": the place meant, without the one denied (trial Z8 r19).
        said = address_said(text)[0] if field == "address" and _MISSAID.search(text) else text
        ticket = await desk.add_detail(ctx.message.resident, reported.number, field, said)
        given = mobiles_in(text)
        if given:  # the number asked for with the address: the ticket's contact for staff
            ticket = await desk.add_detail(ctx.message.resident, reported.number, "mobile", given[0])
    except Refused:
        ctx.conversation.forget()
        return None  # the ticket was closed or cancelled meanwhile: handle the message anew
    what = "地址" if field == "address" else "情况"
    if _PHONE_READ_BACK.search(plain) and not _DUTY_PHONE_ASKED.search(plain) and "值班" not in plain:
        # "你给我念一下单子上现在登记的电话是好多": the number on the ticket (trial TT r12 was read as
        # standing down, its phone never said back).
        kept = ticket.contact_mobile or "（还没有登记电话）"
        return Reply(
            f"紧急工单 {reported.number} 登记的联系电话是 {kept}{'（刚改好）' if given else ''}。"
            "不对的话直接发正确的号码。"
        )
    near = _place_asked(ctx, plain) if answer is None else None
    if near is not None:
        # "物业电话好多 我找不到" while the police wait for a locksmith: the estate office's number, not
        # the alarm again (trial Z7 r10 got it twice).
        still = f"紧急工单 {reported.number} 还在处理；有危险请先打 {_first_calls(guide, hazard)}。"
        return Reply(f"{render.nearby_line(near)}\n{still}")
    if _DUTY_PHONE_ASKED.search(plain) and not _DUTY_UNREACHED.search(plain):
        # "值班手机是好多 你再说一遍": the number, not the acknowledgement again (trial QQ r09).
        office = ctx.services.handbook.office
        return Reply(
            f"社区值班手机 {office.duty_phone}，社区电话 {office.phone}（紧急工单 {reported.number}）。"
            f"有危险请先打 {_first_calls(guide, hazard)}。"
        )
    if _DUTY_UNREACHED.search(plain):
        # "值班手机打了两遍都没人接 咋个搞": the group is told again, and other ways in are given — not the
        # same block a third time (trial L).
        with contextlib.suppress(Refused):
            await desk.hurry(ctx.message.resident, reported.number, text)
        office = ctx.services.handbook.office
        return Reply(
            f"对不起！已经再次通知社区负责人和所有值班人员（紧急工单 {reported.number}）。\n"
            f"请先打 {_first_calls(guide, hazard, '、')}，不要等社区；"
            f"也可以打社区电话 {office.phone}，或拨 12345 请他们联系街道值班。"
        )
    if asks_arrival:
        # "有人去了没": where the emergency ticket is, not the same acknowledgement again.
        holder = f"，{ticket.assignee[:1]}老师在负责" if ticket.assignee else ""
        office = ctx.services.handbook.office
        return Reply(
            (f"{answer}\n" if answer else "")  # "要不要喊他们都下来 社区有没得人过来": both asked (trial N)
            + f"紧急工单 {reported.number}：{STATE_NAMES.get(ticket.state, ticket.state)}{holder}；"
            + (f"登记的地址：{where}；" if (where := place_in(str(ticket.fields.get("address", "")))) else "")
            + f"您说的也已经加进去了，值班人员会尽快赶到；急的话直接打社区值班手机 {office.duty_phone}。"
            f"{family_line}有危险请先打 {_first_calls(guide, hazard)}。"
        )
    acknowledged = (
        f"收到，{what}已经加到紧急工单 {reported.number}{'（电话也记下了）' if given else ''}，"
        f"值班人员马上处理。{family_line}注意安全！"
        f"有危险请先打 {_first_calls(guide, hazard)}。"
    )
    # "要不要去敲三楼的门", "可以把她扶到床上不": a question while it goes on gets what to do again,
    # not only "收到" (a session-8 trial resident asked four times and got the same line).
    # "他女儿在绵阳 我没得电话 你们社区有没得": the family question, answered by family_line.
    asked = lexicon.question.search(norm) is not None and not family_asked
    asks = asks_numbers or answer is not None or asked
    return Reply(f"{again}\n{acknowledged}" if asks else acknowledged)


def _first_calls(guide: EmergencyGuide, hazard: Hazard, between: str = " / ") -> str:
    """ "119", "110 / 120": this emergency's own first numbers (a fire's acknowledgement said 110 / 120:
    trial PP r18)."""
    return between.join(guide.numbers[key].phone for key in hazard.call[:2])


async def _aftermath(ctx: Context, reported: Reported, text: str) -> Reply:
    """After the person was taken to hospital: a broken door to guard, the family to reach, who is
    handling it — the duty staff are asked on the ticket and the resident told so, not the opening
    advice again (trial TT r17 got it four times)."""
    desk = ctx.services.desk
    assert desk is not None
    office = ctx.services.handbook.office
    with contextlib.suppress(Refused):
        await desk.hurry(ctx.message.resident, reported.number, f"居民后续：{text}")
    return Reply(
        f"好的，已经转给值班人员（紧急工单 {reported.number}）：您说的门、家属和要人来的事都写在工单上，"
        f"值班人员会联系您、安排人来处理；今晚急的话直接打社区值班手机 {office.duty_phone}。"
        "门坏了关不上的，先请邻居或物业帮忙看一下，贵重东西不要动。"
    )


async def _reach_family(ctx: Context, reported: Reported, text: str, answer: str | None) -> Reply:
    """ "帮忙通知她儿子", "他女儿电话你们有没得": staff reach the family, and their number is not given
    out; the emergency's own answer to the rest of the message before it (trial N: twice the whole
    advice again)."""
    desk = ctx.services.desk
    office = ctx.services.handbook.office
    first = [answer] if answer else []
    if reported.number and desk is not None:
        with contextlib.suppress(Refused):
            await desk.hurry(ctx.message.resident, reported.number, f"居民请社区联系家属：{text}")
            return Reply(
                "\n".join(
                    [
                        *first,
                        f"已请值班人员联系家属（紧急工单 {reported.number}）："
                        f"社区登记了家属电话的，会马上打过去通知；值班手机 {office.duty_phone}。"
                        + (_NOT_GIVEN_OUT if _GIVE_ME.search(simplify(text)) else ""),
                    ]
                )
            )
    return Reply(
        "\n".join(
            [
                *first,
                f"社区登记了家属电话的，请打社区值班手机 {office.duty_phone}，值班人员帮您联系家属。"
                + (_NOT_GIVEN_OUT if _GIVE_ME.search(simplify(text)) else "")
                + "有危险请先打 110 / 120。",
            ]
        )
    )


_NOT_GIVEN_OUT = "家属的电话是个人信息，不能在这里发给您。"
# The family's number asked for ("他女儿电话你们有没得", "给我她儿子的电话"), not only their being told
# ("她儿子电话我不晓得 你们社区应该有登记吧": trial VV r10 was refused what she never asked).
_GIVE_ME = re.compile(r"(给|发|告诉|说)(给)?我|是好多|是多少|多少号|有没得|有没有|有莫得|要(一)?个")


def _says_over(pattern: str, norm: str) -> bool:
    """Does the message say it is over, not denied ("哪个说送医院了 人还在屋头": trial LL r18 told the
    duty staff the man was in hospital while he was still behind the locked door)? "哎呀我说错了 不是
    6栋 是8栋门口" corrects the place, it is no all-clear (trial Z8 r19 told the duty staff it was over)."""
    return any(
        not _DENIED_BEFORE.search(norm, max(0, found.start() - 6), found.start())
        and not (_MISSAID.fullmatch(found.group()) and names_a_findable_place(norm[found.end() :]))
        for found in re.finditer(pattern, norm)
    )


_MISSAID = re.compile(r"(打|说|搞|弄|写)错了")


_DENIED_BEFORE = re.compile(r"(哪个|谁|哪里)说|没(有)?说|不是|还没有?|并没")


async def _stand_down(ctx: Context, reported: Reported, text: str) -> Reply:
    """ "我没得事", "不是紧急情况", "取消": the duty staff are told on the ticket (and in the group),
    who close it after checking — the bot does not cancel an emergency on one message — and the next
    messages are the resident's own again. A lonely resident read as an emergency had six messages,
    "取消 我不是紧急情况" among them, added to the ticket in a trial."""
    ctx.conversation.forget()
    reply = await _stood_down(ctx, reported, text)
    return _resume(ctx, reported, reply)


def _resume(ctx: Context, reported: Reported, reply: Reply) -> Reply:
    """The order that was being filled in before the emergency, taken up again after "没事了" —
    unless it has lain idle past the draft's limit or the resident is still on the emergency."""
    draft = reported.paused
    if draft is None or draft.idle(ctx.services.now()) or ctx.conversation.get(EMERGENCY) is not None:
        return reply
    ctx.conversation.enter(ORDERING, draft)
    title = ctx.services.handbook.item(draft.item).title if draft.item in ctx.services.handbook.items else ""
    return Reply(f"{reply.text or ''}\n您刚才的【{title}】还没提交：回复“确认”提交；要改或补充，直接说。")


async def _stood_down(ctx: Context, reported: Reported, text: str) -> Reply:
    desk = ctx.services.desk
    # "婆婆摔倒了…120已经拉走了": taken to hospital is not "nothing happened" — staff follow it up
    # (a session-8 trial resident's report was logged as 没事了).
    to_hospital = _TO_HOSPITAL.search(text) is not None or (
        _MEDICS_CAME.search(text) is not None and _RECOVERED.search(text) is None
    )
    guide = ctx.services.handbook.emergency
    plain = simplify(text).replace(" ", "")
    asks_help = _HELP_AFTER.search(plain) or (guide is not None and re.search(guide.ask_someone, plain))
    if not reported.number and asks_help and desk is not None and guide is not None:
        hazard = guide.hazard(reported.kind)
        number = await _open_ticket(ctx, hazard, text) if hazard else None
        if number is not None:  # "120来了 要人跟车 社区能不能来个人": now someone is asked for
            reported = replace(reported, number=number)
    if not reported.number or desk is None:
        if to_hospital:  # "120到了…要送华西" was answered "没事就好" (trial K)
            return Reply(
                "好的，医生到了就好，祝早日康复。之后要社区帮忙（联系家属、出院后照料），随时跟我说。"
            )
        return Reply("好的，没事就好。有危险请随时打 110 / 120。")
    said = f"居民说已送医院：{text}" if to_hospital else f"居民说没事／不是紧急情况：{text}"
    # Every emergency of theirs from the last hour, not only the latest: a trial resident's worried
    # second message had opened another, and "搞错了 不是紧急情况" stood down only that one.
    since = ctx.services.now() - STAND_DOWN_REACH
    recent = [
        t.number
        for t in await desk.tickets_since(ctx.message.resident, since)
        if emergencies.is_emergency(t) and t.state in OPEN_STATES
    ]
    told = []
    for number in dict.fromkeys(str(n) for n in (reported.number, *recent)):
        try:
            await desk.add_detail(ctx.message.resident, number, "detail", said)
        except Refused:
            continue
        told.append(number)
    if not told:
        return Reply("好的，没事就好。有危险请随时打 110 / 120。")
    if asks_help:
        # "120来了要人跟车…社区能不能来个人", "门锁不到了 社区能不能来个人管一哈": someone is asked
        # for, not a stand-down (trial Q got "祝早日康复" and the ticket's state).
        with contextlib.suppress(Refused):
            await desk.hurry(ctx.message.resident, told[0], f"居民请社区来人：{text}")
        office = ctx.services.handbook.office
        ctx.conversation.enter(EMERGENCY, reported)
        sent = "人已送医院，" if to_hospital else ""
        return Reply(
            f"好的，已经告诉值班人员：{sent}并请他们过来帮忙（工单 {'、'.join(told)}）；"
            "您说的要帮的事已经写在工单上。"
            f"急的话直接打社区值班手机 {office.duty_phone}。家属赶不到、要人跟车的，先请邻居陪一下。"
        )
    if to_hospital:
        # Still about it next ("他屋门锁不到了…社区能不能来个人"): kept on the ticket (trial Q).
        ctx.conversation.enter(EMERGENCY, replace(reported, over=True))
        return Reply(
            f"好的，已经告诉值班人员：人已送医院（工单 {'、'.join(told)}）。社区会跟进，需要时帮忙联系家属；"
            "您说的其他事也一并转给了值班人员。有别的事直接跟我说。"
        )
    if _NOT_SO_SERIOUS.search(plain):
        # "没得那么凶 不是发大水 是下水道堵起了…臭得很": not an emergency, but the problem is still there
        # (trial WW r05 was told the staff heard "all clear" while the sewage still overflowed).
        return Reply(
            "好的，已经告诉值班人员：不是紧急险情，问题还在，请他们按一般问题尽快处理"
            f"（工单 {'、'.join(told)}），您说的情况也写在工单上了。有别的事直接跟我说。"
        )
    if _STILL_COMING.search(plain):
        return Reply(
            f"好的，没事就好。已经告诉值班人员您说现在没事了（工单 {'、'.join(told)}）：他们会先打电话问您，"
            "还要不要上门看看由您定；不用来的话，接电话时说一声就行。有别的事直接跟我说。"
        )
    return Reply(
        f"好的，已经告诉值班人员您说现在没事了（工单 {'、'.join(told)}）。"
        "他们可能会打电话跟您确认一下。有别的事直接跟我说。"
    )


# Said to be less serious than it sounded, not over.
_NOT_SO_SERIOUS = re.compile(r"没(得|有)?那么(凶|严重|吓人|急)|不(是|算)?(很|太)?严重|不是发大水")


async def _another_ticket_cited(ctx: Context, desk: ServiceDesk, emergency: str, plain: str) -> bool:
    """Does the message cite another of the resident's own tickets by its number?"""
    cited = set(TICKET_NUMBER.findall(plain)) - {emergency}
    if not cited:
        return False
    own = {str(ticket.number) for ticket in await desk.resident_tickets(ctx.message.resident, limit=20)}
    return bool(cited & own)


def _asks_a_service(ctx: Context, result: Classification, norm: str) -> bool:
    """Does the message ask about one of the community's services or another agency's matter?"""
    classifier = ctx.services.classifier
    return (result.intent in ("consult", "order") and result.item is not None) or classifier.referrals.find(
        norm
    ) is not None


async def _answered_anew(ctx: Context) -> Reply | None:
    """The message answered as if no emergency were on (its state is already forgotten), unless it
    reads as a danger again: that would open a second emergency for the one just stood down."""
    classifier = ctx.services.classifier
    if classifier.danger is not None and classifier.danger.detect(ctx.message.text) is not None:
        return None
    from handlers.routes import TEXT_ROUTES, first_reply  # the routes reach safety first

    # The standing-down words are answered already: "现在不紧急了" left in would read as a note for
    # the emergency ticket ("改成不紧急").
    guide = ctx.services.handbook.emergency
    clauses = _CLAUSE.split(ctx.message.text.strip())
    # Denied words ("哪个说送医院了") are no standing down: that clause stays (one rule, _says_over).
    rest = " ".join(c for c in clauses if c and not (guide and _says_over(guide.stand_down, simplify(c))))
    if not rest:
        return None
    return await first_reply(TEXT_ROUTES, replace(ctx, message=replace(ctx.message, text=rest)))


def answers_question(ctx: Context, kind: str, text: str) -> bool:
    """Does the reported emergency's own advice answer what this message asks?"""
    guide = ctx.services.handbook.emergency
    hazard = guide.hazard(kind) if guide else None
    if hazard is None:
        return False
    plain = ctx.services.classifier.normalize(text).replace(" ", "")
    return hazard_answer(hazard, plain, simplify(text).replace(" ", "")) is not None


def hazard_answer(hazard: Hazard, *texts: str) -> str | None:
    """The emergency's own answer to what was asked ("能不能给他喝水"), or None. Asked of the
    normalised text and of the text as written: normalising drops 喂 as a filler ("救心丸到底喂不喂")."""
    return _answers(hazard.questions, texts)


def _answers(questions: tuple[tuple[str, str], ...], texts: tuple[str, ...]) -> str | None:
    # Two of them asked in one message ("关我屋头的阀门有用没得？物业电话是好多"): both answered (trial S).
    answers = [answer for ask, answer in questions if any(re.search(ask, text) for text in texts)]
    return "\n".join(answers[:2]) if answers else None


STAND_DOWN_REACH = timedelta(hours=1)
# Emergencies about a person not seen or missing: once found, what to do for them is first aid.
_FOUND_HURT = ("alone", "missing")
_HURT = re.compile(r"摔|倒|伤|血|昏|晕|不醒|起不来|扶")  # "没有走丢 她在家" is not found hurt
# The duty phone asked for again ("值班手机是好多 你再说一遍").
_DUTY_PHONE_ASKED = re.compile(
    r"(值班|社区)(的)?(手机|电话|号码)[^ ]{0,4}(多少|好多|是啥|是什么|几号|再说|发一下|给我)"
)
# The community's duty phone or staff cannot be reached during an emergency.
_DUTY_UNREACHED = re.compile(
    r"(值班|社区|你们|网格员).{0,24}(没人接|没有人接|没得人接|莫得人接|莫人接|打不通|不接|关机|联系不上)"
)  # "我打了那个值班手机138 0000 6666，没得人接" (trial Z10 r10 got the acknowledgement)
# Taken to hospital, not only "120来了" or "没有送医院" (trial T: a grandmother who woke at home was
# logged as taken to hospital).
_TO_HOSPITAL = re.compile(
    r"(?<![没不])(?<!没有)(?<!不用)(送|拉|抬|接|去|到|进|住)(了|到|进|去)?[^，。,. ]{0,4}?(医院|急诊)|"
    r"(?<![没不])要送|(120|救护车|医生)[^，。,. ]{0,4}(拉走|接走|抬走|送走|带走)|"
    r"(拉|抬|接|送)走了|抬下(去|楼)|在医院|(上|抬上|送上)了?(120|救护车)"  # “已经上120了” (trial SS r17)
)
# The ambulance came for someone still unwell: in the medics' hands, followed up like a hospital case;
# once they woke up or are fine ("120来了 婆婆醒了"), it is over.
_MEDICS_CAME = re.compile(r"(120|救护车|医生)(已经)?(来了|到了)")
_RECOVERED = re.compile(r"醒了|没事|没得事|没有事|好了|不要紧")
# "社区的人还要来不": whether anyone still comes once it is over.
_STILL_COMING = re.compile(r"还(要|会)?(来|过来|上门)(不|吗|没|嘛|啊)|还来不来|还要不要来|还过不过来")


def _family_number_given(plain: str) -> bool:
    """Is a relative's number given ("他女儿电话我有 139…"), not said to be missing ("她儿子的电话我没得":
    trial VV r10's own number was taken for the son's)?"""
    return any(
        not _NOT_HAD.match(plain, found.end(), found.end() + 8) for found in _FAMILY_NUMBER.finditer(plain)
    )


_NOT_HAD = re.compile(r"[^ ]{0,3}(没得|没有|莫得|不晓得|不知道|不清楚|找不到|不记得)")
# The family's number given ("他女儿电话我有 139…", "把她女儿的电话给你们 139…"): with a mobile in it.
_FAMILY_NUMBER = re.compile(
    r"(女儿|儿子|家属|家里人|屋头人|子女|亲戚|老伴|孙子|孙女|侄儿|侄女)[^ ]{0,4}(电话|号码|手机)"
    r"|(电话|号码|手机)[^ ]{0,6}(女儿|儿子|家属|子女|亲戚)"
)
# The phone on the ticket asked back: "电话改过来没得", "念一下登记的电话是好多".
_PHONE_READ_BACK = re.compile(
    r"(电话|号码|手机)[^ ]{0,4}(改过来|改了没|改好了?没|对不对|对没对|对没有|登记对)"
    r"|(我的|登记的|留的|单子上|工单上)[^ ]{0,8}(电话|号码|手机)[^ ]{0,4}(是好多|是多少)"
    r"|(念|读)一下[^ ]{0,10}(电话|号码)"
)
# "地址你记到没有", "你们晓不晓得是9栋…": the address on the ticket asked back (trial VV r10), answered
# with the ticket's state.
_WHO_HAS_IT = re.compile(
    r"(派|是)(哪个|谁|哪位)|单号|工单号|(哪个|谁)在(管|负责|处理)"
    r"|地址[^ ]{0,3}(记到|记下|记了|收到|晓得)(没|了没|没有|了吗|吗)|(晓不晓得|知不知道|晓得不)(是|在)?\d"
)
_WANTS_WORKER = re.compile(r"(找|派|喊|叫|请)(个|一个)?(师傅|工人|修的人)(来)?(修|换|弄|看)")
# The resident reaches the family themselves ("我有她女儿电话 我先打给她女儿问下"): not a request to us.
_RESIDENT_CALLS = re.compile(r"(我|先)(来)?打给|我(这里?)?有.{0,4}(电话|号码)")
# Asked of the community after the ambulance came: someone to go along, lock up, reach the family.
_HELP_AFTER = re.compile(
    r"跟车|陪.{0,4}医院|锁门|门.{0,6}(锁不到|锁不上|开起|开着)|联系.{0,6}(家属|家里人|屋头人)"
    # "他儿子联系上没得？医院那边总要有个人去嘛" (trial TT r18 was told "之后…随时跟我说")
    r"|(儿子|女儿|家属|家里人|屋头人)[^ ]{0,4}联系(上|到)|(总要|要|得)有(个)?人去|派(个)?人去"
)
_GIVES_NUMBER = re.compile(r"\d{7,}")
_NUMBER = re.compile(r"\d{3,}")
# Where one clause ends and the next begins (the stand-down words are dropped clause by clause).
_CLAUSE = re.compile(r"[，,。.！!？?；;\s]+")
# What is asked for later, once the emergency is over ("以后他回来还是一个人住…定期来看一下").
_LATER = re.compile(r"以后|今后|将来|往后|平时|长期|下次")
_ASIDE = re.compile(r"另外(问|想问|还有)|顺便问|还有个事|还有一个事|问一下别的")


async def _without_ticket(ctx: Context, hazard: Hazard, again: str, plain: str) -> Reply:
    """The emergency's numbers and advice again; when the resident asks for someone, the ticket."""
    guide = ctx.services.handbook.emergency
    assert guide is not None
    if re.search(guide.ask_someone, plain):
        # What the resident said so far (kept masked in the conversation), the hazard first.
        said = "；".join([*ctx.conversation.recent[-3:], ctx.message.text.strip()])
        number = await _open_ticket(ctx, hazard, said)
        if number is not None:
            paused = (ctx.conversation.get(EMERGENCY) or Reported("", hazard.kind)).paused
            ctx.conversation.enter(EMERGENCY, Reported(number, hazard.kind, paused))
            return Reply("\n".join([again, *_ticket_lines(ctx, number, said)]))
        office = ctx.services.handbook.office
        return Reply(f"{again}\n请马上打社区值班手机 {office.duty_phone}，让社区派人。")
    return Reply(f"{again}\n要社区派人来，请回复“派人”；已经没事了，回复“没事了”。")
