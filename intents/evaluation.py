"""Score a classifier on labelled messages, as `rasa test nlu` reports an NLU model.

Used by `baishitong nlu report FILE.tsv` (and CI, on the frozen test part), by the tests and by
whoever scores a fresh blind batch before changing the classifier. Pure: no I/O but reading the file.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

ITEM_INTENTS = ("consult", "order")
OUT_OF_SCOPE = "unknown"


class Case(NamedTuple):
    """One labelled message. `extra` carries a blind batch's fourth column (life:…, referral:…)."""

    text: str
    intent: str
    item: str | None
    extra: str = ""


class Prediction(NamedTuple):
    intent: str
    item: str | None


def read_cases(path: str | Path) -> list[Case]:
    """text<TAB>intent<TAB>item[<TAB>extra] lines; '#' comments and blank lines skipped; '-' is no item."""
    cases = []
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        parts = line.split("\t")
        if len(parts) not in (3, 4):
            raise ValueError(f"{path}:{number}: expected 3 or 4 tab-separated columns, got {len(parts)}")
        text, intent, item = (part.strip() for part in parts[:3])
        extra = parts[3].strip() if len(parts) == 4 else ""
        cases.append(Case(text, intent, None if item in ("-", "") else item, "" if extra == "-" else extra))
    return cases


@dataclass
class Report:
    """Every figure of one scoring run; `as_json()` is what `nlu report --json` writes."""

    total: int
    intent_accuracy: float
    item_accuracy: float
    item_total: int
    oos_recall: float
    oos_precision: float
    per_intent: dict[str, dict[str, float]]
    confusion: dict[str, dict[str, int]]
    per_item: dict[str, dict[str, float]]
    top_confusions: list[tuple[str, str, int]]
    misses: list[dict[str, Any]] = field(default_factory=list)

    def meets(self, minimum: float, oos_minimum: float) -> list[str]:
        """The figures below their minimum, worded for a CI log; empty when all pass."""
        failures = []
        for name, value, floor in (
            ("intent accuracy", self.intent_accuracy, minimum),
            ("item accuracy", self.item_accuracy, minimum),
            ("out-of-scope recall", self.oos_recall, oos_minimum),
            ("out-of-scope precision", self.oos_precision, oos_minimum),
        ):
            if value < floor:
                failures.append(f"{name} {value:.1%} is below {floor:.0%}")
        return failures

    def as_json(self) -> dict[str, Any]:
        return {
            "total": self.total,
            "intent_accuracy": round(self.intent_accuracy, 4),
            "item_accuracy": round(self.item_accuracy, 4),
            "item_total": self.item_total,
            "out_of_scope": {"recall": round(self.oos_recall, 4), "precision": round(self.oos_precision, 4)},
            "per_intent": self.per_intent,
            "confusion_matrix": self.confusion,
            "per_item": self.per_item,
            "top_confusions": [{"expected": a, "got": b, "count": n} for a, b, n in self.top_confusions],
            "misses": self.misses,
        }

    def lines(self, show_misses: int = 30) -> list[str]:
        """The report as a terminal reads it: summary, per-intent table, confusion matrix, items."""
        out = [
            f"{self.total} messages: intent {self.intent_accuracy:.1%}, item {self.item_accuracy:.1%} "
            f"({self.item_total} consult/order), out-of-scope recall {self.oos_recall:.1%}, "
            f"precision {self.oos_precision:.1%}",
            "",
            f"{'intent':<10}{'precision':>10}{'recall':>8}{'f1':>7}{'support':>9}",
        ]
        for intent, row in self.per_intent.items():
            out.append(
                f"{intent:<10}{row['precision']:>10.2f}{row['recall']:>8.2f}{row['f1']:>7.2f}{row['support']:>9}"
            )
        labels = list(self.confusion)
        predicted = sorted({got for row in self.confusion.values() for got in row})
        out += [
            "",
            "confusion (rows expected, columns got):",
            " " * 10 + "".join(f"{p[:7]:>8}" for p in predicted),
        ]
        for label in labels:
            row = self.confusion[label]
            out.append(f"{label:<10}" + "".join(f"{row.get(p, 0):>8}" for p in predicted))
        weak = sorted(
            ((item, row) for item, row in self.per_item.items() if row["accuracy"] < 1.0),
            key=lambda pair: pair[1]["accuracy"],
        )
        if weak:
            out += ["", "items below 100%:"]
            out += [f"  {item:<28}{row['accuracy']:.0%} of {row['support']}" for item, row in weak]
        if self.top_confusions:
            out += ["", "top confusions:"]
            out += [f"  {n} × {a} → {b}" for a, b, n in self.top_confusions]
        if self.misses and show_misses:
            out += ["", f"misses (first {min(show_misses, len(self.misses))} of {len(self.misses)}):"]
            out += [
                f"  {m['text']}  expected {m['expected']}, got {m['got']}" for m in self.misses[:show_misses]
            ]
        return out


def evaluate(classify: Callable[[str], Prediction], cases: Iterable[Case]) -> Report:
    """Score `classify` (text → intent and item) on `cases`.

    Item accuracy counts consult/order messages whose item (or lack of one) is right, whatever the
    intent came out as; out-of-scope recall and precision treat `unknown` as the positive class.
    """
    cases = list(cases)
    intent_confusion: dict[str, Counter[str]] = {}
    item_hits: Counter[str] = Counter()
    item_support: Counter[str] = Counter()
    confusions: Counter[tuple[str, str]] = Counter()
    misses: list[dict[str, Any]] = []
    intent_hits = 0
    for case in cases:
        got = classify(case.text)
        intent_confusion.setdefault(case.intent, Counter())[got.intent] += 1
        intent_hits += got.intent == case.intent
        item_wrong = False
        if case.intent in ITEM_INTENTS:
            key = case.item or "-"
            item_support[key] += 1
            if got.item == case.item:
                item_hits[key] += 1
            else:
                item_wrong = True
                confusions[(key, got.item or "-")] += 1
        if got.intent != case.intent:
            confusions[(case.intent, got.intent)] += 1
        if got.intent != case.intent or item_wrong:
            misses.append(
                {
                    "text": case.text,
                    "expected": f"{case.intent}/{case.item or '-'}",
                    "got": f"{got.intent}/{got.item or '-'}",
                }
            )
    labels = sorted(set(intent_confusion) | {g for row in intent_confusion.values() for g in row})
    per_intent = {}
    for label in labels:
        true_positive = intent_confusion.get(label, Counter())[label]
        support = sum(intent_confusion.get(label, Counter()).values())
        predicted = sum(row[label] for row in intent_confusion.values())
        precision = true_positive / predicted if predicted else 0.0
        recall = true_positive / support if support else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_intent[label] = {
            "precision": round(precision, 4),
            "recall": round(recall, 4),
            "f1": round(f1, 4),
            "support": support,
        }
    oos_hits = intent_confusion.get(OUT_OF_SCOPE, Counter())[OUT_OF_SCOPE]
    oos_support = sum(intent_confusion.get(OUT_OF_SCOPE, Counter()).values())
    oos_predicted = sum(row[OUT_OF_SCOPE] for row in intent_confusion.values())
    item_total = sum(item_support.values())
    return Report(
        total=len(cases),
        intent_accuracy=intent_hits / len(cases) if cases else 0.0,
        item_accuracy=sum(item_hits.values()) / item_total if item_total else 1.0,
        item_total=item_total,
        oos_recall=oos_hits / oos_support if oos_support else 1.0,
        oos_precision=oos_hits / oos_predicted if oos_predicted else 1.0,
        per_intent=per_intent,
        confusion={
            label: dict(intent_confusion.get(label, {})) for label in labels if label in intent_confusion
        },
        per_item={
            item: {"accuracy": round(item_hits[item] / n, 4), "support": n}
            for item, n in sorted(item_support.items())
        },
        top_confusions=[(a, b, n) for (a, b), n in confusions.most_common(15)],
        misses=misses,
    )
