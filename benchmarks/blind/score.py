"""Score a blind batch on the code as it stands, before anything is changed because of it.

Plain rows (no fourth column) give intent, item and out-of-scope recall/precision, as `nlu report`;
every row's intent gives the "all lines" figure; the extras score what the bot does with them:
`referral:<id>` the classifier's referral place, `life:<id>` its life event, `lonely` the lonely words,
`worry_alone` the danger detector's `alone` hazard.

    python -m benchmarks.blind.score BATCH.tsv [--misses]
"""

from __future__ import annotations

import argparse

from intents import Classifier
from intents.evaluation import Case, Prediction, evaluate, read_cases
from knowledge import load_handbook


def extra_right(classifier: Classifier, case: Case) -> bool:
    kind, _, wanted = case.extra.partition(":")
    norm = classifier.normalize(case.text)
    if kind == "referral":
        place = classifier.referral(norm)
        return place is not None and place.id == wanted
    if kind == "life":
        event = classifier.life_event(norm)
        return event is not None and event.id == wanted
    if kind == "lonely":
        return any(word in clause for clause in norm.split() for word in classifier.lexicon.lonely)
    if kind == "worry_alone":
        danger = classifier.danger.detect(case.text) if classifier.danger else None
        return danger is not None and danger.hazard.kind == "alone"
    raise ValueError(f"unknown extra {case.extra!r}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("batch")
    parser.add_argument("--misses", action="store_true")
    args = parser.parse_args()
    classifier = Classifier(load_handbook())
    cases = read_cases(args.batch)
    results = {case.text: classifier.classify(case.text) for case in cases}
    plain = [case for case in cases if not case.extra]
    report = evaluate(lambda text: Prediction(results[text].intent, results[text].item), plain)
    every = sum(results[case.text].intent == case.intent for case in cases)
    print(
        f"{len(cases)} rows, {len(plain)} plain: intent {report.intent_accuracy:.1%} "
        f"(all lines {every / len(cases):.1%}), item {report.item_accuracy:.1%}, "
        f"out of scope R {report.oos_recall:.1%} / P {report.oos_precision:.1%}"
    )
    extras: dict[str, list[int]] = {}
    missed_extras = []
    for case in cases:
        if case.extra:
            kind = case.extra.partition(":")[0]
            tally = extras.setdefault(kind, [0, 0])
            right = extra_right(classifier, case)
            tally[0] += right
            tally[1] += 1
            if not right:
                missed_extras.append(case)
    print("; ".join(f"{kind} {right}/{total}" for kind, (right, total) in extras.items()))
    if args.misses:
        for miss in report.misses:
            print(f"  {miss['text']}  expected {miss['expected']}, got {miss['got']}")
        for case in missed_extras:
            result = results[case.text]
            print(f"  [{case.extra}] {case.text}  ({result.intent}/{result.item})")


if __name__ == "__main__":
    main()
