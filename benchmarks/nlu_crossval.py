"""Cross-validate the classifier over the folded blind batches: how a rule or threshold change does on
text the model was not trained on, before the next fresh batch says so honestly.

The blind rows of the training file (everything after its "# Blind batch 1" header) are split into
four folds by position (row i goes to fold i % 4). For each fold the model is trained on every other
example and the fold is classified; the rules stay as they are, so a cue fitted to a batch scores
that batch too — the frozen test part and the next fresh batch are the measures that cannot be
fitted. Plain rows (no fourth column) give intent and item; referral and life-event rows score the
classifier's referral place and life event. Every session 6-8 arbitration constant was chosen with
this (README, the blind-batch history).

    python -m benchmarks.nlu_crossval [--misses]
"""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

from intents import Classifier
from intents.evaluation import Case, Prediction, Report, evaluate
from knowledge import load_handbook
from knowledge.directory import EXAMPLES_FILE
from knowledge.loader import default_data_dir

FOLDS = 4
FIRST_BLIND = "# Blind batch 1"


def blind_rows(path: Path) -> list[tuple[str, str, str | None, str]]:
    """(text, intent, item, extra) of every row after the first blind batch's header."""
    lines = path.read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(FIRST_BLIND))
    rows = []
    for line in lines[start:]:
        if not line.strip() or line.startswith("#"):
            continue
        parts = [part.strip() for part in line.split("\t")]
        extra = parts[3] if len(parts) > 3 and parts[3] != "-" else ""
        rows.append((parts[0], parts[1], None if parts[2] in ("-", "") else parts[2], extra))
    return rows


def cross_validate() -> tuple[Report, dict[str, tuple[int, int]]]:
    """The plain rows' report and (right, total) for referral places and life events."""
    handbook = load_handbook()
    rows = blind_rows(default_data_dir() / EXAMPLES_FILE)
    examples = list(handbook.training.examples)
    cases: list[Case] = []
    predicted: dict[str, Prediction] = {}
    extras = {"referral": [0, 0], "life": [0, 0]}
    for fold in range(FOLDS):
        held = [row for index, row in enumerate(rows) if index % FOLDS == fold]
        held_keys = {(text, intent, item) for text, intent, item, _ in held}
        kept = tuple(e for e in examples if (e[0], e[1], e[2] or None) not in held_keys)
        training = dataclasses.replace(handbook.training, examples=kept)
        classifier = Classifier(dataclasses.replace(handbook, training=training))
        for text, intent, item, extra in held:
            norm = classifier.normalize(text)
            kind, _, wanted = extra.partition(":")
            if not extra:
                result = classifier.classify(text)
                cases.append(Case(text, intent, item))
                predicted[text] = Prediction(result.intent, result.item)
            elif kind == "referral":
                place = classifier.referral(norm)
                extras["referral"][0] += place is not None and place.id == wanted
                extras["referral"][1] += 1
            elif kind == "life":
                event = classifier.life_event(norm)
                extras["life"][0] += event is not None and event.id == wanted
                extras["life"][1] += 1
    report = evaluate(lambda text: predicted[text], cases)
    return report, {name: (right, total) for name, (right, total) in extras.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--misses", action="store_true", help="print every plain row classified wrong")
    args = parser.parse_args()
    report, extras = cross_validate()
    print(
        f"{report.total} plain blind rows, {FOLDS} folds: intent {report.intent_accuracy:.1%}, "
        f"item {report.item_accuracy:.1%}, "
        f"out of scope {report.oos_recall:.1%} / {report.oos_precision:.1%}; "
        + "; ".join(f"{name} {right}/{total}" for name, (right, total) in extras.items())
    )
    if args.misses:
        for miss in report.misses:
            print(f"  {miss['text']}  expected {miss['expected']}, got {miss['got']}")


if __name__ == "__main__":
    main()
