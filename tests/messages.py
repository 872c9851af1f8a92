"""The project's labelled messages: the training examples (knowledge/data/training/examples.tsv)
and the frozen test part (tests/data/nlu_test.tsv). Tests that need real resident text read them here;
every_text() adds the first column of the other labelled files (emergencies, own tickets, dates…)."""

from __future__ import annotations

from pathlib import Path

from knowledge.loader import default_data_dir

FROZEN_TEST = Path(__file__).parent / "data" / "nlu_test.tsv"
TRAINING = default_data_dir() / "training" / "examples.tsv"


def texts() -> list[str]:
    """Every labelled message, training part first."""
    out = []
    for path in (TRAINING, FROZEN_TEST):
        out += [
            line.split("\t")[0]
            for line in path.read_text(encoding="utf-8").splitlines()
            if line[:1] not in ("", "#")
        ]
    return out


def every_text() -> list[str]:
    """The first column of the training examples and of every tests/data/*.tsv, each text once."""
    found: dict[str, None] = {}
    for path in (TRAINING, *sorted(FROZEN_TEST.parent.glob("*.tsv"))):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line[:1] not in ("", "#"):
                found.setdefault(line.split("\t")[0])
    return list(found)
