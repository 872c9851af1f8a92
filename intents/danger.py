"""Does a message describe danger to life or property now? Pure, and checked before anything else.

The hazards, their words and the numbers to call are community data (knowledge/data/
emergency.yaml); this module compiles them once. A hazard word counts unless it is negated right
before ("没有着火"), or the message speaks of the past ("去年摔过一跤") or of a service
("中风了残疾证怎么办", "怕老人走丢想办个手环") without any word that it is happening now.
Missing a real emergency costs far more than a spare line of advice, so the words are broad and
the exceptions narrow.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from re import _constants as sre_constants  # no public API tells which characters a pattern starts with
from re import _parser as sre_parser

from pypinyin import lazy_pinyin
from pypinyin.pinyin_dict import pinyin_dict

from knowledge.emergency import EmergencyGuide, EmergencyNumber, Hazard

_NEGATION_REACH = 4  # characters before a hazard word in which a negation ("不是现在") cancels it
_NOW_REACH = 12  # characters before a hazard word in which 现在 / 今天 say it is happening now
_RESOLVED_REACH = 14  # characters after a hazard word in which 找到了 / 灭了 say it is over
_SUPPOSE_REACH = 8  # characters before it in which 万一 / 担心 make it a supposition
# Words that turn a run-on to another matter ("物业费在哪里交 还有就是楼下燃气管子在冒气", emergency
# round 6): a service asked before them is not a question about the hazard said after them.
# "…还有我屋头老人家从昨天晚上就没醒" (emergency round 7) turns to another matter too.
# "社区打疫苗要带啥子证件 等下 我老公倒在地上喊不应了" (emergency round 18): 等下 breaks off too.
# "办居住证要带啥子材料 哎呀不说了楼下电瓶车冒烟起火了" (emergency round 19): 不说了 breaks off too.
_ANOTHER_MATTER = re.compile(
    r"还有就是|还有个事|还有一个事|另外|对了|顺便|还有(我|我们|家里)|等下|等一下|等一哈|等哈|不说了|先不说|不问了"
)


@dataclass(frozen=True, slots=True)
class Danger:
    hazard: Hazard
    others: tuple[Hazard, ...]  # further hazards in the same message ("电梯里有人晕倒")
    numbers: tuple[EmergencyNumber, ...]  # most urgent first, at most three
    public: bool  # it happens in a shared place (stairwell, lift, courtyard)
    community_acts: bool  # the community should send someone now
    said: str  # the words that matched


class DangerDetector:
    def __init__(self, guide: EmergencyGuide, normalize: Callable[[str], str]):
        self.guide = guide
        self._normalize = normalize
        self._hazards = [(h, re.compile("|".join(f"(?:{w})" for w in h.words))) for h in guide.hazards]
        self._unless = {h.kind: re.compile(h.unless) for h in guide.hazards if h.unless}
        # One pass over every hazard word first: most messages have none and stop here. The pass
        # tries the pattern only where a hazard word can begin (3x faster than re.search over
        # a 200-branch alternation, which has no literal prefix to skip ahead with).
        words = [w for h in guide.hazards for w in h.words]
        self._any = re.compile("|".join(f"(?:{w})" for w in words))
        starts = [_first_chars(w) for w in words]
        self._starts = None if any(s is None for s in starts) else frozenset().union(*starts)
        self._public = re.compile(guide.public_places)
        self._not_now = re.compile(guide.not_now)
        self._now = re.compile(guide.now_words)
        self._negation = re.compile(f"(?:{guide.negations})$")
        self._hypothetical = re.compile(guide.hypothetical)
        self._service = re.compile(guide.service_asks)
        self._jokes = re.compile(guide.jokes)
        self._near = re.compile(guide.now_near)
        self._over = re.compile(guide.resolved)
        self._over_before = re.compile(guide.over_before)
        self._sounds = SoundAlike(guide.sound_alike, guide.sound_alike_keep)

    def detect(self, text: str) -> Danger | None:
        """The danger a message describes, or None."""
        normal = self._normalize(text)
        if not normal:
            return None
        # Same-sound misspellings are read as the hazard word, but the text as written is matched
        # too: "燃起来" must stay a fire, not become "燃气来".
        rewritten = self._sounds.rewrite(normal)
        if not self._anywhere(normal) and (rewritten == normal or not self._anywhere(rewritten)):
            return None
        found: list[tuple[Hazard, str, int]] = []
        for hazard, pattern in self._hazards:
            unless = self._unless.get(hazard.kind)
            match = self._first(pattern, normal, unless) or (
                rewritten != normal and self._first(pattern, rewritten, unless)
            )
            if match and not self._resolved(normal if match.string == normal else rewritten, match):
                found.append((hazard, match.group(), match.start()))
        if not found:
            return None
        if (
            not self._now.search(normal)
            and not self._now_near(normal, found)
            and (
                self._past_near(normal, found)
                or self._service_asked(normal, found)
                or self._supposed(normal, found)
            )
        ):
            return None
        if all(h.kind == "help" for h, *_ in found) and self._jokes.search(text + normal):
            return None  # "笑死我了救命", "热得要命 救命哦": a figure of speech
        found = _within_the_scam(found)
        hazard, said, _ = found[0]
        others = tuple(h for h, _, _ in found[1:])
        public = bool(self._public.search(normal))
        acts = any(_acts(h, public) for h, *_ in found)
        keys: list[str] = []
        # Someone hurt or ill is helped first: 120 leads even when the cause was gas or a wire.
        for h in sorted((hazard, *others), key=lambda h: h.kind != "medical"):
            for key in h.call:
                if key not in keys:
                    keys.append(key)
        numbers = tuple(self.guide.numbers[k] for k in keys[:3])
        return Danger(hazard, others, numbers, public, acts, said)

    def _anywhere(self, text: str) -> bool:
        """Does any hazard word occur in `text`?"""
        if self._starts is None:
            return self._any.search(text) is not None
        match, starts = self._any.match, self._starts
        return any(char in starts and match(text, index) for index, char in enumerate(text))

    def _first(
        self, pattern: re.Pattern[str], text: str, unless: re.Pattern[str] | None = None
    ) -> re.Match[str] | None:
        """The first hazard word in `text` that is not negated nor part of the hazard's look-alike
        ("楼上那家人喊不应" about a leak); another hazard word later in the message still counts."""
        spans = [m.span() for m in unless.finditer(text)] if unless is not None else []
        for match in pattern.finditer(text):
            if self._negated(text, match.start()):
                continue
            if any(start < match.end() and match.start() < end for start, end in spans):
                continue  # the look-alike explains (part of) these words
            return match
        return None

    def _now_near(self, text: str, found: list[tuple[Hazard, str, int]]) -> bool:
        """现在 / 今天 just before a hazard word or in its clause: it is happening now."""
        for _, said, start in found:
            end = text.find(" ", start + len(said))
            # Searched in place, not in a slice: "不是现在中风" must see the 不是 before 现在.
            if self._near.search(text, max(0, start - _NOW_REACH), len(text) if end < 0 else end):
                return True
        return False

    def _service_asked(self, text: str, found: list[tuple[Hazard, str, int]]) -> bool:
        """A service asked for in the same matter as a hazard word ("中风了残疾证怎么办"): the message
        asks about the service. One asked before the resident turns to another matter is not."""
        for ask in self._service.finditer(text):
            for hazard, said, start in found:
                after = ask.end() <= start
                if hazard.kind == "fraud" and after:
                    continue  # "要我扫码领养老补贴 我把验证码给他了": the service said first is bait
                between = text[ask.end() : start] if after else text[start + len(said) : ask.start()]
                if not _ANOTHER_MATTER.search(between):
                    return True
        return False

    def _resolved(self, text: str, match: re.Match[str]) -> bool:
        """ "走丢 后来找到了", "火是灭了": the words right after a hazard say it is over; "120把婆婆
        拉到医院了，医生说是骨折": words before it say it was handled (a session-8 trial resident
        asking about an alarm button afterwards got the 120 script again)."""
        if self._over.search(text, match.end(), match.end() + _RESOLVED_REACH):
            return True
        return self._over_before.search(text, 0, match.start()) is not None

    def _past_near(self, text: str, found: list[tuple[Hazard, str, int]]) -> bool:
        """昨天 / 以前 just before a hazard word or in its clause, for hazards that do not last."""
        for hazard, said, start in found:
            if hazard.ongoing:
                continue
            end = text.find(" ", start + len(said))
            window = text[max(0, start - _NOW_REACH) : len(text) if end < 0 else end]
            if self._not_now.search(window):
                return True
        return False

    def _supposed(self, text: str, found: list[tuple[Hazard, str, int]]) -> bool:
        """A hypothetical word before the first hazard word ("万一老人走丢", "担心煤气泄漏") or inside
        the words that make it ("电梯响得恼火 会不会掉下去": a worry about a noisy lift, which
        paged every duty officer in a session-7 trial)."""
        first, said = min((start, said) for _, said, start in found)
        if self._hypothetical.search(text, max(0, first - _SUPPOSE_REACH), first):
            return True
        # Farther back in the same clause, a word of two characters or more still sets it: "万一哪天
        # 我晚上在屋头犯心脏病" asks for an alarm button (emergency round 20 paged an ambulance).
        clause = text.rfind(" ", 0, first) + 1
        if any(len(m.group()) >= 2 for m in self._hypothetical.finditer(text, clause, first)):
            return True
        # Inside the hazard's words only a word of two characters or more: "学" (学一下急救) and "怕"
        # are too common there ("娃儿放学没回家" is a missing child).
        inside = self._hypothetical.finditer(text, first, first + len(said))
        return any(len(match.group()) >= 2 for match in inside)

    def _negated(self, text: str, start: int) -> bool:
        before = text[max(0, start - _NEGATION_REACH) : start].replace(" ", "")
        return bool(self._negation.search(before))


def _within_the_scam(found: list[tuple[Hazard, str, int]]) -> list[tuple[Hazard, str, int]]:
    """A fraud first, without the hazards its caller's story tells: "说是我孙子 出车祸了要赔钱 喊我马上
    打三万过去" is a scam to stop (96110, 110), not a crash to send an ambulance to (emergency round 25)."""
    scams = [(start, start + len(said)) for h, said, start in found if h.kind == "fraud"]
    if not scams:
        return found
    told = [f for f in found if f[0].kind != "fraud" and any(a <= f[2] < b for a, b in scams)]
    return sorted((f for f in found if f not in told), key=lambda f: f[0].kind != "fraud")


def _acts(hazard: Hazard, public: bool) -> bool:
    return hazard.community_acts == "always" or (hazard.community_acts == "public" and public)


def _toneless(syllable: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFD", syllable) if not unicodedata.combining(c))


@cache
def _sound(char: str) -> str:
    """A character's usual toneless reading: only the first, or 人员到 would sound like 晕倒."""
    readings = pinyin_dict.get(ord(char))
    return _toneless(readings.split(",")[0]) if readings else char


class SoundAlike:
    """Rewrite same-sound misspellings of hazard words (然气 → 燃气, 电题 → 电梯, 警盖 → 井盖).

    Voice recognition and pinyin keyboards produce them; a list of typos would only catch the ones
    already seen, so any span that sounds like a hazard word is read as it. Written by hand: the
    classifier's homophone index works on whole aliases after classification fails, and this runs
    first, on every message, so it only starts comparing at characters that can begin a word.
    """

    def __init__(self, words: tuple[str, ...], keep: tuple[str, ...]):
        self._keep = frozenset(keep)
        self._by_first: dict[str, list[tuple[str, tuple[str, ...], bool]]] = {}
        for word in sorted(words, key=len, reverse=True):
            syllables = tuple(lazy_pinyin(word))
            self._by_first.setdefault(syllables[0], []).append((word, syllables, False))
            if _sound(word[0]) != syllables[0]:
                # 着 of 着火 reads zhao there but zhe alone: "着伙了" is found under zhe, its first
                # character as written (else 这伙人 would be a fire; emergency round 14).
                self._by_first.setdefault(_sound(word[0]), []).append((word, syllables, True))

    def rewrite(self, text: str) -> str:
        firsts = self._by_first
        if not any(_sound(char) in firsts for char in text):
            return text
        out: list[str] = []
        index = 0
        while index < len(text):
            found = self._word_at(text, index) if _sound(text[index]) in firsts else None
            if found:
                out.append(found[0])
                index += found[1]
            else:
                out.append(text[index])
                index += 1
        return "".join(out)

    def _word_at(self, text: str, index: int) -> tuple[str, int] | None:
        for word, syllables, same_first in self._by_first.get(_sound(text[index]), ()):
            if same_first and text[index] != word[0]:
                continue
            span = text[index : index + len(word)]
            if len(span) < len(word) or span == word:
                if span == word:
                    return word, len(word)
                continue
            # A kept spelling written here ("楼电梯" is no 漏电梯, but "冰箱楼电了" is 漏电).
            if span in self._keep or any(
                text.startswith(k, index) for k in self._keep if len(k) > len(span) and k.startswith(span)
            ):
                continue
            if all(
                c == w or s == _sound(c) for s, c, w in zip(syllables[1:], span[1:], word[1:], strict=True)
            ):
                return word, len(word)
        return None


def _first_chars(pattern: str) -> frozenset[str] | None:
    """The characters a match of `pattern` can begin with, or None when it can begin with any."""
    found = _starts(sre_parser.parse(pattern))
    return frozenset(found) if found is not None else None


def _starts(parsed: sre_parser.SubPattern | list) -> set[str] | None:
    out: set[str] = set()
    for op, value in parsed:
        if op is sre_constants.LITERAL:
            return out | {chr(value)}
        if op is sre_constants.IN:
            if any(kind is not sre_constants.LITERAL for kind, _ in value):
                return None
            return out | {chr(code) for _, code in value}
        if op is sre_constants.SUBPATTERN or op is sre_constants.BRANCH:
            branches = [value[-1]] if op is sre_constants.SUBPATTERN else value[1]
            for branch in branches:
                found = _starts(branch)
                if found is None:
                    return None
                out |= found
            return out
        if op in (sre_constants.ASSERT, sre_constants.ASSERT_NOT, sre_constants.AT):
            continue  # zero-width: the match begins with what follows
        if op in (sre_constants.MAX_REPEAT, sre_constants.MIN_REPEAT):
            low, _, item = value
            found = _starts(item)
            if found is None:
                return None
            out |= found
            if low == 0:
                continue  # may be absent: what follows can begin the match too
            return out
        return None  # any character (., \d, …): no shortcut
    return None  # everything was optional: the pattern can match anywhere
