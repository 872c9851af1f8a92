"""The 报表 page (duty leader and secretary): the period's figures per item and per staff member
as `baishitong report` computes them (bot/report.gather: one code path), the rates a 12345
hotline is judged by, the bot's direct-answer rate and most asked items, drawn as bar charts by
console/static/charts.js; and the same figures as a CSV file Excel opens (UTF-8 with a BOM)."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

import aiohttp_jinja2
from aiohttp import web

from bot.report import HEADERS, TOTAL, UNASSIGNED, Report, cells, csv_text, gather, item_name
from console.auth import Viewer, signed_in
from console.pages import allowed_by, message
from console.periods import BadPeriod, period_of
from console.state import state
from desk import policy
from desk.report import ReportRow
from knowledge import Handbook

log = logging.getLogger("baishitong.console")
routes = web.RouteTableDef()
CHART_ROWS = 12  # bars per chart: the rest are in the tables
# (label, the property of the total row or of the answers, what it counts), as the page explains them.
RATES = (
    ("响应率", "response_rate", "在接单时限内接单的工单 ÷ 已到接单时限或已接单的工单"),
    ("办结率", "completion_rate", "已办结 ÷ 工单（不算居民或社区取消的）"),
    ("按时办结率", "on_time_rate", "在办结时限内办结 ÷ 有办结时限的已办结工单"),
    ("满意率", "satisfaction_rate", "评 4–5 星 ÷ 已评价的工单"),
    ("回访率", "follow_up_rate", "已完成回访 ÷ 差评（2 星及以下）"),
)
DIRECT_MEANING = "当天没有转成工单或人工、也没有道歉或没选的“哪一个”的对话 ÷ 对话（一位居民一天算一次）"


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.0%}"


def rates(report: Report) -> list[dict[str, Any]]:
    """The six rates of the period, each with its figure, its meaning and its counts."""
    total = report.total
    out = []
    for label, attribute, meaning in RATES:
        value = getattr(total, attribute) if total else None
        out.append({"label": label, "value": value, "text": _pct(value), "meaning": meaning})
    answers = report.answers
    rate = answers.rate if answers else None
    out.append({"label": "直接答复率", "value": rate, "text": _pct(rate), "meaning": DIRECT_MEANING})
    return out


Label = Callable[[ReportRow], str]


def staff_name(row: ReportRow) -> str:
    return UNASSIGNED if row.key == "-" else row.key


def _bars(rows: list[ReportRow], name: Label, note: Label) -> str:
    return json.dumps(
        {
            "unit": "张",
            "rows": [{"label": name(r), "value": r.tickets, "note": note(r)} for r in rows[:CHART_ROWS]],
        },
        ensure_ascii=False,
    )


def charts(report: Report, handbook: Handbook) -> dict[str, str]:
    """The charts' data as JSON for charts.js: tickets per item and per staff member, the rates."""
    return {
        "by_item": _bars(
            report.by_item, lambda r: item_name(handbook, r.key), lambda r: f"按时办结 {_pct(r.on_time_rate)}"
        ),
        "by_staff": _bars(report.by_staff, staff_name, lambda r: f"满意率 {_pct(r.satisfaction_rate)}"),
        "rates": json.dumps(
            {
                "unit": "%",
                "max": 100,
                "rows": [
                    {
                        "label": r["label"],
                        "value": round(r["value"] * 100, 1) if r["value"] is not None else 0,
                        "note": r["text"],
                    }
                    for r in rates(report)
                ],
            },
            ensure_ascii=False,
        ),
    }


def _table(rows: list[ReportRow], name: Label) -> list[list[str]]:
    return [cells(row, name(row)) for row in rows]


async def _report(request: web.Request, viewer: Viewer) -> tuple[Report, Handbook] | web.Response:
    """The period's report, or the page that says why not (a bad date)."""
    console = state(request)
    desk = console.desk()
    try:
        first, last = period_of(request.query, desk.now().date())
    except BadPeriod as bad:
        log.info("reports: bad period from %s: %s", viewer.member.name, bad)
        return message(request, viewer, "日期有误", str(bad), status=400, back="/console/reports")
    report = await gather(desk.database, first, last, desk.tz, desk.clock())
    return report, console.services().handbook


@routes.get("/console/reports")
@signed_in
@allowed_by(policy.can_see_reports)
async def reports_page(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    found = await _report(request, viewer)
    if isinstance(found, web.Response):
        return found
    report, handbook = found
    period = f"from={report.first}&to={report.last}"
    answers = report.answers
    return aiohttp_jinja2.render_template(
        "reports.html",
        request,
        {
            "viewer": viewer,
            "r": report,
            "period": period,
            "headers": HEADERS,
            "by_item": _table(report.by_item, lambda r: item_name(handbook, r.key)),
            "by_staff": _table(report.by_staff, staff_name),
            "total": cells(report.total, TOTAL) if report.total else None,
            "rates": rates(report),
            "answers": answers,
            "asked": [(item_name(handbook, i), n) for i, n in (answers.asked if answers else ())][:10],
            "charts": charts(report, handbook),
        },
    )


@routes.get("/console/reports.csv")
@signed_in
@allowed_by(policy.can_see_reports)
async def reports_csv(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    """The page's figures as `baishitong report --csv` writes them: UTF-8 with a BOM for Excel."""
    found = await _report(request, viewer)
    if isinstance(found, web.Response):
        return found
    report, handbook = found
    body = "\ufeff" + csv_text(report, handbook)
    return web.Response(
        body=body.encode("utf-8"),
        headers={
            "Content-Type": "text/csv; charset=utf-8",
            "Content-Disposition": f'attachment; filename="report-{report.first}-{report.last}.csv"',
        },
    )
