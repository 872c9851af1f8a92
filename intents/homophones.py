"""Find handbook aliases typed with the wrong character but the right sound (IME typos).

Residents type with pinyin input methods, so a miswritten service name usually sounds right:
生存认正 for 生存认证, 居主证 for 居住证. Listing every such variant in the handbook is endless; this
index matches aliases of three or more characters by the toneless syllables of their characters
instead (each character's first reading in pypinyin's table, for alias and message alike). Only
used when a message names no service exactly, so it never overrides an exact match.
"""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Iterable

from pypinyin.constants import PINYIN_DICT

MIN_SYLLABLES = 3


def _is_han(char: str) -> bool:
    return "\u4e00" <= char <= "\u9fff"


@functools.cache
def syllable(char: str) -> str:
    """Toneless first reading of a Han character ("" for anything else), from pypinyin's table;
    cached, as every message reads each of its characters."""
    reading = PINYIN_DICT.get(ord(char), "").split(",")[0] if _is_han(char) else ""
    return "".join(c for c in unicodedata.normalize("NFD", reading) if not unicodedata.combining(c))


class _Syllables(dict[str, str]):
    """Character → syllable, filled on first sight: map(table.__getitem__, text) reads a message's
    syllables in C, where calling the cached syllable() per character costs a Python call each."""

    def __missing__(self, char: str) -> str:
        self[char] = reading = syllable(char)
        return reading


class HomophoneIndex:
    def __init__(self, aliases: Iterable[tuple[str, str]]):
        """aliases: (normalised alias, item id) pairs."""
        self._aliases: dict[tuple[str, ...], str] = {}
        self._openings: set[tuple[str, str]] = set()  # first two syllables of some alias: a cheap filter
        for alias, item_id in aliases:
            if len(alias) < MIN_SYLLABLES or not all(map(_is_han, alias)):
                continue
            syllables = tuple(map(syllable, alias))
            self._aliases.setdefault(syllables, item_id)
            self._openings.add(syllables[:2])
        self._lengths = sorted({len(s) for s in self._aliases}, reverse=True)
        self._syllables = _Syllables()

    def find(self, text: str) -> dict[str, int]:
        """Item ids whose alias sounds like part of `text`, with the matched alias length."""
        if len(text) < MIN_SYLLABLES:
            return {}
        syllables = list(map(self._syllables.__getitem__, text))
        found: dict[str, int] = {}
        for start in range(len(syllables) - MIN_SYLLABLES + 1):
            if (syllables[start], syllables[start + 1]) not in self._openings:
                continue
            for length in self._lengths:
                item_id = self._aliases.get(tuple(syllables[start : start + length]))
                if item_id is not None and length > found.get(item_id, 0):
                    found[item_id] = length
        return found
