"""人员 (duty leader and secretary): the staff list; add and edit a member (grade, post, B角,
categories, roles, mobile, WeCom id) with the check `staff import` makes, each problem beside its
field; a binding code for the WeChat binding flow; unbind a lost phone; remove someone who left
(their open tickets handed to a colleague). Each action is one desk/staffing.py operation."""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import quote

import aiohttp_jinja2
from aiohttp import web
from multidict import MultiDictProxy

from console import rota_form
from console.auth import Viewer, client_of, signed_in
from console.pages import allowed_by, message, refused_page
from console.signin_views import see_other
from console.state import state
from desk import policy
from desk.masking import mask_mobile
from desk.refusals import Refused
from desk.rota import ROLES, RotaError
from desk.staffing import StaffAdmin
from handlers.wording import refusal
from storage.models import StaffMember

log = logging.getLogger("baishitong.console")
routes = web.RouteTableDef()
ROLE_NAMES = {"leader": "值班长", "secretary": "书记"}
DONE = {
    "added": "已添加",
    "saved": "已保存",
    "unbound": "已解除微信绑定，原来的微信不能再以他/她的身份办事；请发新的绑定码",
    "removed": "已停用：不再派单、排班或登录；工单和记录都保留",
}
FIELDS = {
    f"staff.{key}": key
    for key in ("name", "mobile", "wecom", "grade", "categories", "post", "backup", "roles")
}


def _categories(request: web.Request) -> dict[str, str]:
    return dict(state(request).services().handbook.categories)


def _row(viewer: Viewer, member: StaffMember, categories: dict[str, str]) -> dict[str, Any]:
    def named(ids: list[str]) -> str:
        return "、".join(categories.get(c, c) for c in ids)

    full = policy.sees_staff_mobile(viewer.member, member)
    return {
        "id": member.id,
        "name": member.name,
        "scope": "全岗通（A）" if member.grade == "A" else f"B：{named(member.categories)}",
        "post": named(member.post) or "—",
        "backup": member.backup or "—",
        "roles": "、".join(ROLE_NAMES.get(r, r) for r in member.roles) or "—",
        "mobile": (member.mobile if full else mask_mobile(member.mobile)) or "—",
        "wecom": member.wecom_userid or "—",
        "bound": bool(member.openid),
    }


@routes.get("/console/staff")
@signed_in
@allowed_by(policy.can_manage_staff)
async def staff_page(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    members = await state(request).desk().staff.all()
    categories = _categories(request)
    done = request.query.get("done", "")
    return aiohttp_jinja2.render_template(
        "staff.html",
        request,
        {
            "viewer": viewer,
            "rows": [_row(viewer, m, categories) for m in members if m.active],
            "gone": [m.name for m in members if not m.active],
            "done": DONE.get(done, ""),
            "done_name": request.query.get("name", "")[:32] if done in DONE else "",
        },
    )


def _form_values(member: StaffMember | None) -> dict[str, Any]:
    if member is None:
        return {
            "name": "",
            "mobile": "",
            "wecom": "",
            "grade": "A",
            "categories": [],
            "post": [],
            "backup": "",
            "roles": [],
        }
    return {
        "name": member.name,
        "mobile": member.mobile,
        "wecom": member.wecom_userid,
        "grade": member.grade,
        "categories": list(member.categories),
        "post": list(member.post),
        "backup": member.backup,
        "roles": list(member.roles),
    }


async def _member_page(
    request: web.Request,
    viewer: Viewer,
    member: StaffMember | None,
    values: dict[str, Any] | None = None,
    problems: dict[str, list[str]] | None = None,
    status: int = 200,
) -> web.Response:
    desk = state(request).desk()
    active = [m for m in await desk.staff.all() if m.active]
    full = member is None or policy.sees_staff_mobile(viewer.member, member)
    shown = values or _form_values(member)
    if not full and values is None:
        shown = {**shown, "mobile": ""}  # masked: left empty, kept unless a new one is typed
    held = await desk.staff_tickets(member) if member else []
    return aiohttp_jinja2.render_template(
        "staff_member.html",
        request,
        {
            "viewer": viewer,
            "member": member,
            "v": shown,
            "problems": problems or {},
            "categories": _categories(request),
            "roles": {r: ROLE_NAMES[r] for r in ROLES},
            "may_set_roles": "secretary" in viewer.member.roles,
            "masked": "" if full or member is None or not member.mobile else mask_mobile(member.mobile),
            "others": [m.name for m in active if member is None or m.name != member.name],
            "held": [t.number for t in held],
        },
        status=status,
    )


async def _member(request: web.Request) -> StaffMember:
    ident = int(request.match_info["id"])
    for member in await state(request).desk().staff.all():
        if member.id == ident and member.active:
            return member
    raise web.HTTPNotFound(text="没有这位工作人员（或已停用）")


def _entry(form: MultiDictProxy[Any], viewer: Viewer, member: StaffMember | None) -> dict[str, Any]:
    """What was typed, in the import format; a masked mobile left empty keeps the stored one."""

    def text(key: str) -> str:
        value = form.get(key, "")
        return value.strip() if isinstance(value, str) else ""

    def many(key: str) -> list[str]:
        return [v for v in form.getall(key, []) if isinstance(v, str) and v.strip()]

    entry = {
        "name": member.name if member else text("name"),
        "mobile": text("mobile"),
        "wecom": text("wecom"),
        "grade": text("grade") or "A",
        "categories": many("categories"),
        "post": many("post"),
        "backup": text("backup"),
        "roles": many("roles"),
    }
    if member and not entry["mobile"] and not policy.sees_staff_mobile(viewer.member, member):
        entry["mobile"] = member.mobile
    return entry


async def _save(request: web.Request, viewer: Viewer, member: StaffMember | None) -> web.StreamResponse:
    form = await request.post()
    entry = _entry(form, viewer, member)
    try:
        saved = await StaffAdmin(state(request).desk()).save(
            viewer.member, entry, new=member is None, client=client_of(request)
        )
    except RotaError as bad:
        log.info("staff: %d problem(s) in %s's form, nothing saved", len(bad.problems), viewer.member.name)
        shown = dict(entry)
        if (
            member
            and not policy.sees_staff_mobile(viewer.member, member)
            and entry["mobile"] == member.mobile
        ):
            shown["mobile"] = ""  # still the stored number, which this viewer does not see
        return await _member_page(
            request, viewer, member, shown, rota_form.placed(bad.problems, FIELDS), status=400
        )
    except Refused as refused:
        return await refused_page(request, viewer, refused)
    log.info("staff: %s %s %s", viewer.member.name, "added" if member is None else "edited", saved.name)
    return see_other(f"/console/staff?done={'added' if member is None else 'saved'}&name={quote(saved.name)}")


@routes.get("/console/staff/new")
@signed_in
@allowed_by(policy.can_manage_staff)
async def new_member(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    return await _member_page(request, viewer, None)


@routes.post("/console/staff/new")
@signed_in
@allowed_by(policy.can_manage_staff)
async def add_member(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    return await _save(request, viewer, None)


@routes.get(r"/console/staff/{id:\d{1,9}}")
@signed_in
@allowed_by(policy.can_manage_staff)
async def member_page(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    return await _member_page(request, viewer, await _member(request))


@routes.post(r"/console/staff/{id:\d{1,9}}")
@signed_in
@allowed_by(policy.can_manage_staff)
async def edit_member(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    return await _save(request, viewer, await _member(request))


@routes.post(r"/console/staff/{id:\d{1,9}}/invite")
@signed_in
@allowed_by(policy.can_manage_staff)
async def invite(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    """A binding code shown once: the member sends "绑定 CODE" to the account from their WeChat."""
    desk = state(request).desk()
    member = await _member(request)
    try:
        code, expires = await StaffAdmin(desk).invite(viewer.member, member.name, client_of(request))
    except Refused as refused:
        return await refused_page(request, viewer, refused)
    log.info("staff: %s issued a binding code for %s", viewer.member.name, member.name)
    return aiohttp_jinja2.render_template(
        "staff_invite.html",
        request,
        {"viewer": viewer, "member": member, "code": code, "expires": expires.astimezone(desk.tz)},
    )


@routes.post(r"/console/staff/{id:\d{1,9}}/unbind")
@signed_in
@allowed_by(policy.can_manage_staff)
async def unbind(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    member = await _member(request)
    try:
        await StaffAdmin(state(request).desk()).unbind(viewer.member, member.name, client_of(request))
    except Refused as refused:
        return await refused_page(request, viewer, refused)
    log.info("staff: %s unbound %s's WeChat", viewer.member.name, member.name)
    return see_other(f"/console/staff?done=unbound&name={quote(member.name)}")


@routes.post(r"/console/staff/{id:\d{1,9}}/remove")
@signed_in
@allowed_by(policy.can_manage_staff)
async def remove(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    console = state(request)
    member = await _member(request)
    form = await request.post()
    successor = form.get("successor", "")
    try:
        handed = await StaffAdmin(console.desk()).remove(
            viewer.member,
            member.name,
            successor if isinstance(successor, str) else "",
            client_of(request),
            console.services().handbook.claim_minutes,
        )
    except Refused as refused:
        if refused.reason == "holds_tickets":
            return message(
                request,
                viewer,
                "还不能停用",
                refusal(refused),
                status=409,
                back=f"/console/staff/{member.id}",
            )
        return await refused_page(request, viewer, refused)
    log.info("staff: %s removed %s (%d ticket(s) handed over)", viewer.member.name, member.name, len(handed))
    return see_other(f"/console/staff?done=removed&name={quote(member.name)}")
