"""Turn what residents type (or what voice recognition hears) into one canonical simplified form.

Order matters: width and script first (so dialect and filler tables only need simplified,
half-width spellings), then WeChat emoji codes and pictographs, then dialect words, then fillers.
"""

from __future__ import annotations

import re
import unicodedata

import opencc

_T2S = opencc.OpenCC("t2s")

# WeChat renders its built-in emoji as "[微笑]" or "/::)" codes inside the text.
_WECHAT_EMOJI = re.compile(r"\[[\u4e00-\u9fff]{1,4}\]|/:[^\s\u4e00-\u9fff]{1,8}")
# Pictographs, dingbats, variation selectors and zero-width joiners (Unicode ranges; no library
# strips emoji without also pulling in a large dependency, and this set is stable).
_PICTOGRAPHS = re.compile(
    "[\U0001f000-\U0001faff\U00002600-\U000027bf\U0001f1e6-\U0001f1ff\u2b00-\u2bff\ufe0f\u200d\u20e3]"
)

# Sichuan/Chongqing and other colloquial words → standard Mandarin. Longest keys win (regex
# alternation is built longest-first), so 咋个 is read before 咋.
DIALECT: dict[str, str] = {
    "啥子": "什么",
    "撒子": "什么",
    "煞子": "什么",
    "么子": "什么",
    "啥": "什么",
    "咋个整": "怎么办",
    "咋个弄": "怎么办",
    "咋个办": "怎么办",
    "咋个搞": "怎么办",
    "咋整": "怎么办",
    "咋办": "怎么办",
    "怎么整": "怎么办",
    "怎么弄": "怎么办",
    "怎么搞": "怎么办",
    "啷个办": "怎么办",
    "啷个整": "怎么办",
    "咋个": "怎么",
    "咋子": "怎么",
    "咋": "怎么",
    "啷个": "怎么",
    "哪门子": "怎么",
    "哪门": "怎么",
    "莫得": "没有",
    "没得": "没有",
    "冇得": "没有",
    "冇": "没有",
    "娃儿": "孩子",
    "娃娃": "孩子",
    "小娃": "孩子",
    "细娃": "孩子",
    "晓得": "知道",
    "要得": "好的",
    "得行": "可以",
    "要不要得": "可不可以",
    "得不得": "能不能",
    "屋头": "家里",
    "屋里头": "家里",
    "屋里": "家里",
    "老汉儿": "父亲",
    "老汉": "父亲",
    "老头儿": "老人",
    "老年人": "老人",
    "老人家": "老人",
    "哪儿": "哪里",
    "哪点": "哪里",
    "哪塌": "哪里",
    "哪哈": "哪里",
    "好多钱": "多少钱",
    "好多天": "多久",
    "要好久": "要多久",
    "好久能": "多久能",
    "多长时间": "多久",
    "多少天": "多久",
    "哈喽": "你好",
    "哈罗": "你好",
    "哈哈": "呵呵",
    "啥时候": "什么时候",
    "好久来": "什么时候来",
    "摆一下": "说一下",
    "耍": "玩",
    "整得好": "办得好",
    "巴适": "很好",
    "安逸": "很好",
    "恼火": "困难",
    "造孽": "困难",
}
# Filler words of speech and chat; removed wherever they appear because they never carry meaning here.
FILLERS = (
    "那个那个",
    "这个这个",
    "就是说",
    "然后呢",
    "那个",
    "嗯",
    "呃",
    "啊",
    "哎",
    "唉",
    "诶",
    "呀",
    "喂",
    "嘛",
    "噻",
    "哈",
    "哦",
    "嘞",
    "咯",
    "勒",
    "哟",
    "撒",
)


def _alternation(words: list[str]) -> re.Pattern[str]:
    return re.compile("|".join(re.escape(w) for w in sorted(words, key=len, reverse=True)))


# Dialect words and fillers in one pass: longest first, so "撒子" (→ 什么) wins over the filler "撒".
_REPLACEMENTS = {**dict.fromkeys(FILLERS, ""), **DIALECT}
_WORDS_RE = _alternation(list(_REPLACEMENTS))
_SEPARATORS = r"[\s,.!?;:，。！？；：、~…·\-—_()（）【】\[\]\"'“”‘’《》<>|/\\]"
# Emoji codes, pictographs and punctuation all become word breaks, in one pass.
_BREAKS = re.compile(f"(?:{_WECHAT_EMOJI.pattern}|{_PICTOGRAPHS.pattern}|{_SEPARATORS})+")


def _replace_word(match: re.Match[str]) -> str:
    return _REPLACEMENTS[match.group()]


def simplify(text: str) -> str:
    """Half-width, simplified, lower case, punctuation kept: for reading times, dates and numbers."""
    return _T2S.convert(unicodedata.normalize("NFKC", text)).lower()


def normalize(text: str) -> str:
    """Return the canonical form used for matching; empty when only fillers/emoji were sent."""
    text = unicodedata.normalize("NFKC", text)
    text = _T2S.convert(text).lower()
    text = _BREAKS.sub(" ", text)
    text = _WORDS_RE.sub(_replace_word, text)
    return " ".join(text.split())
