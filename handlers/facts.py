"""Answer the question that was asked: one fact of an item first, then where the full checklist is.

"高龄津贴多少钱一个月" wants the amount, not the whole checklist; "老年证和高龄津贴有什么区别"
wants the two items' scope side by side. The facts are handbook data (amount, fee, eligibility,
time limit, where, online, hours); the words that ask for each are phrasings (aspects).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable

from handlers import render
from handlers.types import Context
from intents.normalize import simplify
from knowledge import Handbook, Item
from knowledge.models import Document, Nearby

MORE = "回复“材料”看完整清单。"
# A follow-up (after a card, or in the middle of an order) is about another item than the current
# one only when it names it or the classifier is this sure of it (routes, ordering).
SURE_OTHER_ITEM = 0.9
DESCRIBED_ITEM = 0.5  # the model's certainty that keywords alone ("80岁了 有没得补贴") mean its item
SWITCH_UNNAMED = 0.97  # a clause naming no service leaves the one talked about only this sure
SITUATED_ITEM = 0.5  # an earlier clause's likeliest service, whose own question a later clause may ask


def aspect_of(ctx: Context, text: str) -> str | None:
    """Which fact the message asks about first, or None (then the whole checklist is the answer)."""
    asked = aspects_of(ctx, text)
    return asked[0] if asked else None


def aspects_of(ctx: Context, text: str) -> tuple[str, ...]:
    """Every fact the message asks about, in the phrasings' order: "一个月好多钱 要本人去不" asks
    the amount and whether a proxy may go (a session-7 trial resident got only the first answer);
    beside one of them, "要准备啥子" asks for the documents too (DOCUMENTS)."""
    lexicon = ctx.services.classifier.lexicon
    # "隔几天来看下我": how often, not how long it takes (trial Z3 r09 got the time limit).
    plain = _HOW_OFTEN.sub(" ", lexicon.normalize(text).replace(" ", ""))
    asked = tuple(aspect for aspect, words in lexicon.aspects if words.search(plain))
    if "amount" in asked and _PRICE_OF_SERVICE.search(plain):
        # "好多钱一个钟头", "我们不要补贴 自己出钱": the price paid for a service, not an allowance paid
        # out (trial BB r19 got the subsidy's amount twice).
        asked = tuple(dict.fromkeys("fee" if aspect == "amount" else aspect for aspect in asked))
    if "duration" in asked and _FASTEST.search(plain):
        # "哪个最快能拿到钱 娃儿下周就要交钱了": how soon, asked first; the money is the reason
        # (trial ZZ r20 got five lines of "费用：免费").
        asked = ("duration", *(aspect for aspect in asked if aspect not in ("duration", "fee")))
    if asked and lexicon.asks_documents(plain):
        asked = (DOCUMENTS, *asked)
    return asked


_FASTEST = re.compile(r"最快|哪个快|快点拿到|快些拿到|尽快拿到")
_HOW_OFTEN = re.compile(r"(隔|每)个?(几|两|三|一两|两三|三五)天")


# A price per hour, visit or meal, or money the resident pays: the service's fee, not what is paid out.
_PRICE_OF_SERVICE = re.compile(
    r"一个钟头|一小时|每小时|按小时|一个小时|每次|一次(?!性)|一顿|一餐|自己出钱|自费|不要补贴"
)
DOCUMENTS = "documents"  # not a phrasings aspect: alone, "要带什么" gets the whole checklist


def question_answer(ctx: Context, item: Item, text: str) -> str | None:
    """The answer to one of the item's own questions (handbook `questions`) the message asks."""
    line = own_answer(ctx, item, text)
    return f"【{item.title}】{line}\n{MORE}" if line else None


_ASKS_REACH = re.compile(
    r"电话|号码|好多号|多少号|联系方式|咋个喊|怎么喊|咋个找|怎么找|咋个联系|怎么联系|在哪|地址"
)


def _branch_in_answer(ctx: Context, line: str) -> Nearby | None:
    """The local branch (office.yaml nearby) of the agency a line names by its own name (the longest
    name found; 医院 alone is too short to tell)."""
    handbook = ctx.services.handbook
    best: tuple[int, Nearby] | None = None
    for place in handbook.referrals:
        near = handbook.office.nearby.get(place.id)
        name = re.sub(r"（.*?）", "", place.name)
        if near is not None and len(name) >= 3 and name in line and (best is None or len(name) > best[0]):
            best = (len(name), near)
    return best[1] if best else None


def anywhere_answer(ctx: Context, text: str) -> tuple[str, str] | None:
    """(item id, answer) of a question marked `anywhere` that the message asks: its words name
    that item's matter whatever the message was read as (handbook check keeps them one item's).
    None when no such question is asked."""
    found = _anywhere_question(ctx, text)
    if found is None:
        return None
    item, answer = found
    return item.id, f"【{item.title}】{answer}\n{MORE}"


def _anywhere_question(ctx: Context, text: str) -> tuple[Item, str] | None:
    """The item and answer of an `anywhere` question the text asks, or None."""
    classifier = ctx.services.classifier
    lexicon = classifier.lexicon
    plain = lexicon.normalize(text).replace(" ", "")
    # Another agency's card said ("银行卡…卡里还有钱 咋个先冻起", "坐公交的老年卡丢了 里头的钱还在不"):
    # the question is about it, not about one of ours left unnamed (blind batch 82 got 社保卡's answer).
    elsewhere = classifier.referrals.find(plain) is not None
    for item in ctx.services.handbook.items.values():
        asked = next(
            (
                question
                for question in item.questions
                if question.anywhere
                and any(
                    w and _asked_not_done(w, plain) for w in normalised_words(lexicon.normalize, question.ask)
                )
            ),
            None,
        )
        if asked is not None and (not elsewhere or classifier.says_name_of(text, item.id)):
            if _named_item_answers(ctx, item, text):
                continue
            return item, asked.answer
    return None


def _named_item_answers(ctx: Context, item: Item, text: str) -> bool:
    """Does another service the message names by name answer it with a question of its own? "二胎那个
    准声证现在还要办不 不办生了上不到户口哇" asks the birth registration whether it matters for the
    hukou, not the household desk's question (blind batch 83)."""
    handbook, classifier = ctx.services.handbook, ctx.services.classifier
    read_as = classifier.classify(text).item  # a same-sound name ("准声证") is read, not a word of it
    named = (*classifier.names_in(text), *((read_as,) if read_as else ()))
    return any(
        own_answer(ctx, handbook.item(other), text)
        for other in dict.fromkeys(named)
        if other != item.id and other in handbook.items
    )


def _asked_not_done(word: str, plain: str) -> bool:
    """`word` is in `plain` other than as something done: "孙娃子…上幼儿园了" tells, it does not ask
    about the kindergarten (blind batch 80 got the enrolment answer for a training question)."""
    return re.search(re.escape(word) + "(?!了)", plain) is not None


# Card facts a message may ask beside an item's own question, added after its answer ("我也算家庭
# 成员吗…还有审批下来要多久" got the member answer and no time in a session-7 trial). Not who or
# amount: their words ask the question itself too often ("外地户口能领不", "一顿多少钱"); where and fee
# only in their own words (在哪里, 要钱不: trial P's "食堂在哪点 好多钱一顿" and "多久来一次 要钱不?"
# lost their second half); the time limit only when the wait for the item itself is asked, not any
# 多久 ("居住证要满多久").
# "补卡要好多钱 好久能拿到" beside a question of the card's own: the price and the wait too (trial Z3 r07).
_ALSO_ASKED = ("duration", "hours", "online", "where", "fee", "amount")
_WAIT_ASKED = re.compile(
    r"(批|审|下来|办好|办完|拿到|领到|到账|出结果).{0,4}(多久|几天|几个工作日)"
    r"|(多久|几天)(才|就)?(能|可以|会)?(拿到|拿得到|领到|下来|办好|到账|出来)"
)


# Words that start another question in the same message ("还有", "另外", "顺便问下").
# Not "里头还有钱", "还有几天", "名下还有个电瓶车": 还有 there is "still has" (trial ZZ r07, r20).
ANOTHER_QUESTION = re.compile(
    r"还有(?!钱|点|人|几|多|没|的|一|两|好|些|很|就|剩|余|效|个(?!事|问))(?:就是|那个|个)?"
    r"|另外|顺便(?:问一下|问下|问)?|再问(?:一下|下|个)?"
)
# Where one question of a message ends and the next begins: punctuation, a space, or those words.
_CLAUSE = re.compile(r"[，,。；;！!？?\s]+|" + ANOTHER_QUESTION.pattern)


def each_clause(ctx: Context, text: str, main: Item | None) -> list[tuple[Item, str]]:
    """(item, answer) for each question a message asks clause by clause, in the order asked:
    "失业金咋个领，社保断了咋办", "老年食堂在哪儿 几点开饭 送饭要咋个订". A clause is about the service
    it names, else the last one named before it (else `main`); it is answered by the item's own
    question, the facts it asks, or how to go about it. Clauses that ask nothing are skipped;
    one answer per item and fact (session-13 trial Q: 23 replies answered only the first question)."""
    handbook, classifier = ctx.services.handbook, ctx.services.classifier
    lexicon = classifier.lexicon
    answers: dict[tuple[str, str], tuple[Item, str]] = {}
    current = main
    situated: list[Item] = []  # services earlier clauses described, not named outright
    # One of the service's own questions asked by the whole message answers everything it says
    # about that service (its answer is written for that question: "那我72岁 到底领得到不嘛" needs
    # no eligibility line beside it); only other services' questions are added.
    whole = own_answer(ctx, main, text) if main is not None else None
    if main is not None and whole:
        answers[(main.id, whole)] = (main, whole)
    for clause in _CLAUSE.split(text):
        if not clause or len(clause) < 2:
            continue
        # The service talked about so far answers first: "单位不给开解除劳动合同证明" after 失业金 is
        # the unemployment card's own question, not the certificates' (session-11 trial K).
        own = own_answer(ctx, current, clause) if current is not None else None
        if (
            whole
            and current is main
            and _stays_with(ctx, clause, main)
            and (
                own == whole
                or (own is not None and not asks_anything(ctx, clause))
                or (own is None and not _asks_beyond(ctx, main, clause, whole))
            )
        ):
            continue  # "7点来接行不行…还有没得名额": another own question asked is answered (trial Z5 r06)
        named_here = False  # the clause names the service it is answered for
        if own is None:
            before = current
            said = classifier.classify(clause)
            asks_here = asks_anything(ctx, clause)
            # Away from the service talked about, unnamed, only when the model is all but certain:
            # "要咋个办证" after 残疾证 is that card, not the dog licence the model leans to (trial Z3 r08).
            bar = SURE_OTHER_ITEM if current is None else SWITCH_UNNAMED
            sure = said.item in handbook.items and (said.named or said.confidence >= bar)
            if sure and not said.named and current is not None and not classifier.items_in(clause):
                # "最低一个月好多钱" after the pension asked of: no service's word in it, so the
                # model's 低保 (最低 ~ 最低生活保障) does not take it over (trial Z5 r05).
                sure = False
            # "退休金要咋个停": the model is sure of it; the catch-all visit item (上门) never takes
            # over from a service ("有没有人可以上门帮到照顾一下…要钱不" asks home care's fee).
            # "娃娃读初中 够不够条件" after the allowance asked of in the whole message: a service said
            # as background, asking nothing, does not take the next question (trial Z3 r17).
            stated_only = current is main and not asks_here
            if sure and not stated_only and not (current is not None and handbook.item(said.item).fallback):
                current = handbook.item(said.item)
            anywhere = _anywhere_question(ctx, clause)
            if anywhere is not None:  # "社保断了咋办": that matter's own answer, whatever came before
                answers.setdefault((anywhere[0].id, anywhere[1]), anywhere)
                continue
            if current is not None and current is not before:  # asked above of `before`
                own = own_answer(ctx, current, clause)
            # "我这个月刚退休，退休了社区这边要登记啥子不": the situation said in an earlier clause (its
            # likeliest service) owns the question when the current service does not.
            if own is None and asks_here:  # "职工医保" said, not asked (trial Z4 r20)
                for earlier in reversed(situated):
                    if earlier is not current and (own := own_answer(ctx, earlier, clause)):
                        current = earlier
                        break
            described = handbook.items.get(said.item or "")
            if described is not None and said.confidence >= SITUATED_ITEM and not described.fallback:
                situated.append(described)
            if current is None:
                continue
            named_here = said.named and said.item == current.id
        if own:
            answers.setdefault((current.id, own), (current, own))
            continue
        plain = lexicon.normalize(clause).replace(" ", "")
        asked = aspects_of(ctx, clause)
        if asked == ("fee",) and not lexicon.question.search(plain):
            asked = ()  # "娃儿下周就要交钱了": money they must pay elsewhere, not our fee asked
        if asked and asked[0] != "compare":
            line = fact_lines(current, asked[0], handbook, asked[1:])
            if line:
                answers.setdefault((current.id, asked[0]), (current, line))
                continue
        if lexicon.asks_steps is not None and lexicon.asks_steps.search(plain) and current.steps:
            steps = "；".join(f"{n}. {step.rstrip('。')}" for n, step in enumerate(current.steps[:4], 1))
            answers.setdefault((current.id, "steps"), (current, f"怎么办：{steps}"))
        elif lexicon.asks_documents(plain):  # "上户口要带啥子" beside other questions (trial T)
            answers.setdefault((current.id, DOCUMENTS), (current, render.documents_line(current)))
        elif named_here and lexicon.question.search(plain):
            # "听说有啥子生育补贴哦": the service named and asked about, no fact said — what it is.
            answers.setdefault((current.id, "summary"), (current, render.checklist_summary(current)))
    # What a service is yields to what was asked of it: "那娃儿上户口呢 要带啥子" got the summary (its
    # papers and scope) and then the papers again (trial RR).
    answered = {item_id for item_id, key in answers if key != "summary"}
    kept = [
        answer for (item_id, key), answer in answers.items() if key != "summary" or item_id not in answered
    ]
    return _said_once(kept)


def asks_anything(ctx: Context, clause: str) -> bool:
    """Does a clause ask something (a question word, an aspect, the papers)? "卡里还有医保的钱" only
    says why."""
    lexicon = ctx.services.classifier.lexicon
    plain = lexicon.normalize(clause).replace(" ", "")
    return bool(lexicon.question.search(plain) or aspects_of(ctx, clause) or lexicon.asks_documents(plain))


def _said_once(answers: list[tuple[Item, str]]) -> list[tuple[Item, str]]:
    """The answers without one another already carries for the same item: the whole message's
    answer with its 在哪办 line and a clause's same answer alone were both sent (trial X r4)."""
    return [
        (item, text)
        for n, (item, text) in enumerate(answers)
        if not any(
            m != n and other_item.id == item.id and text in other and (len(other) > len(text) or m < n)
            for m, (other_item, other) in enumerate(answers)
        )
    ]


# Facts an item's own answer does not cover: "失业金一个月好多钱？能领几个月？…医保是不是不用自己交了"
# asks the amount and the months beside the medical-insurance question (trial T answered only that).
# A fact counts as answered when the own answer already speaks of it ("宝宝医保怎么办呢，要多少钱"
# is answered by the newborn question's 400 元).
_FACTS_BESIDE = {
    "amount": ("元", "钱"),
    "fee": ("元", "钱", "免费"),
    "duration": ("天", "月", "工作日"),
    "hours": ("点", ":"),
    "where": (),
    "online": ("App", "网上", "微信"),
}


def _asks_beyond(ctx: Context, item: Item, clause: str, whole: str) -> bool:
    """Does the clause, which asks none of the item's own questions, ask one of its card facts that
    its own answer to the whole message (`whole`) leaves out?"""
    asked = aspects_of(ctx, clause)
    if not asked or asked[0] not in _FACTS_BESIDE:
        return False
    line = _line(item, asked[0], ctx.services.handbook)
    if line and line in whole:
        return False  # the own answer already carries that line (trial V: "在哪办" said twice)
    return not any(marker in whole for marker in _FACTS_BESIDE[asked[0]])


def _stays_with(ctx: Context, clause: str, item: Item) -> bool:
    """Is the clause still about `item`: it names no other service, or only the catch-all one?"""
    said = ctx.services.classifier.classify(clause).item
    return said in (None, item.id) or ctx.services.handbook.item(said).fallback


def named_order(ctx: Context, clauses: Iterable[str]) -> tuple[str, str] | None:
    """(item id, clause) of the first clause that asks, by name, for one of the community's services
    ("…不是紧急情况。我要报修车棚的监控"), or None: a request beside words that are about something else."""
    classifier, items = ctx.services.classifier, ctx.services.handbook.items
    for clause in filter(None, clauses):
        said = classifier.classify(clause)
        if said.intent == "order" and said.named and said.item in items:
            return said.item, clause
    return None


def centre_answer(ctx: Context, text: str, *, papers_too: bool = False) -> str | None:
    """office.yaml's answer to a question about the centre itself ("社区能复印不", "门口好停车不"), or
    None; a paper's copies ("复印件要几份") are the service's, not the centre's — unless `papers_too`
    (the message was already read as about the office: "身份证要复印一下 你们那里能印不")."""
    classifier = ctx.services.classifier
    compact = classifier.normalize(text).replace(" ", "")
    if classifier.lexicon.asks_documents(compact) and not papers_too:
        return None
    question = classifier.centre_question(compact)  # the same lookup that reads the office intent
    return question.answer if question is not None else None


def booking_answer(ctx: Context, text: str) -> str | None:
    """office.yaml's answer to a question asked while booking ("一次要弄好久", "必须要我在屋头不"), or
    None. Read only mid-booking: these words say nothing about which service is meant."""
    compact = ctx.services.classifier.normalize(text).replace(" ", "")
    for question in ctx.services.handbook.office.booking_questions:
        if any(word in compact for word in normalised_words(ctx.services.classifier.normalize, question.ask)):
            return question.answer
    return None


def not_done_here_answer(ctx: Context, item: Item, text: str) -> str | None:
    """The answer of an own question marked `not_done_here` that the message asks ("社区能不能给我开
    这个证明…证明我是她女儿": the community does not issue kinship proofs), with its title; None else."""
    refusals = [q for q in item.questions if q.not_done_here]
    if not refusals:
        return None
    lexicon = ctx.services.classifier.lexicon
    plain = lexicon.normalize(text).replace(" ", "")
    for question in refusals:
        if any(
            w and w in plain and not _denied(plain, w)
            for w in normalised_words(lexicon.normalize, question.ask)
        ):
            return f"【{item.title}】{question.answer}\n{MORE}"
    return None


def own_answer(ctx: Context, item: Item, text: str) -> str | None:
    """The item's own question the message asks, answered (no title, no footer); with the time
    limit, hours or online channel after it when the rest of the message asks that too."""
    if not item.questions:
        return None
    lexicon = ctx.services.classifier.lexicon
    plain = lexicon.normalize(text).replace(" ", "")
    answers: list[str] = []
    # "养老金停发" after the age allowance names another service: its 养老金 is no word of the
    # allowance's own question about pensions (trial Z2 r01 got "高龄津贴…不影响" twice).
    inside = _other_names_at(ctx, item, text, plain)
    rest = plain
    for question in item.questions:
        words = [
            word
            for word in normalised_words(lexicon.normalize, question.ask)
            if word and word in rest and not _denied(rest, word) and not _only_within(plain, word, inside)
        ]
        # A second question of the item's own counts when asked in words of four characters or
        # more, left after the first one's: "产假到底是好多天 …钱打到公司账上还是她卡上" asks two
        # (trial JJ r02 got one of them).
        if not words or (answers and max(map(len, words)) < 4):
            continue
        answers.append(question.answer)
        for word in words:
            rest = rest.replace(word, " ")
        if len(answers) == 2:
            break
    if not answers:
        return None
    said = "".join(answers)
    # A fact the answer already speaks of is not added again: "宝宝医保…要多少钱" is answered by the
    # newborn question's 400 元 (trial 7 r2), the canteen's price by its own answer (trial 7 r17).
    beside = [
        a for a in _also_asked(lexicon.aspects, rest) if not any(w in said for w in _SPOKEN_OF.get(a, ()))
    ]
    lines = [_line(item, aspect, ctx.services.handbook) for aspect in beside]
    if lexicon.asks_documents(rest) and not any("要带" in answer for answer in answers):
        # "登记要带什么，我老公要不要一起去": the papers too (trial SS r03 got only the husband answered).
        lines.insert(0, render.documents_line(item))
    # Asked how to reach a place the answer names ("那个社区医生咋个喊嘛 电话好多" after a death at home):
    # that place's local branch (trial VV r01 got the same answer without the health centre's number).
    near = _branch_in_answer(ctx, "".join(answers)) if _ASKS_REACH.search(simplify(text)) else None
    if near is not None:
        lines.append(render.nearby_line(near))
    return "\n".join([*answers, *(line for line in lines if line)])


def _other_names_at(ctx: Context, item: Item, text: str, plain: str) -> list[tuple[int, int]]:
    """Where in `plain` other services are named (spans of their names of three characters or more)."""
    classifier = ctx.services.classifier
    handbook = ctx.services.handbook
    named = [i for i in classifier.names_in(text) if i != item.id and i in handbook.items]
    if not named:
        return []
    # Only the service the message is read as: "学校喊开个家庭困难的证明" after the student aid card
    # names the certificate too, and is still the aid's own question (session-10 trial).
    read_as = classifier.classify(text).item
    if read_as not in named:
        return []
    names = {
        said
        for alias in (handbook.item(read_as).title, *handbook.item(read_as).aliases)
        if len(said := classifier.normalize(alias).replace(" ", "")) >= 3 and said in plain
    }
    # Only a name the message opens with ("养老金停发", "那养老金停发是…"): named later, after the
    # current item's own words ("还有残疾人家庭无障碍改造…" after the disability card), the item's
    # question still counts.
    spans = [(m.start(), m.end()) for name in names for m in re.finditer(re.escape(name), plain)]
    return spans if any(start <= 2 for start, _ in spans) else []


def _only_within(text: str, word: str, spans: list[tuple[int, int]]) -> bool:
    """Is every occurrence of a short, general `word` (养老金, 停发) in `text` inside one of `spans`?
    Longer words are the item's own even inside another name ("无障碍改造" in 家庭无障碍改造)."""
    if not spans or len(word) > 3:
        return False
    at = [m.start() for m in re.finditer(re.escape(word), text)]
    return bool(at) and all(any(s <= a and a + len(word) <= e for s, e in spans) for a in at)


def _denied(text: str, word: str) -> bool:
    """Is `word` said only as what it is not ("她还能走 不算瘫痪": trial AA r6 got the bedridden answer)?"""
    return all(_NOT_SO.search(text[: match.start()]) for match in re.finditer(re.escape(word), text))


# "是不是表坏了" asks, it does not deny (trial VV r16 got the whole card instead of the answer).
_NOT_SO = re.compile(r"((?<!算)不算|(?<!是)不是|算不上|并非|谈不上)$")


# What shows an own answer already gave a fact: a price in 元 (not 钱 alone: "到账的钱也不会丢"), a wait.
_SPOKEN_OF = {"amount": ("元", "免费"), "fee": ("元", "免费"), "duration": ("天", "工作日", "当场")}


def _also_asked(aspects: tuple[tuple[str, re.Pattern[str]], ...], rest: str) -> list[str]:
    """The card facts the rest of the message (the question's words taken out) asks, at most two."""
    asked = [a for a, pattern in aspects if a in _ALSO_ASKED and pattern.search(rest)]
    return [a for a in asked if a != "duration" or _WAIT_ASKED.search(rest)][:2]


_YES_NO = re.compile(r"(不|吗|嘛|没|没有|不嘛)[?？。!！~]*$")
# 吗 asks yes-or-no wherever it stands: "低保我可以替我妈去社区申请吗她身体不好不方便出门" goes on
# after the question without a stop (a session-7 trial resident was walked into a booking).
# "我能不能自己把…水表阀门关了", "能不能关楼上水表阀门", "会不会有啥子责任": whether the resident may
# do it, asked — not "能不能送到屋头来", a request (trial Z3 r16 was walked into a mediation twice).
_ASKS_WHETHER = re.compile(
    r"吗(?!啡)|会不会|(我|自己|我们)[^ ]{0,2}(能不能|可不可以|能否)|(能不能|可不可以|能否)(自己|关|拆|动|碰)"
)


def yes_no_question(ctx: Context, item: Item, text: str) -> str | None:
    """The answer to one of the item's own questions asked yes-or-no, when the message reads as a
    request: "老年证可以儿子帮我去办不", "签了以后医生能到屋头来看我妈不" ask whether, they do not
    book (trial residents were walked into an order). A clause of the message may ask it ("可以帮我
    去办不 我腿脚不方便"). Not a question about their own ticket."""
    lexicon = ctx.services.classifier.lexicon
    normalized = lexicon.normalize(text)
    compact = normalized.replace(" ", "")
    if lexicon.own_request.search(compact) or _DO_IT_NOW.search(compact):
        return None
    if not _ASKS_WHETHER.search(compact) and not any(_YES_NO.search(c) for c in normalized.split()):
        return None
    return question_answer(ctx, item, text)


# Asked outright after the question: "书法班还有名额没 帮我报一个" books (blind batch 79 got the
# classes' line and no form).
_DO_IT_NOW = re.compile(r"(帮|给|替)(我|我们|他|她|老人)(报|约|订|登记|预约)(一个|个|一下|上|名)")


# Words too general to name one document ("证明" is in half the lists); a document is named by its
# own words (租房合同, 房产证, 结婚证).
_NOT_A_DOCUMENT_WORD = frozenset(
    {"证明", "复印件", "原件", "材料", "证件", "资料", "一份", "本人", "要带", "带上"}
)
# A word names a paper by its head noun (房产证, 租房合同, 社保卡, 户口簿, 照片); "没有", "可以" in a
# document's note name none (a trial resident's "冰箱头啥子都莫得" got the pension documents).
_DOCUMENT_HEAD = re.compile(r"(证|卡|簿|本|书|单|表|照|照片|合同|协议|凭证|发票|存折|病历|报告)$")
# The message asks about a document, or says it lacks one: "光有租房合同可不可以办", "房产证我莫得".
_ASKS_ABOUT_A_DOCUMENT = re.compile(
    r"[?？]|吗|不$|不[，,。 ]|行不行|可不可以|可以不|能不能|要不要|够不够|算不算|怎么|咋"
    r"|只有|光有|没有|没得|莫得|丢了|掉了|要带|带什么|几张|几份|几寸|对吧|对不对"
    r"|还是|多大|好大|一寸|两寸|二寸"  # "相片要好大的喃", "要一寸的还是两寸的" (trial SS r08)
    r"|不用带|用不着带|不带|吧$"  # "那个提前退休证明我不用带吧" (trial Z9 r04)
)


def documents_named(ctx: Context, item: Item, text: str) -> list[str]:
    """The item's documents that a question names, each as the checklist lists it with what may
    stand in for it: "光有租房合同可不可以办", "房东的房产证复印件我莫得" after the residence
    registration (trial K: the first got the whole checklist again, the second the property item)."""
    classifier = ctx.services.classifier
    compact = classifier.lexicon.normalize(text).replace(" ", "")
    if not item.documents or not _ASKS_ABOUT_A_DOCUMENT.search(compact):
        return []
    # A paper said by its whole listed name: "那个提前退休证明我不用带吧" (trial Z9 r04 got the community
    # certificate's checklist: the words split into 提前退休 and 证明, neither a paper's word).
    whole = _papers_by_whole_name(ctx, item, compact)
    if whole:
        return [render.document_line(d) for d in whole]
    own_names = [classifier.normalize(alias).replace(" ", "") for alias in (item.title, *item.aliases)]
    words = _document_words(classifier.tokens(text), own_names)
    if not words:
        import jieba  # lazily: only a document question in no handbook term pays for the dictionary

        # jieba's everyday words when the handbook's terms name no paper: "我莫得一寸照片" names 照片,
        # which no item lists as a term (trial V got the apology).
        words = {w for w in _document_words(jieba.lcut(compact), own_names) if _PAPER_IN_ITSELF.search(w)}
    longest = {
        index: max((len(w) for w in words if _listed_as(w, f"{d.name} {d.note or ''}")), default=0)
        for index, d in enumerate(item.documents)
    }
    # Only the documents the most telling word names: 房产证 names the proof of address, while 合同
    # alone would add the employment proof (劳动合同) to it.
    best = max(longest.values(), default=0)
    return [render.document_line(d) for i, d in enumerate(item.documents) if best and longest[i] == best]


# Words that name a paper whatever the sentence: not 申请表 or 报告, which a form or a report the
# resident already has may be (session-10 trial J's school form must reach the certificate's answer).
_PAPER_IN_ITSELF = re.compile(r"(照片|相片|照|证|卡|簿|本|合同|存折|病历)$")


def _papers_by_whole_name(ctx: Context, item: Item, compact: str) -> list[Document]:
    """The item's papers of four characters or more said by their whole listed name."""
    normalize = ctx.services.classifier.normalize
    return [d for d in item.documents if len(d.name) >= 4 and normalize(d.name).replace(" ", "") in compact]


def asked_only_by_paper_name(ctx: Context, item: Item, text: str) -> bool:
    """Is the item's own question asked only by words inside a paper's whole name? "那个提前退休证明
    我不用带吧" says 提前退 (the early-retirement question) only as part of the paper (trial Z9 r04)."""
    compact = ctx.services.classifier.lexicon.normalize(text).replace(" ", "")
    papers = _papers_by_whole_name(ctx, item, compact)
    if not papers:
        return False
    for paper in papers:
        compact = compact.replace(ctx.services.classifier.normalize(paper.name).replace(" ", ""), " ")
    # "我不是特殊工种 那个…证明我不用带吧": a situation denied to say why the paper is not needed.
    return own_answer(ctx, item, _DENIED_SITUATION.sub(" ", compact)) is None


_DENIED_SITUATION = re.compile(r"(不是|不属于|不算|没有|没得|莫得)[^ ，,。]{0,6}")


def _document_words(words: Iterable[str], own_names: list[str]) -> set[str]:
    """The words that may name a paper: two characters or more, ending like one (证, 卡, 照片…)."""
    return {
        w
        for w in words
        if len(w) >= 2
        and w not in _NOT_A_DOCUMENT_WORD
        and _DOCUMENT_HEAD.search(w)
        and not any(w in name for name in own_names)  # "房产证咋个办": the item itself, not its papers
    }


# Whether a paper must be brought: "要不要结婚证", "结婚证要带不", "还要带户口本吗". Read from the
# text, not the segmenter's words: it knows the handbook's terms, and 结婚证 is none of them.
_PAPER = r"([\u4e00-\u9fff]{1,6}?(?:证|卡|簿|本|书|合同|协议|凭证|发票|存折|病历|报告))"
_ASKS_TO_BRING = re.compile(
    rf"(?:要不要|需不需要|用不用|带不带|还要|要带)(?:带|拿|提供)?{_PAPER}"
    rf"|{_PAPER}(?:要不要|要带不|要带吗|带不带|需要吗|要吗|用不用|需不需要)"
)


def documents_unlisted(ctx: Context, item: Item, text: str) -> list[str]:
    """The papers a follow-up asks whether to bring that the item's checklist does not list
    ("证明我住那里要不要结婚证" after the community certificate: trial O was sent to the marriage
    registry). Empty when it names none, or one the checklist lists (documents_named answers that)."""
    classifier = ctx.services.classifier
    compact = classifier.lexicon.normalize(text).replace(" ", "")
    if not item.documents or any(_ANY_RELEVANT_PAPER.search(d.name) for d in item.documents):
        # "与案件有关的材料": a lawyer wants whatever bears on the case — 房产证 and 结婚证 included
        # (trial KK r10 was told not to bring them to a divorce consultation).
        return []
    own_names = [classifier.normalize(alias).replace(" ", "") for alias in (item.title, *item.aliases)]
    papers = [
        paper
        for found in _ASKS_TO_BRING.finditer(compact)
        for said in found.groups()
        if said
        # "户口本身份证要不要": two papers said together, each its own (trial KK r09 was told
        # 口本身份证 is not needed).
        for paper in (_JOINED_BY.sub("", p) for p in _ONE_PAPER.findall(said) or [said])
        if paper not in _NOT_A_DOCUMENT_WORD
        and not _NOT_A_PAPER.search(paper)
        and not any(paper in name for name in own_names)
    ]
    listed = " ".join(f"{d.name} {d.note or ''}" for d in item.documents)
    papers = [_ASKED_WHICH.sub("", paper) for paper in papers]
    return list(
        dict.fromkeys(
            p for p in papers if len(p) >= 2 and not _A_PROCESS.search(p) and not _listed_as(p, listed)
        )
    )


_ANY_RELEVANT_PAPER = re.compile(r"(有关|相关)的?(材料|证明|资料|证据)|所办事项|事项需要")
_ONE_PAPER = re.compile(r"[\u4e00-\u9fff]+?(?:证|卡|簿|本|书|合同|协议|凭证|发票|存折|病历|报告)")
_JOINED_BY = re.compile(r"^(和|跟|与|还有|及|或者|或|、)")
# "我现在坐车还要刷卡": something done with a card, not a paper to bring (trial KK r07).
_NOT_A_PAPER = re.compile(r"^(刷|办|打|用|拿|带|交|开|补|换|插)")


# "要不要每年去认证": a check done, not a paper brought (trial Z r04 was told it need not bring it).
_A_PROCESS = re.compile(r"(认证|验证|保证|论证|去证|签证)$")


# "要带什么户口本": the question word is not part of the paper's name (trial X r8 was told 什么户口本
# is not needed, then 户口簿 was listed).
_ASKED_WHICH = re.compile(r"^(什么|啥子|啥|哪些|哪个|哪样|这个|那个|些)+")


# "娃娃户口本要带不": whether to bring a paper asks about the papers of the service at hand (trial NN
# r10 got the household registration's list for 户口本, a paper of the certificate just booked).
# "是不是带身份证和医保卡就得行了": what to bring, asked as a check (trial PP r08 got the social
# security card for 医保卡, a paper of the off-site care just shown).
BRING_IT = re.compile(
    r"(要|需要|需不需要|要不要|用不用|用得着)带|带不带|要带(不|吗|嘛|没)"
    r"|带[^。]{1,14}(就行|就得行|就可以|就够|够了|得行不|行不行|可以不|对不对|对吧)"
)


def _listed_as(paper: str, listed: str) -> bool:
    """Is the paper on the checklist under its own name or its other written form (户口本 = 户口簿)?"""
    return any(form in listed for form in (paper, paper.replace("本", "簿"), paper.replace("簿", "本")))


def one_of_its_papers(item: Item, other: Item, said: str = "") -> bool:
    """Is the other service's name one of the papers `item` asks for (残疾证 for the disability
    allowance, 社保卡 for the pension check)? Then naming it asks about this item's papers, not about
    getting that one (trial X r11, trial Y r11). With `said`, a name of it said as something done is
    the service: "那上户口呢", though 户口 is in 户口簿 (trial SS r02)."""
    papers = " ".join(f"{d.name} {d.note or ''}" for d in item.documents)
    names = [alias for alias in (other.title, *other.aliases) if len(alias) >= 2]
    # "那先办居住登记 需要带什么", "那上户口呢": the service done, though 居住登记凭证 and 户口簿 are
    # among the papers.
    if any(re.search(f"(办|做|申请|上|报){re.escape(alias)}", said) for alias in names if alias in said):
        return False
    # "户口注销到哪个派出所 要带啥子" after the funeral grant: where to do it, or what to bring for it,
    # said right after its name (trial VV r01), though 户口注销证明 is among the grant's papers.
    if any(
        re.search(
            f"{re.escape(alias)}(要|得|该)?(到|去|在)(哪|那)|{re.escape(alias)}要(带|准备)(啥|什么|哪些|些)",
            said,
        )
        for alias in names
    ):
        return False
    return any(alias in papers for alias in names)


def unlisted_answer(item: Item, papers: list[str]) -> str:
    wanted = "、".join(d.name for d in item.documents)
    return (
        f"【{item.title}】要带的材料里没有{'、'.join(papers)}，一般不用带；要带的是：{wanted}。"
        f"个别情况工作人员会另外说明。\n{MORE}"
    )


def card_text(ctx: Context, item: Item) -> str:
    """The item's whole checklist, normalised and unspaced: what its card says, to look words up in."""
    card = render.checklist(item, ctx.services.handbook, complete=True)
    return ctx.services.classifier.normalize(card).replace(" ", "")


def lines_naming(ctx: Context, item: Item, text: str) -> list[str]:
    """The item's checklist lines that mention the other services' words a follow-up says, when
    every such word is on them: "那个社区卫生服务中心是哪个 电话好多" after the death registration
    asks about the place its checklist sends them to, not about family doctors (trial N)."""
    classifier = ctx.services.classifier
    lines = render.checklist(item, ctx.services.handbook, complete=True).splitlines()[1:]
    named: list[str] = []
    for clause in classifier.normalize(text).split():
        words = classifier.other_words_in(clause, item.id)
        if not any(telling for _, telling in words):
            continue
        # Every other service's word of that clause is on the checklist: "社区卫生服务中心体检要带啥"
        # asks about check-ups there, a new subject.
        if not all(any(w in line for line in lines) for w, _ in words):
            return []
        named += [w for w, _ in words]
    return [line for line in lines if any(w in line for w in named)]


def nearby_named(ctx: Context, item: Item, text: str) -> list[str]:
    """The community's nearby branches (office.yaml nearby) whose agency a follow-up names with
    another service's word: "辖区那个卫生服务中心是哪个嘛 电话多少" after the death registration
    wants the health centre's address and number (trial X r1), not "ask the community"."""
    classifier, handbook = ctx.services.classifier, ctx.services.handbook
    said = {
        w
        for clause in classifier.normalize(text).split()
        for w, _ in classifier.other_words_in(clause, item.id)
    }
    said = {w for w in said if len(w) >= 3}
    places = {place.id: place for place in handbook.referrals}
    return [
        render.nearby_line(near)
        for place_id, near in handbook.office.nearby.items()
        if place_id in places and any(w in places[place_id].name or w in near.name for w in said)
    ]


def mention_answer(item: Item, lines: list[str], office_phone: str, nearby: Iterable[str] = ()) -> str:
    """The checklist lines that speak of the place asked about, and that place's branch near the
    community when the handbook names it."""
    nearby = list(nearby)
    ask = "其他不清楚的" if nearby else "具体电话、地址不清楚的"
    return (
        f"【{item.title}】里说到的：\n"
        + "\n".join([*lines, *nearby])
        + f"\n{ask}，打社区电话 {office_phone} 问。\n{MORE}"
    )


def document_answer(item: Item, lines: list[str]) -> str:
    return f"【{item.title}】要带的材料里：\n" + "\n".join(lines) + f"\n{MORE}"


@functools.lru_cache(maxsize=1024)
def normalised_words(normalize: Callable[[str], str], words: tuple[str, ...]) -> tuple[str, ...]:
    """Handbook words (a question's ask words, an agency's words) as messages are normalised: once
    per handbook, not per message."""
    return tuple(normalize(word).replace(" ", "") for word in words)


def fact(item: Item, aspect: str, handbook: Handbook, also: tuple[str, ...] = ()) -> str | None:
    """One or two lines with the fact (and each fact in `also` the same message asked), then where
    to see the rest; None when the item has no such fact."""
    lines = fact_lines(item, aspect, handbook, also)
    return f"【{item.title}】{lines}\n{MORE}" if lines else None


def fact_lines(item: Item, aspect: str, handbook: Handbook, also: tuple[str, ...] = ()) -> str | None:
    """The fact's lines alone, without the item's title or the footer (for replies that add their own)."""
    line = _line(item, aspect, handbook)
    if not line:
        return None
    more = (_line(item, other, handbook) for other in also if other not in (aspect, "compare"))
    return "\n".join(dict.fromkeys([line, *(extra for extra in more if extra)]))


def _line(item: Item, aspect: str, handbook: Handbook) -> str | None:
    if aspect == "amount":
        if item.amount:
            return f"标准：{item.amount}"
        return f"费用：{item.fee}" if item.fee else None
    if aspect == "fee":
        return f"费用：{item.fee}" if item.fee else None
    if aspect == "who":
        return (
            "谁能办：" + "；".join(e.rstrip("。") for e in item.eligibility[:2]) if item.eligibility else None
        )
    if aspect == "duration":
        return f"办多久：{render.time_limit_text(item)}"
    if aspect == "online":
        return f"网上办：{item.online}" if item.online else "这项要到现场办理，行动不便的可以预约上门。"
    if aspect == "where":
        return f"在哪办：{render.place_text(item, handbook.office)}"
    if aspect == "hours":
        return f"办理时间：{render.hours_text(item, handbook.office)}"
    if aspect == "proxy":
        # The errand item is itself someone doing it for the resident ("能不能请人帮我去药店买点药"):
        # whether it may be done by proxy is no question there.
        return None if item.fallback else _proxy_line(item)
    if aspect == "visit":
        if item.home_visit:
            return "行动不便的可以请工作人员上门办：回复“预约”约个时间，能约哪些时间我会告诉您。"
        return "这项要到现场办，不上门；走不动的可以请家属代办，或回复“人工”问工作人员有没有别的办法。"
    if aspect == "booking":
        if item.bookable:
            return "不预约也能直接来办；想定个时间、免得等，回复“预约”约一个。"
        return "这项不用预约，带齐材料直接去办就行。"
    if aspect == DOCUMENTS:
        names = "、".join(d.name for d in item.documents)
        return f"要带：{names}" if names else "不用带材料。"
    return None


_PROXY_WORDS = ("代办", "代领", "代理", "委托", "家属", "监护人")


def _proxy_line(item: Item) -> str:
    """Whether someone else may do it, read from the item's own documents: the card already says
    what a proxy brings ("代办人身份证：家属代办时带"); a trial resident asking "我儿子可以帮我去办不"
    after the card got an apology."""
    brought = [
        f"{d.name}（{d.note}）" if d.note else d.name
        for d in item.documents
        if any(word in d.name + (d.note or "") for word in _PROXY_WORDS)
    ]
    if brought:
        return "可以请家属或别人代办，代办时要带：" + "；".join(brought) + "。以当地为准。"
    visit = "行动不便的可以回复“预约”请工作人员上门。" if item.home_visit else ""
    return f"材料里没写代办，一般要本人去办；{visit}能不能代办请先打社区电话问一下，以当地为准。"


def restated(ctx: Context, item: Item, text: str) -> str | None:
    """ "20个工作日批下来 每个月100块 是不是嘛" after the card: the resident's own reading of it, asked to
    be confirmed — yes, with the card's lines that give those figures (trial SS got "no ready answer").
    None unless a confirmation is asked and every figure said is on the card."""
    plain = simplify(text)
    figures = set(_FIGURE.findall(plain))
    if not figures or not _CONFIRM_ASKED.search(plain):
        return None
    lines = render.checklist(item, ctx.services.handbook, complete=True).splitlines()[1:]
    said = [line.strip() for line in lines if figures & set(_FIGURE.findall(line))]
    if figures - {figure for line in said for figure in _FIGURE.findall(line)}:
        return None  # a figure the card does not give
    return f"【{item.title}】对，清单上是这样写的：\n" + "\n".join(said[:3]) + f"\n{MORE}"


_FIGURE = re.compile(r"\d+")
_CONFIRM_ASKED = re.compile(r"(是不是|对不对|对吧|是吧|没错吧|对不|是不)[嘛哇哦呀啊噻]*[?？。!！~]*$")


def compare(items: list[Item]) -> str:
    """Two (or three) items' scope in a line each, and how to get either checklist."""
    lines = [f"{i}. {item.title}：{_scope(item)}" for i, item in enumerate(items[:3], 1)]
    return "\n".join(["这几项的区别：", *lines, "想看哪一项的材料，请回复数字。"])


def _scope(item: Item) -> str:
    if item.scope:
        return item.scope
    return item.notes[0] if item.notes else "；".join(item.eligibility[:1])
