"""Find, in a normalised message, the other agency it belongs to (referrals.yaml) or the life event
it describes (life_events.yaml). Pure lookups over handbook data: the longest word found wins, so
"补办身份证" (police) beats a shorter, vaguer word of another place."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from typing import Generic, TypeVar

import ahocorasick

from knowledge.models import LifeEvent, Referral

T = TypeVar("T")


GAP = 6  # characters allowed between the words of a phrasing: "我爸上个月走了" says "我爸走了"


class WordFinder(Generic[T]):
    """One regex over every phrase of every entry; returns the entry of the longest hit.

    With `split`, a phrase is cut into words (single characters stay with the word before them,
    so "走了" stays whole) and a few characters may stand between the words: a phrase a community
    writes once ("我爸走了") also finds "我爸上个月走了", but not "老人走不动了".
    """

    def __init__(
        self,
        entries: Iterable[tuple[T, Iterable[str]]],
        normalize: Callable[[str], str],
        split: Callable[[str], list[str]] | None = None,
    ):
        owners: dict[str, T] = {}
        for entry, words in entries:
            for word in words:
                key = normalize(word).replace(" ", "")
                if key and key not in owners:
                    owners[key] = entry
        self._owners = list(owners.values())
        self._keys = list(owners)
        # Plain words: one Aho-Corasick pass finds every listed word in the message in C (the
        # substring lookups it replaced, a few hundred dict probes per message, cost a tenth of
        # the whole classifier; one regex alternation of the ~200 words cost more still).
        self._literal: ahocorasick.Automaton | None = None
        if not split and owners:
            self._literal = ahocorasick.Automaton()
            for index, key in enumerate(self._keys):
                self._literal.add_word(key, (len(key), index))
            self._literal.make_automaton()
        # Gapped phrases, grouped by their first word: a phrase can only match where its first word
        # is, so a substring test skips most of them (one alternation of all of them cost 0.09 ms a
        # message, more than the whole classifier's rules).
        self._gapped: dict[str, list[tuple[re.Pattern[str], int]]] = {}
        if split:
            for index, key in enumerate(self._keys):
                first, pattern = _gapped(key, split)
                self._gapped.setdefault(first, []).append((re.compile(pattern), index))

    def find(self, norm: str) -> tuple[T, str] | None:
        """(entry, the phrase found) for the longest phrase in the message, or None."""
        compact = norm.replace(" ", "")
        best: tuple[int, int, int] | None = None  # (phrase length, -where it starts, index)
        if self._literal is not None:
            for end, (length, index) in self._literal.iter(compact):
                start = end - length + 1
                if said_not_there(compact, start) or runs_on(compact, end):
                    continue
                if inside_a_number(compact, start, end) or works_there(compact, end):
                    continue
                if calls_them_itself(compact, start, end) or only_where_it_happened(compact, end):
                    continue
                found = (length, length - 1 - end, index)  # -start: the earlier of two as long wins
                if best is None or found[:2] > best[:2]:
                    best = found
            return None if best is None else (self._owners[best[2]], self._keys[best[2]])
        for index, match in self._gapped_matches(compact):
            found = (len(self._keys[index]), -match.start(), -index)
            if best is None or found > best:
                best = found
        if best is None:
            return None
        return self._owners[-best[2]], self._keys[-best[2]]

    def find_every(self, norm: str) -> tuple[T, ...]:
        """Every entry with a gapped phrase in the message, in the order said ("失业了 屋头又困难": two
        life events). Only for finders built with `split`."""
        compact = norm.replace(" ", "")
        found: dict[int, int] = {}  # id(entry) -> where first said
        entries: dict[int, T] = {}
        for index, match in self._gapped_matches(compact):
            owner = self._owners[index]
            key = id(owner)
            entries[key] = owner
            found[key] = min(found.get(key, match.start()), match.start())
        return tuple(entries[key] for key in sorted(found, key=found.__getitem__))

    def _gapped_matches(self, compact: str) -> Iterator[tuple[int, re.Match[str]]]:
        """(phrase index, match) for each gapped phrase in `compact`, skipping those whose first word
        is not there."""
        for first, phrases in self._gapped.items():
            if first not in compact:
                continue
            for pattern, index in phrases:
                match = pattern.search(compact)
                if match is not None:
                    yield index, match


# A place said right before as where one is not: "没有在医院", "不在医院"; or denied outright: "不是
# 银行的事 是天然气欠费" (trial N was sent to the bank).
_NOT_THERE = re.compile(r"(没有|没|不|不是)(在|去|到)$|(不是|不找|不归|又不是)(要|想)?(办|问|找|补|换)?$")


# A word's last character that, with the one after it, is another everyday word: "没得电话" is no
# phone number, not "没得电" (a power cut; blind batch 31 sent a worried neighbour to the power company).
_RUNS_ON = frozenset({"电话", "电梯", "电视", "电脑", "电动", "水果", "气球"})


# After an agency's word: the resident works there ("报到 周明 在区税务局上班": a party member's
# workplace, not the tax office's business; blind batch 55).
_AT_WORK = re.compile(r"(上班|工作(?!人员)|打工|当差)")


def works_there(compact: str, last: int) -> bool:
    """Does the agency's word ending at `last` name where the resident works ("在税务局上班")?"""
    return _AT_WORK.match(compact, last + 1) is not None


# Around an agency's word: the resident will call it and ask themselves ("算了 我自己打派出所电话问。
# 那我妈的养老金停发…": trial PP r01 was sent to the police station twice for the pension).
_CALLS_BEFORE = re.compile(r"(自己|我)(去|再|就)?打(个|一下)?$")
_ASKS_AFTER = re.compile(r".{0,3}问")
# "算了问12123": the resident will ask them, said before the agency's word alone (trial XX r13).
_WILL_ASK_BEFORE = re.compile(r"(算了|我自己|那我|我去|我再|我就|我先)(去|再|就|自己|先)?(问|打|找)$")


def calls_them_itself(compact: str, start: int, last: int) -> bool:
    """Is the agency's word at start..last what the resident will call and ask themselves?"""
    return (
        _CALLS_BEFORE.search(compact, max(0, start - 6), start) is not None
        and _ASKS_AFTER.match(compact, last + 1) is not None
    ) or _WILL_ASK_BEFORE.search(compact, max(0, start - 6), start) is not None


# After a place's word: it is only where something happened — someone died there, or the resident
# found something out there ("我妈…在医院头走的 …去银行取钱才发现卡上又打了三千二进来": a pension
# paid after a death, which blind batch 83 sent to the hospital, then to the bank).
_HAPPENED_AFTER = re.compile(
    r"(头|里|里面|里头|上)?(走|去世|过世|死|咽气|落气)(的|了)|.{0,5}(才发现|才晓得|才知道)"
)


def only_where_it_happened(compact: str, last: int) -> bool:
    """Does the place's word ending at `last` only say where something happened?"""
    return _HAPPENED_AFTER.match(compact, last + 1) is not None


def inside_a_number(compact: str, start: int, last: int) -> bool:
    """Is the word at start..last digits inside a longer number ("12345" in the phone 13612345678:
    trial R's complaint follow-up was sent to the 12345 hotline)?"""
    if not compact[start].isdigit():
        return False
    before = compact[start - 1] if start else ""
    after = compact[last + 1] if last + 1 < len(compact) else ""
    return before.isdigit() or after.isdigit()


def runs_on(compact: str, last: int) -> bool:
    """Does the word whose last character is at `last` run on into another word ("没有电" + "话")?"""
    return compact[last : last + 2] in _RUNS_ON


def said_not_there(compact: str, start: int) -> bool:
    """Is the word at `start` a place the resident says they are not at ("莫得在医院")? Then it names
    no agency (trial M: a death at home was sent to the hospital)."""
    return _NOT_THERE.search(compact, 0, start) is not None


def _gapped(phrase: str, split: Callable[[str], list[str]]) -> tuple[str, str]:
    """(the phrase's first word, a pattern allowing a few characters between its words)."""
    words: list[str] = []
    for token in split(phrase):
        if words and (len(token) == 1 or len(words[-1]) == 1):
            words[-1] += token
        else:
            words.append(token)
    return words[0], f".{{0,{GAP}}}".join(re.escape(word) for word in words)


def referral_finder(referrals: Iterable[Referral], normalize: Callable[[str], str]) -> WordFinder[Referral]:
    return WordFinder(((place, place.words) for place in referrals), normalize)


def life_event_finder(
    events: Iterable[LifeEvent], normalize: Callable[[str], str], split: Callable[[str], list[str]]
) -> WordFinder[LifeEvent]:
    return WordFinder(((event, event.phrasings) for event in events), normalize, split)
