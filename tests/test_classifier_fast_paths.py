"""The classifier's speed tricks give exactly the answers of the plain code they replaced.

Each trick (features looked up as they are cut, every head's softmax in one numpy pass, referral
words and homophones found by Aho-Corasick, the model not asked where it cannot change a status or
cancel) is checked against a plain version written here the way the code read before it, on every
labelled message of the project (tests/messages.every_text): bit for bit for the numbers, and
whole answers for classify(). Timing is the benchmark's business (benchmarks/classify_bench.py).
"""

from __future__ import annotations

import math
import random
import re
from collections import Counter
from re import _parser as sre_parser  # type: ignore[attr-defined]
from typing import Any

import numpy as np
import pytest

from intents import Classifier
from intents.directory import (
    WordFinder,
    calls_them_itself,
    inside_a_number,
    only_where_it_happened,
    runs_on,
    said_not_there,
    works_there,
)
from intents.gate import GatedPattern, gated, required_literals
from intents.homophones import MIN_SYLLABLES, HomophoneIndex, _common_word_taken, _is_han, syllable
from intents.learned import NONE, SOFTMAX_SCALE, TOP, Example, Features, LearnedModel, Vector
from knowledge import Handbook
from tests import messages


@pytest.fixture(scope="module")
def texts() -> list[str]:
    return messages.every_text()


# --- the plain versions ---------------------------------------------------------------------------


def plain_probabilities(margins: np.ndarray, binary: bool) -> np.ndarray:
    if binary:
        margins = np.array([-margins[0], margins[0]])
    exp = np.exp(SOFTMAX_SCALE * (margins - margins.max()))
    return exp / exp.sum()


class PlainModel:
    """The learned model's answers, head by head, each from its own margins and softmax."""

    def __init__(self, model: LearnedModel):
        self.model = model
        self._last: tuple[str, np.ndarray] | None = None  # the last message's margins

    def margins(self, norm: str, tokens: list[str] | None = None) -> np.ndarray:
        # One product for every head's columns side by side, as before (a head's own narrower
        # product can differ in the last bit: the BLAS sums in blocks of columns).
        if self._last is not None and self._last[0] == norm:
            return self._last[1]
        model, vector = self.model, plain_vector_exact(self.model, norm, tokens)
        if len(vector.columns):
            margins = vector.values @ model._weights[vector.columns] + model._bias
        else:
            margins = model._bias.copy()
        self._last = (norm, margins)
        return margins

    def probabilities(self, head: str, norm: str, tokens: list[str] | None = None) -> np.ndarray:
        model, margins = self.model, self.margins(norm, tokens)
        binary = len(model.heads[head].classes) == 2
        return plain_probabilities(margins[model._spans[head]], binary)

    def ranked(self, head: str, norm: str, tokens: list[str] | None = None) -> list[tuple[str, float]]:
        probs = self.probabilities(head, norm, tokens)
        classes = self.model.heads[head].classes
        return [(classes[i], float(probs[i])) for i in np.argsort(-probs)[:TOP]]

    def intent_and_items(self, norm: str, tokens: list[str] | None = None) -> tuple[Any, Any]:
        return self.ranked("intent", norm, tokens)[0], self.ranked("item", norm, tokens)

    def best(self, head: str, norm: str) -> tuple[str, float] | None:
        if head not in self.model.heads:
            return None
        probs = self.probabilities(head, norm)
        best = int(np.argmax(probs))
        label = self.model.heads[head].classes[best]
        return None if label == NONE else (label, float(probs[best]))


def plain_vector_exact(model: LearnedModel, norm: str, tokens: list[str] | None = None) -> Vector:
    """As the code read before: Counter over the feature strings, math in Python floats."""
    idf = model.vocabulary.idf.tolist()
    columns, weights = [], []
    for feature, count in Counter(model.features(norm, tokens)).items():
        column = model.vocabulary.column(feature)
        if column is not None:
            columns.append(column)
            weights.append(idf[column] if count == 1 else (1.0 + math.log(count)) * idf[column])
    if not columns:
        return Vector(np.empty(0, dtype=np.intp), np.empty(0))
    norm_ = math.sqrt(math.fsum(w * w for w in weights))
    return Vector(np.array(columns, dtype=np.intp), np.array(weights) / norm_)


class PlainFinder:
    """The longest listed word in the message, the earliest of two as long: every substring tried."""

    def __init__(self, finder: WordFinder[Any]):
        self._owners = dict(zip(finder._keys, finder._owners, strict=True))
        self._lengths = sorted({len(key) for key in self._owners}, reverse=True)

    def find(self, norm: str) -> tuple[Any, str] | None:
        compact = norm.replace(" ", "")
        for length in self._lengths:
            for start in range(len(compact) - length + 1):
                word = compact[start : start + length]
                if (
                    word in self._owners
                    and not said_not_there(compact, start)
                    and not runs_on(compact, start + length - 1)
                    and not inside_a_number(compact, start, start + length - 1)
                    and not works_there(compact, start + length - 1)
                    and not calls_them_itself(compact, start, start + length - 1)
                    and not only_where_it_happened(compact, start + length - 1)
                ):
                    return self._owners[word], word
        return None


class PlainHomophones:
    """The syllable-tuple index the automaton replaced, lookups and all."""

    def __init__(self, aliases: list[tuple[str, str]]):
        self._index: dict[tuple[str, ...], tuple[str, str]] = {}
        for alias, item_id in aliases:
            if len(alias) >= MIN_SYLLABLES and all(map(_is_han, alias)):
                self._index.setdefault(tuple(map(syllable, alias)), (item_id, alias))
        self._lengths = sorted({len(s) for s in self._index}, reverse=True)

    def find(self, text: str) -> dict[str, int]:
        if len(text) < MIN_SYLLABLES:
            return {}
        syllables = list(map(syllable, text))
        found: dict[str, int] = {}
        for start in range(len(syllables) - MIN_SYLLABLES + 1):
            for length in self._lengths:
                key = tuple(syllables[start : start + length])
                entry = self._index.get(key)
                if entry is None or _common_word_taken(text[start : start + len(key)], entry[1]):
                    continue
                if length > found.get(entry[0], 0):
                    found[entry[0]] = length
        return found


# --- the checks -----------------------------------------------------------------------------------


def test_features_looked_up_as_cut_give_the_string_features_vector(classifier: Classifier, texts) -> None:
    model = classifier.learned
    for text in [*texts, "", "  ", "abc 123 你好", "认证认证认证"]:
        norm = classifier.normalize(text)
        tokens = classifier.tokens(text)
        fast = model.vocabulary.weigh(model.features.columns(model.vocabulary, norm, tokens))
        for plain in (plain_vector_exact(model, norm, tokens), model.vocabulary.vector(model.features(norm))):
            assert fast.columns.tolist() == plain.columns.tolist(), text
            assert fast.values.tolist() == plain.values.tolist(), text


def test_every_heads_softmax_at_once_equals_each_heads_own(classifier: Classifier, texts) -> None:
    model, plain = classifier.learned, PlainModel(classifier.learned)
    for text in texts:
        norm = classifier.normalize(text)
        model._last = None  # score afresh, not from the last message's memory
        assert model.intent_and_items(norm) == plain.intent_and_items(norm), text
        assert model.predict(norm)[1] == plain.ranked("item", norm), text
        for head in ("event", "place"):
            assert model.best(head, norm) == plain.best(head, norm), text


def test_a_model_with_two_class_heads_scores_as_before(classifier: Classifier) -> None:
    # One life event and one place: those heads are binary LinearSVCs with a single margin.
    examples = [
        Example("居住证要带什么", "consult", "residence_permit"),
        Example("养老金认证在哪", "consult", "pension_certification"),
        Example("我的单子办好没", "status"),
        Example("明天天气如何", "unknown", place="hotline_12345"),
        Example("老人走了要办啥", "consult", event="bereavement"),
    ]
    model = LearnedModel.train(examples, Features(classifier.tokens))
    assert len(model.heads["event"].classes) == len(model.heads["place"].classes) == 2
    plain = PlainModel(model)
    for text in ("老人走了", "天气", "居住证", "单子好了没", "完全无关"):
        model._last = None
        assert model.intent_and_items(text) == plain.intent_and_items(text), text
        assert model.best("event", text) == plain.best("event", text), text
        assert model.best("place", text) == plain.best("place", text), text


def test_referral_words_are_found_as_by_trying_every_substring(classifier: Classifier, texts) -> None:
    finder = classifier.referrals
    plain = PlainFinder(finder)
    words = list(finder._keys)
    rng = random.Random(7)
    probes = [classifier.normalize(text) for text in texts]
    # Words run together and overlapping, where "longest, then earliest" decides.
    probes += ["".join(rng.sample(words, 3)) + "的事" for _ in range(1000)]
    probes += [rng.choice(words)[1:] + rng.choice(words) + rng.choice(words)[:-1] for _ in range(1000)]
    for norm in probes:
        assert finder.find(norm) == plain.find(norm), norm


def test_homophones_are_found_as_by_the_syllable_index(classifier: Classifier, texts) -> None:
    aliases = [(term, item) for term, owners in classifier._terms.items() for item, w in owners if w == 3]
    index, plain = HomophoneIndex(aliases), PlainHomophones(aliases)
    rng = random.Random(11)
    alphabet = "".join(alias for alias, _ in aliases) + "的了吗我要办 12ab在哪"
    probes = [classifier.normalize(text) for text in texts]
    for _ in range(3000):
        alias = rng.choice(aliases)[0]
        noise = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 6)))
        # Ending on an alias matters: the old index counted such a match as the longest alias.
        probes += [noise + alias, alias + noise, "".join(rng.choice(alphabet) for _ in range(12))]
    for text in probes:
        found, expected = index.find(text), plain.find(text)
        assert list(found.items()) == list(expected.items()), text  # the order ranks ties


def test_gated_cues_search_as_the_bare_regex(classifier: Classifier, texts) -> None:
    """Every cue behind a literal gate finds what its bare regex finds, on every labelled message,
    each cut in two and run together with another (a gate must never say no to a real match)."""
    lexicon = classifier.lexicon
    cues = {
        name: getattr(lexicon, name)
        for name in lexicon.__slots__
        if isinstance(getattr(lexicon, name), GatedPattern)
    }
    assert {"status", "order_strong", "own_request", "rate", "office", "human"} <= set(cues)
    rng = random.Random(5)
    norms = [classifier.normalize(text) for text in texts]
    probes = norms + [norm[: len(norm) // 2] + rng.choice(norms) for norm in norms[:2000]]
    for name, cue in cues.items():
        bare = re.compile(cue.pattern)
        for norm in probes:
            found, expected = cue.search(norm), bare.search(norm)
            assert (found and found.span()) == (expected and expected.span()), (name, norm)


@pytest.mark.parametrize(
    "pattern, needles",
    [
        (
            "(要|收)(钱|费)(不|吗)",
            {"要钱不", "要钱吗", "要费不", "要费吗", "收钱不", "收钱吗", "收费不", "收费吗"},
        ),
        ("派(个)?人", {"派人", "派个人"}),
        ("(?<!不)(能|可以)[^ ]{1,6}(不|没有)$", {"能", "可以"}),
        (
            "还(没|没有)(人)?(来|到)",
            {"还没来", "还没到", "还没人来", "还没人到", "还没有来", "还没有到", "还没有人来", "还没有人到"},
        ),
        ("[^ ]{0,8}", None),
    ],
)
def test_required_literals(pattern: str, needles: set[str] | None) -> None:
    assert required_literals(sre_parser.parse(pattern)) == needles


def test_a_group_with_its_own_flags_gives_no_literal() -> None:
    """(?i:abc) also matches "ABC": its letters are no needle the gate may require."""
    assert required_literals(sre_parser.parse("(?i:abc)x")) == {"x"}
    assert required_literals(sre_parser.parse("(?i:abc)")) is None


def test_a_cue_that_can_match_without_a_literal_is_not_gated() -> None:
    pattern = re.compile("|".join(["[^ ]{2,5}不" + "x" * 10] * 40 + ["\\d+"]))
    assert gated(pattern) is pattern


def test_classify_gives_the_plain_codes_answers_on_every_labelled_message(
    handbook: Handbook, texts, monkeypatch
) -> None:
    fast = Classifier(handbook)
    plain = Classifier(handbook)
    model = PlainModel(plain.learned)
    monkeypatch.setattr(plain, "learned", model)
    monkeypatch.setattr(plain.referrals, "find", PlainFinder(fast.referrals).find)
    # The plain arbitration asks the model about every status and cancel too.
    monkeypatch.setattr(plain, "_settled_without_model", lambda rules, listed: False)
    for text in [*texts, "", "👍", "取消", "我的单子办好没 宽带"]:
        assert fast.classify(text) == plain.classify(text), text
        norm = fast.normalize(text)
        if norm:
            assert fast.life_event(norm) == plain.life_event(norm), text
            assert fast.referral(norm) == plain.referral(norm), text
