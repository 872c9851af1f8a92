"""The `questions` of a handbook entry — an item, or another agency in the referral directory: the
words that ask each one and its answer. One parser for both, so an agency's questions get the same
checks as an item's (the directory had its own copy without the length and shadowing checks)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from knowledge.models import Question

QUESTION_ANSWER_MAX = 300  # characters: one short paragraph, with the checklist one reply away

Report = Callable[[str, str], None]  # (field, problem): where the caller collects what is wrong


def parse_questions(
    value: Any, report: Report, *, keys: tuple[str, ...] = ("ask", "answer")
) -> tuple[Question, ...]:
    """Each entry's `ask` (words any one of which asks it) and `answer`; `keys` are the fields an
    entry may have (an item's may also say `anywhere` and `not_done_here`)."""
    if value is None:
        return ()
    if not isinstance(value, list) or not value:
        report("questions", "must be a non-empty list")
        return ()
    questions: list[Question] = []
    asked: list[tuple[int, tuple[str, ...]]] = []  # each earlier question's index and ask words
    for index, entry in enumerate(value):
        here = f"questions[{index}]"
        if not isinstance(entry, dict):
            report(here, "must be a mapping with ask and answer")
            continue
        for key in entry:
            if key not in keys:
                report(f"{here}.{key}", "unknown field")
        ask = _words(entry.get("ask"), f"{here}.ask", report)
        answer = _text(entry.get("answer"), f"{here}.answer", report)
        if len(answer) > QUESTION_ANSWER_MAX:
            report(f"{here}.answer", f"longer than {QUESTION_ANSWER_MAX} characters")
        _check_not_shadowed(report, index, ask, asked)
        asked.append((index, ask))
        anywhere, not_done_here = (_flag(entry, here, key, report) for key in ("anywhere", "not_done_here"))
        if ask and answer:
            questions.append(Question(ask, answer, anywhere, not_done_here))
    return tuple(questions)


def _flag(entry: dict[str, Any], here: str, key: str, report: Report) -> bool:
    value = entry.get(key, False)
    if not isinstance(value, bool):
        report(f"{here}.{key}", "must be true or false")
        return False
    return value


def _words(value: Any, field: str, report: Report) -> tuple[str, ...]:
    if value is None:
        report(field, "missing")
        return ()
    if not isinstance(value, list) or not value:
        report(field, "must be a non-empty list")
        return ()
    out: list[str] = []
    for index, entry in enumerate(value):
        if not isinstance(entry, (str, int)) or isinstance(entry, bool) or not str(entry).strip():
            report(f"{field}[{index}]", "must be non-empty text")
            continue
        out.append(str(entry).strip())
    return tuple(out)


def _text(value: Any, field: str, report: Report) -> str:
    if value is None or value == "":
        report(field, "missing")
        return ""
    if not isinstance(value, (str, int, float)) or isinstance(value, bool):
        report(field, "must be text")
        return ""
    return str(value).strip()


def _check_not_shadowed(
    report: Report, index: int, ask: tuple[str, ...], earlier: list[tuple[int, tuple[str, ...]]]
) -> None:
    """The first question whose word a message holds is the one answered: a word that holds an
    earlier question's word (有车库 after 有车) would never ask its own question."""
    for word in ask:
        for before, words in earlier:
            taken = next((w for w in words if w in word), None)
            if taken is not None:
                report(
                    f"questions[{index}].ask",
                    f"'{word}' is already asked by questions[{before}] ('{taken}' comes first)",
                )
