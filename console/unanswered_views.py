"""未识别问题 (the secretary's): what residents wrote that ended in the apology, a referral, a
life-event list or a "which one?" choice, grouped by desk/unanswered.py as `baishitong nlu
unanswered` lists them, with the bot's direct-answer rate week by week; one action marks a group
as outside community services (非社区业务), so it leaves the list; the other adds what residents
wrote to an item's phrasings in a new handbook version (desk/handbook.py add_phrase), which every
process's classifier trains on within seconds."""

from __future__ import annotations

import json
import logging
from typing import Any

import aiohttp_jinja2
from aiohttp import web

from console.auth import Viewer, signed_in
from console.pages import allowed_by, message, refused_page
from console.periods import DAY_CHOICES, BadPeriod, days_of, weeks_back
from console.signin_views import see_other
from console.state import state
from desk import policy
from desk.answers import Answers, weekly
from desk.handbook import HandbookDesk, Invalid
from desk.refusals import Refused
from desk.unanswered import UnansweredGroup
from handlers.wording import outcome_label
from intents.normalize import simplify
from knowledge import Handbook

log = logging.getLogger("baishitong.console")
routes = web.RouteTableDef()
WEEKS = 12  # the direct-answer rate's chart: the last twelve weeks
REVIEW_DAYS = 365  # the mark action accepts any group of the last year


def _group(group: UnansweredGroup, handbook: Handbook) -> dict[str, Any]:
    def title(item_id: str) -> str:
        item = handbook.items.get(item_id)
        return item.title if item else item_id

    top = max(group.picked, key=lambda i: group.picked[i], default=None)
    return {
        "key": group.key,
        "count": group.count,
        "said": outcome_label(group.outcome, {p.id: p.name for p in handbook.referrals}),
        "text": group.text,
        "offered": "、".join(title(i) for i in group.offered),
        "picked": "、".join(f"{title(i)}×{n}" for i, n in group.picked.items()),
        "item": top,
        "item_title": title(top) if top else "",
    }


def _weeks(weeks: list[Answers]) -> str:
    rows = [
        {
            "label": f"{w.first:%m-%d} 起",
            "value": round(w.rate * 100, 1) if w.rate is not None else 0,
            "note": "-" if w.rate is None else f"{w.rate:.0%}（{w.direct}/{w.conversations}）",
        }
        for w in weeks
    ]
    return json.dumps({"unit": "%", "max": 100, "rows": rows}, ensure_ascii=False)


@routes.get("/console/unanswered")
@signed_in
@allowed_by(policy.can_review_unanswered)
async def unanswered_page(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    console = state(request)
    desk = console.desk()
    try:
        days = days_of(request.query)
    except BadPeriod as bad:
        return message(request, viewer, "筛选条件有误", str(bad), status=400, back="/console/unanswered")
    handbook = console.services().handbook
    groups = [_group(g, handbook) for g in await desk.unanswered.review(days, simplify)]
    weeks = await weekly(desk.database, *weeks_back(desk.now().date(), WEEKS), desk.tz)
    return aiohttp_jinja2.render_template(
        "unanswered.html",
        request,
        {
            "viewer": viewer,
            "days": days,
            "choices": DAY_CHOICES,
            "groups": groups,
            "messages": sum(g["count"] for g in groups),
            "weeks": weeks,
            "weeks_chart": _weeks(weeks),
            "done": request.query.get("done", "") == "dismissed",
            "taught": _taught(request.query, handbook),
            "items": [(item.id, item.title) for item in handbook.items.values()],
        },
    )


@routes.post("/console/unanswered/dismiss")
@signed_in
@allowed_by(policy.can_review_unanswered)
async def dismiss(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    """标记为非社区业务: the group leaves the list (and `nlu unanswered`), for good."""
    desk = state(request).desk()
    form = await request.post()
    key = form.get("key", "")
    key = key if isinstance(key, str) else ""
    try:
        days = days_of({"days": str(form.get("days", ""))})
    except BadPeriod:
        days = 30
    known = {g.key for g in await desk.unanswered.review(REVIEW_DAYS, simplify)}
    if key not in known:
        return message(
            request,
            viewer,
            "没有这一组",
            "没有找到这组未识别问题：可能已经标记过，或已超过一年。",
            status=400,
            back=f"/console/unanswered?days={days}",
        )
    await desk.unanswered.dismiss(key, viewer.member.name)
    log.info("console: %s marked an unanswered group as not community business", viewer.member.name)
    return see_other(f"/console/unanswered?days={days}&done=dismissed")


def _taught(query: Any, handbook: Handbook) -> dict[str, str] | None:
    item = handbook.items.get(query.get("taught", ""))
    version = query.get("version", "")
    return {"title": item.title, "version": version} if item and version.isdigit() else None


@routes.post("/console/unanswered/teach")
@signed_in
@allowed_by(policy.can_edit_handbook)
async def teach(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    """加到事项的居民说法: what this group's residents wrote becomes one of the item's phrasings in a
    new handbook version; the classifier of every process learns it once it has that version."""
    desk = state(request).desk()
    form = await request.post()
    key, item_id = form.get("key", ""), form.get("item", "")
    key = key if isinstance(key, str) else ""
    item_id = item_id if isinstance(item_id, str) else ""
    try:
        days = days_of({"days": str(form.get("days", ""))})
    except BadPeriod:
        days = 30
    back = f"/console/unanswered?days={days}"
    group = next((g for g in await desk.unanswered.review(REVIEW_DAYS, simplify) if g.key == key), None)
    if group is None:
        return message(
            request,
            viewer,
            "没有这一组",
            "没有找到这组未识别问题：可能已经标记过，或已超过一年。",
            status=400,
            back=back,
        )
    handbooks = HandbookDesk(desk.database, desk.clock)
    try:
        if await handbooks.versions.latest_number() == 0:
            await handbooks.ensure_first(state(request).settings.handbook_path)
        published = await handbooks.add_phrase(viewer.member, item_id, group.text)
    except Refused as refused:
        return await refused_page(request, viewer, refused)
    except Invalid as invalid:  # e.g. the sentence is already another item's phrasing
        return message(request, viewer, "没有加上", "；".join(invalid.problems[:5]), status=400, back=back)
    log.info(
        "console: %s taught an unanswered phrase to %s (version %d)",
        viewer.member.name,
        item_id,
        published.number,
    )
    return see_other(f"{back}&taught={item_id}&version={published.number}")
