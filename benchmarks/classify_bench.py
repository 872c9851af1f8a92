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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=5.0, help="timed seconds in all, both sides")
    parser.add_argument("--runs", type=int, default=5, help="alternating windows per side")
    args = parser.parse_args()
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
