"""Every answer the classifier gives on the project's labelled messages, as one JSON line each.

Speed work on the classifier must not change a single answer: dump the answers before a change,
dump them after, and compare (`--check`). The messages are the first column of the training
examples and of every tests/data/*.tsv (classification, emergencies, own tickets, masking, dates).

    python -m benchmarks.classify_answers --write answers.jsonl
    python -m benchmarks.classify_answers --check answers.jsonl
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from intents import Classifier
from knowledge import load_handbook
from tests.messages import every_text


def answer(classifier: Classifier, text: str) -> dict[str, Any]:
    """Everything the classifier says about one message: classify()'s whole result, the life
    event and referral place the conversation asks for, the words and the danger check."""
    result = classifier.classify(text)
    norm = classifier.normalize(text)
    event = classifier.life_event(norm) if norm else None
    place = classifier.referral(norm) if norm else None
    danger = classifier.danger.detect(text) if classifier.danger else None
    model = classifier.learned.predict(norm, classifier.tokens(text)) if classifier.learned and norm else None
    return {
        "text": text,
        "intent": result.intent,
        "item": result.item,
        "confidence": result.confidence,
        "candidates": list(result.candidates),
        "named": result.named,
        "names_any": result.names_any,
        "excluded": sorted(result.excluded),
        "norm": norm,
        "tokens": classifier.tokens(text),
        "life_event": event.id if event else None,
        "referral": place.id if place else None,
        # The model's own scores, unrounded: a speed change that moves them at all is seen here
        # before it flips an answer at some threshold.
        "model": [[list(pair) for pair in ranked[:3]] for ranked in model] if model else None,
        "danger": [
            danger.hazard.kind,
            danger.said,
            [n.key for n in danger.numbers],
            danger.public,
            danger.community_acts,
        ]
        if danger
        else None,
    }


def answers(classifier: Classifier | None = None) -> list[dict[str, Any]]:
    classifier = classifier or Classifier(load_handbook())
    return [answer(classifier, text) for text in every_text()]


def differences(expected: list[dict[str, Any]], actual: list[dict[str, Any]]) -> list[str]:
    """One line per message whose answer changed (or that is new or gone)."""
    before = {row["text"]: row for row in expected}
    after = {row["text"]: row for row in actual}
    lines = []
    for text in before.keys() | after.keys():
        old, new = before.get(text), after.get(text)
        if old != new:
            changed = sorted(k for k in (old or new or {}) if (old or {}).get(k) != (new or {}).get(k))
            lines.append(f"{text!r}: {', '.join(changed)}: {old} -> {new}")
    return sorted(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--write", type=Path, help="write the answers here")
    group.add_argument("--check", type=Path, help="compare the answers with this file")
    args = parser.parse_args()
    rows = answers()
    if args.write:
        args.write.write_text(
            "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8"
        )
        print(f"{len(rows)} answers written to {args.write}")
        return
    expected = [json.loads(line) for line in args.check.read_text(encoding="utf-8").splitlines()]
    changed = differences(expected, rows)
    for line in changed:
        print(line)
    print(f"{len(rows)} messages, {len(changed)} answers changed")
    sys.exit(1 if changed else 0)


if __name__ == "__main__":
    main()
