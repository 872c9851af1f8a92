"""A ticket's page (fields, clocks, rating, event log, the actions this viewer may take), the
actions themselves (each one desk operation, logged on the ticket as the viewer), and the
secretary's list of complaints and follow-ups (回访)."""

from __future__ import annotations

import logging
from typing import Any

import aiohttp_jinja2
from aiohttp import web

from console import present
from console.auth import Viewer, signed_in
from console.pages import allowed_by, refused_page
from console.signin_views import see_other
from console.state import state
from desk import board, policy
from desk.clocks import local
from desk.refusals import Refused
from desk.states import OPEN_STATES, TRANSITIONS
from handlers.wording import ACTION_NAMES, STATE_NAMES

log = logging.getLogger("baishitong.console")
routes = web.RouteTableDef()
DONE = {
    "claim": "已接单，居民会收到通知",
    "complete": "已办结，居民会收到通知并被请求评价",
    "transfer": "已转交，群里会 @ 对方",
    "reassign": "已改派，群里会 @ 对方",
    "note": "备注已记在工单上",
    "cancel": "已取消，居民会收到原因",
    "reply": "已发给居民（48 小时内没联系过的，居民下次发消息时会看到）",
}


def _actions(viewer: Viewer, state_: str) -> list[str]:
    """The forms worth showing; the desk still decides when one is sent."""
    role = viewer.scope.role
    shown = []
    for action in board.ACTIONS:
        desk_action = {"claim": "accept", "reply": "note"}.get(action, action)
        if state_ not in TRANSITIONS[desk_action].allowed_from:
            continue
        if action == "reassign" and role != "leader":
            continue
        if action == "cancel" and role == "staff":
            continue
        shown.append(action)
    return shown


@routes.get("/console/t/{number}")
@signed_in
async def ticket_page(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    console = state(request)
    desk = console.desk()
    number = request.match_info["number"][:24]
    try:
        ticket, events = await board.ticket(desk, viewer.scope, number)
    except Refused as refused:
        return await refused_page(request, viewer, refused, number)
    items = console.services().handbook.items
    now = desk.clock()
    done = request.query.get("done", "")
    full = policy.sees_mobile(viewer.member, ticket)
    return aiohttp_jinja2.render_template(
        "ticket.html",
        request,
        {
            "viewer": viewer,
            "t": ticket,
            "r": present.row(ticket, viewer.member, now, desk.tz, items),
            "contact_name": ticket.contact_name if full else None,
            "fields": present.visible_fields(ticket, full=full),
            "comment": present.free_text(ticket.comment or "", full=full),
            "events": [
                {
                    "at": f"{local(e.at, desk.tz):%m-%d %H:%M}",
                    "actor": "居民" if e.actor == ticket.resident else e.actor,
                    "action": ACTION_NAMES.get(e.action) or present.EVENT_NAMES.get(e.action, e.action),
                    "state": STATE_NAMES.get(e.to_state, e.to_state),
                    "text": present.event_text(e.detail or {}, full=full),
                }
                for e in events
            ],
            "actions": _actions(viewer, ticket.state),
            "action_names": {**ACTION_NAMES, "claim": "接单"},
            "staff": sorted(m.name for m in await desk.staff.all() if m.active and m.name != ticket.assignee),
            "done": DONE.get(done, ""),
        },
    )


@routes.post("/console/t/{number}/{action}")
@signed_in
async def ticket_action(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    console = state(request)
    desk = console.desk()
    number, action = request.match_info["number"][:24], request.match_info["action"][:24]
    form = await request.post()
    text, to = _field(form, "text"), _field(form, "to")
    try:
        await board.act(
            desk,
            viewer.member,
            viewer.scope,
            number,
            action,
            text=text,
            to=to,
            claim_minutes_of=console.services().handbook.claim_minutes,
        )
    except Refused as refused:
        return await refused_page(request, viewer, refused, number)
    log.info("console: %s %s %s", viewer.member.name, action, number)
    return see_other(f"/console/t/{number}?done={action}")


def _field(form: Any, name: str) -> str:
    value = form.get(name, "")
    return value if isinstance(value, str) else ""


@routes.get("/console/complaints")
@signed_in
@allowed_by(policy.can_see_complaints)
async def complaints(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    """Complaints and follow-ups (回访), open ones first: the secretary's list."""
    console = state(request)
    desk = console.desk()
    items = console.services().handbook.items
    now = desk.clock()
    found = await board.page(
        desk,
        viewer.scope,
        states=(*OPEN_STATES, "done", "closed"),
        kinds=("complaint", "follow_up"),
        limit=500,
    )
    rows = [present.row(t, viewer.member, now, desk.tz, items) for t in found.tickets]
    rows.sort(key=lambda r: (r.state not in OPEN_STATES, r.number))
    return aiohttp_jinja2.render_template(
        "complaints.html", request, {"viewer": viewer, "rows": rows, "total": found.total}
    )


AUDIT_NAMES = {
    "signin": "登录",
    "signin_confirmed": "微信确认登录",
    "signin_wrong": "登录码或链接错误",
    "signin_locked": "登录被暂停",
    "link_issued": "生成登录链接",
    "signout": "退出",
    "signout_all": "退出所有设备",
    "refused": "越权被拒",
    "csrf_refused": "缺少校验码被拒",
    "rota_saved": "修改值班表",
    "staff_added": "添加人员",
    "staff_edited": "修改人员",
    "staff_invited": "发绑定码",
    "staff_unbound": "解除微信绑定",
    "staff_removed": "停用人员",
}


@routes.get("/console/audit")
@signed_in
@allowed_by(policy.can_see_audit)
async def audit(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    """The last entries of the audit log, newest first: the secretary's."""
    desk = state(request).desk()
    rows = [
        {
            "at": f"{local(row.at, desk.tz):%m-%d %H:%M:%S}",
            "event": AUDIT_NAMES.get(row.event, row.event),
            "staff": row.staff or "—",
            "client": row.client,
            "detail": " ".join(f"{k}={v}" for k, v in (row.detail or {}).items()),
        }
        for row in await desk.signin.store.audit_rows(limit=200)
    ]
    return aiohttp_jinja2.render_template("audit.html", request, {"viewer": viewer, "rows": rows})
