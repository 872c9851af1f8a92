"""The fused segmenter must give exactly jieba's tokens (Tokenizer.cut, HMM off)."""

from __future__ import annotations

from pathlib import Path

from intents import Classifier

DATA = Path(__file__).parent / "data" / "labelled.tsv"


def test_tokens_equal_jieba_on_every_labelled_message(classifier: Classifier) -> None:
    segmenter = classifier._segmenter
    texts = [
        line.split("\t")[0]
        for line in DATA.read_text(encoding="utf-8").splitlines()
        if line[:1] not in ("", "#")
    ]
    texts += ["abc123 你好", "社保卡补办+挂失 100%", "居住证明和居住证", "ＯＫ 好的"]
    for text in texts:
        norm = classifier.normalize(text)
        expected = [t for t in segmenter.tokenizer.cut(norm, HMM=False) if t.strip()]
        assert segmenter.cut(norm) == expected, text
