"""Does a message describe danger to life or property now? Pure, and checked before anything else.

The hazards, their words and the numbers to call are community data (knowledge/data/
emergency.yaml); this module compiles them once. A hazard word counts unless it is negated right
before ("没有着火"), or the message speaks of the past ("去年摔过一跤") or of a service
("中风了残疾证怎么办", "怕老人走丢想办个手环") without any word that it is happening now.
Missing a real emergency costs far more than a spare line of advice, so the words are broad and
the exceptions narrow.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from intents.normalize import normalize
from knowledge.emergency import EmergencyGuide, EmergencyNumber, Hazard

_NEGATION_REACH = 3  # characters before a hazard word in which a negation cancels it
_SUPPOSE_REACH = 8  # characters before it in which 万一 / 担心 make it a supposition


@dataclass(frozen=True, slots=True)
class Danger:
    hazard: Hazard
    others: tuple[Hazard, ...]  # further hazards in the same message ("电梯里有人晕倒")
    numbers: tuple[EmergencyNumber, ...]  # most urgent first, at most three
    public: bool  # it happens in a shared place (stairwell, lift, courtyard)
    community_acts: bool  # the community should send someone now
    said: str  # the words that matched


class DangerDetector:
    def __init__(self, guide: EmergencyGuide):
        self.guide = guide
        self._hazards = [(h, re.compile("|".join(f"(?:{w})" for w in h.words))) for h in guide.hazards]
        self._public = re.compile(guide.public_places)
        self._not_now = re.compile(guide.not_now)
        self._now = re.compile(guide.now_words)
        self._negation = re.compile(f"(?:{guide.negations})$")
        self._hypothetical = re.compile(guide.hypothetical)
        self._service = re.compile(guide.service_asks)

    def detect(self, text: str) -> Danger | None:
        """The danger a message describes, or None."""
        normal = normalize(text)
        if not normal:
            return None
        found: list[tuple[Hazard, str, int]] = []
        for hazard, pattern in self._hazards:
            for match in pattern.finditer(normal):
                if not self._negated(normal, match.start()):
                    found.append((hazard, match.group(), match.start()))
                    break
        if not found:
            return None
        if not self._now.search(normal) and (
            self._not_now.search(normal) or self._service.search(normal) or self._supposed(normal, found)
        ):
            return None
        hazard, said, _ = found[0]
        others = tuple(h for h, _, _ in found[1:])
        public = bool(self._public.search(normal))
        acts = any(_acts(h, public) for h, *_ in found)
        keys: list[str] = []
        for h in (hazard, *others):
            for key in h.call:
                if key not in keys:
                    keys.append(key)
        numbers = tuple(self.guide.numbers[k] for k in keys[:3])
        return Danger(hazard, others, numbers, public, acts, said)

    def _supposed(self, text: str, found: list[tuple[Hazard, str, int]]) -> bool:
        """A hypothetical word before the first hazard word: "万一老人走丢", "担心煤气泄漏"."""
        first = min(start for _, _, start in found)
        return bool(self._hypothetical.search(text, max(0, first - _SUPPOSE_REACH), first))

    def _negated(self, text: str, start: int) -> bool:
        before = text[max(0, start - _NEGATION_REACH) : start].replace(" ", "")
        return bool(self._negation.search(before))


def _acts(hazard: Hazard, public: bool) -> bool:
    return hazard.community_acts == "always" or (hazard.community_acts == "public" and public)
