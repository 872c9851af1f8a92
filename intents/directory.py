"""Find, in a normalised message, the other agency it belongs to (referrals.yaml) or the life event
it describes (life_events.yaml). Pure lookups over handbook data: the longest word found wins, so
"补办身份证" (police) beats a shorter, vaguer word of another place."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Generic, TypeVar

from knowledge.models import LifeEvent, Referral

T = TypeVar("T")


class WordFinder(Generic[T]):
    """One regex over every word of every entry, longest first; returns the entry of the longest hit."""

    def __init__(self, entries: Iterable[tuple[T, Iterable[str]]], normalize: Callable[[str], str]):
        self._owner: dict[str, T] = {}
        for entry, words in entries:
            for word in words:
                key = normalize(word).replace(" ", "")
                if key:
                    self._owner.setdefault(key, entry)
        ordered = sorted(self._owner, key=len, reverse=True)
        self._pattern = re.compile("|".join(map(re.escape, ordered))) if ordered else None

    def find(self, norm: str) -> tuple[T, str] | None:
        """(entry, the word found) for the longest word in the message, or None."""
        if self._pattern is None:
            return None
        compact = norm.replace(" ", "")
        hits = self._pattern.findall(compact)
        if not hits:
            return None
        word = max(hits, key=len)
        return self._owner[word], word


def referral_finder(referrals: Iterable[Referral], normalize: Callable[[str], str]) -> WordFinder[Referral]:
    return WordFinder(((place, place.words) for place in referrals), normalize)


def life_event_finder(events: Iterable[LifeEvent], normalize: Callable[[str], str]) -> WordFinder[LifeEvent]:
    return WordFinder(((event, event.phrasings) for event in events), normalize)
