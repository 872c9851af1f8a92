"""Classification throughput on one core over the labelled set, beside jieba.lcut on the same
messages in the same run (the classifier issue's target: at least jieba.lcut's rate).

Every call classifies from scratch: the messages are the distinct labelled texts (each once, so
no message follows itself and the classifier's one-answer memory, kept for the several routes
that ask about one message, never answers a call), and nothing is cached by message, so repeated
passes over the set cost the same as the first. Pinned to one CPU with sched_setaffinity so the
figure is per core. The two are timed in alternating windows, so the VM's drift hits both alike.

    python -m benchmarks.classify_bench [--seconds 5] [--runs 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

from intents import Classifier
from knowledge import load_handbook
from tests.messages import texts as _labelled_texts


def load_texts() -> list[str]:
    """The labelled messages, each text once (a few are labelled in both files)."""
    return list(dict.fromkeys(_labelled_texts()))


def measure(seconds: float, runs: int = 5) -> dict[str, float]:
    """Median and range over `runs` timed windows: this VM's speed drifts by up to 1.5x minute to minute."""
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    start = time.perf_counter()
    classifier = Classifier(load_handbook())
    startup = time.perf_counter() - start
    texts = load_texts()
    for text in texts:  # warm-up: first use of regexes and jieba structures
        classifier.classify(text)
    import jieba

    jieba.initialize()
    for text in texts:
        jieba.lcut(text)
    rates, jieba_rates = [], []
    for _ in range(runs):
        rates.append(_rate(classifier.classify, texts, seconds / runs / 2))
        jieba_rates.append(_rate(jieba.lcut, texts, seconds / runs / 2))
    return {
        "jieba_per_second": statistics.median(jieba_rates),
        "per_second": statistics.median(rates),
        "slowest": min(rates),
        "fastest": max(rates),
        "microseconds_each": 1e6 / statistics.median(rates),
        "startup_seconds": startup,
        "mean_chars": sum(map(len, texts)) / len(texts),
        "set_size": len(texts),
    }


def _rate(function, texts: list[str], seconds: float) -> float:
    """Messages per second of this process's CPU time: on a machine shared with other jobs, wall
    time would count the moments the core ran someone else."""
    count = 0
    start = time.process_time()
    while time.process_time() - start < seconds:
        for text in texts:
            function(text)
        count += len(texts)
    return count / (time.process_time() - start)


def stages(rounds: int = 40, chunk: int = 300) -> dict[str, float]:
    """Microseconds a message for each stage of classify() alone, beside jieba.lcut and the whole
    classify(): CPU time, lower quartile over `rounds` chunks of `chunk` messages, the stages
    interleaved chunk by chunk. Each stage runs over its own precomputed inputs, so it is warmer in
    cache than inside classify(): the stages add up to less than the whole."""
    import jieba

    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    classifier = Classifier(load_handbook())
    model = classifier.learned
    assert model is not None
    vocabulary, features = model.vocabulary, model.features
    jieba.initialize()
    rows = []
    for text in load_texts():
        norm = classifier.normalize(text)
        words = classifier._segmenter.cut(norm)
        found = features.columns(vocabulary, norm, words)
        vector = vocabulary.weigh(found)
        rows.append((text, norm, words, found, vector, model._product(vector)))
    steps = {
        "jieba.lcut": lambda row: jieba.lcut(row[0]),
        "classify": lambda row: classifier._classify(row[0]),
        "normalise": lambda row: classifier.normalize(row[0]),
        "words": lambda row: classifier._segmenter.cut(row[1]),
        "rules": lambda row: classifier._by_rules(row[0], row[1], row[2]),
        "referral words": lambda row: classifier.referrals.find(row[1]),
        "features": lambda row: features.columns(vocabulary, row[1], row[2]),
        "tf-idf": lambda row: vocabulary.weigh(row[3]),
        "product": lambda row: model._product(row[4]),
        "softmax and ranking": lambda row: model._heads_read(model._exps(row[5])),
    }
    times: dict[str, list[float]] = {name: [] for name in steps}
    for index in range(rounds):
        start = (index * chunk) % max(1, len(rows) - chunk)
        part = rows[start : start + chunk]
        for name, step in steps.items():
            begun = time.process_time()
            for row in part:
                step(row)
            times[name].append((time.process_time() - begun) / len(part) * 1e6)
    return {name: sorted(spent)[len(spent) // 4] for name, spent in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=5.0, help="timed seconds in all, both sides")
    parser.add_argument("--runs", type=int, default=5, help="alternating windows per side")
    parser.add_argument("--stages", action="store_true", help="what each stage of a message costs")
    args = parser.parse_args()
    if args.stages:
        for name, microseconds in stages().items():
            print(f"{name:>20}: {microseconds:6.1f} µs a message")
        return
    result = measure(args.seconds, args.runs)
    print(
        f"classification: {result['per_second']:,.0f} messages/s on one core, median of {args.runs} "
        f"(range {result['slowest']:,.0f}-{result['fastest']:,.0f}; "
        f"{result['microseconds_each']:.1f} µs each; "
        f"{result['set_size']} distinct labelled messages, mean {result['mean_chars']:.1f} characters; "
        f"start-up incl. jieba {result['startup_seconds']:.2f} s)"
    )
    print(
        f"jieba.lcut on the same messages: {result['jieba_per_second']:,.0f} messages/s; "
        f"classify / lcut = {result['per_second'] / result['jieba_per_second']:.2f}"
    )


if __name__ == "__main__":
    main()
