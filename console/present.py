"""How the console shows a ticket: pure functions from a ticket and its viewer to what a row or a
page prints — masked contact, item title, booked time, and the two clocks coloured by how close
they are to their limit. No I/O, so the board and the live updates render rows the same way."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

from desk import policy
from desk.clocks import local
from desk.masking import mask_mobile, mask_text, without_id_numbers
from handlers.wording import STATE_NAMES
from storage.models import StaffMember, Ticket

WARN_AT = 0.8  # the claim clock turns amber at 80% of its limit, as the completion warning does
# Log entries the desk and the scheduler write beside the transitions handlers.wording names.
EVENT_NAMES = {
    "create": "提交",
    "claim_reminder": "接单提醒",
    "claim_escalation": "超时升级",
    "done_warning": "超时预警",
    "done_overdue": "督办",
    "appointment_reminder": "预约提醒",
}
KIND_TITLES = {"complaint": "居民投诉", "handoff": "转人工", "follow_up": "回访"}


@dataclass(frozen=True, slots=True)
class Clock:
    label: str  # "剩 12分" / "超 3小时" / ""
    css: str  # ok | warn | over | none


NO_CLOCK = Clock("", "none")


@dataclass(frozen=True, slots=True)
class Row:
    number: str
    state: str
    state_name: str
    title: str
    resident: str
    mobile: str
    assignee: str
    booked: str
    claim: Clock
    done: Clock
    urgent: bool
    kind: str


def duration(delta: timedelta) -> str:
    minutes = int(abs(delta).total_seconds() // 60)
    if minutes < 60:
        return f"{minutes}分"
    if minutes < 48 * 60:
        return f"{minutes // 60}小时"
    return f"{minutes // 1440}天"


def clock(now: datetime, start: datetime | None, warn: datetime | None, due: datetime | None) -> Clock:
    """A limit `due` counted from `start`, amber from `warn` (default: 80% of the way), red past it."""
    start, warn, due = (local(m, UTC) for m in (start, warn, due))  # SQLite: naive UTC
    if due is None:
        return NO_CLOCK
    if warn is None and start is not None:
        warn = start + (due - start) * WARN_AT
    if now >= due:
        return Clock(f"超 {duration(now - due)}", "over")
    css = "warn" if warn is not None and now >= warn else "ok"
    return Clock(f"剩 {duration(due - now)}", css)


def masked_name(name: str) -> str:
    """王秀英 → 王**: enough to recognise on a call, not enough to identify in a screenshot."""
    name = name.strip()
    return f"{name[0]}{'*' * min(2, max(1, len(name) - 1))}" if name else "—"


def title(items: Mapping[str, Any], ticket: Ticket) -> str:
    if ticket.kind in KIND_TITLES and ticket.kind != "follow_up":
        return KIND_TITLES[ticket.kind]
    item = items.get(ticket.item_id)
    name = getattr(item, "title", None) or ticket.item_id or "—"
    return f"回访：{name}" if ticket.kind == "follow_up" else name


def booked(ticket: Ticket, tz: tzinfo) -> str:
    start, end = local(ticket.wanted_start, tz), local(ticket.wanted_end, tz)
    return f"{start:%m-%d %H:%M}–{end:%H:%M}" if start and end else ""


def mobile(viewer: StaffMember, ticket: Ticket) -> str:
    """In full for the holder and the secretary (policy.sees_mobile), masked for everyone else."""
    if not ticket.contact_mobile:
        return ""
    return ticket.contact_mobile if policy.sees_mobile(viewer, ticket) else mask_mobile(ticket.contact_mobile)


def row(ticket: Ticket, viewer: StaffMember, now: datetime, tz: tzinfo, items: Mapping[str, Any]) -> Row:
    unclaimed = ticket.state in policy.UNCLAIMED
    claim = clock(now, ticket.created_at, None, ticket.claim_remind_at) if unclaimed else NO_CLOCK
    held = ticket.state in ("open", "assigned", "accepted")
    done = clock(now, ticket.created_at, ticket.done_warn_at, ticket.done_due_at) if held else NO_CLOCK
    return Row(
        number=ticket.number,
        state=ticket.state,
        state_name=STATE_NAMES.get(ticket.state, ticket.state),
        title=title(items, ticket),
        resident=masked_name(ticket.contact_name),
        mobile=mobile(viewer, ticket),
        assignee=ticket.assignee or "",
        booked=booked(ticket, tz),
        claim=claim,
        done=done,
        urgent=bool(ticket.urgent),
        kind=ticket.kind,
    )


def free_text(text: str, *, full: bool) -> str:
    """What a resident wrote: ID numbers always removed; mobiles in it masked unless the viewer
    may see the resident's mobile (policy.sees_mobile)."""
    return without_id_numbers(text) if full else mask_text(text)


def visible_fields(ticket: Ticket, *, full: bool) -> list[tuple[str, str]]:
    """The ticket's own fields as (label, text) for its page; name and mobile are shown (masked
    or not) by the page itself."""
    from handlers.ordering import LABELS

    shown = []
    for key, value in (ticket.fields or {}).items():
        if key in ("name", "mobile") or value in ("", None) or isinstance(value, dict | list):
            continue
        shown.append((LABELS.get(key, key), free_text(str(value), full=full)))
    return shown


def event_text(detail: Mapping[str, Any], *, full: bool) -> str:
    parts = []
    if detail.get("assignee"):
        parts.append(f"→ {detail['assignee']}")
    if detail.get("note"):
        parts.append(free_text(str(detail["note"]), full=full))
    return " ".join(parts)
