"""jieba segmentation with a dictionary built from the handbook.

One dedicated jieba.Tokenizer per classifier, loaded once at start-up: a small domain dictionary
(handbook terms and cue words, each with a high frequency so it always wins as one token) keeps
service names whole. HMM new-word discovery is off: unknown characters stay single, which is
what keyword matching wants.

`cut` computes jieba's own maximum-probability route (the same DAG over jieba's prefix
dictionary, the same log-frequency scores, the same tie-breaking and merging of single
letters/digits) in one fused pass with pre-computed log probabilities. jieba's generic
get_DAG + calc pair builds intermediate dicts and calls log() per edge; for short messages that
costs ~40 µs, most of the per-message budget. tests/test_segment.py checks token-for-token
equality with Tokenizer.cut(HMM=False) on every labelled message.
"""

from __future__ import annotations

import hashlib
import logging
import math
import os
import tempfile
from collections.abc import Iterable

import jieba

jieba.setLogLevel(logging.WARNING)

WORD_FREQUENCY = 100_000
# Everyday words that should stay whole so they do not glue onto service names.
BASE_WORDS = [
    "需要",
    "什么",
    "怎么",
    "怎么办",
    "如何",
    "哪里",
    "哪些",
    "多少",
    "多久",
    "请问",
    "可以",
    "能不能",
    "我们",
    "你们",
    "社区",
    "工作人员",
    "老人",
    "孩子",
    "家里",
    "今天",
    "明天",
    "后天",
    "上午",
    "下午",
    "中午",
    "晚上",
    "周末",
    "一下",
    "知道",
    "没有",
    "已经",
    "还是",
    "就是",
    "这个",
    "一个",
    "时候",
    "什么时候",
    "办理",
    "申请",
    "咨询",
    "材料",
    "手续",
    "证件",
    "流程",
    "条件",
    "带什么",
    "要带",
    "服务",
    "帮我",
    "帮忙",
    "麻烦",
    "预约",
    "上门",
    "取消",
    "满意",
    "谢谢",
    "你好",
    "您好",
    "不是",
    "不要",
    "不办",
    "不问",
    "而不是",
    "登记",
    "补贴",
    "补助",
    "工作",
    "单子",
    # Places and common words that contain an alias or would glue onto one: "单元门口" is a place,
    # not the repair alias "单元门"; "房产证名字" is 房产证 + 名字.
    "门口",
    "单元门口",
    "楼道口",
    "小区门口",
    "大门口",
    "楼下",
    "楼上",
    "路口",
    "附近",
    "名字",
    "去世",
    "现在",
    "那边",
    "这边",
    "每个月",
    "工作日",
    "出租车",
    "打不着",
    "农村户口",
    "城镇户口",
    "城市户口",
    "下岗职工",
    "户口不在",
    "已经有",
    "有了",
    "交满了",
    "不够",
]
_PREFIX_ONLY = 1.0  # log probabilities are negative, so 1.0 never collides
_HAN_BLOCK = jieba.re_han_default  # the same block split jieba.cut applies before its route search


class Segmenter:
    """Cuts normalised text into words; construct once, call from any coroutine (no I/O per call)."""

    def __init__(self, words: Iterable[str]):
        vocabulary = sorted({w for w in (*BASE_WORDS, *words) if w and " " not in w})
        text = "".join(f"{w} {WORD_FREQUENCY}\n" for w in vocabulary)
        # jieba loads dictionaries from a path; a content-addressed file lets its prefix-dict cache be reused.
        digest = hashlib.sha1(text.encode()).hexdigest()[:16]
        path = os.path.join(tempfile.gettempdir(), f"baishitong-{digest}.dict")
        if not os.path.exists(path):
            tmp = f"{path}.{os.getpid()}"
            with open(tmp, "w", encoding="utf-8") as handle:
                handle.write(text)
            os.replace(tmp, path)
        self.tokenizer = jieba.Tokenizer(dictionary=path)
        self.tokenizer.initialize()
        log_total = math.log(self.tokenizer.total)
        # jieba's prefix dictionary holds every word with its frequency and every proper prefix
        # with 0. One lookup per step: a word maps to its log probability (< 0), a bare prefix to
        # _PREFIX_ONLY, anything else is absent.
        self._table: dict[str, float] = {
            w: (math.log(f) - log_total if f else _PREFIX_ONLY) for w, f in self.tokenizer.FREQ.items()
        }
        self._unknown = -log_total  # jieba scores an unknown character as log(1) - log(total)
        self._starts = frozenset(w[0] for w in self._table)  # characters that begin some word

    def cut(self, text: str) -> list[str]:
        tokens: list[str] = []
        # The pattern's one group makes split() alternate: the text between blocks at even places,
        # the blocks at odd ones, so no block is matched again to tell which it is.
        for index, block in enumerate(_HAN_BLOCK.split(text)):
            if index % 2:
                self._cut_block(block, tokens)
            elif block and not block.isspace():  # mostly the one space between two blocks
                tokens.extend(ch for ch in block if not ch.isspace())
        return tokens

    def _cut_block(self, block: str, out: list[str]) -> None:
        table, unknown, starts = self._table, self._unknown, self._starts
        n = len(block)
        score = [0.0] * (n + 1)
        end = list(range(n))
        for k in range(n - 1, -1, -1):
            if block[k] not in starts:  # no word begins here: a single unknown character, as in jieba
                score[k] = unknown + score[k + 1]
                continue
            best, best_end = unknown + score[k + 1], -1
            i = k
            while i < n:
                log_prob = table.get(block[k : i + 1])
                if log_prob is None:
                    break
                if log_prob != _PREFIX_ONLY:
                    candidate = log_prob + score[i + 1]
                    if best_end < 0 or candidate >= best:  # ties go to the longer word, as in jieba
                        best, best_end = candidate, i
                i += 1
            score[k] = best
            if best_end >= 0:
                end[k] = best_end
        x, letters = 0, ""
        while x < n:
            y = end[x] + 1
            word = block[x:y]
            if y - x == 1 and word.isascii() and word.isalnum():
                letters += word  # jieba joins runs of single letters and digits into one token
            else:
                if letters:
                    out.append(letters)
                    letters = ""
                out.append(word)
            x = y
        if letters:
            out.append(letters)
