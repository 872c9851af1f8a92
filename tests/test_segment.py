"""The fused segmenter must give exactly jieba's tokens (Tokenizer.cut, HMM off)."""

from __future__ import annotations

from intents import Classifier
from tests import messages


def test_tokens_equal_jieba_on_every_labelled_message(classifier: Classifier) -> None:
    segmenter = classifier._segmenter
    texts = messages.texts()
    texts += ["abc123 你好", "社保卡补办+挂失 100%", "居住证明和居住证", "ＯＫ 好的"]
    for text in texts:
        norm = classifier.normalize(text)
        expected = [t for t in segmenter.tokenizer.cut(norm, HMM=False) if t.strip()]
        assert segmenter.cut(norm) == expected, text
