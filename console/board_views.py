"""The ticket board (工单台): open tickets the viewer may see, filtered and searched, one page of
PAGE_ROWS at a time, and its live stream (server-sent events) of rows to insert, replace or drop."""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

import aiohttp_jinja2
from aiohttp import web

from console import present
from console.auth import Viewer, signed_in, viewer_of
from console.pages import message
from console.state import state
from desk import board, policy
from desk.desk import ServiceDesk
from desk.states import OPEN_STATES
from handlers.wording import STATE_NAMES
from storage.models import NUMBER_OFFSET, Ticket

PAGE_ROWS = 200  # rows rendered per page: 5,000 open tickets paint as fast as 200
PING_SECONDS = 15.0
log = logging.getLogger("baishitong.console")
routes = web.RouteTableDef()


class BadFilter(ValueError):
    """A filter value the board cannot use; the message says which, in Chinese."""


@dataclass(frozen=True, slots=True)
class Filters:
    state: str = ""
    item: str = ""
    staff: str = ""
    day: date | None = None
    overdue: bool = False
    q: str = ""
    page: int = 1

    def query(self, **override: Any) -> str:
        values = {
            "state": self.state,
            "item": self.item,
            "staff": self.staff,
            "day": self.day.isoformat() if self.day else "",
            "overdue": "1" if self.overdue else "",
            "q": self.q,
            "page": str(self.page) if self.page > 1 else "",
        }
        values.update({k: str(v) for k, v in override.items()})
        from urllib.parse import urlencode

        return urlencode({k: v for k, v in values.items() if v})


def filters_of(query: Any, items: dict[str, Any]) -> Filters:
    """The board's filters from the query string; BadFilter names the value that is wrong."""
    wanted_state = query.get("state", "").strip()
    if wanted_state and wanted_state not in OPEN_STATES:
        raise BadFilter(f"没有“{wanted_state}”这个状态")
    item = query.get("item", "").strip()
    if item and item not in items:
        raise BadFilter(f"没有“{item}”这个事项")
    raw_day = query.get("day", "").strip()
    try:
        day = date.fromisoformat(raw_day) if raw_day else None
    except ValueError:
        raise BadFilter(f"日期“{raw_day}”看不懂，请用 2026-12-01 这样的格式") from None
    raw_page = query.get("page", "1").strip() or "1"
    if not raw_page.isdigit() or not 1 <= int(raw_page) <= 10_000:
        raise BadFilter(f"页码“{raw_page}”不对")
    return Filters(
        state=wanted_state,
        item=item,
        staff=query.get("staff", "").strip()[:32],
        day=day,
        overdue=query.get("overdue", "") == "1",
        q=query.get("q", "").strip()[:40],
        page=int(raw_page),
    )


def _day_bounds(desk: ServiceDesk, day: date | None) -> tuple[datetime | None, datetime | None]:
    if day is None:
        return None, None
    start = datetime.combine(day, time(), tzinfo=desk.tz)
    return start, start + timedelta(days=1)


async def _page(
    desk: ServiceDesk, scope: policy.Scope, f: Filters, ids: list[int] | None = None
) -> board.Page:
    since, until = _day_bounds(desk, f.day)
    return await board.page(
        desk,
        scope,
        states=(f.state,) if f.state else OPEN_STATES,
        item_id=f.item or None,
        assignee=f.staff or None,
        since=since,
        until=until,
        overdue=f.overdue,
        text=f.q,
        ids=ids,
        limit=PAGE_ROWS if ids is None else len(ids),
        offset=(f.page - 1) * PAGE_ROWS if ids is None else 0,
    )


@routes.get("/console/")
@signed_in
async def board_page(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    console = state(request)
    desk = console.desk()
    items = console.services().handbook.items
    try:
        f = filters_of(request.query, items)
    except BadFilter as bad:
        log.info("board: bad filter from %s: %s", viewer.member.name, bad)
        return message(request, viewer, "筛选条件有误", str(bad), status=400)
    found = await _page(desk, viewer.scope, f)
    now = desk.clock()
    rows = [present.row(t, viewer.member, now, desk.tz, items) for t in found.tickets]
    staff = sorted(m.name for m in await desk.staff.all() if m.active)
    pages = max(1, -(-found.total // PAGE_ROWS))
    return aiohttp_jinja2.render_template(
        "board.html",
        request,
        {
            "viewer": viewer,
            "rows": rows,
            "total": found.total,
            "f": f,
            "pages": pages,
            "states": [(s, STATE_NAMES[s]) for s in OPEN_STATES],
            "items": sorted(((i, it.title) for i, it in items.items()), key=lambda p: p[1]),
            "staff": staff,
            "stream": "/console/events?" + f.query(page=""),
            "prev": f.query(page=f.page - 1) if f.page > 1 else None,
            "next": f.query(page=f.page + 1) if f.page < pages else None,
        },
    )


@routes.get("/console/events")
async def events(request: web.Request) -> web.StreamResponse:
    """Server-sent events: for each changed ticket, its row as this viewer's board shows it
    (`html`), or `gone` when it left the board (done, handed to someone else, filtered out)."""
    console = state(request)
    viewer = await viewer_of(request)
    if viewer is None or console.live is None:
        raise web.HTTPForbidden(text="请先登录")
    try:
        f = filters_of(request.query, console.services().handbook.items)
    except BadFilter as bad:
        raise web.HTTPBadRequest(text=str(bad)) from None
    response = web.StreamResponse(
        headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    )
    await response.prepare(request)
    await response.write(b"retry: 1000\n: connected\n\n")
    queue = console.live.subscribe()
    try:
        while True:
            try:
                changed = await asyncio.wait_for(queue.get(), PING_SECONDS)
            except TimeoutError:
                changed = set()
            if changed is None:  # the server is stopping
                break
            viewer = await viewer_of(request)  # the session, and the scope as duty is now
            if viewer is None:  # signed out (here or everywhere) or expired
                await response.write(b"event: signedout\ndata: {}\n\n")
                break
            if not changed:
                await response.write(b": ping\n\n")
                continue
            for message in await _rows_for(request, viewer, f, sorted(changed)):
                await response.write(
                    f"event: ticket\ndata: {json.dumps(message, ensure_ascii=False)}\n\n".encode()
                )
    except ConnectionResetError:  # the browser went away (closed the tab, lost the network)
        pass
    finally:
        console.live.unsubscribe(queue)
    return response


async def _rows_for(request: web.Request, viewer: Viewer, f: Filters, ids: list[int]) -> list[dict[str, Any]]:
    console = state(request)
    desk = console.desk()
    items = console.services().handbook.items
    shown = {t.id: t for t in (await _page(desk, viewer.scope, f, ids)).tickets}
    template = aiohttp_jinja2.get_env(request.app).get_template("row.html")
    now = desk.clock()
    out: list[dict[str, Any]] = []
    for ticket_id in ids:
        number = str(ticket_id + NUMBER_OFFSET)
        ticket: Ticket | None = shown.get(ticket_id)
        if ticket is None:
            out.append({"number": number, "gone": True})
            continue
        row = present.row(ticket, viewer.member, now, desk.tz, items)
        out.append({"number": number, "urgent": row.urgent, "html": template.render(r=row)})
    return out
