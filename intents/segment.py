"""jieba segmentation with a dictionary built from the handbook.

One dedicated jieba.Tokenizer per classifier, loaded once at start-up: a small domain dictionary
(handbook terms and cue words, each with a high frequency so it always wins as one token) keeps
segmentation fast and stops general-dictionary words from splitting service names. HMM new-word
discovery is off: unknown characters stay single, which is what keyword matching wants.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from collections.abc import Iterable

import jieba

jieba.setLogLevel(logging.WARNING)

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
]


class Segmenter:
    """Cuts normalised text into words; construct once, call from any coroutine (no I/O per call)."""

    def __init__(self, words: Iterable[str]):
        vocabulary = sorted({w for w in (*BASE_WORDS, *words) if w and " " not in w})
        text = "".join(f"{w} 100000\n" for w in vocabulary)
        # jieba loads dictionaries from a path; a content-addressed file lets its prefix-dict cache be reused.
        digest = hashlib.sha1(text.encode()).hexdigest()[:16]
        path = os.path.join(tempfile.gettempdir(), f"baishitong-{digest}.dict")
        if not os.path.exists(path):
            tmp = f"{path}.{os.getpid()}"
            with open(tmp, "w", encoding="utf-8") as handle:
                handle.write(text)
            os.replace(tmp, path)
        self._tokenizer = jieba.Tokenizer(dictionary=path)
        self._tokenizer.initialize()

    def cut(self, text: str) -> list[str]:
        return [token for token in self._tokenizer.cut(text, HMM=False) if token.strip()]
