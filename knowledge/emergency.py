"""The emergency guide: hazards residents describe, what to do first, and whom to call.

Community data (knowledge/data/emergency.yaml), validated like the rest of the handbook: every
problem is reported as `emergency.yaml: field: problem`. Phone numbers have national defaults
(120, 119, 110, 96333, 95598); the gas and water companies' lines are local.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

ACTS = ("always", "public", "never")


@dataclass(frozen=True, slots=True)
class EmergencyNumber:
    key: str
    label: str
    phone: str


@dataclass(frozen=True, slots=True)
class Hazard:
    kind: str
    title: str
    words: tuple[str, ...]  # regular expressions over normalised text
    advice: tuple[str, ...]
    call: tuple[str, ...]  # keys of EmergencyGuide.numbers, most urgent first
    community_acts: str  # always | public | never
    claim_minutes: int
    item: str = ""  # catalogue id the community's ticket is filed under (when it acts)
    ongoing: bool = False  # a state that lasts (missing, trapped): past words do not cancel it
    # A look-alike: when this matches the message, its words mean something else ("楼上那家人喊不应"
    # about a leak is a neighbour not answering the door, not someone unconscious).
    unless: str = ""
    # What residents ask while it goes on ("能不能给他喝水", "等120还是自己送"): (pattern, answer),
    # answered before the advice is repeated (a session-10 trial resident's stroke questions were not).
    questions: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class EmergencyGuide:
    numbers: dict[str, EmergencyNumber]
    hazards: tuple[Hazard, ...]
    public_places: str  # one alternation each, regular expressions
    not_now: str
    now_words: str
    negations: str
    hypothetical: str
    service_asks: str
    resolved: str  # right after a hazard: it is over ("后来找到了")
    now_near: str  # near the hazard words: it is happening now, whatever else the message says
    jokes: str  # a bare 救命 with these is a figure of speech ("笑死我了救命")
    # After the first reply, still about the emergency: asking for the numbers again, asking the
    # community to send someone ("社区能不能马上来个人").
    ask_numbers: str = "电话|号码"
    ask_someone: str = "派人|来人|来个人"
    # After the first reply: it is over, or never was ("我没得事", "不是紧急情况", "取消").
    stand_down: str = "没事了|不是紧急"
    # After the first reply: when will someone come ("社区的人好久能到") — where the ticket is.
    ask_arrival: str = "好久(能)?到|多久(能)?到|来了没"
    # After the first reply: reach the person's family ("帮忙通知她儿子", "他女儿电话你们有没得"):
    # staff do it; a family's number is never given out here.
    ask_family: str = "(?!)"
    # Anywhere before a hazard word: it was handled already ("120把婆婆拉到医院了，医生说是骨折").
    over_before: str = "(?!)"
    # After the first reply, what fits every hazard and its own questions did not answer ("我好怕",
    # "我已经出来了 在楼下 然后呢"): (pattern, answer), said with the numbers instead of the whole
    # advice again (trial LL r18 got the same block for every message).
    questions: tuple[tuple[str, str], ...] = ()
    sound_alike: tuple[str, ...] = ()  # hazard words also matched when typed with same-sound characters
    sound_alike_keep: tuple[str, ...] = ()  # same-sound spellings that are words of their own

    def hazard(self, kind: str) -> Hazard | None:
        """The hazard of that kind (the one an emergency ticket or conversation names), or None."""
        return next((hazard for hazard in self.hazards if hazard.kind == kind), None)


def parse_emergency(raw: dict[str, Any], problems: list[str]) -> EmergencyGuide | None:
    """Validate and type emergency.yaml; problems are appended as 'emergency.yaml: field: problem'."""
    before = len(problems)

    def error(field: str, message: str) -> None:
        problems.append(f"emergency.yaml: {field}: {message}")

    def pattern(value: Any, field: str) -> str:
        if not isinstance(value, str) or not value.strip():
            error(field, "must be non-empty text (a regular expression)")
            return ""
        try:
            re.compile(value)
        except re.error as exc:
            error(field, f"not a valid regular expression: {exc}")
            return ""
        return value.strip()

    def questions_of(raw_questions: Any, where: str) -> list[tuple[str, str]]:
        if not isinstance(raw_questions, list):
            error(where, "must be a list of {ask, answer}")
            return []
        questions: list[tuple[str, str]] = []
        for number, question in enumerate(raw_questions):
            if not isinstance(question, dict) or not str(question.get("answer", "")).strip():
                error(f"{where}[{number}]", "needs ask (a regular expression) and answer")
                continue
            ask = pattern(question.get("ask"), f"{where}[{number}].ask")
            questions.append((ask, str(question["answer"]).strip()))
        return questions

    numbers: dict[str, EmergencyNumber] = {}
    raw_numbers = raw.get("numbers")
    if not isinstance(raw_numbers, dict) or not raw_numbers:
        error("numbers", "must be a non-empty mapping of key: {label, phone}")
        raw_numbers = {}
    for key, entry in raw_numbers.items():
        if not isinstance(entry, dict) or not str(entry.get("phone", "")).strip():
            error(f"numbers.{key}", "needs a phone")
            continue
        label, phone = str(entry.get("label", key)), str(entry["phone"]).strip()
        numbers[str(key)] = EmergencyNumber(str(key), label, phone)

    hazards: list[Hazard] = []
    raw_hazards = raw.get("hazards")
    if not isinstance(raw_hazards, list) or not raw_hazards:
        error("hazards", "must be a non-empty list")
        raw_hazards = []
    kinds: set[str] = set()
    for index, entry in enumerate(raw_hazards):
        where = f"hazards[{index}]"
        if not isinstance(entry, dict):
            error(where, "must be a mapping")
            continue
        kind = str(entry.get("kind", "")).strip()
        if not kind:
            error(f"{where}.kind", "missing")
        elif kind in kinds:
            error(f"{where}.kind", f"'{kind}' defined twice")
        kinds.add(kind)
        words = entry.get("words")
        if not isinstance(words, list) or not words:
            error(f"{where}.words", "must be a non-empty list")
            words = []
        advice = entry.get("advice")
        if not isinstance(advice, list) or not advice or not all(isinstance(a, str) and a for a in advice):
            error(f"{where}.advice", "must be a non-empty list of lines")
            advice = []
        call = entry.get("call")
        if not isinstance(call, list) or not call:
            error(f"{where}.call", "must list at least one number key")
            call = []
        for key in call:
            if str(key) not in numbers:
                error(f"{where}.call", f"unknown number '{key}' (numbers has {', '.join(numbers)})")
        acts = entry.get("community_acts", "never")
        if acts != "never" and not entry.get("item"):
            error(f"{where}.item", "missing: the catalogue item the community's ticket is filed under")
        if acts not in ACTS:
            error(f"{where}.community_acts", f"must be one of {', '.join(ACTS)}")
        questions = questions_of(entry.get("questions", []), f"{where}.questions")
        minutes = entry.get("claim_minutes", 5)
        if not isinstance(minutes, int) or isinstance(minutes, bool) or minutes <= 0:
            error(f"{where}.claim_minutes", "must be a positive whole number")
            minutes = 5
        hazards.append(
            Hazard(
                kind=kind,
                title=str(entry.get("title", kind)),
                words=tuple(pattern(w, f"{where}.words[{i}]") for i, w in enumerate(words)),
                advice=tuple(str(a) for a in advice),
                call=tuple(str(c) for c in call),
                community_acts=str(acts),
                claim_minutes=minutes,
                item=str(entry.get("item", "") or ""),
                ongoing=entry.get("ongoing") is True,
                unless=pattern(entry.get("unless"), f"{where}.unless") if entry.get("unless") else "",
                questions=tuple(questions),
            )
        )
    fields = (
        "public_places",
        "not_now",
        "now_words",
        "negations",
        "hypothetical",
        "service_asks",
        "now_near",
        "resolved",
        "jokes",
        "ask_numbers",
        "ask_someone",
    )
    alternations = {name: pattern(raw.get(name), name) for name in fields}
    # A community's copy made before these were added keeps loading.
    for optional in ("stand_down", "ask_arrival", "over_before", "ask_family"):
        if raw.get(optional):
            alternations[optional] = pattern(raw.get(optional), optional)
    words: dict[str, tuple[str, ...]] = {}
    for name in ("sound_alike", "sound_alike_keep"):
        value = raw.get(name, [])
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            error(name, "must be a list of words")
            value = []
        words[name] = tuple(v.strip() for v in value)
    any_questions = tuple(questions_of(raw.get("any_questions", []), "any_questions"))
    if len(problems) > before:
        return None
    return EmergencyGuide(
        numbers=numbers, hazards=tuple(hazards), **alternations, **words, questions=any_questions
    )
