"""Text messages go through TEXT_ROUTES in order; the first route that answers wins.

A route is (name, matcher, handler). The matcher is pure: it reads the turn (message, conversation,
handbook) and returns what it extracted, or None to pass. The handler gets that value and returns
a Reply, or None to decline, and the next route is tried. A route that must come before all the
others (an emergency) is one more line at the top of the list.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, replace
from typing import Any, Generic, TypeVar

from handlers import (
    ages,
    complaints,
    consult,
    directions,
    facts,
    office,
    ordering,
    own_tickets,
    per_person,
    plain_words,
    privacy,
    rate,
    render,
    responders,
    retirement,
    safety,
    smalltalk,
    staff,
    sums,
    working_days,
)
from handlers.by_intent import INTENT_HANDLERS, by_intent
from handlers.conversation import (
    AFTER_ITEM,
    AMENDING,
    CHOOSING,
    COMPLAINED,
    EMERGENCY,
    ORDERING,
    PLACED,
    REFERRED,
    REGISTERING,
    WHICH_TICKET,
    Choice,
    Placed,
    State,
)
from handlers.types import Context, Reply
from intents import Classification, Classifier
from intents.contact import mobiles_in, place_in
from intents.danger import Danger
from intents.normalize import simplify
from intents.when import WhenError, read_window
from knowledge import Item

T = TypeVar("T")

# After-item, checklist and menu words are phrasings (phrasings.yaml), read from the compiled lexicon.

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Route(Generic[T]):
    name: str
    match: Callable[[Context], T | None]
    handle: Callable[[Context, T], Awaitable[Reply | None]]


async def first_reply(routes: Iterable[Route[Any]], ctx: Context) -> Reply | None:
    """The reply of the first route that matches and does not decline; None when none answers."""
    for route in routes:
        found = route.match(ctx)
        if found is not None:
            reply = await route.handle(ctx, found)
            if reply is not None:
                log.debug("route %s answered", route.name)
                return reply
    return None


def in_state(state: State[T]) -> Callable[[Context], T | None]:
    """A matcher for a conversation state: the state's value while the conversation is in it."""

    def match(ctx: Context) -> T | None:
        return ctx.conversation.get(state)

    return match


def _text(ctx: Context) -> str:
    return ctx.message.text.strip()


def staff_command(ctx: Context) -> staff.StaffCommand | None:
    return staff.parse(_text(ctx))


def danger_of(ctx: Context) -> Danger | None:
    """Danger to life or property in the message; never a staff command ("办结 N 燃气已关"). During
    an emergency, a question its own advice answers ("要不要把门撬开" about the gas next door) or a
    fear of another danger ("会不会在屋头晕倒了") is about that emergency: the details route answers
    it (trial K: a resident asking whether to force the door got the fall script twice)."""
    detector = ctx.services.classifier.danger
    text = _text(ctx)
    if detector is None or staff.parse(text) is not None:
        return None
    found = detector.detect(text)
    reported = ctx.conversation.get(EMERGENCY)
    if found is None or reported is None:
        return found
    if safety.answers_question(ctx, reported.kind, text) or (
        found.hazard.kind != reported.kind and _FEARED.search(text)
    ):
        return None
    if found.hazard.kind == reported.kind or {found.hazard.kind, reported.kind} <= _KINDRED:
        # "她女儿说她没去她那 也联系不上 我打110了" during the neighbour not seen: the same emergency
        # told further, not a second ticket asking for the address again (trial NN r08).
        return None
    guide = ctx.services.handbook.emergency
    norm = ctx.services.classifier.normalize(text)
    if guide is not None and (re.search(guide.over_before, norm) or re.search(guide.stand_down, norm)):
        # "已经拉走了…他屋的门锁被撬坏了关不上": after the emergency, what it left behind — not a break-in
        # reported (trial BB r18 got the 120/110 advice again).
        return None
    return found


# Someone alone not seen and someone missing are one worry told two ways.
_KINDRED = frozenset({"alone", "missing"})
# "会不会在屋头晕倒了", "怕是": a danger feared during an emergency, not a second one reported.
_FEARED = re.compile(r"会不会|是不是|万一|怕是|怕他|怕她|担心|可能")


def confirmed_again(ctx: Context) -> Placed | None:
    """确认 once more right after an order went in."""
    placed = ctx.conversation.get(PLACED)
    return placed if placed is not None and ordering.confirms(ctx, _text(ctx)) else None


def placed_question(ctx: Context) -> Placed | None:
    """Right after an order went in, "那今天中午就能送来了嘛" asks when it starts: about that order
    (trial K: a resident with an empty fridge got "我不太确定您问的是哪一项"). Not a question that
    names another service, nor one about their tickets in general (those routes come later)."""
    placed = ctx.conversation.get(PLACED)
    if placed is None:
        return None
    text = _text(ctx)
    classifier = ctx.services.classifier
    compact = classifier.normalize(text).replace(" ", "")
    if not _ASKS_WHEN_IT_STARTS.search(compact):
        return None
    result = classifier.classify(text)
    if result.named and result.item != placed.item:
        return None
    if result.intent not in ("unknown", "consult", "order", "status", "office"):
        return None  # "明天中午有没得" reads as the office's hours, but after a meal order it is the order's
    item = ctx.services.handbook.items.get(placed.item)
    if item is not None and _MONEY_DUE.search(compact) and facts.own_answer(ctx, item, text) is not None:
        return None  # "我是问停掉的钱 好久打到卡上": when money comes, not the visit (trial Z6 r15)
    return placed


# When money is due, not when a visit or delivery starts: "停掉的钱 好久打到卡上".
_MONEY_DUE = re.compile(r"钱|到账|打到卡|补发")


def placed_also(ctx: Context) -> tuple[Placed, str] | None:
    """Right after an order went in, "上门来的人能不能把停养老金那个也一起帮我们办了": another service
    to be done on the same visit, written onto that ticket (trial K: a second booking was begun)."""
    placed = ctx.conversation.get(PLACED)
    if placed is None:
        return None
    text = _text(ctx)
    together = ordering.TOGETHER.search(text)
    if not together:
        return None
    result = ctx.services.classifier.classify(text)
    if result.intent not in ("consult", "order") or result.item in (None, placed.item):
        return None
    if together.group() == "还有" and result.intent != "order":
        # "开药要医保卡…咋个给你们 还有社区医院周六开门不": 还有 begins another question, and the
        # card is a paper for the errand, not a service to add (trial P).
        return None
    return placed, result.item


# When the service just ordered starts or comes: "今天中午就能送来了嘛", "好久来", "明天能开始不".
_ASKS_WHEN_IT_STARTS = re.compile(
    r"(今天|马上|现在|好久|多久|什么时候|几点|明天|哪天)[^ ]{0,6}(送|来|到|开始|上门|安排|联系)"
)


def chosen_option(ctx: Context) -> Classification | None:
    """A valid number while a numbered question waits: the chosen item, under the question's intent."""
    choice = ctx.conversation.get(CHOOSING)
    if choice is None and ctx.conversation.state in (None, AFTER_ITEM, REFERRED):
        choice = ctx.conversation.menu  # "5" after one question about an item of the list
    if choice is None or choice.intent not in INTENT_HANDLERS:
        return None
    text = _text(ctx)
    item = consult.chosen_option(text, list(choice.options))
    return None if item is None else Classification(text, choice.intent, item, 1.0, (item,))


async def picked_option(ctx: Context, result: Classification) -> Reply:
    choice = ctx.conversation.get(CHOOSING)
    await directions.picked(ctx, result)
    if result.intent == "order" and result.item and choice is not None and choice.asked:
        # An order picked from "which one?": the message that asked it carries the details — the
        # name, phone and time given there were asked again one by one (trial V r5).
        return await ordering.start(ctx, result.item, choice.asked)
    return await by_intent(ctx, result)


# A digit alone, not a building, a unit, a floor or an age ("住幸福里小区3栋1单元102" picked item 3 of a list:
# trial RR r07).
_PICKED_NUMBER = re.compile(r"(?<![0-9])[1-9](?![0-9]|\s*[栋幢单楼号层岁点月日块元个次号])")


def options_asked(ctx: Context) -> tuple[tuple[str, ...], Choice] | None:
    """While a numbered question waits, a message that is no number but may ask the listed items'
    own questions ("1和2都想知道，外地户口能不能用" — a session-7 trial resident got the residence
    permit): the items it is about — the numbers it names, else the listed items it names, else all
    of them. None when it names a service that was not listed."""
    choice = ctx.conversation.get(CHOOSING)
    if choice is None or choice.intent not in INTENT_HANDLERS:
        return None
    text = _text(ctx)
    options = choice.options
    numbers = [int(n) for n in _PICKED_NUMBER.findall(text) if int(n) <= len(options)]
    if numbers:
        return tuple(options[n - 1] for n in dict.fromkeys(numbers)), choice
    result = ctx.services.classifier.classify(text)
    catch_all = (found := ctx.services.handbook.items.get(result.item or "")) is not None and found.fallback
    if result.named and result.item not in options and not catch_all:
        # "外地户口能办居住证吗": that service, not the ones listed; "医生能来屋头不" names only the
        # catch-all visit (来屋头), so the listed family doctor is still asked (trial EE r08).
        return None
    if result.intent == "order" and catch_all:
        # "要得嘛 那就请你们来屋头看一下 我姓赵 住…" after the care list: someone asked to come, not
        # the listed items' questions (trial RR r07 got the age allowance's papers).
        return None
    named = tuple(item for item in result.candidates or (result.item,) if item in options)
    return named or options, choice


async def answer_options(ctx: Context, found: tuple[tuple[str, ...], Choice]) -> Reply | None:
    items, choice = found
    text = _text(ctx)
    picked = bool(_PICKED_NUMBER.search(text))
    classifier = ctx.services.classifier
    # No service named, none other guessed: the facts it asks are the listed items' (trial DD r08).
    unnamed = not classifier.names_in(text) and classifier.classify(text).item in (None, *items)
    answered = consult.answer_questions(ctx, items, text, choice.intent, picked=picked, unnamed=unnamed)
    if answered is None and picked and len(items) > 1:
        return consult.summaries(ctx, items, choice.intent)
    if answered is None and picked and len(items) == 1:
        # "3是啥子意思 是有人来屋头看我啊": the item picked, shown, not the catch-all visit the rest
        # of the words name (trial Q r6).
        return await picked_option(ctx, Classification(text, choice.intent, items[0], 1.0, (items[0],)))
    if (
        answered is None
        and not picked
        and len(items) > 1
        and _asked_outright(ctx, classifier.normalize(text))
    ):
        # "你们社区能不能帮到办 明天上午10点过来得不" with a list on screen: which one to book, not an
        # apology (trial JJ r01 was booked for another service).
        handbook = ctx.services.handbook
        lines = [f"{n}. {handbook.item(item).title}" for n, item in enumerate(items, 1)]
        ctx.conversation.enter(CHOOSING, Choice(items, "order"))
        return Reply("好的，可以帮您约。先约哪一件？请回复数字：\n" + "\n".join(lines))
    return answered  # None: not their question


def follow_up_word(ctx: Context) -> str | None:
    """After an item, "预约", "上门"…: the item to order; also with the time wanted ("预约 下周二中午
    12点半过来开", "下周一上午带我爸过去 可以预约不": trial L got the office hours and the menu)."""
    item = ctx.conversation.item
    if not item:
        return None
    lexicon = ctx.services.classifier.lexicon
    text = _text(ctx)
    norm = lexicon.normalize(text)
    if norm in lexicon.follow_up:
        return item
    named = ctx.services.classifier.classify(text).named
    if not named and any(_LEAD_AND_PARTICLES.sub("", clause) in lexicon.follow_up for clause in norm.split()):
        return item  # "那我预约嘛 20个人左右 要用音响": the booking word said with 那我…嘛 (trial AA r10)
    if not named and any(_BOOK_ONE.fullmatch(_LEAD_AND_PARTICLES.sub("", clause)) for clause in norm.split()):
        return item  # "好 那我预约一个去开" after the certificate (trial OO r10 got the menu)
    # "预约 我叫曾玉兰 电话是座机…" (trial W got the office card) or "…前面你都说回复预约就可以预约 预约"
    # (trial V got the apology): the word alone as the first or the last clause.
    clauses = norm.split()
    ends = (clauses[0], clauses[-1]) if len(clauses) > 1 else ()
    if any(end in lexicon.follow_up for end in ends) and not named:
        return item
    if not _BOOKING_WORD.search(text) or named:
        return None
    try:
        window = read_window(text, ctx.services.now())
    except WhenError:
        return item  # a time to ask again: the form asks it
    return item if window is not None else None


_BOOKING_WORD = re.compile(r"预约|约个|约一下|帮我约|能约|可以约|约不")
_BOOK_ONE = re.compile(r"(预约|约|报名|登记)(一个|一下|个|一哈)?(去|来|过去|过来)?(开|办|弄|拿|交)?")
# What wraps a bare follow-up word in speech: "那我预约嘛", "那就报修吧", "好嘛 预约".
_LEAD_AND_PARTICLES = re.compile(r"^(?:那就|那我|那|我就|就|好嘛|好|行|要得)+|(?:嘛|吧|哈|哦|啊|了|噻)+$")


async def start_order(ctx: Context, item: str) -> Reply:
    """An order begun by a follow-up ("那就报修嘛"): the message before it, when it was about the same
    service, is part of the request — its problem, place and time reach the ticket (trial Q: a
    repair's ticket said only "那就报修嘛…我住4栋3单元", not the broken stair light)."""
    text = _text(ctx)
    recent = ctx.conversation.recent
    before = recent[-1].strip() if recent else ""
    if (
        before
        and before != text
        and ctx.services.classifier.classify(before).item == item
        and not _says_time(ctx, text)
    ):
        # Not when this message says its own time: "我是上个月15号搬来的…" before "明天上午9点过来"
        # was read as two days to choose from (blind batch 58; trial LL r10 got 明年 that way).
        # "预约" alone adds nothing for staff (trial Z7 r16's ticket read "…继承的事 预约").
        lexicon = ctx.services.classifier.lexicon
        alone = lexicon.normalize(text) in lexicon.follow_up and not ordering.wishes_visit(ctx, text)
        text = before if alone else f"{before} {text}"
    return await ordering.start(ctx, item, text)


def _says_time(ctx: Context, text: str) -> bool:
    try:
        return read_window(text, ctx.services.now()) is not None
    except WhenError:
        return True  # a time said, if not a usable one: still this message's


def current_item_request(ctx: Context) -> str | None:
    """After an item, a request to act that names no other service ("那我就在这里反映 你们找人去
    说一下"): an order of that item (a session-7 trial resident got small talk back)."""
    item = ctx.conversation.item
    if not item:
        return None
    classifier = ctx.services.classifier
    text = _text(ctx)
    result = classifier.classify(text)
    # "那你帮我登记一下嘛" after the visits: 登记 is many items' word, none of them named, so the one
    # talked about (trial BB r6 got a menu of five registrations).
    generic = result.ambiguous and item not in result.candidates and not result.named
    orderable = (found := ctx.services.handbook.items.get(item)) is not None and found.order is not None
    # "请你们派个人上门来评估一下 玉林北路3号…" after long-term care: a visit for the item just
    # shown, not the catch-all home visit (blind batch 58, twice).
    catch_all = ctx.services.handbook.catch_all()
    visit_for_it = (
        found is not None and found.home_visit and catch_all is not None and result.item == catch_all.id
    )
    elsewhere = result.item not in (None, item) and result.named and not visit_for_it
    place = _agency_named(ctx, text) if _ERRAND.search(text) else ""
    if (
        place
        and found is not None
        and catch_all is not None
        and place not in f"{found.where.name}{found.where.note}"
    ):
        # "派出所那么远 社区能不能帮我跑一哈" after the pension's stop: an errand to a place this item
        # is not done at (its card may name it as a step) — someone is sent, with what was said
        # (trial Z5 r01 began the pension's form).
        return catch_all.id
    if elsewhere and found is not None and result.item in ctx.services.handbook.items and "带" in text:
        # "那我礼拜四上午十点带她身份证户口本过来办 我姓刘…" after the old-age allowance: 户口本 is
        # one of its papers, brought along, not another service (blind batch 58).
        elsewhere = not facts.one_of_its_papers(found, ctx.services.handbook.item(result.item))
    norm = classifier.normalize(text)
    # "那我明天去88号先做居住登记 娃娃读幼儿园报名要看居住证不": a plan and a question at the end, not
    # a booking (trial GG r03 was walked into a second residence-permit booking).
    asks = classifier.lexicon.question.search(norm) or _ENDS_ASKING.search(norm.split()[-1] if norm else "")
    if visit_for_it and _VISIT_ASKED.search(norm.replace(" ", "")):
        # "可以喊人上门来办不 我脚杆痛走不动" after the old-age card: its visit, asked as a question
        # (trial SS r08 got the catch-all visit's card, and her booking lost what it was for).
        return item
    if orderable and not elsewhere and not asks and _details_given(ctx, text) >= 2:
        # "这个礼拜五上午嘛，地址是幸福路88号3栋2单元501，电话 138 8012 3456" after the visit's card:
        # the booking, with what was said — not the centre's address (trial DD r01).
        return item
    if result.intent == "office" and office.open_on(ctx, text):
        return None  # "礼拜六确定能办哈 不要我们白跑一趟": whether that day is open (trial Z5 r20)
    if result.intent == "office" and not elsewhere and classifier.asks_to_act(text, item):
        # "那给我送嘛 中午一顿就够了" after meals: the delivery, not the centre's hours (trial EE r07).
        return item
    if result.intent not in ("consult", "order", "unknown") or elsewhere:
        return None
    if _asked_outright(ctx, norm) or (generic and result.intent == "order"):
        return item
    if generic and orderable and _HOW_TO_SIGN_UP.search(norm):
        # "那咋个报名嘛 我眼睛不好" after the visits' card: 报名 is other items' word, none named;
        # how to sign up for the one just shown is asking to (trial MM r06 got a menu with 兵役).
        return item
    if asks or classifier.lexicon.availability.search(norm):
        return None  # "我儿子可以帮我去办不": a question about the item, for item_follow_up
    if facts.aspect_of(ctx, text) is not None:
        return None
    return item if classifier.asks_to_act(text, item) else None


# "可以喊人上门来办不", "能不能到家里来帮我办": a visit asked for in question form.
_VISIT_ASKED = re.compile(
    r"(可以|能不能|可不可以|能否|能)[^ ]{0,6}(上门|到家|来家|来屋头|到屋头)[^ ]{0,4}(办|弄|帮)"
)
# "不用上门 我自己走过来": no visit wanted, the resident comes to the centre.
_COMING_MYSELF = re.compile(
    r"(不用|不要|莫|不必)(上门|来家|到家|来屋头|派人)|自己[^ ]{0,2}(过来|来|走过来|走来)"
)
# A phone number asked for ("电话好多", "号码多少"): a question, whatever visit is said beside it.
_ASKS_PHONE = re.compile(
    r"(电话|号码|手机号)(是)?(多少|好多|几号|是啥|是什么)|(给|告诉)我[^ ]{0,4}(电话|号码)"
)
# Someone asked to come: a visit, whatever is asked about papers beside it.
_COME_TO_ME = re.compile(r"上门|到家|来家|来屋头|到屋头|家里来|屋头来|派(个)?人|喊(个)?人来|来人")
_HOW_TO_SIGN_UP = re.compile(r"(怎么|咋)(样|个)?(报名|登记|申请|预约|约)")


def _details_given(ctx: Context, text: str) -> int:
    """How many of a booking's details (a mobile, a place, a time) the message gives."""
    said = bool(mobiles_in(text)) + bool(place_in(text))
    try:
        said += read_window(text, ctx.services.now()) is not None
    except WhenError:
        said += 1  # a time said, even one to ask again
    return said


_ENDS_ASKING = re.compile(r"(不|吗|嘛|么|没|没有)$")  # "子女可以帮忙办不": asked yes or no
_FAMILY_DOES_IT = re.compile(
    r"(儿子|女儿|孙儿|孙子|孙女|外孙|老伴|老公|老婆|媳妇|女婿|娃儿|子女|家里人|亲戚|侄儿|侄女)"
    r"(会|来|可以|能|负责|去)?(帮|替|给)我"
)


_I_MAY_DO_IT = re.compile(r"我[^ ]{0,6}(可以|能)(不能)?(帮|替|代)")


def _asked_outright(ctx: Context, norm: str) -> bool:
    """A request in so many words ("给我登个记 喊人隔几天来看下我"), no question beside it: an
    order of the item talked about, whatever fact word (隔几天) is in it (trial Y r6)."""
    lexicon = ctx.services.classifier.lexicon
    compact = norm.replace(" ", "")
    if lexicon.asks_documents(compact) and not _COME_TO_ME.search(compact):
        # "社区可以帮我交燃气费？要带啥子" after the card: what to bring — they come themselves; no
        # visit was asked for (trial XX r13 was walked into a home-visit booking).
        return False
    if _ASKS_PHONE.search(compact):
        # "那社区卫生服务中心电话好多 要他们上门来看" after a death at home: that place's number, and
        # they come — not our visit booked (trial YY r01).
        return False
    # Clause by clause, the last word wins: "我不懂你说的啥 我就是要你们来人看我" ends in its request;
    # "不会弄 子女可以帮忙办不" ends in a question.
    last = None
    for clause in norm.split():
        if _FAMILY_DOES_IT.search(clause):
            continue  # "我孙儿帮我弄": the family will do it, not a request to the community (trial AA r9)
        if lexicon.asking.search(clause):
            # "我是问退休申报是不是单位帮我报": who files it, asked — not a request (trial SS r04).
            last = "question"
            continue
        staff_asked = lexicon.staff_to_look is not None and lexicon.staff_to_look.search(clause)
        if (lexicon.asked_to_act.search(clause) or staff_asked) and not _I_MAY_DO_IT.search(clause):
            # "你们社区能不能帮到办 明天上午10点过来得不": a request put as a question, whatever is
            # asked about its time after it (trial JJ r01 was booked for 特困 over 一个人) — not "我可以
            # 替我妈去申请吗", which asks whether they may do it themselves.
            return True
        if (
            lexicon.question.search(clause)
            or lexicon.availability.search(clause)
            or _ENDS_ASKING.search(clause)
        ):
            last = "question"
        elif lexicon.order_strong.search(clause):
            last = "request"
    return last == "request"


def checklist_word(ctx: Context) -> str | None:
    """After an item, "材料", "清单"…: the item whose checklist to show."""
    item = ctx.conversation.item
    lexicon = ctx.services.classifier.lexicon
    return item if item and lexicon.normalize(_text(ctx)) in lexicon.checklist else None


async def checklist(ctx: Context, item: str) -> Reply:
    return consult.answer(ctx, item)


def _names_another_off_card(
    ctx: Context, current: Item, result: Classification, said: str | None, text: str, own: str
) -> bool:
    """Does the message turn to another service by its full name ("还有那个育儿补贴是啥子…外地户口能领不"
    after the medical insurance: trial Z5 r02 got the insurance's answer for 外地户口 first)? Only a
    name of four characters or more said right after 还有 / 另外 / 再问 (or of three the message opens
    with), which the card never uses and the card's own answer never speaks of ("还有残疾人家庭无障碍
    改造…" after the disability card is its own question)."""
    if said is None or said == current.id or result.item != said or not result.named:
        return False
    plain = simplify(text)
    # Or a name of three characters or more the message opens with, its subject: "社保卡掉了咋个挂失 补办"
    # after the elderly card (trial Z12 r07 got the elderly card's replacement answer).
    # Not when a word of the card's own is said too ("户口迁入时间对入学有没有要求" after enrolment).
    opening = plain.lstrip() if current.id not in ctx.services.classifier.items_in(text) else ""
    names = [
        alias
        for alias in ctx.services.handbook.item(said).aliases
        if (len(alias) >= 4 and re.search(f"{_TURNS_TO.pattern}{re.escape(alias)}", plain))
        or (opening and len(alias) >= 3 and opening.startswith(alias))
    ]
    if not names:
        return False
    normalize = ctx.services.classifier.normalize
    card = facts.card_text(ctx, current)
    spoken_of = normalize(own)
    return not any(normalize(name) in card or normalize(name) in spoken_of for name in names)


def _agency_named(ctx: Context, text: str) -> str:
    """The other agency a message names by its own short name (派出所, 车管所, 医院), or ""."""
    plain = simplify(text)
    for referral in ctx.services.handbook.referrals:
        head = referral.name.partition("（")[0]
        if len(head) >= 2 and head in plain:
            return head
    return ""


# Someone asked to go in the resident's place: "社区能不能帮我跑一哈", "帮我代办" (not "派出所能上门办吗").
_ERRAND = re.compile(r"帮我跑|帮忙跑|跑一哈|跑一趟|代办|代我|帮我去办|替我")
# Words that turn to another matter right before a service's name: "还有那个育儿补贴".
_TURNS_TO = re.compile(r"(?:还有|另外|再问一下|还想问)(?:那个|这个|个)?")


def about_current_item(ctx: Context) -> tuple[str, str | None] | None:
    """After an item, a follow-up that names no other service: "一个月好多钱", "要好久才拿得到",
    "要带啥子材料" — about that item (a trial resident got apologies for these). The fact asked,
    or None for the whole checklist."""
    item = ctx.conversation.item
    if not item:
        return None
    text = _text(ctx)
    if office.asks_in_time(text):
        return None  # "社区今天几点关门 我现在过来来得及不": the centre's clock, not the item's hours
    classifier = ctx.services.classifier
    current = ctx.services.handbook.item(item)
    aspect = facts.aspect_of(ctx, text)
    compact = classifier.lexicon.normalize(text).replace(" ", "")
    asks = aspect not in (None, "compare") or classifier.lexicon.asks_documents(compact)
    result = classifier.classify(text)
    about_ticket = classifier.lexicon.own_request.search(compact) is not None
    said, denied = classifier.service_said(text)
    if item in denied and classifier.names_all_denied(text, item):
        # "不是居住证 是身份证": said not to be this item (trial P); "我不是特殊工种 那个提前退休证明我
        # 不用带吧" denies a situation, then names the item again (trial Z9); "不是参保 我是问满了60岁
        # 咋个开始领钱" denies a word of it only, and asks about it (trial Z11 r04).
        return None
    catch_all_asked = result.item is not None and ctx.services.handbook.item(result.item).fallback
    if catch_all_asked and _ASKS_PHONE.search(compact) and facts.lines_naming(ctx, current, text):
        # "那社区卫生服务中心电话好多 要他们上门来看" after a death at home: the number of the place its
        # card names — they come, not our catch-all visit (trial YY r01 was walked into one).
        return item, MENTIONED
    other = ctx.services.handbook.items.get(result.item or "")
    if (
        other is not None
        and other.id != item
        and (classifier.lexicon.asks_documents(compact) or facts.BRING_IT.search(compact))
        and facts.one_of_its_papers(current, other, simplify(text))
        # "清单上写外地户籍要居住证 她…没得居住证 办得到不": without the paper, its own question
        # (trial XX r17 got the checklist's line back).
        and facts.own_answer(ctx, current, text) is None
    ):
        # "那天要准备些啥子 他身份证找不到了 社保卡在" after the pension check: its papers, not how to
        # replace a social security card (trial Y r11); "社保卡在我这里 复印件要复印几份" after the
        # age allowance was booked, read as a card order (trial PP r19).
        return item, DOCUMENT
    own = facts.own_answer(ctx, current, text)
    own_question = own is not None
    if (
        _ASKED_AGAIN.search(compact)
        and not own_question
        and result.item not in (None, item)
        and result.confidence >= facts.DESCRIBED_ITEM
    ):
        return None  # "卡没丢！！我就问在深圳住院能不能直接结账": the card shown missed it (trial PP r08)
    norm = classifier.normalize(text)
    # "到底要办哪个嘛 钱是在哪里领": 要办 in a question the card answers is no request (trial MM r09)
    asks_its_question = own_question and classifier.lexicon.question.search(norm) is not None
    look = classifier.lexicon.staff_to_look
    if look is not None and look.search(compact):
        asks_its_question = False  # "请社区的人帮我看下够不够条件": a visit asked for (trial PP r05)
    if result.item in (None, item) and _asked_outright(ctx, norm) and not asks_its_question:
        return None  # a request to act on it: item_request starts the order
    listed = classifier.referrals.find(compact)
    unlisted = facts.documents_unlisted(ctx, current, text)
    # Read as another service, an `anywhere` question wins over the card's own ("长护险和残疾人护理补贴
    # 能不能两个都领" after the disability card: the two allowances' answer, trial Z5 r08).
    read_as_other = result.item not in (None, item)
    anywhere = facts.anywhere_answer(ctx, text) if not own_question or read_as_other else None
    if anywhere is not None and anywhere[0] != item:
        return None  # "区教育局在哪里 电话多少" after the residence permit: the enrolment's (trial AA r3)
    # "我问的是身份证到期换领" after the residence permit: the permit's own question (到期) asked only in
    # the other agency's words (身份证到期) is that agency's (trial VV r14 got the permit four times).
    own_beside = own_question and (
        listed is None or facts.own_answer(ctx, current, compact.replace(listed[1], " ")) is not None
    )
    if (
        listed is not None
        and not unlisted
        and not own_beside  # "评估要抬他去医院不": the item's own question
        and said != item
        and listed[1] not in facts.card_text(ctx, current)
    ):
        # "补办身份证" after the residence permit: the police's, not that card's own question about
        # losing it (trial P got the residence permit's answer three times).
        return None
    near = ctx.services.handbook.office.nearby
    # Asked of the card beside the agency's name ("又是优待证又是天府通…钱是在哪里领"): the card's own
    # question, not the agency's address (trial MM r09); the agency's word alone asks where it is.
    asked_of_card = listed is not None and facts.own_answer(ctx, current, compact.replace(listed[1], " "))
    if listed is not None and listed[0].id in near and aspect in ("where", "hours") and not asked_of_card:
        # "劳动监察大队在哪里 地址电话" after legal aid: that office's own address, not the item's
        # answer again (trial DD r14 got the same paragraph twice).
        return None
    surely_other = result.item not in (None, item) and result.confidence >= facts.SURE_OTHER_ITEM
    mentions = result.intent in ("consult", "unknown", "status", "office") and not surely_other
    if mentions and not own_question and facts.lines_naming(ctx, current, text):
        # "医生还没来…那个社区卫生服务中心是哪个 电话好多" after the death registration: the place
        # its own checklist names, not the family-doctor item that place also offers (trial N).
        return item, MENTIONED
    if result.intent == "order" and facts.yes_no_question(ctx, current, text):
        # "签了以后医生能到屋头来看我妈不" after the family doctor: the item's own question, asked
        # yes-or-no, not a booking (a trial resident was walked into a home-visit order).
        return item, QUESTION
    if result.intent == "status" and aspect is not None and not about_ticket:
        pass  # "好久能拿到" right after the card: how long it takes, not where their ticket is
    elif result.intent == "office" and aspect == "hours" and not _asks_the_centre(ctx, current, compact):
        pass  # "周末办不办" right after the funeral grant: that item's hours, not the centre's duty
    elif (
        result.intent == "office"
        and aspect == "where"
        and current.where.note
        and _ASKS_WHERE.search(compact)
        and not _asks_the_centre(ctx, current, compact)
    ):
        pass  # "地址呢？在哪里？" after the canteen: where it is, not the centre's card (trial ZZ r09)
    elif result.intent == "cancel" and aspect is not None and _COMING_MYSELF.search(compact):
        pass  # "不用上门 我自己走过来 几点有人" after the bill payment: its hours, no cancel (trial XX r13)
    elif result.intent == "office" and own_question and asks_its_question:
        pass  # "以后每个礼拜天上午都要练 能不能一次约到过年" after a room booking: its own question, not
        # the centre's hours (trial XX r14 got the office card)
    elif result.intent == "greeting" and (aspect == "proxy" or own_question):
        pass  # "可以找人代申请不" after 临时救助: who may apply, not small talk (session-6 trial); "晓得了
        # 那…啥时候回去办合适" after 高龄津贴: the item's own question (session-10 trial I got the menu)
    elif result.intent not in ("consult", "unknown"):
        return None  # a request or a question about a ticket
    if own_question and facts.asked_only_by_paper_name(ctx, current, text):
        return item, DOCUMENT  # "那个提前退休证明我不用带吧": that paper's line, not early retirement
    if own_question and not _names_another_off_card(ctx, current, result, said, text, own or ""):
        # The item's own question ("户口在外地能领不" after 高龄津贴), even if it names another
        # item's word (户口, on its card as 户口簿) in passing.
        return item, QUESTION
    if unlisted and not facts.documents_named(ctx, current, text):
        # "证明我住那里要不要结婚证" after the community certificate: not on its list — say so,
        # rather than send them to the marriage registry (trial O).
        return item, UNLISTED
    # "户口本找不到了 只有身份证 还能办不": 还能办 asks whether it can be done without that paper —
    # about the paper, not who qualifies (trial DD r20 got the household registration).
    if facts.documents_named(ctx, current, text) and not set(facts.aspects_of(ctx, text)) - {"who"}:
        # "光有租房合同可不可以办", "房产证复印件我莫得": a document of this item, even one that is
        # another item's name (房产证), asked about (trial K).
        return item, DOCUMENT
    if _new_subject(classifier, compact, current):
        return None  # "打预防针的本本在哪里办" after 生育津贴: another place's business
    named_other = result.named and result.item != item
    if named_other and ctx.services.handbook.item(result.item or item).fallback:
        named_other = False  # "那天上门要准备啥子" after a home visit for 高龄津贴: still that item
    if named_other:
        if not classifier.names_part_of(text, item):
            return None  # another service named
        asks = True  # "优待证咋个办" after 退役军人优待证: a word of this item's own name
    elif surely_other:
        return None  # "户口要销户吗 在哪里销" after the funeral grant: surely another service
    if not asks:
        return None
    return item, None if aspect == "compare" else aspect


QUESTION = "question"  # the aspect of a follow-up that one of the item's own questions answers
DOCUMENT = "document"  # the aspect of a follow-up that names one of the item's documents
MENTIONED = "mentioned"  # the aspect of a follow-up naming what the item's checklist mentions
UNLISTED = "unlisted"  # the aspect of a follow-up asking whether to bring a paper the item does not list


# "地址呢？在哪里？": where it is asked, not an address given ("地址是幸福路88号3栋…" for a booking).
_ASKS_WHERE = re.compile(r"在哪|哪里|哪儿|哪点|哪个位置|什么位置|啥位置|地址呢")


def _asks_the_centre(ctx: Context, item: Item, compact: str) -> bool:
    """ "你们几点下班" after the health centre's address: an item done elsewhere, and the message
    speaks of us — the community centre's hours, not that office's."""
    about_us = ctx.services.classifier.lexicon.about_community
    return item.where.place == "external" and about_us is not None and about_us.search(compact) is not None


# "我就问…", "我问的是…": the answer just given missed the question, which is said again.
_ASKED_AGAIN = re.compile(r"我(就|只|只是|就是)问|我(问|说)的(是|不是)|我是(问|说)|不是问")


def _new_subject(classifier: Classifier, compact: str, item: Item) -> bool:
    """Another agency's word, or something outside community services, that the current item's
    own text never mentions: the follow-up is about that, not about the item."""
    found = classifier.referrals.find(compact)
    if found is not None and not _mentions(item, found[1]):
        return True
    outside = classifier.lexicon.out_of_scope.search(compact)
    return outside is not None and not _mentions(item, outside.group())


def _mentions(item: Item, word: str) -> bool:
    """Does the item's own text use this word (or all its characters in one line)?"""
    texts = (
        item.title,
        *item.aliases,
        *item.keywords,
        *item.steps,
        *item.eligibility,
        *item.notes,
        item.where.name,
        item.where.note,
        *(document.name for document in item.documents),
    )
    # Every character of the word in one of the item's own texts: "补卡" (a telephone company's
    # word) is still the social security card's "补办…卡", "预防针" is not the maternity grant's.
    return any(all(char in text for char in word) for text in texts)


async def current_item_fact(ctx: Context, found: tuple[str, str | None]) -> Reply:
    item_id, aspect = found
    handbook = ctx.services.handbook
    if aspect not in (DOCUMENT, UNLISTED, MENTIONED):
        # "食堂在哪儿 几点开饭 送饭要咋个订" after the meal card: each question answered (trial Q).
        each = facts.each_clause(ctx, _text(ctx), handbook.item(item_id))
        if len(each) >= 2:
            return Reply(consult.joined_answers(ctx, each, subject=item_id))
    if aspect == QUESTION:
        answered = facts.question_answer(ctx, handbook.item(item_id), _text(ctx))
    elif aspect == DOCUMENT:
        item = handbook.item(item_id)
        named = facts.documents_named(ctx, item, _text(ctx))
        answered = facts.document_answer(item, named or [render.document_line(d) for d in item.documents])
        # "饭钱能少好多 要拿低保证给你们看不": the fact asked beside the document, too (trial Q) — not
        # a question whose words were only the paper's name ("提前退休证明": not early retirement).
        only_the_paper = facts.asked_only_by_paper_name(ctx, item, _text(ctx))
        extra = (
            []
            if only_the_paper
            else [line for other, line in facts.each_clause(ctx, _text(ctx), item) if other is item]
        )
        if answered and extra:
            answered = "\n".join([answered.removesuffix(f"\n{facts.MORE}"), *extra, facts.MORE])
    elif aspect == UNLISTED:
        item = handbook.item(item_id)
        answered = facts.unlisted_answer(item, facts.documents_unlisted(ctx, item, _text(ctx)))
    elif aspect == MENTIONED:
        item = handbook.item(item_id)
        lines = facts.lines_naming(ctx, item, _text(ctx))
        nearby = facts.nearby_named(ctx, item, _text(ctx))
        answered = facts.mention_answer(item, lines, handbook.office.phone, nearby)
    else:
        also = facts.aspects_of(ctx, _text(ctx))
        answered = facts.fact(handbook.item(item_id), aspect, handbook, also) if aspect else None
    if answered is None:
        return consult.answer(ctx, item_id)
    return Reply(answered)


def placed_unanswered(ctx: Context) -> Placed | None:
    """Right after an order went in, a question that names no service and that no route before
    answered (its item's facts, its own questions, the tickets): one for the staff on that ticket."""
    placed = ctx.conversation.get(PLACED)
    if placed is None:
        return None
    text = _text(ctx)
    classifier = ctx.services.classifier
    norm = classifier.normalize(text)
    if not (classifier.lexicon.question.search(norm) or classifier.lexicon.availability.search(norm)):
        return None
    if directions.lonely_words(ctx):
        return None  # "没得啥子办的了 就是想跟你摆哈…": company wanted, not a question (trial KK r06)
    if classifier.referrals.find(norm.replace(" ", "")) is not None:
        return None  # "电瓶车被偷了报警要带啥子" after a repair went in: the police's (trial UU r14)
    result = classifier.classify(text)
    if result.names_any or result.intent not in ("consult", "unknown", "order"):
        return None  # another service named, or a request of its own kind
    if result.item not in (None, placed.item) and facts.own_answer(
        ctx, ctx.services.handbook.item(result.item), text
    ):
        # "养老金已经打到卡上了 要退回去不" after a home visit was booked: the pension's own answer,
        # described rather than named, not a note for the staff (trial V r1).
        return None
    if (
        result.intent == "consult"
        and result.item not in (None, placed.item)
        and result.candidates == (result.item,)
        and classifier.sure_item(text, facts.DESCRIBED_ITEM) == result.item
    ):
        # "我妈80岁了 有没得补贴 她是独居" after a bathing visit: one other service described, whose card
        # answers it — not a deferral to the staff (trial GG r09).
        return None
    return placed


def menu_word(ctx: Context) -> Classification | None:
    """A menu word ("业务", "菜单"…): the service menu, whatever the classifier would make of it."""
    text = _text(ctx)
    lexicon = ctx.services.classifier.lexicon
    return Classification(text, "consult", None, 1.0) if lexicon.menu.match(lexicon.normalize(text)) else None


def office_word(ctx: Context) -> Classification | None:
    """ "时间", "地址", "电话" alone (as the welcome tells residents to send): the office card. Or the
    centre's own street address said back with a question ("幸福路88号在哪个位置 导航搜不到": trial O
    got the apology twice)."""
    text = _text(ctx)
    lexicon = ctx.services.classifier.lexicon
    norm = lexicon.normalize(text)
    if norm in lexicon.office_only:
        return Classification(text, "office", None, 1.0)
    compact = norm.replace(" ", "")
    place = ctx.services.handbook.office.places.get("community")
    street = _STREET_NUMBER.match(lexicon.normalize(place.address).replace(" ", "")) if place else None
    if street and street.group() in compact and lexicon.question.search(norm):
        return Classification(text, "office", None, 1.0)
    return None


# The street and number an address begins with: 幸福路88号 of "幸福路 88 号一楼大厅".
_STREET_NUMBER = re.compile(r"[\u4e00-\u9fff]{1,8}?(路|街|道|巷)\d+号")


def open_question(ctx: Context) -> Classification | None:
    """ "晚上还办不办", "元旦放假不": is the centre open then? (No service named: that is a consult.)"""
    text = _text(ctx)
    lexicon = ctx.services.classifier.lexicon
    if office.asks_in_time(text) and ctx.services.classifier.classify(text).item is None:
        return Classification(text, "office", None, 1.0)  # "我走过去要十分钟 来得及不嘛" (trial Z5 r14)
    if not lexicon.open_question.search(lexicon.normalize(text).replace(" ", "")):
        return None
    try:
        window = read_window(text, ctx.services.now()) or office.asked_now(text, ctx.services.now())
    except WhenError:
        return None
    if window is None or directions.lonely_words(ctx):
        return None  # "今天星期天又没得人来 一个人在屋头闷得慌": lonely, not asking the hours (trial JJ r06)
    if ctx.services.classifier.referrals.find(lexicon.normalize(text)):
        return None  # "美发店…今天去一看关门了…老板跑路了": a shop's door, not ours (trial KK r15)
    # "打了一上午电话都没人接 你们上班时间在干啥子": a complaint, not a question about the hours
    # (blind batch 54).
    result = ctx.services.classifier.classify(text)
    # "上礼拜二报的4栋路灯 到现在还黑起的": a day of their own request, not a day asked about.
    if result.item is not None or result.intent in ("rate", "status", "cancel"):
        return None
    return Classification(text, "office", None, 1.0)


def bare_score(ctx: Context) -> tuple[int, str] | None:
    """A score alone ("5", "4分 态度好"); rating words ("满意") are left to the classifier."""
    text = _text(ctx)
    return rate.stars_of(text, ctx.services.classifier.lexicon) if rate.looks_like_rating(text) else None


async def not_a_complaint(ctx: Context, text: str) -> Reply | None:
    """ "我不是投诉社区 我是说物业 电梯坏了": the secretary is told on today's complaint, and the rest
    of the message is answered as if the complaint had not been mentioned."""
    said = await complaints.withdraw(ctx, text)
    if said is None:
        return None  # no complaint of theirs today: an ordinary message
    if not complaints.said_besides_withdrawal(ctx, text):
        return Reply(said)
    names = [route.name for route in TEXT_ROUTES]
    rest = await first_reply(TEXT_ROUTES[names.index("own_tickets") :], ctx)
    return Reply(said if rest is None or rest.text is None else f"{said}\n\n{rest.text}")


def anywhere_question(ctx: Context) -> tuple[str, str] | None:
    """A question marked `anywhere` in the handbook ("我妈老年痴呆 有没有防走失手环"): answered by
    its own item before a life event or another item's checklist takes the message. Only when the
    message asks: a request to book goes on to the order, unless the item cannot be booked anyway
    ("能不能帮我转诊到华西" is answered, not told that family doctors are not booked here); a
    question read as the office's ("社区卫生服务中心在哪条街 几点开门") is answered too."""
    text = _text(ctx)
    classifier = ctx.services.classifier
    result = classifier.classify(text)
    intent = result.intent
    if intent not in ("consult", "unknown", "office", "order"):
        return None
    answered = facts.anywhere_answer(ctx, text)
    if (
        answered is not None
        and result.named
        and result.item not in (None, answered[0])
        and classifier.names_another_outright(text, answered[0])
    ):
        return None  # "想给孙子交明年的城乡医保 他…在读幼儿园": the insurance, not the kindergarten line
    if answered is not None and intent == "order" and ctx.services.handbook.item(answered[0]).bookable:
        return None
    if answered is not None and result.item == answered[0]:
        return None  # read as that item already: its consult answers this and the rest asked beside it
    if (
        answered is not None
        and result.item is not None
        and facts.own_answer(ctx, ctx.services.handbook.item(result.item), text) is not None
    ):
        # "娃儿…在这边报名要准备啥子…房东不给租房合同备案咋个办": the school's own answer to the
        # lease, not the rental registration's (blind batch 70).
        return None
    return answered


async def answer_anywhere(ctx: Context, answered: tuple[str, str]) -> Reply:
    item_id, line = answered
    each = facts.each_clause(ctx, _text(ctx), None)
    if len(each) >= 2:  # "失业金咋个领，社保断了咋办": the other question too (trial Q)
        return Reply(consult.joined_answers(ctx, each))
    ctx.conversation.enter(AFTER_ITEM, item_id)
    return Reply(line)


# Said right after a complaint: how it is answered, who they are, how bad it is — more for it.
_ABOUT_THE_COMPLAINT = re.compile(
    r"答复|回复|回话|处理|隐患|危险|派人|保密|电话|姓|我叫|[0-9]{7,}|书记|不听|好几次"
)


def complaint_follow_up(ctx: Context) -> str | None:
    """Right after a complaint, a message about it (contact details, the answer's date, how dangerous
    it is) goes onto it, whatever service word is in it (trial R: "这个是火灾隐患…我姓林 136…" got
    the temporary-assistance card); a question naming a service by name is a new question."""
    if ctx.services.desk is None:
        return None
    recent = ctx.conversation.recent
    lexicon = ctx.services.classifier.lexicon
    # Lodged just before, with its problem offered as a repair (the state is then that item's).
    just_before = ctx.conversation.get(AFTER_ITEM) is not None and bool(recent)
    just_before = just_before and lexicon.complaint.search(lexicon.normalize(recent[-1])) is not None
    if ctx.conversation.get(COMPLAINED) is None and not just_before:
        return None
    text = _text(ctx)
    classifier = ctx.services.classifier
    norm = classifier.normalize(text)
    if classifier.referral(norm) is not None and not lexicon.about_community.search(norm.replace(" ", "")):
        # "买到过期食品打哪个电话投诉": another agency's complaint, not more of one about us (trial TT
        # r16 had it filed to the secretary).
        return None
    result = classifier.classify(text)
    if result.named and result.intent in ("consult", "order"):
        return None
    if result.intent in ("status", "cancel", "greeting") or not _ABOUT_THE_COMPLAINT.search(simplify(text)):
        return None
    if complaint_visit(ctx) is not None:
        return None  # "答复有啥用 我要的是有人来看…": someone sent, not more words for the secretary
    return text


# "答复有啥用 我要的是有人来看", "能不能明天派个人来": a person at the door wanted, not an answer.
_SOMEONE_TO_COME = re.compile(r"(要|想|叫|喊|派)[^ ]{0,4}(有)?(个)?人(来|过来|上门)[^ ]{0,2}(看|查|处理|帮)")


def complaint_visit(ctx: Context) -> str | None:
    """Right after a complaint whose problem was offered as a service, someone asked to come: that
    service's order, begun with the details said (trial Z7 r12: the name, flat and phone went onto
    the complaint and were asked again when the visit was booked next)."""
    item = ctx.conversation.item  # the complaint's problem, offered as this service
    recent = ctx.conversation.recent
    lexicon = ctx.services.classifier.lexicon
    lodged = bool(recent) and lexicon.complaint.search(lexicon.normalize(recent[-1])) is not None
    if not lodged or item not in ctx.services.handbook.items:
        return None
    text = _text(ctx)
    plain = simplify(text)
    if not (_SOMEONE_TO_COME.search(plain) or ordering.wishes_visit(ctx, text)):
        return None
    return item


async def start_visit_after_complaint(ctx: Context, item: str) -> Reply:
    """The complaint's words (the problem) go onto the request with the details said now."""
    recent = ctx.conversation.recent
    said = f"{recent[-1].strip()} {_text(ctx)}" if recent and not _says_time(ctx, recent[-1]) else _text(ctx)
    return await ordering.start(ctx, item, said)


async def hand_off_and_answer(ctx: Context, text: str) -> Reply | None:
    """The person asked for hears of it, and a fact of a service the same message asks is answered
    beside: "叫刘丽华 身份证尾号是0422 低保一般要审多久嘛" after a handoff (trial Z4 r17 lost the
    question, and before it the name)."""
    reply = await complaints.hand_off(ctx, text)
    if reply is None:
        return None
    handbook = ctx.services.handbook
    result = ctx.services.classifier.classify(text)
    # A fact asked, not the papers: "在社区窗口交的材料" says what was done (documents come first in aspects).
    aspect = next((a for a in facts.aspects_of(ctx, text) if a not in (facts.DOCUMENTS, "compare")), None)
    if not result.named or result.item not in handbook.items or aspect is None:
        return reply
    item = handbook.item(result.item)
    answered = facts.fact_lines(item, aspect, handbook)
    return replace(reply, text=f"{reply.text}\n【{item.title}】{answered}") if answered else reply


def classify(ctx: Context) -> Classification:
    return ctx.services.classifier.classify(_text(ctx))


TEXT_ROUTES: tuple[Route[Any], ...] = (
    Route("emergency", danger_of, safety.answer),  # before everything: what to do now, whom to call
    Route("my_details", privacy.request_of, privacy.answer),  # 我的信息 / 删除我的信息, even mid-order
    Route("emergency_details", in_state(EMERGENCY), safety.add_details),  # the address, afterwards
    Route("registering", in_state(REGISTERING), responders.answer),  # 报到, one question at a time
    Route("responder", responders.command_of, responders.run),  # declines: 接单/办结 by staff
    Route("staff_command", staff_command, staff.run),  # declines: a resident asking 值班
    Route("order_draft", in_state(ORDERING), ordering.answer),
    Route("which_ticket", in_state(WHICH_TICKET), own_tickets.choose),  # declines: not a listed number
    Route("ticket_change_value", in_state(AMENDING), own_tickets.amend_value),  # the new time, address…
    Route("not_a_complaint", complaints.withdrawal_of, not_a_complaint),  # declines: no complaint today
    Route("complaint", complaints.complaint_of, complaints.lodge),  # declines: 没人管 not about their ticket
    Route("handoff", complaints.handoff_word, hand_off_and_answer),  # declines: no desk (phone numbers)
    Route("duty_unreachable", office.duty_unreachable, office.when_unreachable),  # "值班手机没人接"
    Route("working_days", working_days.asked, working_days.answer),  # "30个工作日 从11月5号算超过没有"
    Route("sum", sums.asked, sums.answer),  # "98乘2块49是好多"
    Route("own_tickets", own_tickets.own_request, own_tickets.answer),  # declines: no open ticket meant
    Route("per_person", per_person.asked, per_person.answer),  # "屋头四个人 一个月三千二 够不够低保"
    Route("placed_again", confirmed_again, ordering.placed_again),
    Route("placed_question", placed_question, ordering.when_placed_starts),  # "今天中午能送来不"
    Route("placed_also", placed_also, ordering.also_on_placed),  # "…那个也一起帮我们办了"
    Route("retirement_month", retirement.asked, retirement.answer),  # "我1977年3月出生 哪个月退休"
    Route("age", ages.asked, ages.answer),  # "我妈1946年2月出生 到现在满没满80"
    Route("place_asked", directions.place_asked, directions.referral_again),  # "派出所是哪个 电话多少"
    Route("numbered_choice", chosen_option, picked_option),
    Route("book_which", directions.booking_without_item, directions.ask_what_to_book),  # "预约" alone
    Route("choice_question", options_asked, answer_options),  # declines: asks none of theirs
    Route("follow_up", follow_up_word, start_order),
    Route("checklist", checklist_word, checklist),
    Route("not_understood", plain_words.not_understood, plain_words.say_plainly),  # "看不懂" after a card
    Route("item_follow_up", about_current_item, current_item_fact),  # "一个月好多钱" after an item
    Route("item_request", current_item_request, start_order),  # "那就在这里反映 你们找人去说一下"
    Route("centre_question", office.centre_question, office.answer_centre_question),  # "社区能复印不"
    Route("placed_unanswered", placed_unanswered, ordering.question_for_staff),  # "这个是每周都会去吗"
    Route("referral_taken_up", directions.referral_taken_up, directions.take_up),  # "社区帮我们催一下物业"
    Route("referral_follow_up", directions.referral_follow_up, directions.referral_again),  # "去哪里换"
    Route("anywhere_question", anywhere_question, answer_anywhere),  # 防走失手环 asked beside 老年痴呆
    Route("complaint_visit", complaint_visit, start_visit_after_complaint),  # "我要的是有人来看"
    Route("complained_more", complaint_follow_up, complaints.lodge_text),  # "周三才答复哦？…我姓林 136…"
    Route("book_later", own_tickets.book_later_asked, own_tickets.answer_book_later),  # "以后再约得行不"
    Route("menu", menu_word, by_intent),
    Route("office_word", office_word, by_intent),
    Route("open_question", open_question, by_intent),
    Route("rating", bare_score, rate.rate_ticket),  # declines: nothing awaits a rating
    Route("who", smalltalk.who_asked, smalltalk.say_who),  # "你是机器人还是人"
    Route("order_and_question", consult.ordered_with_question, ordering.start_and_answer),  # 约X 顺便问Y
    Route("lonely", directions.lonely_words, directions.keep_company),  # "一个人好无聊": a warm word
    Route("life_event", directions.life_event_of, directions.life_event),  # "老人走了": its items
    Route("classify", classify, by_intent),
)
