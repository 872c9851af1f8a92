"""Points (党员积分) and rating averages for finished work — the rule is data, the sums pure.

Each finished task earns its taker `weight(item) × stars[rating]` points (`unrated` in place of
the stars when the resident gave none); a community task carries its own weight. The rule is the
responders document's `points:` section (examples/responders.yaml); without one, DEFAULT_RULE.
Points are worked out from the finished work when asked, by the rule in force then.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from storage.responders import DoneWork

STAFF_GROUP = "社区工作人员"
DEFAULT_RULE: dict[str, Any] = {
    "stars": {5: 10, 4: 8, 3: 5, 2: 2, 1: 0},
    "unrated": 6,
    "weights": {"default": 1},
}


@dataclass(frozen=True, slots=True)
class PointsRule:
    stars: dict[int, float]
    unrated: float
    weights: dict[str, float]

    def weight(self, item_id: str) -> float:
        return self.weights.get(item_id, self.weights.get("default", 1.0))

    def points(self, work: DoneWork) -> float:
        weight = work.weight if work.weight is not None else self.weight(work.item_id)
        per = self.unrated if work.rating is None else self.stars.get(work.rating, 0.0)
        return weight * per


def parse_rule(raw: Any, problems: list[str]) -> PointsRule:
    """The `points:` section; problems are appended as 'points.field: problem'."""
    raw = DEFAULT_RULE if raw is None else raw
    if not isinstance(raw, dict):
        problems.append("points: must have stars, unrated and weights")
        raw = DEFAULT_RULE
    stars: dict[int, float] = {}
    given = raw.get("stars", DEFAULT_RULE["stars"])
    if not isinstance(given, dict):
        problems.append("points.stars: must map 1-5 stars to points")
        given = {}
    for key, value in given.items():
        try:
            star = int(key)
        except (TypeError, ValueError):
            star = 0
        if not 1 <= star <= 5:
            problems.append(f"points.stars.{key}: must be a star from 1 to 5")
        elif not _number(value):
            problems.append(f"points.stars.{key}: '{value}' is not a number of points")
        else:
            stars[star] = float(value)
    missing = [s for s in range(1, 6) if s not in stars]
    if given and missing:
        problems.append(f"points.stars: give the points for every star (missing {missing})")
    unrated = raw.get("unrated", DEFAULT_RULE["unrated"])
    if not _number(unrated):
        problems.append(f"points.unrated: '{unrated}' is not a number of points")
        unrated = 0
    weights_raw = raw.get("weights", DEFAULT_RULE["weights"])
    weights: dict[str, float] = {}
    if not isinstance(weights_raw, dict):
        problems.append("points.weights: must map item ids (and default) to weights")
        weights_raw = {}
    for key, value in weights_raw.items():
        if not _number(value):
            problems.append(f"points.weights.{key}: '{value}' is not a number")
        else:
            weights[str(key)] = float(value)
    return PointsRule(stars, float(unrated), weights)


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value >= 0


@dataclass
class Tally:
    """One member's or one group's finished work in a period."""

    key: str
    group: str = ""
    tasks: int = 0
    ratings: list[int] = field(default_factory=list)
    points: float = 0.0

    @property
    def rating_average(self) -> float | None:
        return sum(self.ratings) / len(self.ratings) if self.ratings else None


@dataclass(frozen=True, slots=True)
class PointsReport:
    members: list[Tally]  # most points first
    groups: list[Tally]


def tally(work: Iterable[DoneWork], rule: PointsRule, group_of: Mapping[str, str]) -> PointsReport:
    """Points and rating averages per taker and per group (branch, team; staff as one group).

    `group_of` maps a taker's name to their group's name; anyone not in it is staff."""
    members: dict[str, Tally] = {}
    groups: dict[str, Tally] = {}
    for done in work:
        group = group_of.get(done.taker, STAFF_GROUP)
        for table, key in ((members, done.taker), (groups, group)):
            entry = table.setdefault(key, Tally(key, group))
            entry.tasks += 1
            entry.points += rule.points(done)
            if done.rating is not None:
                entry.ratings.append(done.rating)

    def order(t: Tally) -> tuple[float, str]:
        return -t.points, t.key

    return PointsReport(sorted(members.values(), key=order), sorted(groups.values(), key=order))


def lines(report: PointsReport) -> list[str]:
    """The points section of `baishitong report` and the monthly push, as plain lines."""
    out = ["党员/志愿者积分（按完成的任务和居民评分）", "姓名\t所属\t完成任务\t平均评分\t积分"]
    out += [
        f"{t.key}\t{t.group}\t{t.tasks}\t{_average(t)}\t{t.points:g}"
        for t in report.members
        if t.group != STAFF_GROUP
    ]
    out.append("\n支部/服务队\t完成任务\t平均评分\t积分")
    out += [f"{t.key}\t{t.tasks}\t{_average(t)}\t{t.points:g}" for t in report.groups]
    if not report.members:
        out.append("（这段时间没有完成的任务）")
    return out


def _average(t: Tally) -> str:
    average = t.rating_average
    return "-" if average is None else f"{average:.2f}"
