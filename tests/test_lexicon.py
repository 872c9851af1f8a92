"""The phrasings data (knowledge/data/phrasings.yaml) and its compiled form.

Walks the data rather than naming phrases, so a list a community worker adds or edits is checked
the same way: every list non-empty, every pattern compiles, the literal-first rewrite matches
exactly what the written patterns match, and no alias names two items.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterator

import pytest

from intents import Classifier, lexicon
from knowledge import Handbook, Phrasings, load_handbook
from knowledge.models import CUE_NAMES, OPTIONAL_CUES, ORDER_FIELDS
from tests import messages

PHRASINGS: Phrasings = load_handbook().phrasings
LEXICON = lexicon.compile_lexicon(PHRASINGS)


def _lists(phrasings: Phrasings) -> Iterator[tuple[str, tuple[str, ...]]]:
    """Every phrase list of the data, named by its field: cues and field words one by one."""
    for name in Phrasings.__slots__:
        value = getattr(phrasings, name)
        if name == "cues":
            yield from ((f"cues.{cue}", parts) for cue, parts in value.items())
        elif name == "field_words":
            yield from ((f"field_words.{field}", words) for field, words in value.items())
        elif isinstance(value, dict):
            yield name, tuple(value)
        else:
            yield name, value


def _samples() -> list[str]:
    texts = [LEXICON.normalize(t) for t in messages.texts()]
    # Shuffled fragments of real messages exercise prefixes and suffixes the set alone may miss.
    rng = random.Random(7)
    alphabet = "".join(sorted(set("".join(texts))))
    texts += ["".join(rng.choice(alphabet) for _ in range(rng.randint(1, 12))) for _ in range(3000)]
    return texts


SAMPLES = _samples()


@pytest.mark.parametrize(("field", "phrases"), list(_lists(PHRASINGS)))
def test_every_phrasing_list_is_non_empty_text_listed_once(field: str, phrases: tuple[str, ...]) -> None:
    assert phrases, field
    assert all(isinstance(p, str) and p.strip() == p and p for p in phrases), field
    assert len(set(phrases)) == len(phrases), field


def test_every_cue_and_order_field_has_phrasings() -> None:
    assert tuple(PHRASINGS.cues) == (*CUE_NAMES, *OPTIONAL_CUES)  # the bundled handbook has them all
    assert set(PHRASINGS.field_words) == set(ORDER_FIELDS)
    assert all(1 <= stars <= 5 for stars in PHRASINGS.rating_stars.values())


@pytest.mark.parametrize(
    ("field", "parts"),
    [(f"cues.{name}", parts) for name, parts in PHRASINGS.cues.items()]
    + [("correction", PHRASINGS.correction)],
)
def test_every_pattern_compiles_alone_and_rewritten(field: str, parts: tuple[str, ...]) -> None:
    for part in parts:
        re.compile(part)
        for alternative in lexicon.literal_first(part):
            re.compile(alternative)


@pytest.mark.parametrize("name", CUE_NAMES)
def test_rewritten_pattern_matches_exactly_what_the_written_one_does(name: str) -> None:
    written = re.compile("|".join(PHRASINGS.cues[name]))
    rewritten = getattr(LEXICON, name)
    for text in SAMPLES:
        a, b = written.search(text), rewritten.search(text)
        assert (a is None) == (b is None), (name, text)


def test_expansion_examples() -> None:
    assert lexicon.literal_first("(办好|修好)了(吗|没)") == ["办好了(吗|没)", "修好了(吗|没)"]
    assert lexicon.literal_first("(我|我们)?来") == ["我来", "我们来", "来"]
    assert lexicon.literal_first("[1-3五]星") == ["1星", "2星", "3星", "五星"]
    assert lexicon.literal_first("^你好") == ["^你好"]


def test_word_lists_compile_to_literal_matches() -> None:
    """Words are matched as written: a "?" or "." in a word list is a character, not a pattern."""
    for word in PHRASINGS.menu:
        assert LEXICON.menu.match(word), word
    for word in PHRASINGS.order_confirm:
        assert LEXICON.order_confirm.match(word + "！"), word
        assert not LEXICON.order_confirm.match(word + "吗"), word  # a question does not confirm
    for word in PHRASINGS.order_cancel:
        assert LEXICON.order_cancel.match(word + "吧"), word
    for field, words in PHRASINGS.field_words.items():
        assert all(LEXICON.field_words[field].search(word) for word in words), field
    assert all(LEXICON.home_visit.search(word) for word in PHRASINGS.home_visit)
    assert LEXICON.greeting_only.fullmatch(" ".join(PHRASINGS.greeting_only))


def test_longer_rating_words_are_tried_first() -> None:
    """ "不满意" contains "满意": whichever order the file lists them in, the longer one decides."""
    words = [word for word, _ in LEXICON.rating_stars]
    for index, word in enumerate(words):
        assert not any(word in longer for longer in words[index + 1 :] if longer != word), word


def test_glosses_are_normalised_to_their_standard_word() -> None:
    for word, standard in PHRASINGS.glosses.items():
        assert LEXICON.normalize(word) == LEXICON.normalize(standard), word
    for filler in PHRASINGS.fillers:
        assert LEXICON.normalize(f"社区{filler}") == "社区", filler


def test_no_alias_names_two_items_once_normalised(handbook: Handbook, classifier: Classifier) -> None:
    """The loader checks aliases as written; the classifier matches them normalised, so check that too."""
    owners: dict[str, str] = {}
    for item in handbook.items.values():
        for alias in item.aliases:
            term = classifier.normalize(alias).replace(" ", "")
            assert owners.setdefault(term, item.id) == item.id, (alias, owners[term], item.id)


@pytest.mark.parametrize("word", PHRASINGS.lonely)
def test_every_lonely_word_is_found_in_a_message_that_says_it(word: str) -> None:
    """The lonely words are looked for in normalised text: a word with a glossed dialect form
    (没得人说话 → 没有人说话) must still be found when a resident writes it (blind batch 12)."""
    message = f"一天到黑{word}哦"
    compact = LEXICON.normalize(message).replace(" ", "")
    assert any(lonely in compact for lonely in LEXICON.lonely), message
