"""Grid management (网格化管理): buildings and courtyards assigned to grid members (网格员, 楼栋长),
read from the rota document's own `grids:` section — pure.

An order whose address falls in a grid goes first to that grid's member when the item allows it
(order.takers has `grid`); duty routing is the fallback. Addresses are matched tolerantly: 3栋,
三栋, 3号楼, 3幢 and 3座 are one building (cn2an reads the Chinese numerals), full-width digits and
spaces do not matter, and a building named without its compound matches in any compound.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from intents.normalize import number_said

# A building number and its word: 3栋, 3号楼, 3幢, 3座, 3号院 (a courtyard numbered like a building).
_BUILDING = re.compile(r"(?<!\d)(\d+)\s*(?:号楼|号院|栋楼|栋|幢|座)")
_NUMBER_WORD = re.compile(r"[零〇一二两三四五六七八九十百]+(?=号楼|号院|栋|幢|座|号|单元)")


@dataclass(frozen=True, slots=True)
class Building:
    """A building (`number` set) or a courtyard/compound named whole (`number` None)."""

    compound: str  # normalised; "" matches any compound
    number: int | None
    label: str  # as written in the rota


@dataclass(frozen=True, slots=True)
class Grid:
    name: str
    members: tuple[str, ...]  # in the order they are asked: 网格员 first, then 楼栋长
    buildings: tuple[Building, ...]


class GridError(ValueError):
    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


def normalise(text: str) -> str:
    """Full-width to half-width, no spaces, Chinese building numbers as digits (三栋 → 3栋)."""
    text = unicodedata.normalize("NFKC", text or "")
    text = "".join(text.split())
    # Only numerals that number a building or unit: "一品小区" stays a name.
    return _NUMBER_WORD.sub(lambda m: _arabic(m.group()), text)


def _arabic(numeral: str) -> str:
    value = number_said(numeral)
    return numeral if value is None else str(value)


def building_of(label: str) -> Building:
    """A grid's building as written: 锦绣花园3栋, 三号楼, 税务局宿舍 (a whole courtyard)."""
    text = normalise(label)
    found = _BUILDING.search(text)
    if found is None:
        return Building(text, None, label)
    return Building(text[: found.start()], int(found.group(1)), label)


def in_building(address: str, building: Building) -> bool:
    """Does `address` lie in `building`? The first building number of the address decides."""
    return _within(normalise(address), building)


def _within(text: str, building: Building) -> bool:
    """`in_building` for an address already normalised (grid_of normalises it once)."""
    if building.compound and building.compound not in text:
        return False
    if building.number is None:
        return bool(building.compound)
    after = text.split(building.compound, 1)[1] if building.compound else text
    found = _BUILDING.search(after)
    return found is not None and int(found.group(1)) == building.number


def grid_of(address: str, grids: tuple[Grid, ...]) -> Grid | None:
    """The grid whose buildings hold `address`; a building named with its compound wins over one
    named by number alone, so 幸福里3栋 and 阳光苑3栋 can be in different grids."""
    if not address:
        return None
    text = normalise(address)
    best: tuple[int, Grid] | None = None
    for grid in grids:
        for building in grid.buildings:
            if _within(text, building):
                score = len(building.compound) + (1 if building.number is not None else 0)
                if best is None or score > best[0]:
                    best = (score, grid)
    return best[1] if best else None


def parse_grids(raw: Any) -> tuple[Grid, ...]:
    """The rota document's `grids:` list; GridError lists every problem as 'field: problem'."""
    if raw is None:
        return ()
    problems: list[str] = []
    if not isinstance(raw, list):
        raise GridError(["grids: must be a list of grids (name, members, buildings)"])
    grids: list[Grid] = []
    for index, entry in enumerate(raw):
        where = f"grids[{index}]"
        if not isinstance(entry, dict):
            problems.append(f"{where}: must have name, members and buildings")
            continue
        name = str(entry.get("name") or "").strip()
        if not name:
            problems.append(f"{where}.name: missing")
        members = _texts(entry.get("members"))
        if not members:
            problems.append(f"{where}.members: list the grid member(s) (网格员, 楼栋长) by name")
        buildings = tuple(building_of(label) for label in _texts(entry.get("buildings")))
        if not buildings:
            problems.append(
                f"{where}.buildings: list the buildings or courtyards (3栋, 幸福里5号楼, 税务局宿舍)"
            )
        for label, building in zip(_texts(entry.get("buildings")), buildings, strict=True):
            if not building.compound and building.number is None:
                problems.append(f"{where}.buildings: '{label}' names no building")
        if any(g.name == name for g in grids):
            problems.append(f"{where}.name: '{name}' listed twice")
        grids.append(Grid(name, members, buildings))
    seen: dict[tuple[str, int | None], str] = {}
    for grid in grids:
        for building in grid.buildings:
            key = (building.compound, building.number)
            if key in seen and seen[key] != grid.name:
                problems.append(f"grids: '{building.label}' is in both {seen[key]} and {grid.name}")
            seen[key] = grid.name
    if problems:
        raise GridError(problems)
    return tuple(grids)


def _texts(raw: Any) -> tuple[str, ...]:
    if raw is None:
        return ()
    values = raw if isinstance(raw, list) else [raw]
    return tuple(str(v).strip() for v in values if str(v).strip())
