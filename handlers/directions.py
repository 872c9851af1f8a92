"""No dead ends: a life event gets its list of items, another agency's business gets where to go,
a lonely resident gets a warm word and what the community offers, and a message the bot is unsure
about gets the likely items as numbered choices. Each of these is recorded for staff review
(未识别问题, desk/unanswered.py), and so is the number the resident then picks."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import replace

from handlers import facts, render
from handlers.conversation import AFTER_ITEM, CHOOSING, COMPLAINED, HANDED_OFF, REFERRED, Choice
from handlers.types import Context, Reply
from intents import Classification, Classifier
from intents.contact import mobiles_in
from intents.directory import calls_them_itself, said_not_there
from knowledge.models import LifeEvent, Nearby, Referral

log = logging.getLogger(__name__)

# What the community offers someone who is lonely, in the order offered (handbook item ids).
COMPANY_ITEMS = ("community_activities", "home_care", "elderly_visiting")
# What "预约" alone, with no item talked about, most often means (handbook item ids, in order).
BOOKED_MOST = ("home_visit", "facility_repair", "venue_booking", "community_activities", "dispute_mediation")
VISIT_ITEM = "elderly_visiting"  # what a lonely resident asking for company is signed up for
HOTLINE = "12345"


# How sure rules and model together must be of a service outside a life event's list for it to be
# the message's subject rather than the event.
SURE_SUBJECT = 0.9


def life_event_of(ctx: Context) -> tuple[LifeEvent, Classification] | None:
    """A situation ("我爸上个月走了", "刚生了娃") and no single service clearly named."""
    classifier = ctx.services.classifier
    text = ctx.message.text or ""
    norm = classifier.normalize(text)
    event = classifier.life_event(norm)
    if event is None:
        return None
    result = classifier.classify(text)
    if result.intent not in ("consult", "order", "unknown"):
        return None  # "我爸走了 上次申请的…批了没": about a request, not the event
    asks_all = classifier.lexicon.life_event_asks.search(norm.replace(" ", "")) is not None
    if not asks_all and _LONG_AGO.search(norm.replace(" ", "")):
        return None  # "我老伴去年走了…没得人说话 有没得活动": long past, not what to do now
    if not asks_all and ctx.conversation.item in event.items:
        # Already on one of the event's items: "我妈腿脚不方便 可不可以我去领嘛…老汉走了这个月养老金要不要
        # 退" asks about them, not for the list again (trial MM r01 got the list twice).
        return None
    if result.item is not None and result.named and not asks_all:
        return None  # "老人走了 丧葬费咋个领": the service is named, answer it
    outside = result.item is not None and result.item not in event.items and not asks_all
    if outside and classifier.sure_item(text, SURE_SUBJECT) == result.item:
        # "一个人住 老伴走了 煮饭煮不动了 社区有没得饭堂": meals, described in their words and
        # outside the event's list, are what is asked (trial N got the bereavement list twice).
        return None
    if result.intent == "unknown" and not asks_all and classifier.referrals.find(norm) is not None:
        return None  # "我爸走了 燃气户头要过户": another agency's matter, named — say where to go
    return event, result


async def offer(
    ctx: Context,
    outcome: str,
    options: tuple[str, ...],
    heading: str,
    footer: list[str],
    intent: str = "consult",
) -> Reply:
    """Items as numbered choices: the question is remembered (a number next picks one) and the
    offer is recorded for the review under `outcome`."""
    asked = (ctx.message.text or "") if intent == "order" else ""
    ctx.conversation.enter(CHOOSING, Choice(options, intent, asked))
    await record(ctx, outcome, options)
    handbook = ctx.services.handbook
    numbered = [f"{n}. {handbook.item(item_id).title}" for n, item_id in enumerate(options, 1)]
    return Reply("\n".join([heading, *numbered, *footer]))


async def life_event(ctx: Context, found: tuple[LifeEvent, Classification]) -> Reply:
    event, result = found
    handbook = ctx.services.handbook
    classifier = ctx.services.classifier
    said = classifier.life_events_said(classifier.normalize(ctx.message.text or ""))
    # "我失业了 屋头又困难": both events' items, in the order said — not the job list alone (trial CC).
    events = said if event in said and len(said) > 1 else (event,)
    listed = tuple(
        dict.fromkeys(item_id for each in events for item_id in each.items if item_id in handbook.items)
    )
    # "我刚办完退休手续 还要办些啥子": what they have done is not listed again (trial PP).
    done = classifier.said_done(ctx.message.text or "")
    items = tuple(item_id for item_id in listed if item_id not in done) or listed
    heading = "、".join(each.title for each in events)
    notes = [each.note for each in events if each.note]
    footer = ["回复数字，看要带什么、去哪里办。", *notes[:1]]
    left_out = [handbook.item(item_id).title for item_id in listed if item_id not in items]
    if left_out:
        footer.insert(0, f"您已经办好的（{'、'.join(left_out)}）就不列了。")
    offered = await offer(ctx, f"life:{event.id}", items, f"{heading}，一般要办这几件事：", footer)
    # "老伴昨天晚上在屋头走了 莫得在医院 现在不晓得先做啥子": the list, and first the answer to what
    # one of its items says about that situation (a death at home: who certifies it).
    first = handbook.items.get(result.item or "") if result.item in items else None
    own = facts.own_answer(ctx, first, ctx.message.text or "") if first is not None else None
    norm = classifier.normalize(ctx.message.text or "")
    compact = norm.replace(" ", "")
    asks_all = classifier.lexicon.life_event_asks.search(compact) is not None
    # "我是低保 住院花了好几万 医保报了还剩一大截…还能找哪里补点": the one of the list the model is sure is
    # asked about, said first (blind batch 78 got the hardship list alone).
    if (
        first is not None
        and own is None
        and not asks_all
        and classifier.lexicon.question.search(compact)
        and classifier.sure_item(ctx.message.text or "", SURE_SUBJECT) == first.id
    ):
        own = render.checklist_summary(first)
    return replace(offered, text=f"【{first.title}】{own}\n\n{offered.text}") if own and first else offered


def nearby_asked(ctx: Context, spoken: str) -> Nearby | None:
    """The nearby branch of the agency a message names, by a listed referral word or by the branch's
    own name (`nearby_named`); None when it names none the community wrote down. `spoken` is
    normalised and unspaced."""
    nearby = ctx.services.handbook.office.nearby
    listed = ctx.services.classifier.referrals.find(spoken)
    found = nearby.get(listed[0].id) if listed is not None else None
    return found or nearby_named(nearby, spoken)


def nearby_named(nearby: dict[str, Nearby], spoken: str) -> Nearby | None:
    """The nearby branch a message names by its own name ("社区卫生服务中心电话多少", "社区医院在哪"),
    which the referral words may not list (the health centre's words are its vaccines). `spoken`
    is normalised and unspaced."""
    for place in nearby.values():
        whole, _, aside = place.name.partition("（")
        names = {whole, aside.rstrip("）"), *(whole[cut:] for cut in range(2, 5))}
        if any(len(name) >= 4 and name in spoken for name in names):
            return place
    return None


def lonely_words(ctx: Context) -> bool | None:
    """Small talk of someone alone ("一个人在屋头好无聊"), not a question about a service."""
    classifier = ctx.services.classifier
    text = ctx.message.text or ""
    # Clause by clause: across a space "派人来看 我住8栋" would read as 来看我 (a session-7 trial
    # resident reporting a leak got the lonely list).
    norm = classifier.normalize(text)
    lexicon = classifier.lexicon
    if not any(word in clause for clause in norm.split() for word in lexicon.lonely):
        return None
    if mobiles_in(text):
        return None  # "我姓周…手机137… 想请社区定期来看看我": a request with its details, not chat
    result = classifier.classify(text)
    asks = (
        lexicon.question.search(norm)
        or lexicon.availability.search(norm)
        or lexicon.life_event_asks.search(norm)
    )
    recent_event = classifier.life_event(norm) is not None and not _LONG_AGO.search(norm.replace(" ", ""))
    if result.item is not None and asks and recent_event:
        # "就我一个人挣钱…撑不下去了 有啥子补助": a life event and a service asked for — the event's
        # list, not the lonely one (session-6 trial); "老伴前年走了…没得人说话 闷得很" asks nothing:
        # lonely (a session-7 trial widower got the death-registration list).
        return None
    # "一个人住 想申请居家养老": a service; not "…你陪我说哈话嘛", its name said to us (blind batch 81).
    if (
        result.item is not None
        and result.named
        and not classifier.names_only_within(norm, result.item, lexicon.lonely)
    ):
        return None
    if asks and classifier.referrals.find(norm.replace(" ", "")) is not None:
        return None  # "电费咋个比上个月多了一倍 屋头就我一个老太婆": the power company's (blind batch 80)
    if asks and result.item not in (None, *COMPANY_ITEMS) and result.confidence >= SURE_SUBJECT:
        # "我一个人煮饭煮不动了 有没得送饭的 好多钱一顿": meals asked for, in their own words — not
        # the company list, which has no meals on it (trial V r7).
        return None
    return True


async def keep_company(ctx: Context, _: bool) -> Reply:
    handbook = ctx.services.handbook
    lexicon = ctx.services.classifier.lexicon
    clauses = lexicon.normalize(ctx.message.text).split()
    if VISIT_ITEM in handbook.items and any(w in c for c in clauses for w in lexicon.visit_wish):
        # "就想有个人来屋头看看我": a visit, arranged now — not the list again (session-7 trial).
        from handlers import ordering  # ordering reaches directions through consult

        return await ordering.start(ctx, VISIT_ITEM, ctx.message.text)
    offers = tuple(item_id for item_id in COMPANY_ITEMS if item_id in handbook.items)
    offered = ctx.conversation.get(CHOOSING)
    if offered is not None and offered.options == offers:
        # "就是想找人摆哈龙门阵 打下牌 有没得地方去嘛" after the list: the activity room answers it
        # (trial PP r06 got the list twice).
        answered = _company_answer(ctx, offers, clauses)
        if answered is not None:
            return answered
        # Said again: not the same list word for word (a trial resident got it twice), a person.
        await record(ctx, "lonely", offers)
        return Reply(
            "我一直在这儿，您想说什么都可以跟我说。\n"
            "要是想听听人的声音，回复“人工”，社区的工作人员会给您回个电话、陪您摆摆龙门阵；"
            "也可以回复数字，看看上面那几项。"
        )
    footer = ["回复数字看详情；想找人说说话，回复“人工”，工作人员会给您打电话。"]
    if _AT_NIGHT.search(ctx.message.text or ""):
        # "晚上睡不着心头慌的时候 有没得电话可以打起摆一哈龙门阵": a line that answers at night
        # (trial NN r06 got "不客气"); the community's staff are not on duty then.
        footer.append(
            "晚上睡不着、心里慌的时候，可以打 12356 心理援助热线（24 小时有人接）说说话；"
            "心口痛、喘不上气要马上打 120。"
        )
    return await offer(
        ctx,
        "lonely",
        offers,
        "听您这么说，我们很挂念您。社区里有老年人的去处，也有人可以常来看看您：",
        footer,
    )


_AT_NIGHT = re.compile(r"晚上|夜里|半夜|睡不着|失眠")


def _company_answer(ctx: Context, offers: tuple[str, ...], clauses: list[str]) -> Reply | None:
    """A question one of the offered items answers itself, once the list was given: "平时白天有没得地方
    可以去坐一哈 跟人摆哈龙门阵" is the activity room's hours, not the list again (trial X r6)."""
    lexicon = ctx.services.classifier.lexicon
    if not lexicon.question.search(" ".join(clauses)) and not lexicon.availability.search(" ".join(clauses)):
        return None
    handbook = ctx.services.handbook
    for item_id in offers:
        item = handbook.item(item_id)
        own = facts.own_answer(ctx, item, ctx.message.text or "")
        if own:
            ctx.conversation.enter(AFTER_ITEM, item_id)
            return Reply(f"【{item.title}】{own}\n想找人说说话，回复“人工”，工作人员会给您打电话。")
    return None


async def out_of_scope(ctx: Context, result: Classification) -> Reply:
    """unknown: the likely items if the model half-recognised a service, else where to go instead."""
    handbook = ctx.services.handbook
    classifier = ctx.services.classifier
    # "明年是啥子年 属啥子的": idle talk is no service half-recognised (blind batch 79 was offered
    # retirement and school enrolment to pick from).
    norm = classifier.normalize(ctx.message.text or "")
    chitchat = classifier.chitchat(norm.replace(" ", ""))
    offered = () if chitchat else tuple(i for i in result.candidates if i in handbook.items)
    if offered:
        return await offer(
            ctx,
            "choice",
            offered,
            "我不太确定您问的是哪一项，是不是：",
            ["请回复数字；都不是，请换个说法，或回复“人工”找工作人员。"],
        )
    place = classifier.referral(norm)
    complained = ctx.conversation.get(COMPLAINED) is not None and ctx.services.desk is not None
    if complained and classifier.referrals.find(norm) is None:
        # Right after a complaint, "周三才答复哦？这个是火灾隐患…我姓林 136…" is more for the secretary,
        # whatever agency the model guesses (trial R was sent to 12345); a listed word still refers.
        place = None
    if place is not None:
        ctx.conversation.enter(REFERRED, place.id)
        await record(ctx, f"referral:{place.id}", ())
        compact = norm.replace(" ", "")
        answers = referral_answers(classifier, place, compact)
        near = handbook.office.nearby.get(place.id)
        if near is not None and (_ASKS_LOCAL.search(compact) or _ASKS_NUMBER.search(compact)):
            # "辖区派出所是哪个 在哪点": which one and where, not the agency's whole paragraph (trial X r2).
            return Reply(_local_text(place, near, answers))
        # "护照办一个要好多钱": the place, and the answer to what was asked about it; a community
        # service asked beside it answered too ("电瓶车被偷了…车棚监控坏了 物业也不管": trial SS r14).
        text = referral_text(place, answers=answers, near=near)
        return Reply("\n\n".join([text, *_our_service_beside(ctx, ctx.message.text or "")]))
    guessed = _own_question_guessed(ctx, ctx.message.text or "")
    if guessed is not None:
        return guessed
    if ctx.conversation.get(HANDED_OFF) is not None:
        # Right after a person was asked to answer, "我叫蒋德福 你们给我查一下嘛" is more for them, not
        # something to turn down (a session-10 trial resident got the apology there).
        from handlers import complaints  # complaints reaches directions through rate and consult

        passed = await complaints.hand_off(ctx, ctx.message.text or "")
        if passed is not None:
            return passed
    if complained:
        # Right after a complaint, "你们咋个答复我 我姓罗 电话137…", "那到底会不会保密嘛" are more
        # for the secretary handling it (trial N: both got the apology).
        from handlers import complaints

        return await complaints.lodge_text(ctx, ctx.message.text or "")
    if _chat(classifier, ctx.message.text or "") and not chitchat:
        # Not a question nor a request ("今天好冷哦", "妹儿 在不在嘛"): chat, not something to turn down.
        await record(ctx, "chat", ())
        return Reply(
            "嗯嗯，我在呢。我是社区的百事通：办事要带什么、去哪里办、找工作人员，都可以问我。\n"
            "想找人说说话，回复“人工”，社区的工作人员会联系您。"
        )
    current = ctx.conversation.item
    confirmed = (
        facts.restated(ctx, handbook.item(current), ctx.message.text or "")
        if current in handbook.items
        else None
    )
    if confirmed is not None:
        return Reply(confirmed)
    if current in handbook.items and classifier.lexicon.question.search(norm):
        # A question right after a service's card that nothing here answers ("我莫得一寸照片咋个办
        # 你们那里照得到不" after 高龄津贴): not "the community does not do this" (trial V r8) — said
        # plainly, a person offered, and kept for the staff's review of unanswered questions.
        await record(ctx, "unanswered", (current,))
        office = handbook.office
        return Reply(
            f"【{handbook.item(current).title}】您问的这一点我这里没有现成的答案。\n"
            "回复“人工”，请值班的工作人员来回答您；"
            f"着急的话打社区电话 {office.phone}（值班手机 {office.duty_phone}）。"
        )
    await record(ctx, "apology", ())
    return Reply(
        "抱歉，这个问题社区办不了，我也没找到该去哪里。\n"
        f"其他部门的事，可以打 {HOTLINE} 政务服务便民热线问。\n"
        "社区能办的事，回复“业务”看清单；回复“人工”找工作人员。"
    )


# A loss or change years ago ("老伴走了两年了"): the life now, not the event's paperwork (trial S).
_LONG_AGO = re.compile(
    r"(走|去世|过世|退休|搬来|搬过来)了?(好|两|三|四|五|几|十|多)(多)?年"
    # "我老伴去年走了": last year is no new event either (trial NN r06 got the funeral list)
    r"|(去年|前年|几年前|好几年前|那几年|早就)[^ ]{0,4}(走|去世|过世|退休|搬来|搬过来)"
)

_A_NOT_A = re.compile(r"(.)不\1")  # 下不下, 来不来: a question however it ends
_CALLING = re.compile(r"在不在|在吗|有人吗|有没有人")
_ASKING_FOR = re.compile(r"给我|帮我|讲个|来个|我要|想要")


GUESS_FOR_OWN_ANSWER = 0.35  # the model's least sureness of an item whose own question is asked


def _own_question_guessed(ctx: Context, text: str) -> Reply | None:
    """An item's own question asked in words that name no service ("有退休工资影不影响领这个津贴" after
    a referral: trial DD r08 got the apology twice), the model leaning to that item: its answer."""
    handbook = ctx.services.handbook
    guess = ctx.services.classifier.model_item(text)
    if guess is None or guess[1] < GUESS_FOR_OWN_ANSWER or guess[0] not in handbook.items:
        return None
    item = handbook.item(guess[0])
    own = facts.own_answer(ctx, item, text)
    if not own:
        return None
    ctx.conversation.enter(AFTER_ITEM, item.id)
    return Reply(f"【{item.title}】{own}\n{facts.MORE}")


def _chat(classifier: Classifier, text: str) -> bool:
    compact = classifier.normalize(text).replace(" ", "")
    if _CALLING.search(compact):
        return True  # calling out for someone: we are here
    return not (
        classifier.lexicon.question.search(compact) or _A_NOT_A.search(compact) or _ASKING_FOR.search(compact)
    )


_ASKS_HOW = re.compile(
    r"哪里|哪儿|怎么|电话|多少|要带|带什么|几点|网上|手机|什么时候|号码|多久|能不能|可不可以|能不|行不|要不要"
    r"|可以.{0,6}不$|还是要|是不是"
)


_TO_US = re.compile(r"反映|催|(你们|社区).{0,4}(帮|管|出面|协调|找)")
# Someone to make the call to the agency for them: the errand service's order.
_CALL_FOR_ME = re.compile(
    r"(找个人|找人|派个人|喊个人|帮我|替我|代我|帮忙)[^ ]{0,4}(跟|和|给|同|打给)[^ ]{0,8}"
    r"(联系|打电话|打个电话|打这个电话|说一声|说一下)"
    r"|(帮我|替我|代我|找人帮我)打(这个|个)?电话"
)
_ERRAND_ITEM = "home_visit"  # 上门服务预约: 代办、代问代跑


def referral_taken_up(ctx: Context) -> str | None:
    """Right after a referral whose agency the community takes up when it does not act ("物业不处理的，
    可向社区反映"), asking the community to act ("你们社区帮我们催一下嘛", "我是要向社区反映") is that
    item's order (a session-7 trial resident was told twice to go to the estate's management)."""
    place_id = ctx.conversation.get(REFERRED)
    if place_id is None:
        return None
    place = next((p for p in ctx.services.handbook.referrals if p.id == place_id), None)
    classifier = ctx.services.classifier
    norm = classifier.normalize(ctx.message.text or "")
    if place is None:
        return None
    asks = _TO_US.search(norm) or classifier.lexicon.order_strong.search(norm)
    if place.community_item and place.community_item in ctx.services.handbook.items and asks:
        return place.community_item  # "社区能不能帮我们去跟工地说一下": what the community takes up
    if _CALL_FOR_ME.search(norm) and _ERRAND_ITEM in ctx.services.handbook.items:
        # "我73了 耳朵不好…社区能不能找个人帮我跟燃气公司联系一下": someone to make the call is the
        # community's errand service (代办), not the referral again (trial Z14 r20 got it four times).
        return _ERRAND_ITEM
    return None


async def take_up(ctx: Context, item_id: str) -> Reply:
    from handlers import ordering  # ordering reaches directions through consult

    # The matter itself, said just before, then "那我现在就是反映": the ticket must say what is
    # wrong (trial JJ r11 got a repair ticket without the broken lift).
    said = ctx.message.text or ""
    recent = ctx.conversation.recent
    before = recent[-1].strip() if recent else ""
    return await ordering.start(ctx, item_id, f"{before} {said}" if before and before != said else said)


def place_asked(ctx: Context) -> Referral | None:
    """Where another agency's local branch is, or its number, asked outright ("派出所是哪个 电话多少",
    "派出所地址电话给我一个"), whatever service or list came before: the branch the community wrote
    down (trial GG r01 and r02 got the household card again, and a hospital, asking for it)."""
    classifier = ctx.services.classifier
    compact = classifier.normalize(ctx.message.text or "").replace(" ", "")
    listed = classifier.referrals.find(compact)
    if listed is None or listed[0].id not in ctx.services.handbook.office.nearby:
        return None
    place, word = listed
    # The agency's own word must hold the asking ("派出所是哪个", "派出所地址"): "华西医院的专家号在哪里挂"
    # or "体检在哪个医院做" after the vehicle office are not asking where our nearby hospital is.
    if not _ASKED_IN_WORD.search(word):
        return None
    # "户口注销到哪个派出所 要带啥子": our service named, and its papers asked — its card says which
    # station and what to bring (trial VV r01 got the ID-card answer).
    result = classifier.classify(ctx.message.text or "")
    if result.named and result.item and classifier.lexicon.asks_documents(compact):
        return None
    # "狗儿办证要好多钱 打疫苗在哪打": our service named, and its own answer says where (a dog's
    # vaccine is the pet clinic's, not the children's vaccination clinic: blind batch 74).
    handbook = ctx.services.handbook
    ours = result.named and result.item in handbook.items and result.intent != "unknown"
    if ours and facts.own_answer(ctx, handbook.item(result.item), ctx.message.text or ""):
        return None
    # "我自己打派出所电话问。那我妈的养老金停发…": they will call it themselves; what they ask is
    # the service named after it (trial PP r01 got the police station twice).
    return None if _calls_it_themselves(compact, word) else place


def _calls_it_themselves(compact: str, word: str) -> bool:
    """ "我自己打派出所电话问": the agency's word said of calling it, not asking about it."""
    at = compact.find(word)
    return at > 0 and calls_them_itself(compact, at, at + len(word) - 1)


_ASKED_IN_WORD = re.compile(
    r"在哪|哪里|哪儿|哪点|地址|电话|号码|哪个|哪家|哪一个|什么地方|开门|开不开|几点|上班|周六|周末|周日|礼拜|星期"
)


def referral_follow_up(ctx: Context) -> Referral | None:
    """Right after a referral, "那要去哪里换" or "电话多少" is about that agency: say again how to
    reach it, rather than an apology (seen in a trial)."""
    place_id = ctx.conversation.get(REFERRED)
    if place_id is None:
        return None
    classifier = ctx.services.classifier
    text = ctx.message.text or ""
    compact = classifier.normalize(text).replace(" ", "")
    place = next((place for place in ctx.services.handbook.referrals if place.id == place_id), None)
    if place is None:
        return None
    # "不是居住证 是身份证 身份证掉了…户口就在幸福里": one of the agency's own words said again keeps it
    # the subject, asked or not, whatever service word is beside it (trial P).
    own_word = _own_word_said(classifier, place, compact) or _branch_named(ctx, place, compact)
    own_word = own_word or _asks_its_own_question(classifier, place, compact)
    if _ours_ordered_beside(ctx, place, text):
        # "好，那我先去派出所报案。车棚那个监控坏了好久了…帮我在社区报个修嘛": the agency's part is
        # theirs, the repair asked of the community is ours (trial TT r14 got the police again).
        return None
    if not own_word and not _ASKS_HOW.search(compact) and not referral_answers(classifier, place, compact):
        return None
    if _turns_to_ours(ctx, place, text):
        return None
    result = classifier.classify(text)
    if result.named and result.item in ctx.services.handbook.items:
        # "那个智能手机课啥时候上 我想学一下12123咋个用": the community's own class the agency's entry
        # points to is ours to answer, though 12123 is the agency's word (trial Q r14).
        # The entry must name it as the community's ("社区的老年人智能手机课"), not only as a paper
        # the agency asks for (户口本 after the police).
        aliases = ctx.services.handbook.item(result.item).aliases
        how = classifier.normalize(place.how).replace(" ", "")
        offered = (classifier.normalize(a).replace(" ", "") for a in aliases)
        offered_here = any(
            alias and re.search(f"社区[^，；。]{{0,8}}{re.escape(alias)}", how) for alias in offered
        )
        if offered_here and not _asks_its_own_question(classifier, place, compact):
            return None  # with one of the agency's own questions ("三力测试是啥子"), both are answered
    lexicon = classifier.lexicon
    if any(word in compact for word in lexicon.thanks) and not lexicon.question.search(compact):
        return None  # "那我等孙子回来帮我在手机上弄 谢谢你哈": thanks, not the referral a third time
    other = classifier.referrals.find(compact)  # listed words only: the model hears 电话 as a phone company
    moved = _MOVED_ON.search(compact)
    # "我是问去派出所补临时身份证要带啥子 户口本在老家": the agency's own words asked after 我是问 keep
    # it the subject (trial PP r16 got the household registration for 户口本); "你咋个老说银行" is told
    # to drop it, whatever follows.
    asked_after = moved is not None and _ASKED_ABOUT.fullmatch(moved.group()) is not None
    moved_on = moved is not None and not (
        asked_after
        and (
            _own_word_said(classifier, place, compact[moved.end() :])
            or _branch_named(ctx, place, compact[moved.end() :])
        )
    )
    if moved_on and (result.named or (other is not None and other[0].id != place_id)):
        # "你咋个老说银行哦 身份证丢了", "公交卡的事我晓得了 莫再说了 我问的是高龄津贴": told to drop
        # it, and something else named (trial BB: the bank four times, the bus card twice).
        return None
    if other is not None and other[0].id != place_id and not own_word:
        return None  # another agency named, and nothing of this one's: a new question
    if result.named and not own_word and not _said_in(classifier, text, place):
        return None  # a service named: a new question
    if (
        result.intent in ("consult", "order")
        and result.item in ctx.services.handbook.items
        and (
            result.confidence >= facts.SURE_OTHER_ITEM
            or classifier.sure_item(text, facts.SURE_OTHER_ITEM) == result.item
            # "那社区能不能帮我们找个地方开会": a room asked of us, however sure (trial PP r15)
            or result.intent == "order"
            # "社区那个教用手机的课是啥时候": our item's own question (trial PP r14 got the vehicle office)
            or facts.own_answer(ctx, ctx.services.handbook.item(result.item), text) is not None
        )
        and lexicon.about_community.search(compact)
        and not own_word
    ):
        return None  # "那社区有没得律师可以帮我们…维权": the community's own service, asked of us (trial W)
    return place


# "算了问12123。还有 …燃气费在哪交": the words that turn a message to another matter.
# "身份证我晓得去派出所 那社保卡呢": 那 opening a clause that asks about another thing turns too
# (trial Z12 r07 got the police station again).
_TURN = re.compile(
    r"还有就是|还有个事|还有一个事|还有|另外|对了|顺便|还想问|再问(一下|下|个)?"
    r"|(?:^|(?<=\s))那(?=[^ ]{1,8}(呢|咋办|咋个办|怎么办))"
)


def _turns_to_ours(ctx: Context, place: Referral, text: str) -> bool:
    """After a word that turns to another matter, one of our services named with none of the
    agency's words: the agency is done with ("算了问12123。还有 天然气营业厅搬走了 燃气费在哪交" got
    the vehicle office's branch, trial XX r13)."""
    classifier = ctx.services.classifier
    norm = classifier.normalize(text)
    turns = list(_TURN.finditer(norm))
    if not turns:
        return False
    rest = norm[turns[-1].end() :]
    compact = rest.replace(" ", "")
    if not compact or _own_word_said(classifier, place, compact) or _branch_named(ctx, place, compact):
        return False
    result = classifier.classify(rest)
    ours = result.item in ctx.services.handbook.items
    return result.intent in ("consult", "order") and result.named and ours


def _ours_ordered_beside(ctx: Context, place: Referral, text: str) -> bool:
    """Does a clause without the agency's words ask the community, by name, for one of its services?"""
    classifier = ctx.services.classifier
    if not classifier.lexicon.about_community.search(classifier.normalize(text).replace(" ", "")):
        return False
    sentences = (c for c in re.split(r"[。！!？?；;]+", text) if c)
    ours = (
        c
        for c in sentences
        if not _own_word_said(classifier, place, classifier.normalize(c).replace(" ", ""))
    )
    return facts.named_order(ctx, ours) is not None


def _asks_its_own_question(classifier: Classifier, place: Referral, compact: str) -> bool:
    """One of the agency's own questions asked in words of four characters or more ("要不要社区开",
    "需不需要证明" after the tax office): about that agency, though a community service (证明) is
    named in it (trial X r15 got the certificate's checklist three times). Shorter words (多少钱,
    多久) ask anything of anyone."""
    checklist = classifier.lexicon.checklist
    for question in place.questions:
        words = facts.normalised_words(classifier.normalize, question.ask)
        # "要带什么" asks the papers of anything: "那娃儿上户口呢 要带啥子" after the police names our
        # household item (trial RR got the ID card's papers again).
        if any(len(word) >= 4 and word in compact and word not in checklist for word in words):
            return True
    return False


def _own_word_said(classifier: Classifier, place: Referral, compact: str) -> bool:
    """Is one of the agency's own words in the message ("12123…体检附近哪家医院": the vehicle office's
    medical, not a hospital question — trial P)?"""
    return any(
        _said_not_denied(compact, word) and not _calls_it_themselves(compact, word)
        for word in facts.normalised_words(classifier.normalize, place.words)
    )


def _branch_named(ctx: Context, place: Referral, compact: str) -> bool:
    """The agency called by its plain name or its local branch's ("幸福路派出所今天开门不", trial AA
    r15 got the community's own duty hours): still the agency referred to."""
    names = [place.name.split("（")[0]]
    near = ctx.services.handbook.office.nearby.get(place.id)
    if near is not None:
        names.append(near.name.split("（")[0])
    normalize = ctx.services.classifier.normalize
    return any(
        len(name) >= 2 and _said_not_denied(compact, name) and not _calls_it_themselves(compact, name)
        for name in (normalize(name).replace(" ", "") for name in names)
    )


def _said_not_denied(compact: str, word: str) -> bool:
    """Is `word` said somewhere in `compact` other than as denied ("不是银行 是个税": trial Y r15)?"""
    start = compact.find(word) if word else -1
    while start >= 0:
        if not said_not_there(compact, start):
            return True
        start = compact.find(word, start + 1)
    return False


def _said_in(classifier: Classifier, text: str, place: Referral) -> bool:
    """Is every service word of the message in what the agency's entry says? "户口本在老家 不带户口本能
    不能补" after the police names the papers they ask for, not the household item (trial N got that
    item's card three times asking about a lost ID card)."""
    words = [word for word, _ in classifier.other_words_in(text, "")]
    said = classifier.normalize(f"{place.handles} {place.how}").replace(" ", "")
    return bool(words) and all(word in said for word in words)


async def referral_again(ctx: Context, place: Referral) -> Reply:
    ctx.conversation.enter(REFERRED, place.id)  # a third question is still about it
    classifier = ctx.services.classifier
    compact = classifier.normalize(ctx.message.text or "").replace(" ", "")
    own = referral_answers(classifier, place, compact)
    # "三力测试是啥子…你们那个手机课好久上 在哪里": the agency's answers, and the community's own
    # service asked beside them (trial V got only "the address is not known here").
    ours = _our_service_beside(ctx, ctx.message.text or "")
    office = ctx.services.handbook.office
    near = office.nearby.get(place.id)
    if near is not None and (
        _ASKS_LOCAL.search(compact)
        or _ASKS_NUMBER.search(compact)
        or _ASKS_WHERE.search(compact)
        or (near.hours and _ASKS_OPEN.search(compact))
    ):
        # "派出所在哪点 电话好多", "出入境大厅在哪点 要带啥子" (trial X r14): the branch the community
        # wrote down for its residents, beside the answers to the rest.
        return Reply("\n".join([_local_text(place, near, own), *ours]))
    if _ASKS_LOCAL.search(compact) or (_ASKS_NUMBER.search(compact) and not place.phone):
        # "我们这片归哪个派出所管 在哪点 电话好多", "你们就不晓得自来水公司电话": which branch and its
        # number are not in the directory — say so and who can find out, instead of the same paragraph
        # a third time (trial K).
        return Reply(
            "\n".join(
                [
                    f"这件事要找{place.name}，社区这边办不了。",
                    *own,
                    f"本片{place.name}的具体地址、电话我这里查不到：可以打社区电话 {office.phone}"
                    f"（值班手机 {office.duty_phone}），工作人员帮您查；也可以拨 12345 问。"
                    + (f"\n全国统一的号码：{place.phone}" if place.phone else ""),
                    *ours,
                ]
            )
        )
    asked = own or _clauses_answering(place.how, compact)
    if asked:
        # "我58岁 那还是要体检噻 12123上面可以直接换不": the parts of the entry that say so, not the
        # same paragraph a third time (trial O).
        lines = [f"这件事要找{place.name}，社区这边办不了。", *asked]
        if place.phone:
            lines.append(f"电话：{place.phone}")
        lines.extend(ours or ["其他的以他们的要求为准；社区能办的事，随时问我。"])
        return Reply("\n".join(lines))
    if ours:
        return Reply("\n".join([referral_text(place, again=True, near=near), *ours]))
    return Reply(referral_text(place, again=True, near=near))


def _our_service_beside(ctx: Context, text: str) -> list[str]:
    """A community service named beside the agency's matter, with its own answer to the question:
    "你们那个手机课好久上" after the vehicle office (trial V). Empty when none is."""
    classifier, handbook = ctx.services.classifier, ctx.services.handbook
    for clause in (c for c in re.split(r"[\s,，。;；!！?？]+", text) if c):
        said = classifier.classify(clause)
        if said.named and said.item in handbook.items and not handbook.item(said.item).fallback:
            item = handbook.item(said.item)
            answer = facts.own_answer(ctx, item, text)
            if answer:
                return [f"【{item.title}】{answer}"]
    return []


def referral_clauses(how: str) -> list[str]:
    """An agency's `how`, cut into its clauses (at ；and 。), not inside brackets: "户口簿（户口本；
    不在手边的…）" stays whole (trial V got "补办身份证带户口簿（户口本" cut off)."""
    clauses, current, depth = [], "", 0
    for char in how:
        depth += (char in "（(") - (char in "）)")
        if char in "；;。" and depth <= 0:
            clauses.append(current)
            current = ""
        else:
            current += char
    clauses.append(current)
    return [clause.strip() for clause in clauses if clause.strip()]


def referral_answers(classifier: Classifier, place: Referral, compact: str, most: int = 3) -> list[str]:
    """The place's own answers to what the message asks ("三力测试是啥子 难不难", "护照好多钱"), in
    the data's order, at most `most`; empty when it asks none of them."""
    asked = []
    rest = compact
    for question in place.questions:
        found = [w for w in facts.normalised_words(classifier.normalize, question.ask) if w and w in rest]
        if found:
            asked.append(question.answer)
            # Words one answer took are not asked again of the next ("报警了的" is not "要不要报警":
            # trial PP r15 got the report-it-to-the-police answer after saying it was reported).
            for word in found:
                rest = rest.replace(word, " ")
    return asked[:most]


def _clauses_answering(how: str, compact: str, most: int = 3) -> list[str]:
    """The clauses of an agency's entry sharing the most two-character words with the question (at
    least two, and clauses of ten characters or more), best first; empty when none does. Written by
    hand: a bag of character bigrams is all one short follow-up and one paragraph need."""
    said = {compact[i : i + 2] for i in range(len(compact) - 1)}
    scored = []
    for clause in referral_clauses(how):
        shared = len(said & {clause[i : i + 2] for i in range(len(clause) - 1)})
        if shared >= 2 and len(clause) >= 10:
            scored.append((shared, clause))
    scored.sort(key=lambda pair: -pair[0])
    return [clause for _, clause in scored[:most]]


# Which office of the agency serves them, or where it is: the directory knows only the agency.
_ASKS_LOCAL = re.compile(
    r"(哪个|哪家|哪一个)[^ ]{0,6}(管|负责)|归哪|这片|这一片|附近|最近|离我|地址|辖区"
    r"|(是)?(哪个|哪家|哪一个)[^ ]{0,2}(派出所|所|局|中心|医院|公司|物业)"
    r"|在哪(点|里|儿)?(嘛|哦|呢)?[?？]?$"
)
# Where, anywhere in a follow-up about the agency already named ("在哪点 要带啥子").
_ASKS_WHERE = re.compile(r"在哪|哪里|哪儿|哪点|地址")
# The resident says the referral is not what they asked ("你咋个老说银行", "莫再说了", "我问的是…").
_ASKED_ABOUT = re.compile(r"我问的是|我是问|主要问|主要是问")
_MOVED_ON = re.compile(
    rf"老说|老是说|又说|一直说|还在说|(莫|别|不要|不用)再?说|{_ASKED_ABOUT.pattern}|我问的不是|不是问这个"
)
# Is it open then? "派出所今天开门不", "星期天能不能挂失", "几点上班" (the branch's hours answer it).
_ASKS_OPEN = re.compile(
    r"开门|关门|上班|下班|几点|营业|开不开|办不办|(星期|礼拜)[六天日]|周[六日末]|今天|明天|现在去"
)
_ASKS_NUMBER = re.compile(r"电话|号码|好多号|多少号|联系方式")


def _local_text(place: Referral, near: Nearby, answers: Iterable[str]) -> str:
    """Which branch of the agency serves the community, and how to reach it."""
    lines = [f"这件事要找{place.name}，社区这边办不了。", *answers, render.nearby_line(near)]
    if place.phone:
        lines.append(f"全国统一的号码：{place.phone}")
    return "\n".join(lines)


def referral_text(
    place: Referral, *, again: bool = False, answers: Iterable[str] = (), near: Nearby | None = None
) -> str:
    """Where to go and how to reach them; asked again, without re-explaining what they handle;
    `answers`: the place's own answers to what the message asked, first — a resident with someone
    at the door asking "是不是骗子" read a paragraph on ID cards before the answer (trial T);
    `near`: the branch serving this community, when the handbook names one."""
    answers = list(answers)
    if any(answer.startswith("社区") for answer in answers):
        # "欠费停了 我不会用手机交": the agency's, but paying it is ours — never "社区办不了" above
        # "社区服务站可以帮您代缴" (trial ZZ r19).
        lines = [f"{place.name}管{place.handles}；社区能帮您的，写在下面。"]
    elif again:
        lines = [f"这件事要找{place.name}，社区这边办不了。"]
    else:
        lines = [f"这件事不归社区办，要找{place.name}（管{place.handles}）。"]
    lines.extend(answers)
    lines.append(f"怎么办：{place.how}")
    if near is not None:
        lines.append(render.nearby_line(near))
    if place.phone:
        lines.append(f"电话：{place.phone}")
    if again:
        lines.append("具体要带什么，以他们的要求为准；社区能办的事，随时问我。")
    else:
        lines.append("社区能办的事，随时问我；回复“人工”找工作人员。")
    return "\n".join(lines)


async def picked(ctx: Context, result: Classification) -> None:
    """The resident answered a numbered offer: note which item, for the review."""
    desk = ctx.services.desk
    if desk is None or result.item is None:
        return
    try:
        await desk.unanswered.picked(ctx.message.resident, result.item)
    except Exception:  # the review is a convenience: never let it cost the resident the answer
        log.exception("could not record the picked item of an offer")


async def record(ctx: Context, outcome: str, offered: tuple[str, ...]) -> None:
    desk = ctx.services.desk
    if desk is None:
        return
    try:
        await desk.unanswered.record(ctx.message.resident, ctx.message.text or "", outcome, offered)
    except Exception:
        log.exception("could not record an unanswered question (%s)", outcome)


def booking_without_item(ctx: Context) -> tuple[str, ...] | None:
    """ "预约" alone with no item being talked about: which of the listed items (after a life event's
    list) or of the usual bookings to book, asked as numbers. It used to book a meeting room (a
    session-9 check: "预约" after the elderly-care list)."""
    if ctx.conversation.item:
        return None  # the item's own booking (routes.follow_up_word)
    lexicon = ctx.services.classifier.lexicon
    if lexicon.normalize(ctx.message.text or "") not in lexicon.follow_up:
        return None
    if ctx.services.classifier.classify(ctx.message.text or "").named:
        return None  # "报修" alone names its service: the repair order, not "which one?"
    handbook = ctx.services.handbook
    choice = ctx.conversation.get(CHOOSING)
    listed = choice.options if choice is not None else BOOKED_MOST
    options = tuple(i for i in listed if i in handbook.items and handbook.item(i).bookable)
    return options or None


async def ask_what_to_book(ctx: Context, options: tuple[str, ...]) -> Reply:
    return await offer(ctx, "choice", options, "您要预约哪一项？", ["请回复数字。"], "order")
