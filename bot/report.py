"""The monthly report as a secretary receives it: a table, a CSV file and a one-page PNG chart.

The figures come from desk/report.py (SQL aggregates). The chart is set in Noto Sans CJK SC, which
the package noto-cjk-sans-otc ships (a dependency): its file is handed to matplotlib's font
manager directly, so the chart is Chinese on every machine, whatever fonts the system has and
whatever matplotlib's font cache holds.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from typing import TYPE_CHECKING

from desk.answers import Answers, direct_answers
from desk.points import STAFF_GROUP, PointsReport, tally
from desk.report import ReportRow, build_report
from knowledge import Handbook
from storage.db import Database

if TYPE_CHECKING:
    from desk.desk import ServiceDesk

CHART_FONT = "Noto Sans CJK SC"  # the Simplified Chinese face of the packaged collection
CHART_FAMILY = (CHART_FONT, "DejaVu Sans")
UNASSIGNED = "未指派"
HEADERS = (
    "名称",
    "工单",
    "接单中位(分钟)",
    "办结中位(小时)",
    "已办结",
    "按时办结率",
    "超时/督办",
    "平均评分",
    "评价数",
    "差评数",
    "回访完成",
    "响应率",
    "办结率",
    "满意率",
    "回访率",
)
TOTAL = "合计"


@dataclass(frozen=True, slots=True)
class Report:
    first: date
    last: date
    by_item: list[ReportRow]
    by_staff: list[ReportRow]
    total: ReportRow | None = None  # every ticket of the period (None: there were none)
    answers: Answers | None = None  # the bot's direct-answer rate and most asked items


def _fmt(value: float | None, pattern: str) -> str:
    return "-" if value is None else pattern.format(value)


def cells(row: ReportRow, name: str) -> list[str]:
    return [
        name,
        str(row.tickets),
        _fmt(row.median_claim_minutes, "{:.0f}"),
        _fmt(row.median_complete_hours, "{:.1f}"),
        str(row.completed),
        _fmt(row.within_limit_share, "{:.0%}"),
        str(row.escalations),
        _fmt(row.rating_average, "{:.2f}"),
        str(row.ratings),
        str(row.low_ratings),
        str(row.follow_ups_done),
        _fmt(row.response_rate, "{:.0%}"),
        _fmt(row.completion_rate, "{:.0%}"),
        _fmt(row.satisfaction_rate, "{:.0%}"),
        _fmt(row.follow_up_rate, "{:.0%}"),
    ]


def answers_lines(answers: Answers, handbook: Handbook, most: int = 10) -> list[list[str]]:
    """The direct-answer rate and the most asked items as (label, figure, note) rows."""
    rows = [
        [
            "直接答复率",
            _fmt(answers.rate, "{:.0%}"),
            f"{answers.conversations} 次对话：直接答复 {answers.direct}，转工单或人工 "
            f"{answers.with_ticket}，未能答复 {answers.unanswered}",
        ]
    ]
    rows.extend(["最常问", item_name(handbook, item), f"{n} 次对话"] for item, n in answers.asked[:most])
    return rows


def item_name(handbook: Handbook, item_id: str) -> str:
    item = handbook.items.get(item_id)
    return item.title if item else item_id


def table(report: Report, handbook: Handbook) -> str:
    """Plain-text tables, one by item and one by staff member."""
    out = [f"社区服务月报 {report.first} 至 {report.last}"]
    for title, rows, name in (
        ("按事项", report.by_item, lambda r: item_name(handbook, r.key)),
        ("按工作人员", report.by_staff, lambda r: r.key),
    ):
        out.append(f"\n{title}")
        out.append("\t".join(HEADERS))
        out.extend("\t".join(cells(row, name(row))) for row in rows)
        if not rows:
            out.append("（这段时间没有工单）")
    if report.total is not None:
        out.append("\n" + "\t".join(cells(report.total, TOTAL)))
    if report.answers is not None:
        out.append("")
        out.extend("\t".join(line) for line in answers_lines(report.answers, handbook))
    return "\n".join(out)


def csv_text(report: Report, handbook: Handbook) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["分组", "id", *HEADERS])
    for kind, rows in (("事项", report.by_item), ("工作人员", report.by_staff)):
        for row in rows:
            name = item_name(handbook, row.key) if kind == "事项" else row.key
            writer.writerow([kind, row.key, *cells(row, name)])
    if report.total is not None:
        writer.writerow([TOTAL, "", *cells(report.total, TOTAL)])
    if report.answers is not None:
        for label, figure, note in answers_lines(report.answers, handbook):
            writer.writerow([label, "", figure, note])
    return buffer.getvalue()


def summary_markdown(report: Report, handbook: Handbook) -> str:
    """The group push on the 1st of the month: totals and the items that need attention."""
    tickets = sum(r.tickets for r in report.by_item)
    completed = sum(r.completed for r in report.by_item)
    escalations = sum(r.escalations for r in report.by_item)
    low = sum(r.low_ratings for r in report.by_item)
    ratings = [(r.rating_average or 0) * r.ratings for r in report.by_item]
    rated = sum(r.ratings for r in report.by_item)
    average = f"{sum(ratings) / rated:.2f}" if rated else "-"
    lines = [
        f"**社区服务月报 {report.first:%Y年%m月}**",
        f"> 工单 {tickets} 张，办结 {completed} 张，超时/督办 {escalations} 张",
        f"> 群众评议：平均 {average} 分（{rated} 条），差评 {low} 条",
    ]
    late = sorted((r for r in report.by_item if r.escalations), key=lambda r: -r.escalations)[:3]
    for row in late:
        lines.append(f"> 需关注：{item_name(handbook, row.key)} 超时/督办 {row.escalations} 张")
    lines.append("详细表格见 baishitong report；图表随后发送。")
    return "\n".join(lines)


def chart_font_path() -> str:
    """The packaged Noto Sans CJK collection, registered with matplotlib once per process.

    `addfont` reads the file itself (every face of the collection: JP, KR, SC, TC, HK), so neither
    a system-wide install nor a rebuild of matplotlib's font cache is needed.
    """
    from matplotlib import font_manager
    from noto_cjk_sans_otc import FONT_PATH

    path = str(FONT_PATH)
    manager = font_manager.fontManager
    if not any(entry.fname == path for entry in manager.ttflist):
        manager.addfont(path)
        # A system copy of the same family (Debian's fonts-noto-cjk, which a browser install pulls
        # in) scores the same; matplotlib keeps the first of equal scores, so ours go first and the
        # chart looks the same on every machine.
        manager.ttflist = [e for e in manager.ttflist if e.fname == path] + [
            e for e in manager.ttflist if e.fname != path
        ]
        font_manager._get_font.cache_clear()
        manager._findfont_cached.cache_clear()
    return path


def _period(report: Report) -> str:
    month_end = (report.first.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
    if report.first.day == 1 and report.last == month_end:
        return f"{report.first.year}年{report.first.month}月"
    return f"{report.first:%Y年%m月%d日} 至 {report.last:%Y年%m月%d日}"


def _chart_style():  # -> a context manager
    """The chart's font (explicit names, not the generic 'sans-serif' that rcParams resolve late)."""
    import matplotlib

    chart_font_path()
    return matplotlib.rc_context(
        {"font.family": list(CHART_FAMILY), "axes.unicode_minus": False}  # the font's own minus sign
    )


def chart_figure(report: Report, handbook: Handbook):  # -> matplotlib.figure.Figure
    """One A4 page: tickets and on-time share per item; tickets and average rating per staff member."""
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    with _chart_style():
        figure = Figure(figsize=(8.27, 11.69), dpi=100)  # A4 portrait, no pyplot global state
        top, bottom = figure.subplots(2, 1)
        tickets = sum(r.tickets for r in report.by_item)
        completed = sum(r.completed for r in report.by_item)
        escalations = sum(r.escalations for r in report.by_item)
        figure.suptitle(f"社区服务月报 · {_period(report)}", fontsize=20, y=0.99)
        figure.text(
            0.5,
            0.942,
            f"工单 {tickets} 张　办结 {completed} 张　超时/督办 {escalations} 张",
            ha="center",
            fontsize=11,
            color="#444444",
        )
        panels = (
            (
                top,
                report.by_item[:12],
                lambda r: item_name(handbook, r.key),
                "#4C78A8",
                "各事项工单数与按时办结率",
                lambda r: (
                    "按时办结 -" if r.within_limit_share is None else f"按时办结 {r.within_limit_share:.0%}"
                ),
            ),
            (
                bottom,
                report.by_staff[:12],
                lambda r: UNASSIGNED if r.key == "-" else r.key,
                "#54A24B",
                "各工作人员工单数与平均评分",
                lambda r: (
                    "暂无评分"
                    if r.rating_average is None
                    else f"平均评分 {r.rating_average:.1f}（{r.ratings} 条）"
                ),
            ),
        )
        for axes, rows, name, colour, title, note in panels:
            y = list(range(len(rows)))
            axes.barh(y, [r.tickets for r in rows], color=colour, height=0.6)
            axes.set_yticks(y, [name(r) for r in rows], fontsize=11)
            axes.invert_yaxis()
            axes.set_title(title, fontsize=14, loc="left", pad=10)
            axes.set_xlabel("工单（张）", fontsize=10)
            axes.xaxis.set_major_locator(MaxNLocator(integer=True))  # counts: no 0.25 tickets
            axes.tick_params(labelfontfamily=list(CHART_FAMILY))  # tick labels are made at draw time
            axes.grid(axis="x", color="#DDDDDD", linewidth=0.8)
            axes.set_axisbelow(True)
            for side in ("top", "right"):
                axes.spines[side].set_visible(False)
            most = max((r.tickets for r in rows), default=0)
            axes.set_xlim(0, max(most * 1.7, 1))  # room for the notes after the longest bar
            for i, row in enumerate(rows):
                axes.text(row.tickets, i, f"  {row.tickets} 张 · {note(row)}", va="center", fontsize=10)
            if not rows:
                axes.text(0.5, 0.5, "这段时间没有工单", transform=axes.transAxes, ha="center", fontsize=12)
                axes.set_yticks([])
        figure.text(
            0.99, 0.005, f"统计区间 {report.first} 至 {report.last}", ha="right", fontsize=8, color="#888888"
        )
        figure.tight_layout(rect=(0, 0.01, 1, 0.94), h_pad=3)
    return figure


def chart_png(report: Report, handbook: Handbook) -> bytes:
    """The chart as a PNG, for the CLI's --png and the group push."""
    buffer = io.BytesIO()
    with _chart_style():
        chart_figure(report, handbook).savefig(buffer, format="png")
    return buffer.getvalue()


async def gather(
    database: Database, first: date, last: date, tz: tzinfo, now: datetime | None = None
) -> Report:
    """Figures for tickets created from `first` to `last` inclusive (the community's days), as
    the CLI, the monthly push and the console's 报表 page all show them."""
    since = datetime.combine(first, time(0), tz)
    until = datetime.combine(last + timedelta(days=1), time(0), tz)
    total = await build_report(database, since, until, "total", now)
    return Report(
        first,
        last,
        await build_report(database, since, until, "item", now),
        await build_report(database, since, until, "staff", now),
        total[0] if total else None,
        await direct_answers(database, first, last, tz),
    )


def previous_month(today: date) -> tuple[date, date]:
    last = today.replace(day=1) - timedelta(days=1)
    return last.replace(day=1), last


async def points_report(desk: ServiceDesk, first: date, last: date) -> PointsReport:
    """Points and rating averages per member, branch and team for finished work from `first` to
    `last` inclusive (by when it was done), by the responders document's points rule."""
    since = datetime.combine(first, time(0), desk.tz)
    until = datetime.combine(last + timedelta(days=1), time(0), desk.tz)
    roster = await desk.responders.roster()
    names = {g.key: g.name for g in roster.groups.values()}
    group_of = {r.name: names.get(r.group_key, r.group_key) for r in await desk.responders.store.all()}
    work = await desk.responders.store.done_work(since, until)
    return tally(work, roster.rule, group_of)


def points_markdown(points: PointsReport, most: int = 5) -> str:
    """The monthly push's lines on 党员积分: each branch and team, and the members with most points."""
    groups = [g for g in points.groups if g.group != STAFF_GROUP]
    if not groups:
        return ""
    lines = ["", "**党员/志愿者积分**"]
    for group in groups:
        average = "-" if group.rating_average is None else f"{group.rating_average:.2f}"
        lines.append(f"> {group.key}：完成 {group.tasks} 项，积分 {group.points:g}，平均评分 {average}")
    top = [m for m in points.members if m.group != STAFF_GROUP][:most]
    if top:
        lines.append("> 积分前列：" + "、".join(f"{m.key}（{m.group}）{m.points:g} 分" for m in top))
    return "\n".join(lines)
