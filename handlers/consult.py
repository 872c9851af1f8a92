"""consult: answer what to bring, where, when, how long — or ask which item when two are close."""

from __future__ import annotations

import re
from collections.abc import Iterable

from handlers import directions, facts, render
from handlers.conversation import AFTER_ITEM, CHOOSING, Choice
from handlers.types import MAX_REPLY_BYTES, Context, Reply
from intents import Classification
from intents.normalize import simplify
from knowledge import Item

_NUMBER = re.compile(r"^\s*(?:第)?([0-9１-９一二三四五六七八九])\s*(?:个|项|号)?\s*[。.!！]?\s*$")
_CHINESE_DIGITS = {c: i + 1 for i, c in enumerate("一二三四五六七八九")}


def answer(ctx: Context, item_id: str) -> Reply:
    """The checklist for one item; remember it so "预约" next means booking this item."""
    ctx.conversation.enter(AFTER_ITEM, item_id)
    handbook = ctx.services.handbook
    return Reply(render.checklist(handbook.item(item_id), handbook))


async def handle(ctx: Context, result: Classification) -> Reply:
    aspect = facts.aspect_of(ctx, ctx.message.text) if ctx.message.text else None
    handbook = ctx.services.handbook
    catch_all = handbook.items.get(result.item or "")
    if catch_all is not None and catch_all.fallback and not result.ambiguous:
        classifier = ctx.services.classifier
        if classifier.referrals.find(classifier.normalize(ctx.message.text or "").replace(" ", "")):
            # "补身份证要去派出所 我妈瘫在床上去不了 派出所能上门拍照不": whether the police come, not
            # our visits' card (blind batch 78): the agency named, with what it says of visits.
            return await directions.out_of_scope(
                ctx, result._replace(intent="unknown", item=None, candidates=())
            )
    each = _each_part(ctx, ctx.message.text or "") or _each_question(ctx, result)
    if each is not None:
        return each
    if aspect == "compare" and len(result.candidates) >= 2:
        options = result.candidates[:3]
        ctx.conversation.enter(CHOOSING, Choice(options, "consult"))
        return Reply(facts.compare([handbook.item(i) for i in options]))
    if result.ambiguous:
        result = _without_its_papers(ctx, result)
    if result.ambiguous:
        asked = None
        if facts.own_answer(ctx, handbook.item(result.candidates[0]), ctx.message.text or ""):
            # The likeliest item answers it: so do the others that do (not a lesser one alone —
            # "社区的暑假班什么时候报名" is not the conscription's 什么时候报名).
            asked = answer_questions(ctx, result.candidates[:5], ctx.message.text or "", result.intent)
        asked = asked or _facts_of_each(ctx, result, aspect)
        return asked or await ask_which(ctx, result.intent, result.candidates)
    if result.item is None:
        return Reply(render.service_menu(handbook))
    asked = facts.question_answer(ctx, handbook.item(result.item), ctx.message.text or "")
    if asked:  # "家里有车能吃低保不": the handbook's own answer to that question
        ctx.conversation.enter(AFTER_ITEM, result.item)
        return Reply(asked)
    if aspect is not None and aspect != "compare":
        also = facts.aspects_of(ctx, ctx.message.text or "")
        answered = facts.fact(handbook.item(result.item), aspect, handbook, also)
        if answered:
            ctx.conversation.enter(AFTER_ITEM, result.item)
            return Reply(answered)
    repeated = _card_just_sent(ctx, result.item) or _NOT_ANSWERED.search(ctx.message.text or "") is not None
    if repeated and not _asks_documents(ctx.message.text or "", ctx):
        return await _not_again(ctx, result.item)
    return answer(ctx, result.item)


def _asks_documents(text: str, ctx: Context) -> bool:
    lexicon = ctx.services.classifier.lexicon
    return lexicon.asks_documents(lexicon.normalize(text).replace(" ", ""))


def _card_just_sent(ctx: Context, item_id: str) -> bool:
    """Was the reply to the resident's last message this item's whole checklist? It was when that
    message, too, was about this item and asked none of its facts or questions."""
    if ctx.conversation.get(AFTER_ITEM) != item_id or not ctx.conversation.recent:
        return False
    previous = ctx.conversation.recent[-1]
    lexicon = ctx.services.classifier.lexicon
    if lexicon.normalize(previous).replace(" ", "") in lexicon.checklist:
        return True  # "材料" was the last message: the card went out (trial BB r01 got it three times)
    before = ctx.services.classifier.classify(previous)
    if before.intent != "consult" or before.item != item_id:
        return False
    item = ctx.services.handbook.item(item_id)
    return facts.aspect_of(ctx, previous) is None and facts.own_answer(ctx, item, previous) is None


# The resident says the last answer missed the question ("你没说", "跟刚才发的一模一样"): not the card again.
_NOT_ANSWERED = re.compile(r"你没(说|回答|答)|没(回答|答)到|答非所问|一模一样|又发|没说到|你没讲")


async def _not_again(ctx: Context, item_id: str) -> Reply:
    """The same item's whole checklist right after it was sent: the resident asked something the
    card does not say plainly (session-10 trial I: "the same 30-line wall three times" was a dead end
    in many conversations). Say which points can be asked, offer a person, and record the message
    for the staff's review of unanswered questions."""
    ctx.conversation.enter(AFTER_ITEM, item_id)
    await directions.record(ctx, "again", (item_id,))
    title = ctx.services.handbook.item(item_id).title
    return Reply(
        f"【{title}】上面的清单就是一般的要求，您问的这一点清单里可能没写清楚。\n"
        "可以直接问其中一点，比如“要带什么”“在哪办”“要多久”“多少钱”“能不能上门”“可以代办不”；"
        "想看完整清单回复“材料”；回复“人工”，请工作人员来回答您这个问题。"
    )


def answer_questions(
    ctx: Context,
    options: tuple[str, ...],
    text: str,
    intent: str,
    *,
    picked: bool = False,
    unnamed: bool = False,
) -> Reply | None:
    """The own questions (handbook `questions`) the message asks of the items it could be about:
    "我父亲户口在老家…能用这边的老年食堂和日间照料吗" is answered for both, not met with "which
    one?" (a session-7 trial resident then got the residence permit). One item answering: its answer,
    and follow-ups are about it; several: each answer (as many as fit in one reply), and a number
    then shows that item's checklist. None when the message asks none of them."""
    handbook = ctx.services.handbook
    # The item's own question, else the documents of it the message asks about ("只有个租房合同
    # 行不行" after the moving-in list: trial K).
    # Picked by number with a question ("1 要钱不"): the fact it asks of that item, too (trial Q).
    # Naming no service right after the listed ones ("一个月好多钱 要带啥子去哪里办" after two items
    # answered: trial DD r08 got the apology): the facts asked, of the listed ones.
    items = [handbook.item(item_id) for item_id in options]

    def answers(asked: list[str]) -> list[tuple[Item, str]]:
        return _fitting(
            (
                item,
                facts.own_answer(ctx, item, text)
                or "\n".join(facts.documents_named(ctx, item, text))
                or (facts.fact_lines(item, asked[0], handbook, tuple(asked[1:])) or "" if asked else ""),
            )
            for item in items
        )

    asked = [a for a in facts.aspects_of(ctx, text) if a != "compare"] if picked or unnamed else []
    answered = answers(asked if picked else [])
    if not answered and unnamed and not picked:
        answered = answers(asked)
    if not answered:
        return None
    if len(answered) == 1:
        item, line = answered[0]
        ctx.conversation.enter(AFTER_ITEM, item.id)
        return Reply(f"【{item.title}】{line}\n{facts.MORE}")
    ctx.conversation.enter(CHOOSING, Choice(tuple(item.id for item, _ in answered), intent))
    return Reply(_several(answered))


def _facts_of_each(ctx: Context, result: Classification, aspect: str | None) -> Reply | None:
    """ "活动室在哪点 几点开门 还有志愿者上门探访的": two services named, a fact asked — that fact of
    each, not "which one?" (trial K: a lonely pensioner got a numbered menu). None unless at least
    two candidates are named outright and a fact is asked."""
    if aspect is None or aspect == "compare":
        return None
    text = ctx.message.text or ""
    named = ctx.services.classifier.names_in(text)
    options = [item_id for item_id in result.candidates if item_id in named]
    if len(options) < 2:
        return None
    handbook = ctx.services.handbook
    also = facts.aspects_of(ctx, text)
    answered = _fitting(
        (item, facts.fact_lines(item, aspect, handbook, also) or render.checklist_summary(item))
        for item in (handbook.item(item_id) for item_id in options[:3])
    )
    if len(answered) < 2:
        return None
    ctx.conversation.enter(CHOOSING, Choice(tuple(item.id for item, _ in answered), result.intent))
    return Reply(_several(answered))


# Where a second question begins: "…生育津贴她自己去领还是单位领 还有那个育儿补贴 一年好多钱".


def _each_part(ctx: Context, text: str) -> Reply | None:
    """Two questions about two services in one message, each answered (trial N: ten residents had
    one of two questions answered, "…生育津贴她自己去领还是单位领 还有那个育儿补贴 一年好多钱" the
    amount of the first only). Each part's own question or the fact it asks, else its summary;
    None unless two parts name two services outright."""
    parts = [part for part in facts.ANOTHER_QUESTION.split(text) if part and part.strip()]
    if len(parts) < 2:
        return None
    classifier, handbook = ctx.services.classifier, ctx.services.handbook
    found: dict[str, str] = {}
    elsewhere: list[str] = []
    current = handbook.items.get(ctx.conversation.item or "")  # the card just shown, if any
    for part in parts:
        result = classifier.classify(part)
        listed = classifier.referrals.find(classifier.normalize(part))
        asks = classifier.lexicon.question.search(classifier.normalize(part)) is not None
        if result.intent == "unknown" and listed is not None and asks:
            # "…另外宝宝打疫苗是不是在社区医院，要预约不": another agency's part (trial P); not
            # "明天还要去医院拿药", the situation said (trial ZZ r07 was sent to book a hospital visit).
            place = listed[0]
            how = (directions.referral_clauses(place.how) or [place.how])[0]
            elsewhere.append(f"另外，这件事要找{place.name}，社区这边办不了：{how}。")
            continue
        if current is not None and current.id not in found and not (result.item and result.named):
            # "我妈腿脚不方便 可不可以我去领嘛…还有…养老金要不要退": a part naming no service asks
            # about the one just shown (trial MM r01 had only the pension answered).
            aspect = facts.aspect_of(ctx, part)
            if facts.own_answer(ctx, current, part) or aspect not in (None, "compare"):
                found[current.id] = _part_answer(ctx, current, part, aspect)
                continue
        if result.intent != "consult" or result.item is None or not result.named or result.item in found:
            continue
        item = handbook.item(result.item)
        found[item.id] = _part_answer(ctx, item, part, facts.aspect_of(ctx, part))
    answered = _fitting((handbook.item(item_id), line) for item_id, line in found.items())
    if len(answered) == 1 and elsewhere:
        item, line = answered[0]
        ctx.conversation.enter(AFTER_ITEM, item.id)
        return Reply("\n\n".join([f"【{item.title}】{line}\n{facts.MORE}", *elsewhere[:1]]))
    if len(answered) < 2:
        return None
    ctx.conversation.enter(CHOOSING, Choice(tuple(item.id for item, _ in answered), "consult"))
    return Reply("\n\n".join([_several(answered), *elsewhere[:1]]))


def _each_question(ctx: Context, result: Classification) -> Reply | None:
    """Two or more questions in one message, each answered (facts.each_clause); None when it asks
    fewer, and the one question (or the whole checklist) is answered as before."""
    handbook = ctx.services.handbook
    main = handbook.items.get(result.item or "")
    answered = facts.each_clause(ctx, ctx.message.text or "", main)
    if len(answered) < 2:
        return None
    return Reply(joined_answers(ctx, answered))


def joined_answers(ctx: Context, answered: list[tuple[Item, str]], *, subject: str | None = None) -> str:
    """The answers under each item's title, in the order asked, as many as fit one reply. Follow-ups
    are about the last item answered — or about `subject`, the item being talked about, when it is
    answered first ("…是不是必须房户一致…要不要赶紧把户口迁过来" after school enrolment: trial XX r06's
    next question about when to move the hukou got the household card)."""
    lines: list[str] = []
    last: Item | None = None
    for item, line in answered:
        candidate = [*lines, line if item is last else f"【{item.title}】{line}"]
        if lines and not render.fits("\n".join([*candidate, facts.MORE])):
            break
        lines, last = candidate, item
    if answered and answered[0][0].id == subject:
        ctx.conversation.enter(AFTER_ITEM, subject)
    elif last is not None:
        ctx.conversation.enter(AFTER_ITEM, last.id)
    return "\n".join([*lines, facts.MORE])


def ordered_with_question(ctx: Context) -> tuple[str, str, str] | None:
    """A request for one service and a question beside it: "先帮我约个时间去社区办生育登记 顺便问下
    育儿补贴是不是也在你们那儿办" (blind batch 31 got the allowance's card and no booking). (the
    service to order, the part that orders it, the answer to the other part); None unless one part
    orders a service it names and another asks about a service (or about the ordered one)."""
    text = ctx.message.text or ""
    parts = [part for part in facts.ANOTHER_QUESTION.split(text) if part and part.strip()]
    if len(parts) < 2:
        return None
    classifier, handbook = ctx.services.classifier, ctx.services.handbook
    readings = [(part, classifier.classify(part)) for part in parts]
    ordered = next(
        (
            (part, result.item)
            for part, result in readings
            if result.intent == "order"
            and result.item is not None
            and (result.named or result.confidence >= facts.SURE_OTHER_ITEM)
        ),
        None,
    )
    if ordered is None:
        return None
    order_part, order_item = ordered
    answers = []
    for part, result in readings:
        if part == order_part or result.intent not in ("consult", "unknown"):
            continue
        aspect = facts.aspect_of(ctx, part)
        documents = _asks_documents(part, ctx)
        if not (aspect or documents or "问" in part or facts.asks_anything(ctx, part)):
            continue  # "先帮他挂个失嘛 卡里还有医保的钱": why, not a question about 医保 (blind batch 77)
        item_id = result.item if result.named and result.item else None
        item_id = item_id or (order_item if aspect or documents else None)
        if item_id is None:
            continue
        item = handbook.item(item_id)
        answers.append(f"【{item.title}】{_part_answer(ctx, item, part, aspect, documents=documents)}")
    if not answers:
        return None
    return order_item, order_part, "\n".join(answers[:2])


def _part_answer(ctx: Context, item: Item, part: str, aspect: str | None, *, documents: bool = False) -> str:
    """One part of a message answered for `item`: its own question, the fact asked, what to bring
    (when `documents`), else the item in two lines."""
    handbook = ctx.services.handbook
    return (
        facts.own_answer(ctx, item, part)
        or (facts.fact_lines(item, aspect, handbook) if aspect not in (None, "compare") else None)
        or (render.documents_line(item) if documents else None)
        or render.checklist_summary(item)
    )


def _fitting(candidates: Iterable[tuple[Item, str]]) -> list[tuple[Item, str]]:
    """The (item, answer) pairs with an answer, in order, as many as fit in one reply."""
    answered: list[tuple[Item, str]] = []
    for item, line in candidates:
        if line and len(_several([*answered, (item, line)]).encode("utf-8")) <= MAX_REPLY_BYTES:
            answered.append((item, line))
    return answered


def _several(answered: list[tuple[Item, str]]) -> str:
    answers = "\n\n".join(f"【{item.title}】{line}" for item, line in answered)
    numbered = [f"{n}. {item.title}" for n, (item, _) in enumerate(answered, 1)]
    return "\n".join([answers, "想看哪一项的完整清单，请回复数字：", *numbered])


def summaries(ctx: Context, options: tuple[str, ...], intent: str) -> Reply:
    """Several listed items picked at once ("1和2 死亡证明医院开了的…"): what to bring and where for
    each, a number then shows its checklist (trial V r1 was asked "which one?" between one of them
    and an item it had not picked)."""
    handbook = ctx.services.handbook
    answered = _fitting(
        (item, f"{render.checklist_summary(item)}\n在哪办：{render.place_text(item, handbook.office)}")
        for item in (handbook.item(item_id) for item_id in options)
    )
    ctx.conversation.enter(CHOOSING, Choice(tuple(item.id for item, _ in answered), intent))
    return Reply(_several(answered))


# A place gone to on the way: "去活动室顺便…", "到街道的时候…".
_GONE_TO = re.compile(r"(?:去|到)([\u4e00-\u9fff]{2,6}?)(?:顺便|的时候)")


def _without_its_papers(ctx: Context, result: Classification) -> Classification:
    """The candidates without those the message names only as papers the likeliest one asks for, and,
    when the papers are asked about, without those asking for none: "去活动室顺便把高龄补贴申请了 带身份证
    户口本 银行卡就够了哈" is the allowance's papers (trial Z5 r09 was offered the household item and
    the room)."""
    handbook = ctx.services.handbook
    first = handbook.items.get(result.candidates[0])
    if first is None:
        return result
    text = ctx.message.text or ""
    plain = simplify(text)
    asks_papers = bool(ctx.services.classifier.lexicon.asks_documents(plain) or facts.BRING_IT.search(plain))
    gone_to = {found.group(1) for found in _GONE_TO.finditer(plain)}
    kept = [result.candidates[0]]
    for other_id in result.candidates[1:]:
        other = handbook.items.get(other_id)
        if other is None or facts.one_of_its_papers(first, other, plain):
            continue
        if asks_papers and first.documents and not other.documents:
            continue
        if gone_to & set(other.aliases):
            continue  # "去活动室顺便把高龄补贴申请了": where they go, not a room to book
        kept.append(other_id)
    if len(kept) == len(result.candidates):
        return result
    return result._replace(item=kept[0], candidates=tuple(kept))


async def ask_which(ctx: Context, intent: str, options: tuple[str, ...]) -> Reply:
    """Two items fit equally well: list them numbered, remember the question, record the offer."""
    return await directions.offer(ctx, "choice", options[:5], "您想问的是哪一项？", ["请回复数字。"], intent)


def chosen_option(text: str, options: list[str]) -> str | None:
    """The item id the resident picked by number, or None when the text is not a valid choice."""
    match = _NUMBER.match(text)
    if not match:
        return None
    digit = match.group(1)
    index = _CHINESE_DIGITS.get(digit) or int(digit)
    return options[index - 1] if 1 <= index <= len(options) else None
