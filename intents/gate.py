"""A literal gate in front of a large cue pattern: skip the regex when no word it needs is present.

The cue patterns (phrasings.yaml `cues`) are alternations of a hundred or more phrasings. CPython's
regex engine tries every alternative that begins with the character under the cursor, so a search
over a twenty-character message costs 3–10 µs even when nothing matches — and nothing matches for
most cues on most messages. Every phrasing holds some literal run that any match must contain
("办好了吗" in "(办好|修好)了吗" holds "了吗"); one Aho-Corasick pass over those runs (pyahocorasick,
C) answers "can this pattern match here at all?" in well under a microsecond. Only when one is
present does the real search run, so the answer is the regex's own, bit for bit
(tests/test_classifier_fast_paths.py checks that on every labelled message).

Written here because no library derives the required literals of a Python regex; the automaton
itself is pyahocorasick's.
"""

from __future__ import annotations

import re
from re import _constants as sre_constants  # type: ignore[attr-defined]
from re import _parser as sre_parser  # type: ignore[attr-defined]
from typing import Any

import ahocorasick

_MIN_GATED_LENGTH = 400  # shorter patterns are cheap enough already; a gate call costs ~0.3 µs


class GatedPattern:
    """A compiled pattern whose `search` first asks an automaton of the literals it needs.

    Everything but `search` is the pattern's own (`match`, `pattern`, …): callers keep using it as
    a compiled regex."""

    __slots__ = ("_needles", "_pattern")

    def __init__(self, pattern: re.Pattern[str], needles: ahocorasick.Automaton):
        self._pattern = pattern
        self._needles = needles

    def search(self, text: str, *bounds: int) -> re.Match[str] | None:
        if not bounds:
            for _ in self._needles.iter(text):
                return self._pattern.search(text)
            return None
        return self._pattern.search(text, *bounds)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._pattern, name)

    def __repr__(self) -> str:
        return f"GatedPattern({self._pattern.pattern[:40]!r}…)"


def gated(pattern: re.Pattern[str]) -> re.Pattern[str] | GatedPattern:
    """`pattern` behind a literal gate, or the pattern itself when it is short or some alternative
    needs no literal (then a gate could never say no)."""
    if len(pattern.pattern) < _MIN_GATED_LENGTH or pattern.flags & re.IGNORECASE:
        return pattern
    try:
        needles = required_literals(sre_parser.parse(pattern.pattern))
    except (re.error, ValueError, TypeError):
        return pattern
    if not needles:
        return pattern
    automaton = ahocorasick.Automaton()
    for needle in needles:
        automaton.add_word(needle, needle)
    automaton.make_automaton()
    return GatedPattern(pattern, automaton)


_MAX_STRINGS = 64  # a run of alternatives multiplies out; past this it is not worth a needle list


def required_literals(sequence: Any) -> set[str] | None:
    """Strings one of which every match of the parsed `sequence` contains, or None if there are none.

    Consecutive parts that match one of a few fixed strings ("(要|收)(钱|费)") multiply out into
    the strings such a run matches; a group or a repeat of at least one that is not fixed needs what
    its content needs; a branch needs one of its alternatives' needs when every alternative has
    some. Of the candidates, the set with the longest shortest string wins."""
    candidates: list[set[str]] = []
    run: set[str] = {""}
    for op, argument in sequence:
        fixed = _fixed_atom(op, argument)
        if fixed is not None:
            product = {head + tail for head in run for tail in fixed}
            if len(product) > _MAX_STRINGS:
                candidates.append(run)
                product = fixed
            run = product
            continue
        candidates.append(run)
        run = {""}
        inner: Any = None
        if op is sre_constants.SUBPATTERN:
            _group, add_flags, del_flags, body = argument
            # (?i:…) matches other spellings than its literals: it needs nothing the gate could check.
            inner = body if not (add_flags or del_flags) else None
        elif op in (sre_constants.MAX_REPEAT, sre_constants.MIN_REPEAT) and argument[0] >= 1:
            inner = argument[2]
        elif op is sre_constants.BRANCH:
            branches = [required_literals(branch) for branch in argument[1]]
            if all(branches):
                candidates.append(set().union(*branches))  # type: ignore[arg-type]
        if inner is not None:
            found = required_literals(inner)
            if found:
                candidates.append(found)
    candidates.append(run)
    useful = [candidate for candidate in candidates if "" not in candidate]
    return max(useful, key=lambda candidate: min(map(len, candidate)), default=None)


def _fixed(sequence: Any) -> set[str] | None:
    """The few fixed strings a parsed sequence matches exactly, or None."""
    strings = {""}
    for op, argument in sequence:
        fixed = _fixed_atom(op, argument)
        if fixed is None:
            return None
        strings = {head + tail for head in strings for tail in fixed}
        if len(strings) > _MAX_STRINGS:
            return None
    return strings


def _fixed_atom(op: Any, argument: Any) -> set[str] | None:
    """The fixed strings one parsed element matches: a character, a set of plain characters, a
    plain group, a branch of fixed alternatives, an optional fixed part; None for anything else."""
    if op is sre_constants.LITERAL:
        return {chr(argument)}
    if op is sre_constants.IN:
        if all(kind is sre_constants.LITERAL for kind, _ in argument):
            return {chr(code) for _, code in argument}
        return None
    if op is sre_constants.SUBPATTERN:
        _group, add_flags, del_flags, inner = argument
        return _fixed(inner) if not (add_flags or del_flags) else None
    if op is sre_constants.BRANCH:
        branches = [_fixed(branch) for branch in argument[1]]
        if any(branch is None for branch in branches):
            return None
        union = set().union(*branches)  # type: ignore[arg-type]
        return union if len(union) <= _MAX_STRINGS else None
    if op in (sre_constants.MAX_REPEAT, sre_constants.MIN_REPEAT) and argument[1] <= 1:
        inner = _fixed(argument[2])
        if inner is None:
            return None
        return inner | {""} if argument[0] == 0 else inner
    return None
