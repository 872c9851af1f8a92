"""值班表 (duty leader and secretary): the week's duty as a grid (windows × days), holiday duty by
date, swaps and leave, edited in one form and saved by desk/rostering.py after the check `staff
import` makes; every problem is shown beside its cell and nothing is saved. Above the form: who
is on duty now and next, and the coming week's windows with nobody qualified for a category."""

from __future__ import annotations

import logging
from typing import Any

import aiohttp_jinja2
from aiohttp import web

from console import rota_form
from console.auth import Viewer, client_of, signed_in
from console.pages import allowed_by, message, refused_page
from console.signin_views import see_other
from console.state import state
from desk import policy
from desk.refusals import Refused
from desk.rostering import Rostering
from desk.rota import RotaError
from desk.rota_edit import Gap
from handlers.wording import refusal

log = logging.getLogger("baishitong.console")
routes = web.RouteTableDef()


def _gap(gap: Gap, categories: dict[str, str], holiday: str | None) -> dict[str, Any]:
    day = f"{gap.day:%m月%d日} {rota_form.DAY_NAMES[rota_form.WEEKDAYS[gap.day.weekday()]]}"
    if gap.window is None:
        return {"when": f"{day}（{holiday or '节假日'}）", "text": "没有安排节假日值班"}
    window = gap.window
    missing = "、".join(categories.get(c, c) for c in gap.missing)
    here = "、".join(gap.names) or "（都在请假）"
    return {
        "when": f"{day} {window.label}（{window.start:%H:%M}-{window.end:%H:%M}）",
        "text": f"在班 {here}；没有人能办：{missing}",
    }


async def _page(
    request: web.Request,
    viewer: Viewer,
    sheet: rota_form.Sheet | None = None,
    problems: dict[str, list[str]] | None = None,
    status: int = 200,
) -> web.Response:
    console = state(request)
    desk = console.desk()
    rostering = Rostering(desk)
    view = await rostering.view()
    windows = view.rota.windows if view.rota else {}
    categories = dict(console.services().handbook.categories)
    now = desk.now()
    return aiohttp_jinja2.render_template(
        "rota.html",
        request,
        {
            "viewer": viewer,
            "sheet": sheet or rota_form.sheet_of(view),
            "problems": problems or {},
            "days": rota_form.DAY_NAMES,
            "grid": rota_form.grid_windows(windows),
            "holiday_windows": rota_form.holiday_windows(windows),
            "windows": sorted(windows.values(), key=lambda w: (w.days, w.start)),
            "applies": rota_form.applies,
            "cell": rota_form.cell,
            "names": [m.name for m in view.staff],
            "now": await desk.on_duty_now(),
            "next": await rostering.next_duty(),
            "today": now,
            "gaps": [
                _gap(g, categories, desk.calendar.holiday(g.day))
                for g in await rostering.gaps(list(categories))
            ],
            "saved": request.query.get("saved") == "1",
            "has_rota": view.rota is not None,
        },
        status=status,
    )


@routes.get("/console/rota")
@signed_in
@allowed_by(policy.can_edit_rota)
async def rota_page(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    return await _page(request, viewer)


@routes.post("/console/rota")
@signed_in
@allowed_by(policy.can_edit_rota)
async def save_rota(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    desk = state(request).desk()
    rostering = Rostering(desk)
    view = await rostering.view()
    posted = await request.post()
    form = {key: value for key, value in posted.items() if isinstance(value, str)}
    sheet, edit, fields = rota_form.read(form, view.rota.windows if view.rota else {})
    try:
        changed = await rostering.save(viewer.member, edit, client_of(request))
    except RotaError as bad:
        log.info("rota: %d problem(s) in %s's edit, nothing saved", len(bad.problems), viewer.member.name)
        return await _page(request, viewer, sheet, rota_form.placed(bad.problems, fields), status=400)
    except Refused as refused:
        if refused.reason == "rota_changed":
            log.info("rota: %s's edit was over an older rota, nothing saved", viewer.member.name)
            return message(request, viewer, "没有保存", refusal(refused), status=409, back="/console/rota")
        return await refused_page(request, viewer, refused)
    log.info("rota: saved by %s (%d change(s))", viewer.member.name, len(changed))
    return see_other("/console/rota?saved=1")
