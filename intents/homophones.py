"""Find handbook aliases typed with the wrong character but the right sound (IME typos).

Residents type with pinyin input methods, so a miswritten service name usually sounds right:
生存认正 for 生存认证, 居主证 for 居住证. Listing every such variant in the handbook is endless; this
index matches aliases of three or more characters by the toneless syllables of their characters
instead (each character's first reading in pypinyin's table, for alias and message alike). Only
used when a message names no service exactly, so it never overrides an exact match.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable

import ahocorasick
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


class _Sounds(dict[str, str]):
    """Character → the one-character code of its syllable (OTHER when no alias has that syllable),
    filled on first sight, so a message becomes a string of sounds with one C-level map."""

    def __init__(self, codes: dict[str, str]):
        super().__init__()
        self._codes = codes

    def __missing__(self, char: str) -> str:
        self[char] = code = self._codes.get(syllable(char), OTHER)
        return code


OTHER = "\U000f0000"  # a sound no alias has; each syllable of an alias is a later private-use character


class HomophoneIndex:
    """Aliases by sound: each alias's syllables written as a string of one code per syllable, all
    of them in one Aho-Corasick automaton, so a message's sounds are searched for every alias in
    one pass in C (the syllable tuples tried at every position cost a twentieth of the classifier)."""

    def __init__(self, aliases: Iterable[tuple[str, str]]):
        """aliases: (normalised alias, item id) pairs."""
        codes: dict[str, str] = {}
        owners: dict[tuple[str, ...], tuple[str, str]] = {}  # the first item to list a sound keeps it
        for alias, item_id in aliases:
            if len(alias) >= MIN_SYLLABLES and all(map(_is_han, alias)):
                owners.setdefault(tuple(map(syllable, alias)), (item_id, alias))
        self._automaton = ahocorasick.Automaton()
        for syllables, (item_id, alias) in owners.items():
            sounds = "".join(codes.setdefault(s, chr(ord(OTHER) + 1 + len(codes))) for s in syllables)
            self._automaton.add_word(sounds, (item_id, len(syllables), alias))
        if owners:
            self._automaton.make_automaton()
        self._longest = max(map(len, owners), default=0)
        self._sounds = _Sounds(codes)

    def find(self, text: str) -> dict[str, int]:
        """Item ids whose alias sounds like part of `text`, with the matched alias length: for each
        item its longest, in order of where the first match starts (longer first at one place)."""
        if len(text) < MIN_SYLLABLES or not len(self._automaton):
            return {}
        sounds = "".join(map(self._sounds.__getitem__, text))
        last = len(sounds) - 1
        matches = sorted(
            # An alias ending the message counts as long as the longest alias: the index this one
            # replaced read syllables[start : start + length] for every alias length, and a slice
            # cut short by the message's end matched a shorter alias under the longer length. Kept
            # so that no answer changes; whether it should is a question for the ranking, not speed.
            (end + 1 - length, -(self._longest if end == last else length), item_id)
            for end, (item_id, length, alias) in self._automaton.iter(sounds)
            if not _common_word_taken(text[end + 1 - length : end + 1], alias)
        )
        found: dict[str, int] = {}
        for _, minus_length, item_id in matches:
            if -minus_length > found.get(item_id, 0):
                found[item_id] = -minus_length
        return found


# Characters residents type as themselves, not as slips for a service name's character: "洗澡一次好多钱"
# sounds like 洗澡椅 (xi zao yi) only by taking 一 of 一次 (trial T got the age-friendly renovation's
# subsidy). Written by hand: the list is the commonest function characters, which no typo replaces.
_TYPED_AS_THEMSELVES = frozenset("一的了是在不有个这那也就都和我你他她们要会能")


def _common_word_taken(said: str, alias: str) -> bool:
    """Does the sound match differ from the alias only where the message has a function character?"""
    return any(s != a and s in _TYPED_AS_THEMSELVES for s, a in zip(said, alias, strict=True))


_LATIN_RUN = re.compile(r"[a-z]{4,}")


class PinyinSpellings:
    """Service words typed in pinyin letters ("dibao申请要啥条件", "gaoling津贴"): a run of four or
    more letters that spells, toneless, a handbook term of two or more characters is read as that
    term. Written by hand: pypinyin turns characters into letters, not letters back into the words
    one community's handbook uses, and only those words are safe to read back (blind batch 50)."""

    def __init__(self, terms: Iterable[str]):
        """terms: normalised handbook terms, the ones to keep first when two spell alike first."""
        self._terms: dict[str, str] = {}
        for term in terms:
            if len(term) >= 2 and all(map(_is_han, term)):
                self._terms.setdefault("".join(map(syllable, term)), term)

    def __call__(self, norm: str) -> str:
        if not self._terms or _LATIN_RUN.search(norm) is None:
            return norm
        return _LATIN_RUN.sub(lambda run: self._terms.get(run.group(), run.group()), norm)
