"""党员报到 (the secretary's): 报到 waiting for approval with 通过 and 拒绝, the roster of party
members and volunteers by branch and team, and the community's open tasks with their places. Each
action is the desk operation WeChat's 通过 N / 拒绝 N 理由 call (desk/responders.py)."""

from __future__ import annotations

import logging
from typing import Any

import aiohttp_jinja2
from aiohttp import web

from console.auth import Viewer, signed_in
from console.pages import allowed_by, message
from console.signin_views import see_other
from console.state import state
from desk import policy
from desk.masking import mask_mobile
from desk.refusals import Refused
from handlers.responders import wording

log = logging.getLogger("baishitong.console")
routes = web.RouteTableDef()
KINDS = {"party_member": "在职党员", "volunteer": "志愿者"}
DONE = {"approved": "已通过", "rejected": "已拒绝"}


@routes.get("/console/responders")
@signed_in
@allowed_by(policy.can_approve_responders)
async def responders_page(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    desk = state(request).desk()
    roster = await desk.responders.roster()

    def group(key: str) -> str:
        found = roster.groups.get(key)
        return found.name if found else key

    signups: list[dict[str, Any]] = [
        {
            "id": s.id,
            "name": s.name,
            "kind": KINDS.get(s.kind, s.kind),
            "group": group(s.group_key),
            "unit": s.unit,
            "community": s.community,
            "skills": "、".join(s.skills),
            "availability": s.availability,
            "mobile": mask_mobile(s.mobile),
        }
        for s in await desk.responders.pending(viewer.member)
    ]
    people = [
        {
            "name": r.name,
            "kind": KINDS.get(r.kind, r.kind),
            "group": group(r.group_key),
            "skills": "、".join(r.skills),
            "availability": r.availability,
            "state": "已退出" if not r.active else ("已绑定微信" if r.openid else "未绑定"),
        }
        for r in await desk.responders.store.all()
    ]
    return aiohttp_jinja2.render_template(
        "responders.html",
        request,
        {
            "viewer": viewer,
            "signups": signups,
            "people": people,
            "groups": list(roster.groups.values()),
            "tasks": await desk.responders.store.open_tasks(),
            "done": DONE.get(request.query.get("done", ""), ""),
        },
    )


@routes.post("/console/responders/{number:\\d{1,9}}/{action:approve|reject}")
@signed_in
@allowed_by(policy.can_approve_responders)
async def decide(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    """通过 / 拒绝 a 报到; a refusal (already decided, a name taken) is shown in WeChat's words."""
    desk = state(request).desk()
    number, action = request.match_info["number"], request.match_info["action"]
    form = await request.post()
    text = str(form.get("text", "")).strip()
    try:
        if action == "approve":
            await desk.responders.approve(viewer.member, number, text or None)
        else:
            await desk.responders.reject(viewer.member, number, text)
    except Refused as refused:
        log.info("console: %s %s refused for %s: %s", action, number, viewer.member.name, refused.reason)
        return message(
            request, viewer, "不能这样做", wording(refused), status=409, back="/console/responders"
        )
    log.info("console: %s %s 报到 %s", viewer.member.name, action, number)
    return see_other(f"/console/responders?done={'approved' if action == 'approve' else 'rejected'}")
