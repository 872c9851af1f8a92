"""Turn what residents type (or what voice recognition hears) into one canonical simplified form.

Order matters: width and script first (so dialect and filler tables only need simplified,
half-width spellings), then WeChat emoji codes and pictographs, then dialect words, then fillers.
The dialect glosses and fillers are handbook data (phrasings.yaml): a Normalizer is built from them.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping

import cn2an
import opencc

_T2S = opencc.OpenCC("t2s")

# WeChat renders its built-in emoji as "[微笑]" or "/::)" codes inside the text.
_WECHAT_EMOJI = re.compile(r"\[[\u4e00-\u9fff]{1,4}\]|/:[^\s\u4e00-\u9fff]{1,8}")
# Pictographs, dingbats, variation selectors and zero-width joiners (Unicode ranges; no library
# strips emoji without also pulling in a large dependency, and this set is stable).
_PICTOGRAPHS = re.compile(
    "[\U0001f000-\U0001faff\U00002600-\U000027bf\U0001f1e6-\U0001f1ff\u2b00-\u2bff\ufe0f\u200d\u20e3]"
)


def _alternation(words: list[str]) -> re.Pattern[str]:
    return re.compile("|".join(re.escape(w) for w in sorted(words, key=len, reverse=True)))


_SEPARATORS = r"[\s,.!?;:，。！？；：、~…·\-—_()（）【】\[\]\"'“”‘’《》<>|/\\]"
# Emoji codes, pictographs and punctuation all become word breaks, in one pass.
_BREAKS = re.compile(f"(?:{_WECHAT_EMOJI.pattern}|{_PICTOGRAPHS.pattern}|{_SEPARATORS})+")


# A number said or typed digit by digit in characters ("一三五八三零二七七四六", 幺 for 1, as read
# out on the phone): a run of seven or more, so "一" in a sentence stays a word. Each character is
# one digit; cn2an reads numerals as values (一百三十五), which is not how a phone number is said.
SPOKEN_DIGITS = re.compile(r"[0-9零〇一二三四五六七八九幺]{7,}")
_DIGIT_OF = str.maketrans("零〇一二三四五六七八九幺", "001234567891")


def digits_said(text: str) -> str:
    """`text` with every run of seven or more digits said in characters written in digits."""
    return SPOKEN_DIGITS.sub(lambda run: run.group().translate(_DIGIT_OF), text)


def number_said(said: str) -> int | None:
    """A whole number in digits or Chinese numerals ("30", "三十", "两千八", "一千五"), via cn2an; None
    when it reads as none. One reader for every figure a resident gives (days, ages, incomes, sums)."""
    if said.isdigit():
        return int(said)
    try:
        return int(cn2an.cn2an(said.replace("两", "二"), "smart"))
    except (ValueError, KeyError, TypeError):
        return None


def simplify(text: str) -> str:
    """Half-width, simplified, lower case, punctuation kept: for reading times, dates and numbers."""
    return _T2S.convert(unicodedata.normalize("NFKC", text)).lower()


class Normalizer:
    """normalize(text) with the handbook's dialect glosses and fillers (phrasings.yaml), compiled once."""

    __slots__ = ("_replacements", "_words_re")

    def __init__(self, glosses: Mapping[str, str], fillers: Iterable[str]):
        # Dialect words and fillers in one pass: longest first, so "撒子" (→ 什么) wins over the filler "撒".
        self._replacements = {**dict.fromkeys(fillers, ""), **glosses}
        self._words_re = _alternation(list(self._replacements))

    def _replace_word(self, match: re.Match[str]) -> str:
        return self._replacements[match.group()]

    def __call__(self, text: str) -> str:
        """Return the canonical form used for matching; empty when only fillers/emoji were sent."""
        text = unicodedata.normalize("NFKC", text)
        text = _T2S.convert(text).lower()
        text = _BREAKS.sub(" ", text)
        text = _SPACED.sub(_join_spaced, text)
        text = self._words_re.sub(self._replace_word, text)
        return " ".join(text.split())


# "社 区 有 没 得 啥 子 活 动": a character at a time, spaced out (some elderly residents type so; a
# session-7 trial resident got the apology). Four or more single characters in a row are one run.
_SPACED = re.compile(r"(?<![\u4e00-\u9fff])[\u4e00-\u9fff](?: [\u4e00-\u9fff](?![\u4e00-\u9fff])){3,}")


def _join_spaced(match: re.Match[str]) -> str:
    return match.group().replace(" ", "")
