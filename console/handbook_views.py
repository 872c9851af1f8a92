"""百事通手册 (the secretary's): every item listed and editable, the office data, a preview of exactly
what a resident receives (the consult handler's own checklist) with its size against WeChat's
2048-byte limit, publishing as a new version, history, the diff between any two versions, and
rollback. Every change is a desk/handbook.py operation; the forms are data (console/handbook_form.py)."""

from __future__ import annotations

import logging
from collections import OrderedDict
from typing import Any

import aiohttp_jinja2
from aiohttp import web

from console.auth import Viewer, signed_in
from console.handbook_form import (
    ITEM_SECTIONS,
    OFFICE,
    OFFICE_SECTIONS,
    Section,
    place_problems,
    read_form,
    values_of,
)
from console.pages import allowed_by, message, refused_page
from console.signin_views import see_other
from console.state import state
from desk import policy
from desk.clocks import local
from desk.handbook import HandbookDesk, Invalid, Published, item_file, validate
from desk.refusals import Refused
from handlers.render import checklist, office_hours
from knowledge import Handbook, Item
from storage.models import HandbookVersion

log = logging.getLogger("baishitong.console")
routes = web.RouteTableDef()
WECHAT_TEXT_LIMIT = 2048  # bytes of UTF-8 in one passive text reply
_LOADED: OrderedDict[tuple[str, int], Handbook] = OrderedDict()  # recent versions, loaded once


def versions(request: web.Request) -> HandbookDesk:
    desk = state(request).desk()
    return HandbookDesk(desk.database, desk.clock)


async def current(request: web.Request) -> tuple[HandbookVersion, Handbook]:
    """The newest version (the handbook directory becomes version 1 when there is none) and its
    loaded handbook."""
    handbooks = versions(request)
    row = await handbooks.current()
    if row is None:
        await handbooks.ensure_first(state(request).settings.handbook_path)
        row = await handbooks.current()
        assert row is not None
    key = (state(request).desk().database.url, row.number)
    handbook = _LOADED.get(key)
    if handbook is None:
        handbook = await validate(row.files, f"database version {row.number}")
        _LOADED[key] = handbook
        while len(_LOADED) > 4:
            _LOADED.popitem(last=False)
    return row, handbook


def preview_of(text: str, complete: str | None = None) -> dict[str, Any]:
    """What a resident receives and its UTF-8 size; `complete`: the text before it was fitted into
    one message (sections dropped or cut when it is over the limit)."""
    whole = len((complete or text).encode("utf-8"))
    return {
        "text": text,
        "bytes": len(text.encode("utf-8")),
        "complete": whole,
        "limit": WECHAT_TEXT_LIMIT,
        "over": whole > WECHAT_TEXT_LIMIT,
    }


def item_preview(item: Item, handbook: Handbook) -> dict[str, Any]:
    """The consult handler's own reply for the item (handlers/render.checklist)."""
    return preview_of(checklist(item, handbook), checklist(item, handbook, complete=True))


def _number(value: Any) -> int | None:
    return int(value) if isinstance(value, str) and value.isdigit() and len(value) < 10 else None


@routes.get("/console/handbook")
@signed_in
@allowed_by(policy.can_edit_handbook)
async def handbook_page(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    row, handbook = await current(request)
    items = [
        {
            "id": item.id,
            "title": item.title,
            "category": handbook.categories.get(item.category, item.category),
            "documents": len(item.documents),
            "order": item.order is not None,
            "bytes": len(checklist(item, handbook, complete=True).encode("utf-8")),
        }
        for item in handbook.items.values()
    ]
    return aiohttp_jinja2.render_template(
        "handbook.html",
        request,
        {"viewer": viewer, "version": row, "items": items, "limit": WECHAT_TEXT_LIMIT},
    )


def _render_form(
    request: web.Request,
    viewer: Viewer,
    *,
    template: str,
    sections: tuple[Section, ...],
    handbook: Handbook,
    base: int,
    values: dict[str, Any],
    extra: dict[str, Any],
    errors: dict[str, list[str]] | None = None,
    elsewhere: list[str] | None = None,
    preview: dict[str, Any] | None = None,
    status: int = 200,
) -> web.Response:
    return aiohttp_jinja2.render_template(
        template,
        request,
        {
            "viewer": viewer,
            "sections": sections,
            "handbook": handbook,
            "base": base,
            "values": values,
            "errors": errors or {},
            "elsewhere": elsewhere or [],
            "preview": preview,
            "published": _number(request.query.get("published")),
            **extra,
        },
        status=status,
    )


@routes.get("/console/handbook/item/{item_id}")
@signed_in
@allowed_by(policy.can_edit_handbook)
async def item_page(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    row, handbook = await current(request)
    item = handbook.items.get(request.match_info["item_id"])
    if item is None:
        return await refused_page(
            request, viewer, Refused("unknown_item", item=request.match_info["item_id"])
        )
    return _render_form(
        request,
        viewer,
        template="handbook_item.html",
        sections=ITEM_SECTIONS,
        handbook=handbook,
        base=row.number,
        values=values_of(ITEM_SECTIONS, row.files, item_file(item.id)),
        extra={"item": item, "action": f"/console/handbook/item/{item.id}"},
        preview=item_preview(item, handbook),
    )


@routes.post("/console/handbook/item/{item_id}")
@signed_in
@allowed_by(policy.can_edit_handbook)
async def item_post(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    _, handbook = await current(request)
    item = handbook.items.get(request.match_info["item_id"])
    if item is None:
        return await refused_page(
            request, viewer, Refused("unknown_item", item=request.match_info["item_id"])
        )

    def show(candidate: Handbook) -> dict[str, Any] | None:
        found = candidate.items.get(item.id)
        return item_preview(found, candidate) if found else None

    return await _edit(
        request,
        viewer,
        sections=ITEM_SECTIONS,
        own=item_file(item.id),
        handbook=handbook,
        template="handbook_item.html",
        extra={"item": item, "action": f"/console/handbook/item/{item.id}"},
        show=show,
        done=f"/console/handbook/item/{item.id}",
    )


@routes.get("/console/handbook/office")
@signed_in
@allowed_by(policy.can_edit_handbook)
async def office_page(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    row, handbook = await current(request)
    return _render_form(
        request,
        viewer,
        template="handbook_office.html",
        sections=OFFICE_SECTIONS,
        handbook=handbook,
        base=row.number,
        values=values_of(OFFICE_SECTIONS, row.files, OFFICE),
        extra={"action": "/console/handbook/office"},
        preview=preview_of(office_hours(handbook.office)),
    )


@routes.post("/console/handbook/office")
@signed_in
@allowed_by(policy.can_edit_handbook)
async def office_post(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    _, handbook = await current(request)
    return await _edit(
        request,
        viewer,
        sections=OFFICE_SECTIONS,
        own=OFFICE,
        handbook=handbook,
        template="handbook_office.html",
        extra={"action": "/console/handbook/office"},
        show=lambda candidate: preview_of(office_hours(candidate.office)),
        done="/console/handbook/office",
    )


async def _edit(
    request: web.Request,
    viewer: Viewer,
    *,
    sections: tuple[Section, ...],
    own: str,
    handbook: Handbook,
    template: str,
    extra: dict[str, Any],
    show: Any,
    done: str,
) -> web.StreamResponse:
    """预览 (validate, show the reply) or 发布 (validate, publish, back to the page): a problem is
    shown beside its field and nothing is published."""
    form = await request.post()
    base = _number(form.get("base"))
    if base is None:
        return message(request, viewer, "表单有误", "缺少版本号，请重新打开这一页。", status=400, back=done)
    posted = read_form(sections, form, own)
    note = form.get("note", "")
    previewing = form.get("action") == "preview"

    def again(status: int, errors: dict[str, list[str]], elsewhere: list[str], preview: Any) -> web.Response:
        return _render_form(
            request,
            viewer,
            template=template,
            sections=sections,
            handbook=handbook,
            base=base,
            values=posted.values,
            extra={**extra, "note": note if isinstance(note, str) else ""},
            errors=errors,
            elsewhere=elsewhere,
            preview=preview,
            status=status,
        )

    if posted.problems:
        return again(400, posted.problems, [], None)
    try:
        _, result = await versions(request).edit_files(
            viewer.member,
            posted.changes,
            base=base,
            note=note if isinstance(note, str) else "",
            preview=previewing,
        )
    except Invalid as invalid:
        errors, elsewhere = place_problems(sections, invalid.problems, own)
        log.info("console: %s's handbook edit has %d problem(s)", viewer.member.name, len(invalid.problems))
        return again(400, errors, elsewhere, None)
    except Refused as refused:
        return await refused_page(request, viewer, refused)
    if isinstance(result, Published):
        log.info("console: %s published handbook version %d", viewer.member.name, result.number)
        return see_other(f"{done}?published={result.number}")
    return again(200, {}, [], show(result))


@routes.get("/console/handbook/history")
@signed_in
@allowed_by(policy.can_edit_handbook)
async def history_page(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    row, _ = await current(request)
    tz = state(request).desk().tz
    rows = [
        {
            "number": v.number,
            "at": f"{local(v.created_at, tz):%Y-%m-%d %H:%M}",
            "author": v.author,
            "note": v.note,
        }
        for v in await versions(request).history()
    ]
    return aiohttp_jinja2.render_template(
        "handbook_history.html",
        request,
        {
            "viewer": viewer,
            "versions": rows,
            "newest": row.number,
            "done": _number(request.query.get("done")),
        },
    )


@routes.get("/console/handbook/diff")
@signed_in
@allowed_by(policy.can_edit_handbook)
async def diff_page(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    a, b = _number(request.query.get("a")), _number(request.query.get("b"))
    if a is None or b is None:
        return message(
            request,
            viewer,
            "请选两个版本",
            "请选要比较的两个版本。",
            status=400,
            back="/console/handbook/history",
        )
    older, newer = min(a, b), max(a, b)
    try:
        lines = await versions(request).diff(older, newer)
    except Refused as refused:
        return await refused_page(request, viewer, refused)
    return aiohttp_jinja2.render_template(
        "handbook_diff.html",
        request,
        {"viewer": viewer, "older": older, "newer": newer, "lines": lines},
    )


@routes.post("/console/handbook/rollback")
@signed_in
@allowed_by(policy.can_edit_handbook)
async def rollback(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    form = await request.post()
    number, base = _number(form.get("number")), _number(form.get("base"))
    if number is None or base is None:
        return message(
            request, viewer, "表单有误", "请选要回滚到的版本。", status=400, back="/console/handbook/history"
        )
    try:
        published = await versions(request).rollback(viewer.member, number, base=base)
    except Refused as refused:
        return await refused_page(request, viewer, refused)
    except Invalid as invalid:  # an old version this code no longer reads
        return message(
            request,
            viewer,
            "不能回滚",
            f"第 {number} 版不能通过现在的检查：{'；'.join(invalid.problems[:5])}",
            status=409,
            back="/console/handbook/history",
        )
    log.info("console: %s rolled the handbook back to version %d", viewer.member.name, number)
    return see_other(f"/console/handbook/history?done={published.number}")
