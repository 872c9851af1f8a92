"""Compile the handbook's phrasings (knowledge/data/phrasings.yaml) into the patterns and word sets
that the classifier and the handlers match.

The phrasings are data a community worker edits; this module only compiles them, once per
Classifier, so every message costs a few regex searches and no parsing. Cue patterns run on
normalised text (simplified, dialect mapped, fillers removed).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from intents.gate import GatedPattern, gated
from intents.normalize import Normalizer
from knowledge import Item, Phrasings

# A cue pattern: a compiled regex, behind a literal gate when it is large (intents/gate.py).
Cue = re.Pattern[str] | GatedPattern


def any_of(*parts: str) -> Cue:
    """One pattern matching any part, rewritten so every alternative starts with a literal.

    CPython's regex search skips non-candidate positions in C only when each top-level
    alternative begins with a literal character; a leading group such as "(办好|修好)了吗" defeats
    that and makes a search ~5x slower. Expanding leading groups and character sets keeps the
    language identical (tests/test_lexicon.py) and the per-message cost low.
    """
    return gated(re.compile("|".join(alt for part in parts for alt in literal_first(part))))


def literal_first(part: str, limit: int = 64) -> list[str]:
    """Equivalent alternatives of `part`, each starting with a literal where that can be arranged."""
    if part.startswith("(") and not part.startswith("(?"):
        end = _closing_paren(part)
        inner, rest = part[1:end], part[end + 1 :]
        optional = rest.startswith("?") and not rest.startswith("??")
        if optional:
            rest = rest[1:]
        expanded = [alt for choice in _top_level_split(inner) for alt in literal_first(choice + rest, limit)]
        if optional:
            expanded += literal_first(rest, limit)
        return expanded if 0 < len(expanded) <= limit and all(expanded) else [part]
    if part.startswith("[") and "]" in part:
        end = part.index("]")
        chars = _charset(part[1:end])
        if chars is not None:
            return [c + part[end + 1 :] for c in chars]
    return [part]


def _charset(spec: str) -> list[str] | None:
    if not spec or spec.startswith("^") or "\\" in spec:
        return None
    chars: list[str] = []
    i = 0
    while i < len(spec):
        if i + 2 < len(spec) and spec[i + 1] == "-":
            chars += [chr(c) for c in range(ord(spec[i]), ord(spec[i + 2]) + 1)]
            i += 3
        else:
            chars.append(spec[i])
            i += 1
    return chars if len(chars) <= 16 and all(re.escape(c) == c for c in chars) else None


def _closing_paren(text: str) -> int:
    depth = 0
    for index, char in enumerate(text):
        if char == "(" and (index == 0 or text[index - 1] != "\\"):
            depth += 1
        elif char == ")" and text[index - 1] != "\\":
            depth -= 1
            if depth == 0:
                return index
    raise ValueError(f"unbalanced pattern: {text}")


def _top_level_split(body: str) -> list[str]:
    parts, depth, current = [], 0, ""
    for char in body:
        depth += (char == "(") - (char == ")")
        if char == "|" and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    parts.append(current)
    return parts


def _any_or_none(parts: tuple[str, ...]) -> Cue:
    """any_of, or a pattern that never matches when a list is absent (an empty pattern matches all)."""
    return any_of(*parts) if parts else re.compile(r"(?!)")


def _words(words: tuple[str, ...]) -> str:
    """Literal words as one alternation, in the order given."""
    return "|".join(re.escape(word) for word in words)


# "莫给我说那些材料", "不是问要带啥子": the checklist refused, so no checklist word in it asks for one.
_PAPERS_REFUSED = re.compile(r"(莫|不要|别|不用|不是问|不问)(给我)?(说|讲|发|问)?(那些|这些)?(材料|要带)")


@dataclass(frozen=True, slots=True)
class Lexicon:
    """Compiled phrasings: cue patterns for the classifier, word sets and patterns for the handlers."""

    normalize: Normalizer
    human: re.Pattern[str]
    status_alone: re.Pattern[str]  # matched (anchored) against the whole message
    own_request: re.Pattern[str]
    status: re.Pattern[str]
    cancel: re.Pattern[str]
    rate: re.Pattern[str]
    # The four intents about an earlier request or a person, searched in turn: joined into one
    # pattern they cost three times as much (32 µs a message against 10), because an alternation
    # that large loses the regex engine's literal-prefix skip.
    about_request_or_person: tuple[re.Pattern[str], ...]
    question: re.Pattern[str]
    availability: re.Pattern[str]
    asking: re.Pattern[str]
    in_general: re.Pattern[str]  # "一般好久到账": how it usually goes, not where their own request is
    demanded_by: re.Pattern[str]  # "银行要证明…": another agency asks for our paper, it is not the subject
    asked_to_act: re.Pattern[str]  # "能不能帮我申请…": a request put as a question, whatever the model says
    asks_how: re.Pattern[str]  # "调解要咋个申请": how to go about it, a question whatever the model says
    order_strong: re.Pattern[str]
    order_weak: re.Pattern[str]
    problem: re.Pattern[str]
    office: re.Pattern[str]
    general_consult: re.Pattern[str]
    greeting: re.Pattern[str]
    closing: re.Pattern[str]  # thanks that end a message: a goodbye, whatever office word came before
    greeting_only: re.Pattern[str]  # fullmatch
    greeting_lead: re.Pattern[str]  # greeting words that open a longer message ("你好 我想办护照")
    out_of_scope: re.Pattern[str]
    negation: frozenset[str]
    context_before: frozenset[str]
    context_after: frozenset[str]
    follow_up: frozenset[str]
    checklist: frozenset[str]
    menu: re.Pattern[str]
    order_cancel: re.Pattern[str]
    order_confirm: re.Pattern[str]
    correction: re.Pattern[str]
    field_words: dict[str, re.Pattern[str]]  # in order of trial
    home_visit: re.Pattern[str]
    refuse_name: re.Pattern[str]
    skip: re.Pattern[str]
    no_phone: re.Pattern[str]
    why_asked: re.Pattern[str]
    order_question: re.Pattern[str]
    aspects: tuple[tuple[str, re.Pattern[str]], ...]  # (aspect, words) in the order tried
    office_only: frozenset[str]
    open_question: re.Pattern[str]
    life_event_asks: re.Pattern[str]
    about_community: re.Pattern[str]
    rating_stars: tuple[tuple[str, int], ...]  # longest word first, so 不满意 is tried before 满意
    unhappy: tuple[str, ...]
    thanks: tuple[str, ...]
    lonely: tuple[str, ...]
    retract: tuple[str, ...]  # normalised, unspaced: a self-correction after a named service
    context_supposed: frozenset[str]  # before a context word: "听说有了居住证" supposes it, has it not
    context_lacking: frozenset[str]  # before a service: "没有居住证 能办老年证不" — lacked, the situation
    done: re.Pattern[str] | None  # matched right after a service's name: that service is done
    visit_wish: tuple[str, ...]  # normalised, unspaced: a lonely resident asking for someone to come
    who: tuple[str, ...]  # normalised, unspaced: "你是机器人还是人"
    bye: tuple[str, ...]
    nothing_more: tuple[str, ...]  # normalised: "没事了" on its own, a short goodbye
    chitchat: tuple[str, ...]  # normalised, unspaced: idle talk the bot cannot answer ("唱首歌")
    complaint: re.Pattern[str]  # a complaint about the community or its staff (to the secretary)
    neglect: re.Pattern[str]  # "没人管", "拖着": a complaint when it is about an own open ticket
    handoff: re.Pattern[str]  # "人工", "找个真人": a person answers
    own_tickets: dict[str, re.Pattern[str]]  # OWN_TICKET_CUES (handlers/own_tickets.py)
    profile_keep: re.Pattern[str]  # fullmatch on the normalised answer to "还是用……吗？"
    profile_change: re.Pattern[str]  # at the start of that answer
    profile_erase: re.Pattern[str]  # search
    profile_show: re.Pattern[str]  # fullmatch
    # "帮我去社区医院拿一下药": someone asked to go and fetch, buy or hand in for them — an errand
    # for the catch-all visit item, whatever service the errand touches (None: not in this handbook).
    errand: re.Pattern[str] | None = None
    # "看不懂 说的啥子哦" right after an answer: the resident did not follow it (None: not in this handbook).
    not_understood: re.Pattern[str] | None = None
    # "请社区的人帮我看下够不够条件": staff asked to look at their case — a request, not the question.
    staff_to_look: re.Pattern[str] | None = None
    # "打了值班手机没人接 咋办嘛": the duty phone did not answer — what to do then, not a phone change.
    duty_unreachable: re.Pattern[str] | None = None
    # "想约礼拜三驻点的律师 问下离婚财产咋个分": a booking first, what to ask there after — an order.
    book_to_ask: re.Pattern[str] | None = None
    # "失业金咋个领", "送饭要咋个订": how to go about it, asked in one clause of several (each clause's
    # question is answered: handlers/facts.each_clause). None: not in this handbook version.
    asks_steps: re.Pattern[str] | None = None
    # "养老金认证咋个弄 顺便问下居民医保交好多钱": what follows is asked by the way; the service named
    # before it is the subject (the classifier reads it so; every part is still answered).
    aside: re.Pattern[str] | None = None
    # "不行的话就取消算了": a cancel only if the answer is no — the question is answered first and the
    # ticket stays until they say so. None: not in this handbook version.
    cancel_if: re.Pattern[str] | None = None
    # "想办居住证，娃娃明年读小学，在哪里办": a clause that opens by wanting the service named next —
    # that service is the subject, the rest background (matched against the text before the name).
    wanted: re.Pattern[str] | None = None
    # "死亡证明是打电话喊社区医院的医生来开吗": a message that opens with a service and then 是 is
    # about that service; others named after say how (matched against the text after the name).
    topic: re.Pattern[str] | None = None

    def asks_documents(self, compact: str) -> bool:
        """A checklist word ("要带什么", "准备什么") anywhere in the normalised, unspaced text — not
        the papers refused ("莫给我说那些材料": blind batch 85 was given them anyway)."""
        return not _PAPERS_REFUSED.search(compact) and any(word in compact for word in self.checklist)

    def cancels_only_if(self, norm: str) -> bool:
        """A cancel on a condition ("不行的话就取消算了"): not a cancel until they say so."""
        return self.cancel_if is not None and self.cancel_if.search(norm) is not None

    def wants_at(self, norm: str, position: int) -> bool:
        """Does the clause before `position` open by wanting what is named there ("想办…")?"""
        return self.wanted is not None and self.wanted.search(norm, 0, position) is not None

    def asks_progress(self, norm: str) -> bool:
        """A question about where something already asked for stands ("批了没得", "有人来了没")."""
        own = self.own_tickets["status"]
        return bool(self.status_alone.match(norm) or self.status.search(norm) or own.search(norm))


def _normalised(words: tuple[str, ...], normalize: Normalizer) -> tuple[str, ...]:
    """Words looked for in normalised, unspaced text, normalised the same way: 没得人说话 is read as
    没有人说话 before they see it (blind batch 12)."""
    compact = (normalize(word).replace(" ", "") for word in words)
    return tuple(dict.fromkeys(word for word in compact if word))


def compile_lexicon(phrasings: Phrasings) -> Lexicon:
    """Compile once at start-up; the loader has already checked every list and pattern."""
    cues = {name: any_of(*parts) for name, parts in phrasings.cues.items()}
    about = (cues["human"], cues["cancel"], cues["status"], cues["rate"])
    normalize = Normalizer(phrasings.glosses, phrasings.fillers)
    return Lexicon(
        normalize=normalize,
        **cues,
        about_request_or_person=about,
        greeting_only=re.compile(f"({_words(phrasings.greeting_only)}|\\s)+"),
        # "好的 谢谢 ", "好的谢谢 ": greeting words, run together or not, then a space before the rest.
        greeting_lead=re.compile(
            f"^(?:(?:{_words(phrasings.greeting_only)})\\s*)*(?:{_words(phrasings.greeting_only)})\\s+"
        ),
        negation=frozenset(phrasings.negation),
        context_before=frozenset(phrasings.context_before),
        context_after=frozenset(phrasings.context_after),
        follow_up=frozenset(phrasings.follow_up),
        checklist=frozenset(phrasings.checklist),
        menu=re.compile(f"^({_words(phrasings.menu)})$"),
        order_cancel=re.compile(f"^(?:{_words(phrasings.order_cancel)})"),
        # One or more confirm words, as residents say them: "对的确认", "可以可以", "好的，确认！"
        order_confirm=re.compile(f"^(?:(?:{_words(phrasings.order_confirm)})[\\s,，。.!！~]*)+$"),
        correction=re.compile("|".join(phrasings.correction)),
        field_words={name: re.compile(_words(words)) for name, words in phrasings.field_words.items()},
        home_visit=re.compile(_words(phrasings.home_visit)),
        refuse_name=re.compile(_words(phrasings.refuse_name)),
        skip=re.compile(f"^(?:{_words(phrasings.skip)})"),
        no_phone=re.compile("|".join(phrasings.no_phone)),
        why_asked=re.compile("|".join(phrasings.why_asked)),
        order_question=re.compile("|".join(phrasings.order_question)),
        aspects=tuple((name, re.compile(_words(words))) for name, words in phrasings.aspects.items()),
        office_only=frozenset(phrasings.office_only),
        open_question=re.compile(_words(phrasings.open_question)),
        life_event_asks=_any_or_none(tuple(map(re.escape, phrasings.life_event_asks))),
        about_community=_any_or_none(tuple(map(re.escape, phrasings.about_community))),
        rating_stars=tuple(sorted(phrasings.rating_stars.items(), key=lambda pair: -len(pair[0]))),
        unhappy=phrasings.unhappy,
        thanks=phrasings.thanks,
        lonely=_normalised(phrasings.lonely, normalize),
        retract=_normalised(phrasings.retract, normalize),
        context_supposed=frozenset(phrasings.context_supposed),
        context_lacking=frozenset(_normalised(phrasings.context_lacking, normalize)),
        done=re.compile("|".join(f"(?:{part})" for part in phrasings.done)) if phrasings.done else None,
        visit_wish=_normalised(phrasings.visit, normalize),
        who=_normalised(phrasings.who, normalize),
        bye=phrasings.bye,
        nothing_more=_normalised(phrasings.nothing_more, normalize),
        chitchat=_normalised(phrasings.chitchat, normalize),
        complaint=_any_or_none(phrasings.complaint),
        neglect=_any_or_none(phrasings.neglect),
        handoff=_any_or_none(phrasings.handoff),
        own_tickets={name: any_of(*parts) for name, parts in phrasings.own_tickets.items()},
        profile_keep=re.compile(f"(?:{_words(phrasings.profile_keep)})"),
        profile_change=re.compile(f"^(?:{_words(phrasings.profile_change)})"),
        profile_erase=any_of(*phrasings.profile_erase),
        profile_show=re.compile("|".join(f"(?:{part})" for part in phrasings.profile_show)),
    )


def shrunk_terms(items: Iterable[Item], normalize: Callable[[str], str]) -> list[str]:
    """Aliases and keywords the normaliser cuts to one character though written longer: "那个证" is
    证 once the filler 那个 goes, and then every message with 证 in it (叉车证) is evidence for that
    item (trial Y r5 was booked a residence permit asking for a job). `handbook check` refuses them."""
    problems = []
    for item in items:
        for term in (*item.aliases, *item.keywords):
            said = normalize(term).replace(" ", "")
            if len(term) > 1 and len(said) <= 1:
                problems.append(
                    f"items/{item.id}.yaml: '{term}' reads as '{said}' once fillers and dialect are "
                    "normalised: write the words that name the service"
                )
    return problems
