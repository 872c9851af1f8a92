"""A learned intent and item model: what generalises beyond the handbook's exact words.

The keyword rules (intents.classifier) are precise where a resident names a service or uses a cue
they list, and blind where the wording is new: a situation described instead of a service named,
a same-sound typo, a question about an earlier request that happens to name its item. Linear models
over character unigrams and bigrams and jieba words carry what the examples share with new
text. scikit-learn fits them (LinearSVC: a fraction of a second on a few thousand examples, so the
model is trained when the handbook loads and every process trains the same one); scoring is done
here with the fitted weights, because a per-message call into scikit-learn costs more than the
whole rule classifier and the throughput target is jieba's own.
"""

from __future__ import annotations

import hashlib
import logging
import math
import os
import tempfile
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from importlib.metadata import version
from operator import add, mul
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

log = logging.getLogger(__name__)
TOP = 8  # classes a head reports: the best, up to three to offer, and room for the ones excluded
MODEL_FORMAT = "3"  # bump when Features or the heads change: old cache files are then ignored
# Scores are margins of a linear SVM; a softmax over them at this scale gives numbers that behave
# like confidences (scale chosen on blind batches 2 and items-1 from 4, 8, 12, 16).
SOFTMAX_SCALE = 8.0
WORD = "w:"  # what marks a jieba word among the features (a character or bigram never has a colon)


@dataclass(frozen=True, slots=True)
class Example:
    """One training message, already normalised; item only for consult and order."""

    text: str
    intent: str
    item: str | None = None
    event: str | None = None  # a life event (life_events.yaml) the message describes
    place: str | None = None  # another agency (referrals.yaml) the message belongs to


class Features:
    """Characters, character bigrams and the segmenter's words.

    Character trigrams and pinyin syllables (unigrams and bigrams) were features until session 5:
    4-fold cross-validation over 1,163 blind messages scored the same without them (intent 96.4%
    against 96.5%, item 98.1% both, referral places 195/220 against 196/220, life events 62/76
    against 59/76) and the classifier ran 1.5× faster; homophone typos of service names are the
    rules' homophone index's job (intents/homophones.py).
    """

    def __init__(self, tokenize: Callable[[str], list[str]]):
        self._tokenize = tokenize

    def __call__(self, norm: str, tokens: list[str] | None = None) -> list[str]:
        out: list[str] = []
        extend = out.extend
        for part in norm.split():
            padded = f" {part} "
            extend(part)  # unigrams: the padding spaces are not features
            extend([padded[i : i + 2] for i in range(len(padded) - 1)])
        words = self._tokenize(norm) if tokens is None else tokens  # the rules' tokens, when given
        extend([WORD + token for token in words if token.strip()])
        return out

    def columns(self, vocabulary: Vocabulary, norm: str, tokens: list[str] | None = None) -> list[int | None]:
        """The vocabulary column of each feature __call__ lists, in the same order (None: unknown).

        What scoring uses instead of __call__ (which training needs, as strings): the same features
        looked up as they are cut, words by the word itself, so no "w:" string is built per token
        and no list of strings is kept (a fifth of the per-message cost of the model went there).
        tests/test_classifier_fast_paths.py checks both give the same vector on every labelled message.
        """
        column, word_column = vocabulary.column, vocabulary.word_column
        found: list[int | None] = []
        for part in norm.split():
            padded = f" {part} "
            found += map(column, part)
            found += map(column, map(add, padded, padded[1:]))  # the bigrams, joined in C
        # Blank tokens, which __call__ skips, have no column: "w:" + "" and "w: " are never features.
        found += map(word_column, self._tokenize(norm) if tokens is None else tokens)
        return found


class Vector(NamedTuple):
    """One message as the models see it: the columns it has and their tf-idf values (unit length)."""

    columns: np.ndarray
    values: np.ndarray


class Vocabulary:
    """Feature → column and idf weights, shared by every head (fitted once on all examples)."""

    __slots__ = ("_columns", "_idf", "column", "idf", "word_column")

    def __init__(self, columns: dict[str, int], idf: np.ndarray):
        self._columns = columns
        self.idf = idf
        self._idf: list[float] = idf.tolist()  # a list indexes faster than an array, one at a time
        self.column = columns.get
        # Word features by the word alone: Features.columns looks tokens up without prefixing them.
        words = {name.removeprefix(WORD): i for name, i in columns.items() if name.startswith(WORD)}
        self.word_column = words.get

    def names(self) -> list[str]:
        return sorted(self._columns, key=self._columns.__getitem__)

    def vector(self, features: Sequence[str]) -> Vector:
        """scikit-learn's TfidfVectorizer(sublinear_tf=True) transform, for one message."""
        return self.weigh(list(map(self._columns.get, features)))

    def weigh(self, found: list[int | None]) -> Vector:
        """The tf-idf vector of a message from the columns of its features (None: not in the
        vocabulary), columns in order of first occurrence (the order the product sums them in).
        Weighted in Python with C-level maps: for the fifty-odd features of one message this is
        three times faster than numpy's unique (the throughput target is jieba's own rate)."""
        first = dict.fromkeys(found)  # distinct columns in order, in C (a Counter costs more)
        first.pop(None, None)
        if not first:
            return Vector(np.empty(0, dtype=np.intp), np.empty(0))
        columns = list(first)
        idf = self._idf
        if len(columns) == len(found) - found.count(None):  # no feature occurs twice: tf is 1
            weights = list(map(idf.__getitem__, columns))
        else:  # a Counter keeps the same first-occurrence order
            counts = Counter(found)
            del counts[None]
            weights = [idf[c] if n == 1 else (1.0 + math.log(n)) * idf[c] for c, n in counts.items()]
        norm = math.sqrt(math.fsum(map(mul, weights, weights)))
        return Vector(np.array(columns, dtype=np.intp), np.array(weights) / norm)


class LinearHead:
    """One fitted linear model's coefficients: scores a vector as decision_function does."""

    __slots__ = ("bias", "classes", "weights")

    def __init__(self, weights: np.ndarray, bias: np.ndarray, classes: Iterable[str]):
        self.weights = np.ascontiguousarray(weights)  # features × classes: a message reads its rows
        self.bias = bias
        self.classes: tuple[str, ...] = tuple(str(label) for label in classes)

    def arrays(self, prefix: str) -> dict[str, np.ndarray]:
        """What a cache file holds for this head (no pickles: plain arrays of numbers and text)."""
        return {
            f"{prefix}.weights": self.weights,
            f"{prefix}.bias": self.bias,
            f"{prefix}.classes": np.array(self.classes, dtype=str),
        }

    @classmethod
    def from_arrays(cls, arrays: Any, prefix: str) -> LinearHead:
        return cls(arrays[f"{prefix}.weights"], arrays[f"{prefix}.bias"], arrays[f"{prefix}.classes"])

    def scores(self, vector: Vector) -> np.ndarray:
        if not len(vector.columns):
            return self.bias.copy()
        return vector.values @ self.weights[vector.columns] + self.bias

    def ranked(self, vector: Vector, top: int = TOP) -> list[tuple[str, float]]:
        """The `top` likeliest classes with softmax confidences, best first."""
        return self.ranked_margins(self.scores(vector), top)

    def ranked_margins(self, margins: np.ndarray, top: int = TOP) -> list[tuple[str, float]]:
        """As ranked(), from this head's margins already computed (LearnedModel scores every head at once)."""
        return self.ranked_exps(self.exps(margins), top)

    def best_margin(self, margins: np.ndarray) -> tuple[str, float]:
        """The likeliest class and its confidence: ranked_margins(...)[0] without sorting."""
        return self.best_exp(self.exps(margins))

    def exps(self, margins: np.ndarray) -> np.ndarray:
        """The softmax's numerators, exp(scale · (margin − the largest)), one per class."""
        if len(self.classes) == 2:  # a binary LinearSVC has one margin: the second class's
            margins = np.array([-margins[0], margins[0]])
        # The ufunc's reduce, not the array's max(): that passes through numpy's Python wrapper,
        # a microsecond each time, and a message asks this of two or three heads.
        return np.exp(SOFTMAX_SCALE * (margins - _MAX(margins)))

    def ranked_exps(self, exps: np.ndarray, top: int = TOP) -> list[tuple[str, float]]:
        """The `top` likeliest classes and their confidences, from this head's exps()."""
        probs = exps / _SUM(exps)
        order = (-probs).argsort()[:top].tolist()
        # Python floats and ints read once from the arrays: indexing an array item by item makes
        # a numpy scalar each time (a third of this function's cost before).
        p, classes = probs.tolist(), self.classes
        return [(classes[i], p[i]) for i in order]

    def best_exp(self, exps: np.ndarray) -> tuple[str, float]:
        probs = exps / _SUM(exps)
        best = int(probs.argmax())
        return self.classes[best], probs.item(best)


_MAX, _SUM, _MAX_EACH = np.maximum.reduce, np.add.reduce, np.maximum.reduceat


def _fit(matrix: Any, labels: list[str], c: float, balanced: bool = False) -> LinearHead:
    from sklearn.svm import LinearSVC

    # random_state: liblinear visits examples in a random order; fixed, every process fits the same model.
    model = LinearSVC(C=c, class_weight="balanced" if balanced else None, random_state=0).fit(matrix, labels)
    return LinearHead(model.coef_.T, model.intercept_, model.classes_)


NONE = "-"


class LearnedModel:
    """Heads over one vocabulary: intent (every example), item (consult/order examples naming
    one), life event and referral place (every example; "-" for none of them)."""

    def __init__(self, features: Features, vocabulary: Vocabulary, heads: dict[str, LinearHead]):
        self.features = features
        self.vocabulary = vocabulary
        self.heads = heads
        # Every head's weights side by side: one gather and one product score a message for all
        # of them (four heads asked in turn cost four times the numpy calls otherwise).
        self._weights = np.ascontiguousarray(np.hstack([head.weights for head in heads.values()]))
        self._bias = np.concatenate([head.bias for head in heads.values()])
        self._spans: dict[str, slice] = {}  # each head's columns among the margins
        self._classes: dict[str, slice] = {}  # each head's classes among the exps
        start = first_class = 0
        expand: list[int] = []  # margin column of each class, and its sign (binary heads)
        signs: list[float] = []
        for name, head in heads.items():
            width = head.weights.shape[1]
            self._spans[name] = slice(start, start + width)
            columns = [start, start] if len(head.classes) == 2 else list(range(start, start + width))
            self._classes[name] = slice(first_class, first_class + len(columns))
            expand += columns
            signs += [-1.0, 1.0] if len(head.classes) == 2 else [1.0] * width
            start += width
            first_class += len(columns)
        # Every head's softmax numerators with one max, one subtraction, one product and one exp
        # over all heads' margins, not four numpy calls per head: the same numbers, element for
        # element, as LinearHead.exps (tests/test_classifier_fast_paths.py). Each head's sum stays
        # its own np.add.reduce: reduceat adds in another order and moves the last bit.
        binary = any(len(head.classes) == 2 for head in heads.values())
        self._expand = (np.array(expand), np.array(signs)) if binary else None
        self._firsts = np.array([span.start for span in self._classes.values()])
        self._widths = np.array([span.stop - span.start for span in self._classes.values()])
        self._last: tuple[str, Vector, np.ndarray, np.ndarray] | None = None

    @classmethod
    def train(cls, examples: Iterable[Example], features: Features, c: float = 0.5) -> LearnedModel:
        from sklearn.feature_extraction.text import TfidfVectorizer

        examples = [e for e in examples if e.text]
        vectorizer = TfidfVectorizer(analyzer=lambda featured: featured, sublinear_tf=True)
        matrix = vectorizer.fit_transform([features(e.text) for e in examples])
        vocabulary = Vocabulary(dict(vectorizer.vocabulary_), vectorizer.idf_)
        heads = {"intent": _fit(matrix, [e.intent for e in examples], c)}
        rows = [i for i, e in enumerate(examples) if e.item]
        heads["item"] = _fit(matrix[rows], [examples[i].item or "" for i in rows], c)
        for head in ("event", "place"):
            labels = [getattr(e, head) or NONE for e in examples]
            if len(set(labels)) > 1:
                # A few examples per event against thousands of others: weighted, or "-" always wins.
                heads[head] = _fit(matrix, labels, c, balanced=True)
        return cls(features, vocabulary, heads)

    def vector(self, norm: str, tokens: list[str] | None = None) -> Vector:
        """The message's vector (the last message's is kept: one message asks several heads in turn)."""
        return self._scored(norm, tokens)[0]

    def _scored(self, norm: str, tokens: list[str] | None = None) -> tuple[Vector, np.ndarray, np.ndarray]:
        """The message's vector, every head's margins and softmax numerators, once per message."""
        last = self._last
        if last is not None and last[0] == norm:
            return last[1], last[2], last[3]
        vector = self.vocabulary.weigh(self.features.columns(self.vocabulary, norm, tokens))
        margins = self._product(vector)
        exps = self._exps(margins)
        self._last = (norm, vector, margins, exps)
        return vector, margins, exps

    def _product(self, vector: Vector) -> np.ndarray:
        """Every head's margins: one gather of the message's rows and one product (take() gathers
        the same rows as indexing with the array, a quarter faster)."""
        if not len(vector.columns):
            return self._bias.copy()
        return vector.values @ self._weights.take(vector.columns, axis=0) + self._bias

    def _exps(self, margins: np.ndarray) -> np.ndarray:
        if self._expand is not None:
            margins = margins[self._expand[0]] * self._expand[1]
        largest = _MAX_EACH(margins, self._firsts).repeat(self._widths)
        return np.exp(SOFTMAX_SCALE * (margins - largest))

    def predict(
        self, norm: str, tokens: list[str] | None = None
    ) -> tuple[list[tuple[str, float]], list[tuple[str, float]]]:
        """(intents ranked, items ranked) for one normalised message (and its words, if known)."""
        exps = self._scored(norm, tokens)[2]
        classes, heads = self._classes, self.heads
        return (
            heads["intent"].ranked_exps(exps[classes["intent"]]),
            heads["item"].ranked_exps(exps[classes["item"]]),
        )

    def intent_and_items(
        self, norm: str, tokens: list[str] | None = None
    ) -> tuple[tuple[str, float], list[tuple[str, float]]]:
        """predict() as the classifier reads it: only the likeliest intent (so no sort), items ranked."""
        return self._heads_read(self._scored(norm, tokens)[2])

    def _heads_read(self, exps: np.ndarray) -> tuple[tuple[str, float], list[tuple[str, float]]]:
        classes, heads = self._classes, self.heads
        return (
            heads["intent"].best_exp(exps[classes["intent"]]),
            heads["item"].ranked_exps(exps[classes["item"]]),
        )

    def best(self, head: str, norm: str) -> tuple[str, float] | None:
        """The event or place head's answer, None when it has none or says "none of them"."""
        model = self.heads.get(head)
        if model is None:
            return None
        label, p = model.best_exp(self._scored(norm)[2][self._classes[head]])
        return None if label == NONE else (label, p)

    def arrays(self) -> dict[str, np.ndarray]:
        arrays: dict[str, np.ndarray] = {
            "heads": np.array(",".join(self.heads)),
            "vocabulary": np.array(self.vocabulary.names(), dtype=str),
            "idf": self.vocabulary.idf,
        }
        for name, head in self.heads.items():
            arrays.update(head.arrays(name))
        return arrays

    @classmethod
    def from_arrays(cls, features: Features, arrays: Any) -> LearnedModel:
        columns = {str(name): i for i, name in enumerate(arrays["vocabulary"])}
        heads = {name: LinearHead.from_arrays(arrays, name) for name in str(arrays["heads"]).split(",")}
        return cls(features, Vocabulary(columns, arrays["idf"]), heads)


# Trained models by training data, for every Classifier built in this process (tests, CLI commands).
_TRAINED: dict[str, LearnedModel] = {}


def trained(examples: Sequence[Example], features: Features, cache_dir: Path | None = None) -> LearnedModel:
    """The model for these examples: from this process, else from the cache directory, else
    trained (about 2 s) and written there for the next process. A cache file is named by a hash of
    the examples and the code's model format, so edited handbook data never meets a stale model;
    one that cannot be read or written is ignored (training is always possible)."""
    digest = hashlib.sha256(
        "\n".join(
            [
                MODEL_FORMAT,
                version("scikit-learn"),
                *(f"{e.text}\t{e.intent}\t{e.item}\t{e.event}\t{e.place}" for e in examples),
            ]
        ).encode()
    ).hexdigest()[:24]
    model = _TRAINED.get(digest)
    if model is not None:
        return model
    directory = cache_dir or default_cache_dir()
    path = directory / f"model-{digest}.npz"
    try:
        with np.load(path, allow_pickle=False) as arrays:
            model = LearnedModel.from_arrays(features, arrays)
    except (OSError, KeyError, ValueError):
        model = LearnedModel.train(examples, features)
        _write(path, model)
    _TRAINED[digest] = model
    return model


def default_cache_dir() -> Path:
    explicit = os.environ.get("BAISHITONG_CACHE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "baishitong"


def _write(path: Path, model: LearnedModel) -> None:
    arrays = model.arrays()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, suffix=".npz", delete=False) as handle:
            np.savez(handle, **arrays)
        os.replace(handle.name, path)  # atomic: another process never reads half a file
    except OSError as exc:
        log.info("learned model not cached (%s): trained again at the next start", exc)
