"""Find, in a normalised message, the other agency it belongs to (referrals.yaml) or the life event
it describes (life_events.yaml). Pure lookups over handbook data: the longest word found wins, so
"补办身份证" (police) beats a shorter, vaguer word of another place."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Generic, TypeVar

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
        patterns: dict[str, str] = {}
        for entry, words in entries:
            for word in words:
                key = normalize(word).replace(" ", "")
                if key and key not in owners:
                    owners[key] = entry
                    patterns[key] = _gapped(key, split) if split else re.escape(key)
        self._owners = list(owners.values())
        self._keys = list(owners)
        self._literal = None if split else owners  # plain words: looked up by substring, no regex
        self._lengths = sorted({len(key) for key in owners}, reverse=True)
        ordered = sorted(range(len(self._keys)), key=lambda i: len(self._keys[i]), reverse=True)
        self._pattern = (
            re.compile("|".join(f"(?P<w{i}>{patterns[self._keys[i]]})" for i in ordered))
            if ordered and split
            else None
        )

    def find(self, norm: str) -> tuple[T, str] | None:
        """(entry, the phrase found) for the longest phrase in the message, or None."""
        compact = norm.replace(" ", "")
        if self._literal is not None:
            # Every substring of each listed length, longest first: a few hundred dict lookups for a
            # message, where one regex alternation of ~200 words cost 0.2 ms (measured).
            for length in self._lengths:
                for start in range(len(compact) - length + 1):
                    word = compact[start : start + length]
                    if word in self._literal:
                        return self._literal[word], word
            return None
        if self._pattern is None:
            return None
        best: tuple[int, int] | None = None  # (phrase length, index)
        for match in self._pattern.finditer(compact):
            index = int(match.lastgroup[1:])  # type: ignore[index]
            length = len(self._keys[index])
            if best is None or length > best[0]:
                best = (length, index)
        return None if best is None else (self._owners[best[1]], self._keys[best[1]])


def _gapped(phrase: str, split: Callable[[str], list[str]]) -> str:
    words: list[str] = []
    for token in split(phrase):
        if words and (len(token) == 1 or len(words[-1]) == 1):
            words[-1] += token
        else:
            words.append(token)
    return f".{{0,{GAP}}}".join(re.escape(word) for word in words)


def referral_finder(referrals: Iterable[Referral], normalize: Callable[[str], str]) -> WordFinder[Referral]:
    return WordFinder(((place, place.words) for place in referrals), normalize)


def life_event_finder(
    events: Iterable[LifeEvent], normalize: Callable[[str], str], split: Callable[[str], list[str]]
) -> WordFinder[LifeEvent]:
    return WordFinder(((event, event.phrasings) for event in events), normalize, split)
