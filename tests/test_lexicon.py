"""The literal-first rewrite of cue patterns must not change what they match."""

from __future__ import annotations

import ast
import random
import re
from pathlib import Path

import pytest

from intents import lexicon, normalize

SOURCE = Path(lexicon.__file__).read_text(encoding="utf-8")
LABELLED = Path(__file__).parent / "data" / "labelled.tsv"


def _declared_patterns() -> dict[str, list[str]]:
    declared = {}
    for node in ast.parse(SOURCE).body:
        call = node.value if isinstance(node, ast.Assign) else None
        if isinstance(call, ast.Call) and getattr(call.func, "id", "") == "_any":
            declared[node.targets[0].id] = [ast.literal_eval(arg) for arg in call.args]
    return declared


def _samples() -> list[str]:
    texts = [
        line.split("\t")[0]
        for line in LABELLED.read_text(encoding="utf-8").splitlines()
        if line[:1] not in ("", "#")
    ]
    texts = [normalize(t) for t in texts]
    # Shuffled fragments of real messages exercise prefixes and suffixes the set alone may miss.
    rng = random.Random(7)
    alphabet = "".join(sorted(set("".join(texts))))
    texts += ["".join(rng.choice(alphabet) for _ in range(rng.randint(1, 12))) for _ in range(3000)]
    return texts


@pytest.mark.parametrize(("name", "parts"), sorted(_declared_patterns().items()))
def test_rewritten_pattern_matches_exactly_what_the_declared_one_does(name: str, parts: list[str]) -> None:
    declared = re.compile("|".join(parts))
    rewritten = getattr(lexicon, name)
    for text in _samples():
        a, b = declared.search(text), rewritten.search(text)
        assert (a is None) == (b is None), (name, text)


def test_expansion_examples() -> None:
    assert lexicon.literal_first("(办好|修好)了(吗|没)") == ["办好了(吗|没)", "修好了(吗|没)"]
    assert lexicon.literal_first("(我|我们)?来") == ["我来", "我们来", "来"]
    assert lexicon.literal_first("[1-3五]星") == ["1星", "2星", "3星", "五星"]
    assert lexicon.literal_first("^你好") == ["^你好"]


def test_combined_precheck_matches_exactly_when_one_of_its_parts_does() -> None:
    parts = (lexicon.HUMAN, lexicon.CANCEL, lexicon.STATUS, lexicon.RATE)
    for text in _samples():
        combined = lexicon.ABOUT_REQUEST_OR_PERSON.search(text) is not None
        assert combined == any(p.search(text) for p in parts), text
