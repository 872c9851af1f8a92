"""改时间、改地址、改电话: the resident changes an open ticket instead of cancelling and rebooking.

One compare-and-set (the `amend` transition, which keeps the state) writes the new values, an
event whose note says what changed (mobile numbers masked), and a group push that @-mentions
the assignee, so whoever holds the ticket learns of the change with it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from desk import operations, policy
from desk.clocks import local, utc
from desk.masking import mask_mobile, mask_text
from desk.refusals import Refused
from storage.models import OutboxMessage, Ticket

if TYPE_CHECKING:
    from desk.desk import ServiceDesk


@dataclass(frozen=True, slots=True)
class Amendment:
    """What the resident wants changed; None leaves a value as it is."""

    window: tuple[datetime, datetime] | None = None
    address: str | None = None
    name: str | None = None
    mobile: str | None = None

    def __bool__(self) -> bool:
        return any(v is not None for v in (self.window, self.address, self.name, self.mobile))


def _when(start: datetime | None, end: datetime | None, tz: Any) -> str:
    if start is None or end is None:
        return "未定"
    a, b = local(start, tz), local(end, tz)
    assert a is not None and b is not None
    return f"{a.month}月{a.day}日 {a:%H:%M}-{b:%H:%M}"


def changes(ticket: Ticket, amendment: Amendment, tz: Any) -> tuple[dict[str, Any], list[str]]:
    """The column values to write and, for the log and the group, each change said in words."""
    values: dict[str, Any] = {}
    said: list[str] = []
    if amendment.window is not None:
        start, end = (utc(moment) for moment in amendment.window)
        values.update(wanted_start=start, wanted_end=end)
        said.append(f"时间 {_when(ticket.wanted_start, ticket.wanted_end, tz)} → {_when(start, end, tz)}")
    if amendment.address is not None:
        old = (ticket.fields or {}).get("address") or "未填"
        values["fields"] = {**(ticket.fields or {}), "address": amendment.address}
        said.append(f"地址 {mask_text(old)} → {mask_text(amendment.address)}")
    if amendment.name is not None:
        values["contact_name"] = amendment.name
        said.append(f"联系人 {ticket.contact_name or '未填'} → {amendment.name}")
    if amendment.mobile is not None:
        values["contact_mobile"] = amendment.mobile
        said.append(f"电话 {mask_mobile(ticket.contact_mobile)} → {mask_mobile(amendment.mobile)}")
    return values, said


async def amend(desk: ServiceDesk, resident: str, number: str | int, amendment: Amendment) -> Ticket:
    """Change the time, address or contact of the resident's own open ticket; the assignee is told."""
    ticket = await operations.load(desk.tickets, number)
    refused = policy.can_amend(resident, ticket)
    if refused is not None:
        raise refused
    wecom = ""
    if ticket.assignee:
        try:
            wecom = (await desk.staff.by_name(ticket.assignee)).wecom_userid
        except Refused:  # left the rota since: the group still sees the change
            wecom = ""
    said: list[str] = []

    def push(t: Ticket) -> Iterable[OutboxMessage]:
        yield desk.group_row(t, "amended", wecom, {"changes": said}, utc(desk.now()))

    for _ in range(operations.ATTEMPTS):
        current = await operations.load(desk.tickets, number)
        values, said[:] = changes(current, amendment, desk.tz)
        try:
            return await operations.apply(
                desk.tickets,
                number,
                "amend",
                actor=resident,
                check=lambda t, version=current.version: (
                    policy.can_amend(resident, t)
                    or (Refused("busy", number=t.number) if t.version != version else None)
                ),
                note="；".join(said),
                values=values,
                then=push,
            )
        except Refused as busy:
            if busy.reason != "busy":
                raise
    raise Refused("busy", number=ticket.number)
