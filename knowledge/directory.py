"""Parse the data that reaches beyond single items: the referral directory (referrals.yaml), life
events (life_events.yaml) and the learned classifier's training data (training/). Each problem is
reported as 'file: field: problem', as for the items."""

from __future__ import annotations

import csv
import re
from pathlib import Path
from typing import Any

from knowledge.models import LifeEvent, Referral, TrainingData
from knowledge.questions import Report, parse_questions
from knowledge.yamlfile import read_yaml

REFERRALS_FILE = "referrals.yaml"
LIFE_EVENTS_FILE = "life_events.yaml"
EXAMPLES_FILE = "training/examples.tsv"
FRAMES_FILE = "training/frames.yaml"
INTENTS = ("consult", "order", "status", "cancel", "rate", "office", "human", "greeting", "unknown")
FRAME_KINDS = ("consult", "order", "visit", "status", "cancel", "out_of_scope")
SLOT = "{名}"
_ID = re.compile(r"^[a-z][a-z0-9_]*$")


def _optional_yaml(path: Path, problems: list[str]) -> dict[str, Any] | None:
    """These files are optional (a community's older data directory may lack them)."""
    return read_yaml(path, problems) if path.exists() else None


def _texts(value: Any) -> tuple[str, ...] | None:
    if not isinstance(value, list) or not all(isinstance(v, (str, int)) for v in value):
        return None
    return tuple(str(v).strip() for v in value if str(v).strip())


def parse_referrals(root: Path, problems: list[str], items: set[str] | None = None) -> tuple[Referral, ...]:
    raw = _optional_yaml(root / REFERRALS_FILE, problems)
    if raw is None:
        return ()
    places = []
    seen: set[str] = set()
    for index, entry in enumerate(raw.get("places") or []):
        where = f"{REFERRALS_FILE}: places[{index}]"
        if not isinstance(entry, dict):
            problems.append(f"{where}: must be a mapping")
            continue
        place_id = str(entry.get("id", ""))
        if not _ID.match(place_id):
            problems.append(f"{where}.id: must be lower-case letters, digits and _")
            continue
        if place_id in seen:
            problems.append(f"{where}.id: '{place_id}' defined twice")
        seen.add(place_id)
        missing = [key for key in ("name", "handles", "how") if not str(entry.get(key) or "").strip()]
        for key in missing:
            problems.append(f"{where}.{key}: missing")
        words = _texts(entry.get("words", []))
        if words is None:
            problems.append(f"{where}.words: must be a list of words")
            words = ()
        if missing:
            continue
        places.append(
            Referral(
                id=place_id,
                name=str(entry["name"]).strip(),
                handles=str(entry["handles"]).strip(),
                how=str(entry["how"]).strip(),
                phone=str(entry.get("phone") or "").strip(),
                words=words,
                community_item=_community_item(entry, where, items, problems),
                questions=parse_questions(entry.get("questions"), _reporter(problems, where)),
            )
        )
    return tuple(places)


def _reporter(problems: list[str], where: str) -> Report:
    """Problems of one entry's field, collected with where the entry is."""
    return lambda field, problem: problems.append(f"{where}.{field}: {problem}")


def _community_item(entry: dict, where: str, items: set[str] | None, problems: list[str]) -> str:
    item = str(entry.get("community_item") or "").strip()
    if item and items is not None and item not in items:
        problems.append(f"{where}.community_item: '{item}' is not an item of the catalogue")
        return ""
    return item


def parse_life_events(root: Path, items: set[str], problems: list[str]) -> tuple[LifeEvent, ...]:
    raw = _optional_yaml(root / LIFE_EVENTS_FILE, problems)
    if raw is None:
        return ()
    events = []
    for index, entry in enumerate(raw.get("events") or []):
        where = f"{LIFE_EVENTS_FILE}: events[{index}]"
        if not isinstance(entry, dict) or not _ID.match(str(entry.get("id", ""))):
            problems.append(f"{where}.id: missing or not lower-case letters, digits and _")
            continue
        phrasings = _texts(entry.get("phrasings"))
        event_items = _texts(entry.get("items"))
        if not phrasings:
            problems.append(f"{where}.phrasings: must list how residents say it")
        if not event_items:
            problems.append(f"{where}.items: must list item ids")
        for item_id in event_items or ():
            if item_id not in items:
                problems.append(f"{where}.items: unknown item '{item_id}' (not in service-catalog.yaml)")
        if not str(entry.get("title") or "").strip():
            problems.append(f"{where}.title: missing")
            continue
        if phrasings and event_items:
            events.append(
                LifeEvent(
                    id=str(entry["id"]),
                    title=str(entry["title"]).strip(),
                    phrasings=phrasings,
                    items=event_items,
                    note=str(entry.get("note") or "").strip(),
                )
            )
    return tuple(events)


def parse_training(root: Path, items: set[str], problems: list[str]) -> TrainingData:
    examples: list[tuple[str, str, str | None, str]] = []
    path = root / EXAMPLES_FILE
    if path.exists():
        with path.open(encoding="utf-8", newline="") as handle:
            for number, row in enumerate(csv.reader(handle, delimiter="\t", quoting=csv.QUOTE_NONE), 1):
                if not row or not "".join(row).strip() or row[0].startswith("#"):
                    continue
                where = f"{EXAMPLES_FILE}:{number}"
                if len(row) not in (3, 4):
                    problems.append(
                        f"{where}: expected text<TAB>intent<TAB>item[<TAB>extra], got {len(row)} columns"
                    )
                    continue
                text, intent, item = (part.strip() for part in row[:3])
                extra = row[3].strip() if len(row) == 4 and row[3].strip() != "-" else ""
                if extra and not re.match(r"^(life|referral):[a-z0-9_]+$|^(lonely|worry_alone)$", extra):
                    problems.append(
                        f"{where}: extra '{extra}' is not life:<event>, referral:<place>, "
                        "lonely or worry_alone"
                    )
                    continue
                if intent not in INTENTS:
                    problems.append(f"{where}: unknown intent '{intent}'")
                    continue
                if item != "-" and item not in items:
                    problems.append(f"{where}: unknown item '{item}'")
                    continue
                examples.append((text, intent, None if item == "-" else item, extra))
    frames: dict[str, tuple[str, ...]] = {}
    raw = _optional_yaml(root / FRAMES_FILE, problems) or {}
    for kind, value in raw.items():
        if kind not in FRAME_KINDS:
            problems.append(f"{FRAMES_FILE}: {kind}: unknown kind (one of {', '.join(FRAME_KINDS)})")
            continue
        texts = _texts(value)
        if texts is None or any(SLOT not in t for t in texts):
            problems.append(f"{FRAMES_FILE}: {kind}: must be a list of frames, each with {SLOT}")
            continue
        frames[kind] = texts
    return TrainingData(tuple(examples), frames)
