"""The time-expression reference table: every reading at four fixed moments (a working day, a
Saturday, the eve of 元旦, 23:50). Written blind, before the parser was changed (first score
268/273), and kept as the parser's contract: a time is read correctly or asked again."""

from __future__ import annotations

from datetime import datetime, time
from pathlib import Path

import pytest

from intents.when import PARTS, WhenError, WhenUnclear, read_window
from tests.conftest import SHANGHAI

TABLE = Path(__file__).parent / "data" / "when_table.tsv"
NOWS = {
    "W": datetime(2026, 12, 2, 10, 15, tzinfo=SHANGHAI),  # Wednesday, a working day
    "S": datetime(2026, 11, 28, 12, 30, tzinfo=SHANGHAI),  # Saturday, lunchtime duty
    "E": datetime(2026, 12, 31, 16, 0, tzinfo=SHANGHAI),  # the eve of 元旦
    "L": datetime(2026, 12, 2, 23, 50, tzinfo=SHANGHAI),  # late at night
}
PART_CODES = {
    "am": ("上午",),
    "noon": ("中午",),
    "pm": ("下午",),
    "evening": ("晚上", "傍晚"),
    "night": ("半夜", "凌晨"),
}


def reading(text: str, now: datetime) -> str:
    """The parser's answer in the table's words."""
    try:
        window = read_window(text, now)
    except WhenUnclear:
        return "ask"
    except WhenError as exc:
        return "past" if "过去" in str(exc) else "ask"
    if window is None:
        return "none"
    if window.asap:
        return "asap"
    if window.gone(now):
        return "past"
    day = window.start.date().isoformat()
    if window.start.time() == time(0) and window.end.time() == time(0):
        return day
    for code, names in PART_CODES.items():
        if any((window.start.time(), window.end.time()) == PARTS[name] for name in names):
            return f"{day} {code}"
    if window.exact:
        return f"{day} {window.start:%H:%M}"
    return f"{day} {window.start:%H:%M}-{window.end:%H:%M}"


def rows() -> list[tuple[str, str, str]]:
    lines = TABLE.read_text(encoding="utf-8").splitlines()
    return [tuple(line.split("\t")) for line in lines if line.strip() and not line.startswith("#")]


def test_the_table_is_large_and_covers_every_moment() -> None:
    table = rows()
    assert len(table) >= 150
    assert {now for now, _, _ in table} == set(NOWS)
    assert {"past", "ask", "none", "asap"} <= {expected for _, _, expected in table}


@pytest.mark.parametrize(("now", "text", "expected"), rows())
def test_reading(now: str, text: str, expected: str) -> None:
    assert reading(text, NOWS[now]) == expected
