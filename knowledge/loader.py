"""Load and validate the handbook data files.

Every error names the file and the field, because the people who edit these files are community
workers, not programmers: "items/residence_permit.yaml: documents[2].count: must be a positive
integer" tells them exactly what to fix.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from importlib import resources
from pathlib import Path
from typing import Any

from knowledge.directory import parse_life_events, parse_referrals, parse_training
from knowledge.emergency import EmergencyGuide, parse_emergency
from knowledge.models import (
    ASPECTS,
    CUE_NAMES,
    OPTIONAL_ASPECTS,
    OPTIONAL_CUES,
    OPTIONAL_OWN_TICKET_CUES,
    ORDER_FIELDS,
    OWN_TICKET_CUES,
    TAKERS,
    BookingHours,
    Calendar,
    Document,
    Handbook,
    IncomeLine,
    Item,
    Nearby,
    Office,
    OrderSpec,
    Phrasings,
    Place,
    Span,
    TimeLimit,
    Where,
)
from knowledge.questions import parse_questions
from knowledge.yamlfile import read_yaml

PLACES = ("community", "street", "compound", "external")
TIME_LIMIT_KINDS = ("immediate", "working_days")
INTENTS_FOR_ITEMS = ("consult", "order")
DOCUMENT_FORMS = ("原件", "复印件", "原件和复印件", "电子")


class HandbookError(Exception):
    """All validation problems found, one per line, each naming file and field."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


def default_data_dir() -> Path:
    return Path(str(resources.files("knowledge") / "data"))


# Handbooks already read in this process, by directory, with the files' sizes and times they were
# read at: a command or test that loads the same unchanged directory again gets the same object.
_LOADED: dict[Path, tuple[tuple[tuple[str, int, int], ...], Handbook]] = {}


def _signature(root: Path) -> tuple[tuple[str, int, int], ...]:
    files = sorted(p for p in root.rglob("*") if p.is_file() and p.suffix in (".yaml", ".yml", ".tsv"))
    return tuple((str(p), p.stat().st_mtime_ns, p.stat().st_size) for p in files)


def load_handbook(data_dir: str | os.PathLike[str] | None = None) -> Handbook:
    """Load catalogue, office and every item file under data_dir; raise HandbookError listing all
    problems. Reading the same unchanged directory again in this process returns the same handbook
    (any edit — a changed time or size of any file — reads it afresh)."""
    root = (Path(data_dir) if data_dir else default_data_dir()).resolve()
    signature = _signature(root) if root.is_dir() else ()
    cached = _LOADED.get(root)
    if cached is not None and signature and cached[0] == signature:
        return cached[1]
    handbook = _load(root)
    if signature:
        _LOADED[root] = (signature, handbook)
    return handbook


def _load(root: Path) -> Handbook:
    problems: list[str] = []
    catalog = read_yaml(root / "service-catalog.yaml", problems)
    office_raw = read_yaml(root / "office.yaml", problems)
    if catalog is None or office_raw is None:
        raise HandbookError(problems)
    categories, catalog_items, scopes = _parse_catalog(catalog, problems)

    items: dict[str, Item] = {}
    seen_ids: set[str] = set()  # ids of files read, valid or not, so a broken file is not also "missing"
    item_dir = root / "items"
    files = sorted(item_dir.glob("*.yaml")) if item_dir.is_dir() else []
    if not files:
        problems.append(f"{item_dir}: no item files found")
    for path in files:
        raw = read_yaml(path, problems)
        seen_ids.add(str(raw.get("id", path.stem)) if raw else path.stem)
        if raw is None:
            continue
        item = _parse_item(raw, _Ctx(f"items/{path.name}", problems), categories, catalog_items, scopes)
        if item is None:
            continue
        if path.stem != item.id:
            problems.append(f"items/{path.name}: id: '{item.id}' does not match the file name")
        if item.id in items:
            problems.append(f"items/{path.name}: id: '{item.id}' defined twice")
        items[item.id] = item
    for item_id in catalog_items:
        if item_id not in seen_ids:
            problems.append(f"items/{item_id}.yaml: missing: catalogue item '{item_id}' has no handbook file")
    _check_alias_owners(list(items.values()), problems)
    office = _parse_office(office_raw, _Ctx("office.yaml", problems))
    for item in items.values():
        if item.order and office and item.order.hours not in office.booking_hours:
            problems.append(
                f"items/{item.id}.yaml: order.hours: unknown '{item.order.hours}' "
                f"(office.yaml booking_hours has {', '.join(office.booking_hours) or 'none'})"
            )
    calendar = _parse_calendar(root / "calendar.yaml", problems)
    phrasings = _parse_phrasings(root / PHRASINGS_FILE, problems)
    emergency = _parse_emergency_file(root / EMERGENCY_FILE, catalog_items, problems)
    referrals = parse_referrals(root, problems, set(catalog_items))
    life_events = parse_life_events(root, set(catalog_items), problems)
    place_ids = {place.id for place in referrals}
    for key in office.nearby if office else ():
        if key not in place_ids:
            problems.append(f"office.yaml: nearby.{key}: not a place id of referrals.yaml")
    for item in items.values():
        if item.where.nearby and office and item.where.nearby not in office.nearby:
            problems.append(
                f"items/{item.id}.yaml: where.nearby: '{item.where.nearby}' is not in office.yaml nearby"
            )
    training = parse_training(root, set(catalog_items), problems)
    if problems:
        raise HandbookError(problems)
    ordered = {item_id: items[item_id] for item_id in catalog_items}
    assert office is not None and phrasings is not None
    return Handbook(
        categories,
        ordered,
        office,
        phrasings,
        str(root),
        calendar,
        emergency,
        referrals,
        life_events,
        training,
    )


EMERGENCY_FILE = "emergency.yaml"


def _parse_emergency_file(
    path: Path, catalog_items: dict[str, str], problems: list[str]
) -> EmergencyGuide | None:
    """emergency.yaml, with every hazard's ticket item checked against the catalogue."""
    raw = read_yaml(path, problems)
    if raw is None:
        return None
    guide = parse_emergency(raw, problems)
    for hazard in guide.hazards if guide else ():
        if hazard.item and hazard.item not in catalog_items:
            problems.append(
                f"{EMERGENCY_FILE}: hazards.{hazard.kind}.item: unknown catalogue item '{hazard.item}'"
            )
    return guide


class _Ctx:
    """Where we are in a file, so each check can report 'file: field: problem'."""

    def __init__(self, file: str, problems: list[str]):
        self.file = file
        self.problems = problems

    def error(self, field: str, message: str) -> None:
        self.problems.append(f"{self.file}: {field}: {message}")

    def text(self, raw: dict[str, Any], key: str, *, required: bool = True, prefix: str = "") -> str:
        value = raw.get(key)
        if value is None or value == "":
            if required:
                self.error(prefix + key, "missing")
            return ""
        if not isinstance(value, (str, int, float)) or isinstance(value, bool):
            self.error(prefix + key, "must be text")
            return ""
        return str(value).strip()

    def texts(
        self,
        raw: dict[str, Any],
        key: str,
        *,
        required: bool = True,
        allow_empty: bool = False,
        prefix: str = "",
    ) -> tuple[str, ...]:
        field = prefix + key
        value = raw.get(key)
        if value is None:
            if required:
                self.error(field, "missing")
            return ()
        if not isinstance(value, list) or (not value and not allow_empty):
            self.error(field, "must be a non-empty list" if not allow_empty else "must be a list")
            return ()
        out: list[str] = []
        for index, entry in enumerate(value):
            if not isinstance(entry, (str, int)) or isinstance(entry, bool) or not str(entry).strip():
                self.error(f"{field}[{index}]", "must be non-empty text")
                continue
            out.append(str(entry).strip())
        return tuple(out)

    def words(
        self, raw: dict[str, Any], key: str, *, prefix: str = "", regex: bool = False
    ) -> tuple[str, ...]:
        """A required, non-empty list of phrases, each listed once; with regex, each must compile."""
        field = prefix + key
        phrases = self.texts(raw, key, prefix=prefix)
        seen: set[str] = set()
        for index, phrase in enumerate(phrases):
            if phrase in seen:
                self.error(f"{field}[{index}]", f"'{phrase}' is listed twice")
            seen.add(phrase)
            if regex:
                try:
                    re.compile(phrase)
                except re.error as exc:
                    self.error(f"{field}[{index}]", f"'{phrase}' is not a valid pattern: {exc}")
        return phrases

    def group(self, raw: dict[str, Any], key: str, known: Iterable[str]) -> dict[str, Any]:
        """A required mapping field; names each key it does not know."""
        value = raw.get(key)
        if not isinstance(value, dict):
            self.error(key, "missing" if value is None else "must be a mapping")
            return {}
        self.unknown(value, known, prefix=f"{key}.")
        return value

    def unknown(self, raw: dict[str, Any], known: Iterable[str], *, prefix: str = "") -> None:
        allowed = set(known)
        for name in raw:
            if name not in allowed:
                self.error(f"{prefix}{name}", "unknown field")

    def flag(self, raw: dict[str, Any], key: str, *, default: bool | None = None) -> bool:
        value = raw.get(key, default)
        if not isinstance(value, bool):
            self.error(key, "missing" if value is None else "must be true or false")
            return False
        return value


def _parse_catalog(
    raw: dict[str, Any], problems: list[str]
) -> tuple[dict[str, str], dict[str, str], dict[str, str]]:
    """Categories, item titles and item scope lines, by id."""
    categories = raw.get("categories") or {}
    items: dict[str, str] = {}
    scopes: dict[str, str] = {}
    for index, entry in enumerate(raw.get("items") or []):
        if not isinstance(entry, dict) or "id" not in entry:
            problems.append(f"service-catalog.yaml: items[{index}]: missing id")
            continue
        if entry.get("category") not in categories:
            problems.append(
                f"service-catalog.yaml: items[{index}].category: unknown '{entry.get('category')}'"
            )
        items[str(entry["id"])] = str(entry.get("title", ""))
        scopes[str(entry["id"])] = str(entry.get("scope", "")).strip()
    return {str(k): str(v) for k, v in categories.items()}, items, scopes


def _parse_item(
    raw: dict[str, Any],
    ctx: _Ctx,
    categories: dict[str, str],
    catalog: dict[str, str],
    scopes: dict[str, str] | None = None,
) -> Item | None:
    scopes = scopes or {}
    known = {
        "id",
        "title",
        "category",
        "aliases",
        "keywords",
        "eligibility",
        "documents",
        "steps",
        "where",
        "when",
        "time_limit",
        "fee",
        "bookable",
        "home_visit",
        "online",
        "notes",
        "amount",
        "default_intent",
        "fallback",
        "order",
        "phrasings",
        "situations",
        "questions",
        "income_line",
    }
    for key in raw:
        if key not in known:
            ctx.error(str(key), "unknown field")
    item_id = ctx.text(raw, "id")
    if item_id and item_id not in catalog:
        ctx.error("id", f"unknown id '{item_id}' (not in service-catalog.yaml)")
    category = ctx.text(raw, "category")
    if category and category not in categories:
        ctx.error("category", f"unknown category '{category}'")
    default_intent = ctx.text(raw, "default_intent", required=False) or "consult"
    if default_intent not in INTENTS_FOR_ITEMS:
        ctx.error("default_intent", f"must be one of {', '.join(INTENTS_FOR_ITEMS)}")
    before = len(ctx.problems)
    item = Item(
        id=item_id,
        title=ctx.text(raw, "title"),
        category=category,
        aliases=ctx.texts(raw, "aliases"),
        keywords=ctx.texts(raw, "keywords", required=False, allow_empty=True),
        eligibility=ctx.texts(raw, "eligibility"),
        documents=_parse_documents(raw, ctx),
        steps=ctx.texts(raw, "steps"),
        where=_parse_where(raw, ctx),
        time_limit=_parse_time_limit(raw, ctx),
        fee=ctx.text(raw, "fee"),
        bookable=ctx.flag(raw, "bookable"),
        home_visit=ctx.flag(raw, "home_visit"),
        online=ctx.text(raw, "online"),
        when=ctx.text(raw, "when", required=False),
        notes=ctx.texts(raw, "notes", required=False),
        amount=ctx.text(raw, "amount", required=False),
        scope=scopes.get(str(raw.get("id", "")), ""),
        default_intent=default_intent,
        fallback=ctx.flag(raw, "fallback", default=False),
        order=_parse_order(raw, ctx),
        phrasings=ctx.texts(raw, "phrasings", required=False),
        situations=ctx.texts(raw, "situations", required=False),
        questions=parse_questions(
            raw.get("questions"), ctx.error, keys=("ask", "answer", "anywhere", "not_done_here")
        ),
        income_line=_parse_income_line(raw, ctx),
    )
    if item.order and not item.bookable:
        ctx.error("order", "an item with bookable: false cannot be ordered online")
    return item if len(ctx.problems) == before and item_id else None


def _parse_order(raw: dict[str, Any], ctx: _Ctx) -> OrderSpec | None:
    value = raw.get("order")
    if value is None:
        return None
    if not isinstance(value, dict):
        ctx.error("order", "must be a mapping with fields and hours")
        return None
    fields = ctx.texts(value, "fields")
    for name in fields:
        if name not in ORDER_FIELDS:
            ctx.error("order.fields", f"unknown field '{name}' (known: {', '.join(ORDER_FIELDS)})")
    if len(set(fields)) != len(fields):
        ctx.error("order.fields", "a field is listed twice")
    claim_minutes = value.get("claim_minutes", 15)
    if (
        not isinstance(claim_minutes, int)
        or isinstance(claim_minutes, bool)
        or not 1 <= claim_minutes <= 24 * 60
    ):
        ctx.error("order.claim_minutes", "must be a whole number of minutes between 1 and 1440")
        claim_minutes = 15
    takers = ctx.texts(value, "takers", required=False) or ("staff",)
    for name in takers:
        if name not in TAKERS:
            ctx.error("order.takers", f"unknown taker '{name}' (known: {', '.join(TAKERS)})")
    if "staff" not in takers:
        ctx.error("order.takers", "must include staff (the community takes back what nobody else takes)")
    return OrderSpec(
        fields=fields,
        hours=ctx.text(value, "hours", prefix="order."),
        urgent=ctx.texts(value, "urgent", required=False),
        claim_minutes=claim_minutes,
        takers=takers,
        ask=ctx.text(value, "ask", required=False, prefix="order."),
    )


def _parse_documents(raw: dict[str, Any], ctx: _Ctx) -> tuple[Document, ...]:
    value = raw.get("documents")
    if value is None:
        ctx.error("documents", "missing (use [] when nothing is needed)")
        return ()
    if not isinstance(value, list):
        ctx.error("documents", "must be a list")
        return ()
    docs: list[Document] = []
    for index, entry in enumerate(value):
        field = f"documents[{index}]"
        if not isinstance(entry, dict):
            ctx.error(field, "must be a mapping with name, form, count")
            continue
        name = ctx.text(entry, "name", prefix=f"{field}.")
        form = ctx.text(entry, "form", prefix=f"{field}.")
        if form and form not in DOCUMENT_FORMS:
            ctx.error(f"{field}.form", f"must be one of {', '.join(DOCUMENT_FORMS)}")
        count = entry.get("count")
        if not isinstance(count, int) or isinstance(count, bool) or count < 1:
            ctx.error(f"{field}.count", "must be a positive integer")
            count = 1
        docs.append(Document(name, form, count, ctx.text(entry, "note", required=False, prefix=f"{field}.")))
    return tuple(docs)


def _parse_where(raw: dict[str, Any], ctx: _Ctx) -> Where:
    value = raw.get("where")
    if not isinstance(value, dict):
        ctx.error("where", "missing" if value is None else "must be a mapping with place")
        return Where("community")
    place = ctx.text(value, "place", prefix="where.")
    if place and place not in PLACES:
        ctx.error("where.place", f"must be one of {', '.join(PLACES)}")
    name = ctx.text(value, "name", required=place == "external", prefix="where.")
    note = ctx.text(value, "note", required=False, prefix="where.")
    return Where(place, name, note, ctx.text(value, "nearby", required=False, prefix="where."))


def _parse_income_line(raw: dict[str, Any], ctx: _Ctx) -> IncomeLine | None:
    value = raw.get("income_line")
    if value is None:
        return None
    if not isinstance(value, dict):
        ctx.error("income_line", "must be a mapping with low, high, below, within, above")
        return None
    low, high = value.get("low"), value.get("high")
    if not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in (low, high)) or low > high:
        ctx.error("income_line", "low and high must be whole yuan per person per month, low <= high")
        return None
    words = [ctx.text(value, key, prefix="income_line.") for key in ("below", "within", "above")]
    return IncomeLine(low, high, *words) if all(words) else None


def _parse_time_limit(raw: dict[str, Any], ctx: _Ctx) -> TimeLimit:
    value = raw.get("time_limit")
    if not isinstance(value, dict):
        ctx.error("time_limit", "missing" if value is None else "must be a mapping with kind")
        return TimeLimit("immediate")
    kind = ctx.text(value, "kind", prefix="time_limit.")
    if kind and kind not in TIME_LIMIT_KINDS:
        ctx.error("time_limit.kind", f"must be one of {', '.join(TIME_LIMIT_KINDS)}")
    days = value.get("days", 0)
    if kind == "working_days" and (not isinstance(days, int) or isinstance(days, bool) or days < 1):
        ctx.error("time_limit.days", "must be a positive integer for working_days")
        days = 0
    return TimeLimit(
        kind,
        days if isinstance(days, int) else 0,
        ctx.text(value, "note", required=False, prefix="time_limit."),
    )


PHRASINGS_FILE = "phrasings.yaml"
_PHRASING_GROUPS = {
    "glosses": (),
    "fillers": (),
    "cues": CUE_NAMES,
    "greeting_only": (),
    "item_context": ("negation", "before", "after", "retract", "done", "supposed", "lacking"),
    "after_item": ("order", "checklist"),
    "menu": (),
    "ordering": (
        "cancel",
        "confirm",
        "correction",
        "field_words",
        "home_visit",
        "refuse_name",
        "skip",
        "no_phone",
        "why_asked",
        "question",
    ),
    "rating": ("stars", "unhappy"),
    "smalltalk": ("thanks", "bye", "lonely", "visit", "who", "nothing_more", "chitchat"),
    "aspects": ASPECTS,
    "office_only": (),
    "open_question": (),
    "life_event_asks": (),
    "about_community": (),
    "complaints": ("complaint", "neglect", "handoff"),
    "own_tickets": OWN_TICKET_CUES,
    "profile": ("keep", "change", "erase", "show"),
}


def _parse_phrasings(path: Path, problems: list[str]) -> Phrasings | None:
    """Read phrasings.yaml: every list present, non-empty, each phrase once, every pattern valid."""
    raw = read_yaml(path, problems)
    if raw is None:
        return None
    ctx = _Ctx(path.name, problems)
    before = len(problems)
    ctx.unknown(raw, _PHRASING_GROUPS)
    cues_raw = ctx.group(raw, "cues", (*CUE_NAMES, *OPTIONAL_CUES))
    cues = {name: ctx.words(cues_raw, name, prefix="cues.", regex=True) for name in CUE_NAMES}
    for name in OPTIONAL_CUES:
        if name in cues_raw:
            cues[name] = ctx.words(cues_raw, name, prefix="cues.", regex=True)
    item_context = ctx.group(raw, "item_context", _PHRASING_GROUPS["item_context"])
    after_item = ctx.group(raw, "after_item", _PHRASING_GROUPS["after_item"])
    ordering = ctx.group(raw, "ordering", _PHRASING_GROUPS["ordering"])
    rating = ctx.group(raw, "rating", _PHRASING_GROUPS["rating"])
    smalltalk = ctx.group(raw, "smalltalk", _PHRASING_GROUPS["smalltalk"])
    aspects = ctx.group(raw, "aspects", ASPECTS)
    complaints = ctx.group(raw, "complaints", _PHRASING_GROUPS["complaints"])
    own = ctx.group(raw, "own_tickets", OWN_TICKET_CUES)
    profile = ctx.group(raw, "profile", _PHRASING_GROUPS["profile"])
    phrasings = Phrasings(
        glosses=_parse_glosses(raw, ctx),
        fillers=ctx.words(raw, "fillers"),
        cues=cues,
        greeting_only=ctx.words(raw, "greeting_only"),
        negation=ctx.words(item_context, "negation", prefix="item_context."),
        context_before=ctx.words(item_context, "before", prefix="item_context."),
        context_after=ctx.words(item_context, "after", prefix="item_context."),
        follow_up=ctx.words(after_item, "order", prefix="after_item."),
        checklist=ctx.words(after_item, "checklist", prefix="after_item."),
        menu=ctx.words(raw, "menu"),
        order_cancel=ctx.words(ordering, "cancel", prefix="ordering."),
        order_confirm=ctx.words(ordering, "confirm", prefix="ordering."),
        correction=ctx.words(ordering, "correction", prefix="ordering.", regex=True),
        field_words=_parse_field_words(ordering, ctx),
        home_visit=ctx.words(ordering, "home_visit", prefix="ordering."),
        refuse_name=ctx.words(ordering, "refuse_name", prefix="ordering."),
        skip=ctx.words(ordering, "skip", prefix="ordering."),
        no_phone=ctx.words(ordering, "no_phone", prefix="ordering.", regex=True),
        why_asked=ctx.words(ordering, "why_asked", prefix="ordering.", regex=True),
        order_question=ctx.words(ordering, "question", prefix="ordering.", regex=True),
        rating_stars=_parse_stars(rating, ctx),
        unhappy=ctx.words(rating, "unhappy", prefix="rating."),
        thanks=ctx.words(smalltalk, "thanks", prefix="smalltalk."),
        lonely=ctx.words(smalltalk, "lonely", prefix="smalltalk.") if "lonely" in smalltalk else (),
        visit=ctx.words(smalltalk, "visit", prefix="smalltalk.") if "visit" in smalltalk else (),
        who=ctx.words(smalltalk, "who", prefix="smalltalk.") if "who" in smalltalk else (),
        bye=ctx.words(smalltalk, "bye", prefix="smalltalk."),
        nothing_more=(
            ctx.words(smalltalk, "nothing_more", prefix="smalltalk.") if "nothing_more" in smalltalk else ()
        ),
        chitchat=ctx.words(smalltalk, "chitchat", prefix="smalltalk.") if "chitchat" in smalltalk else (),
        aspects={
            name: ctx.words(aspects, name, prefix="aspects.")
            if name in aspects or name not in OPTIONAL_ASPECTS
            else ()
            for name in ASPECTS
        },
        office_only=ctx.words(raw, "office_only"),
        open_question=ctx.words(raw, "open_question"),
        life_event_asks=ctx.words(raw, "life_event_asks") if "life_event_asks" in raw else (),
        about_community=ctx.words(raw, "about_community") if "about_community" in raw else (),
        done=(  # optional, regex parts: handbook versions written before it still load
            ctx.words(item_context, "done", prefix="item_context.", regex=True)
            if "done" in item_context
            else ()
        ),
        retract=(  # optional: handbook versions written before it still load
            ctx.words(item_context, "retract", prefix="item_context.") if "retract" in item_context else ()
        ),
        context_supposed=(  # optional: handbook versions written before it still load
            ctx.words(item_context, "supposed", prefix="item_context.") if "supposed" in item_context else ()
        ),
        context_lacking=(  # optional: handbook versions written before it still load
            ctx.words(item_context, "lacking", prefix="item_context.") if "lacking" in item_context else ()
        ),
        complaint=ctx.words(complaints, "complaint", prefix="complaints.", regex=True),
        neglect=ctx.words(complaints, "neglect", prefix="complaints.", regex=True),
        handoff=ctx.words(complaints, "handoff", prefix="complaints.", regex=True),
        own_tickets={
            name: ctx.words(own, name, prefix="own_tickets.", regex=True)
            for name in OWN_TICKET_CUES
            if name in own or name not in OPTIONAL_OWN_TICKET_CUES
        },
        profile_keep=ctx.words(profile, "keep", prefix="profile."),
        profile_change=ctx.words(profile, "change", prefix="profile."),
        profile_erase=ctx.words(profile, "erase", prefix="profile.", regex=True),
        profile_show=ctx.words(profile, "show", prefix="profile.", regex=True),
    )
    # One word cannot mean two opposite things where the bot takes the first that matches.
    _check_disjoint(
        ctx, ("after_item.order", phrasings.follow_up), ("after_item.checklist", phrasings.checklist)
    )
    _check_disjoint(
        ctx, ("ordering.confirm", phrasings.order_confirm), ("ordering.cancel", phrasings.order_cancel)
    )
    _check_disjoint(
        ctx, ("profile.keep", phrasings.profile_keep), ("profile.change", phrasings.profile_change)
    )
    return phrasings if len(problems) == before else None


def _parse_glosses(raw: dict[str, Any], ctx: _Ctx) -> dict[str, str]:
    value = raw.get("glosses")
    if not isinstance(value, dict) or not value:
        ctx.error(
            "glosses", "missing (dialect word: standard word)" if value is None else "must be a mapping"
        )
        return {}
    glosses: dict[str, str] = {}
    for word, standard in value.items():
        if not isinstance(standard, str) or not str(word).strip() or not standard.strip():
            ctx.error(f"glosses.{word}", "must map a word to a standard word")
            continue
        glosses[str(word).strip()] = standard.strip()
    return glosses


def _parse_field_words(ordering: dict[str, Any], ctx: _Ctx) -> dict[str, tuple[str, ...]]:
    value = ordering.get("field_words")
    if not isinstance(value, dict):
        ctx.error("ordering.field_words", "missing" if value is None else "must be a mapping")
        return {}
    ctx.unknown(value, ORDER_FIELDS, prefix="ordering.field_words.")
    # File order is the order of trial ("改时间和电话" changes the field listed first).
    names = [name for name in value if name in ORDER_FIELDS]
    names += [name for name in ORDER_FIELDS if name not in value]
    return {name: ctx.words(value, name, prefix="ordering.field_words.") for name in names}


def _parse_stars(rating: dict[str, Any], ctx: _Ctx) -> dict[str, int]:
    value = rating.get("stars")
    if not isinstance(value, dict) or not value:
        ctx.error("rating.stars", "missing (word: stars)" if value is None else "must be a mapping")
        return {}
    stars: dict[str, int] = {}
    for word, count in value.items():
        if not isinstance(count, int) or isinstance(count, bool) or not 1 <= count <= 5:
            ctx.error(f"rating.stars.{word}", "must be a whole number of stars from 1 to 5")
            continue
        stars[str(word).strip()] = count
    return stars


def _check_disjoint(ctx: _Ctx, *lists: tuple[str, tuple[str, ...]]) -> None:
    owners: dict[str, str] = {}
    for field, phrases in lists:
        for phrase in phrases:
            other = owners.setdefault(phrase, field)
            if other != field:
                ctx.error(field, f"'{phrase}' is already listed in {other}")


def _check_alias_owners(items: Iterable[Item], problems: list[str]) -> None:
    owners: dict[str, str] = {}
    for item in items:
        for alias in item.aliases:
            other = owners.get(alias)
            if other and other != item.id:
                problems.append(f"items/{item.id}.yaml: aliases: '{alias}' is already claimed by '{other}'")
            elif alias in owners and other == item.id:
                problems.append(f"items/{item.id}.yaml: aliases: '{alias}' is listed twice")
            owners[alias] = item.id
    # A whole phrasing or situation teaches the classifier one item: written under two, it teaches
    # nothing and one of them loses; the data has to say which item it belongs to.
    sentences: dict[str, str] = {}
    for item in items:
        for field in ("phrasings", "situations"):
            for sentence in getattr(item, field):
                other = sentences.get(sentence)
                if other and other != item.id:
                    problems.append(
                        f"items/{item.id}.yaml: {field}: '{sentence}' is already claimed by '{other}'"
                    )
                sentences[sentence] = item.id
    # A question answered whichever item a message is read as must be the only one its words ask:
    # otherwise which item answers would depend on the order of the files. Another item's shorter
    # word inside it ("租房" in "租房备案") is no clash: the longer, anywhere one is the more specific.
    asked = [(word, item.id) for item in items for question in item.questions for word in question.ask]
    for item in items:
        for question in (q for q in item.questions if q.anywhere):
            for word in question.ask:
                other = next((o for w, o in asked if o != item.id and word in w), None)
                if other:
                    problems.append(
                        f"items/{item.id}.yaml: questions: '{word}' is asked anywhere "
                        f"but '{other}' asks it too"
                    )


def _parse_office(raw: dict[str, Any], ctx: _Ctx) -> Office | None:
    places_raw = raw.get("places")
    places: dict[str, Place] = {}
    if not isinstance(places_raw, dict):
        ctx.error("places", "missing")
    else:
        for key in ("community", "street", "compound"):
            entry = places_raw.get(key)
            if not isinstance(entry, dict):
                ctx.error(f"places.{key}", "missing")
                continue
            places[key] = Place(
                ctx.text(entry, "name", prefix=f"places.{key}."),
                ctx.text(entry, "address", prefix=f"places.{key}."),
            )
    hours_raw = raw.get("hours")
    hours: dict[str, str] = {}
    if not isinstance(hours_raw, dict):
        ctx.error("hours", "missing")
    else:
        for key in ("weekdays", "lunch_duty", "weekend_duty"):
            hours[key] = ctx.text(hours_raw, key, prefix="hours.")
        for key, value in hours_raw.items():
            hours.setdefault(str(key), str(value))
    return Office(
        booking_hours=_parse_booking_hours(raw, ctx),
        nearby=_parse_nearby(raw, ctx),
        name=ctx.text(raw, "name"),
        phone=ctx.text(raw, "phone"),
        duty_phone=ctx.text(raw, "duty_phone"),
        places=places,
        hours=hours,
        holidays=ctx.text(raw, "holidays"),
        online=ctx.text(raw, "online", required=False),
        policy_note=ctx.text(raw, "policy_note"),
        questions=parse_questions(raw.get("questions"), ctx.error, keys=("ask", "answer")),
        booking_questions=parse_questions(
            raw.get("booking_questions"),
            lambda f, p: ctx.error(f"booking_questions{f[9:]}", p),
            keys=("ask", "answer"),
        ),
    )


def _parse_nearby(raw: dict[str, Any], ctx: _Ctx) -> dict[str, Nearby]:
    """office.yaml `nearby`: place id → the local branch's name, address, phone and hours (optional)."""
    value = raw.get("nearby")
    if value is None:
        return {}
    if not isinstance(value, dict):
        ctx.error("nearby", "must be a mapping of referral place ids (referrals.yaml) to name/address/phone")
        return {}
    nearby: dict[str, Nearby] = {}
    for key, entry in value.items():
        prefix = f"nearby.{key}."
        if not isinstance(entry, dict):
            ctx.error(f"nearby.{key}", "must be a mapping with name and address")
            continue
        nearby[str(key)] = Nearby(
            name=ctx.text(entry, "name", prefix=prefix),
            address=ctx.text(entry, "address", prefix=prefix),
            phone=ctx.text(entry, "phone", required=False, prefix=prefix),
            hours=ctx.text(entry, "hours", required=False, prefix=prefix),
        )
    return nearby


_SPAN = re.compile(r"^(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})$")


def _parse_booking_hours(raw: dict[str, Any], ctx: _Ctx) -> dict[str, BookingHours]:
    value = raw.get("booking_hours")
    if not isinstance(value, dict) or not value:
        ctx.error("booking_hours", "missing (named sets of workdays/weekend spans)")
        return {}
    sets: dict[str, BookingHours] = {}
    for name, entry in value.items():
        if not isinstance(entry, dict):
            ctx.error(f"booking_hours.{name}", "must be a mapping with workdays and weekend")
            continue
        spans = [
            _parse_spans(entry.get(key), f"booking_hours.{name}.{key}", ctx)
            for key in ("workdays", "weekend")
        ]
        days = entry.get("days", [])
        if not isinstance(days, list) or not all(isinstance(d, int) and 1 <= d <= 7 for d in days):
            ctx.error(f"booking_hours.{name}.days", "must be a list of weekdays 1-7 (1 = Monday)")
            days = []
        note = ctx.text(entry, "note", required=False, prefix=f"booking_hours.{name}.") or ""
        sets[str(name)] = BookingHours(*spans, days=tuple(days), note=note)
    return sets


def _parse_spans(value: Any, field: str, ctx: _Ctx) -> tuple[Span, ...]:
    if not isinstance(value, list):
        ctx.error(field, 'must be a list of "HH:MM-HH:MM" (use [] for none)')
        return ()
    spans: list[Span] = []
    for index, text in enumerate(value):
        match = _SPAN.match(str(text).strip())
        try:
            if not match:
                raise ValueError
            h1, m1, h2, m2 = map(int, match.groups())
            span = (time(h1, m1), time(h2, m2))
        except ValueError:
            ctx.error(f"{field}[{index}]", f"'{text}' is not a span like 09:00-12:00")
            continue
        if span[0] >= span[1]:
            ctx.error(f"{field}[{index}]", f"'{text}' ends before it starts")
            continue
        spans.append(span)
    return tuple(sorted(spans))


def _parse_calendar(path: Path, problems: list[str]) -> Calendar:
    raw = read_yaml(path, problems)
    if raw is None:
        return Calendar()
    ctx = _Ctx(path.name, problems)
    holidays: dict[date, str] = {}
    for index, entry in enumerate(raw.get("holidays") or []):
        field = f"holidays[{index}]"
        if not isinstance(entry, dict):
            ctx.error(field, "must be a mapping with dates and name")
            continue
        name = ctx.text(entry, "name", prefix=f"{field}.")
        for day in _dates(entry.get("dates"), f"{field}.dates", ctx):
            holidays[day] = name
    workdays: set[date] = set()
    for index, entry in enumerate(raw.get("workdays") or []):
        workdays.update(_dates(entry, f"workdays[{index}]", ctx))
    for day in workdays & holidays.keys():
        ctx.error("workdays", f"{day} is also listed as a holiday")
    return Calendar(holidays, frozenset(workdays))


def _dates(value: Any, field: str, ctx: _Ctx) -> list[date]:
    """One date (YAML reads 2026-10-01 as a date) or a range written 2026-10-01..2026-10-07."""
    if isinstance(value, date):
        return [value]
    try:
        first, _, last = str(value).partition("..")
        start = datetime.strptime(first.strip(), "%Y-%m-%d").date()
        end = datetime.strptime(last.strip(), "%Y-%m-%d").date() if last else start
    except ValueError:
        ctx.error(field, f"'{value}' is not a date like 2026-10-01 or a range 2026-10-01..2026-10-07")
        return []
    if end < start or (end - start).days > 31:
        ctx.error(field, f"'{value}' is not a range of at most a month")
        return []
    return [start + timedelta(days=n) for n in range((end - start).days + 1)]
