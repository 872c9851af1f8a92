"""The learned classifier's training examples, all drawn from handbook data.

Real messages (training/examples.tsv), each item's own phrasings and situations, and frames
(training/frames.yaml) filled with item names and with the referral directory's words, so an item
or a referral a community adds is learned without anyone writing examples for it. Deterministic:
the same data gives the same examples in every process, and each item's and each referral word's
sample is drawn from its own seed: adding an alias to one item no longer reshuffles the generated
examples of every item after it (session 20 saw three scripts break from one item's new aliases).
"""

from __future__ import annotations

import random
from collections.abc import Callable

from intents.learned import Example
from knowledge import Handbook

NAMES_PER_ITEM = 10  # item names sampled into the frames: enough to teach the shapes, not drown real data
FRAMES_PER_NAME = 2
SEED = 20261202


def training_examples(handbook: Handbook, normalize: Callable[[str], str]) -> list[Example]:
    frames = handbook.training.frames
    examples = [
        Example(
            normalize(text),
            intent,
            item,
            event=extra.removeprefix("life:") if extra.startswith("life:") else None,
            place=extra.removeprefix("referral:") if extra.startswith("referral:") else None,
        )
        for text, intent, item, extra in handbook.training.examples
    ]
    for item in handbook.items.values():
        for text in item.phrasings + item.situations:
            examples.append(Example(normalize(text), item.default_intent, item.id))
        names = list(item.aliases)
        rng = _own_rng("item", item.id)
        for name in rng.sample(names, min(NAMES_PER_ITEM, len(names))):
            for frame in _pick(rng, frames.get("consult", ())):
                examples.append(Example(normalize(frame.replace("{名}", name)), "consult", item.id))
            # Every item: asking to book one that cannot be booked is still a request (the bot then
            # says it cannot be booked and what to do instead).
            for frame in _pick(rng, frames.get("order", ()), 1):
                examples.append(Example(normalize(frame.replace("{名}", name)), "order", item.id))
            if item.home_visit:
                for frame in _pick(rng, frames.get("visit", ()), 1):
                    examples.append(Example(normalize(frame.replace("{名}", name)), "order", item.id))
            for intent in ("status", "cancel"):
                for frame in _pick(rng, frames.get(intent, ()), 1):
                    examples.append(Example(normalize(frame.replace("{名}", name)), intent))
    for place in handbook.referrals:
        for word in place.words:
            examples.append(Example(normalize(word), "unknown", place=place.id))
            rng = _own_rng("place", place.id, word)
            for frame in _pick(rng, frames.get("out_of_scope", ()), 1):
                examples.append(Example(normalize(frame.replace("{名}", word)), "unknown", place=place.id))
    for event in handbook.life_events:
        for text in event.phrasings:
            examples.append(Example(normalize(text), "consult", event=event.id))
    return [example for example in examples if example.text]


def _own_rng(*key: str) -> random.Random:
    """A generator seeded by what it samples for, so one item's or word's draw is its own."""
    return random.Random(":".join((str(SEED), *key)))


def _pick(rng: random.Random, frames: tuple[str, ...], count: int = FRAMES_PER_NAME) -> list[str]:
    return rng.sample(frames, min(count, len(frames)))
