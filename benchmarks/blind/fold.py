"""Fold a scored blind batch into the training examples, after its score is recorded.

Appends the batch under a "# blind batch N: ..." header (the cross-validation reads everything after
the first such header), skipping rows already in the training file or in the frozen test part, and
writing `-` for the item of intents that carry none.

    python -m benchmarks.blind.fold BATCH.tsv N "header text after 'Blind batch N: '"
"""

from __future__ import annotations

import argparse
from pathlib import Path

from intents.evaluation import read_cases
from knowledge.directory import EXAMPLES_FILE
from knowledge.loader import default_data_dir

ITEM_INTENTS = ("consult", "order")
FROZEN = Path(__file__).resolve().parents[2] / "tests" / "data" / "nlu_test.tsv"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("batch")
    parser.add_argument("number", type=int)
    parser.add_argument("header")
    args = parser.parse_args()
    target = default_data_dir() / EXAMPLES_FILE
    seen = {case.text for case in read_cases(FROZEN)}
    seen |= {line.split("\t")[0] for line in target.read_text(encoding="utf-8").splitlines()}
    rows = []
    for case in read_cases(args.batch):
        if case.text in seen:
            continue
        seen.add(case.text)
        item = case.item if case.intent in ITEM_INTENTS and case.item else "-"
        row = f"{case.text}\t{case.intent}\t{item}"
        rows.append(row + (f"\t{case.extra}" if case.extra else ""))
    text = target.read_text(encoding="utf-8").rstrip("\n")
    header = f"# blind batch {args.number}: {args.header}"
    target.write_text(text + "\n" + header + "\n" + "\n".join(rows) + "\n", encoding="utf-8")
    print(f"{len(rows)} rows folded into {target}")


if __name__ == "__main__":
    main()
