"""The monthly report as a secretary receives it: a table, a CSV file and a one-page PNG chart.

The figures come from desk/report.py (SQL aggregates). The chart uses a CJK font when the
machine has one (Noto Sans CJK, WenQuanYi, SimHei, PingFang, Microsoft YaHei); without one, names
are written in pinyin so the chart never shows empty boxes.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo

from desk.report import ReportRow, build_report
from knowledge import Handbook
from storage.db import Database

CJK_FONTS = (
    "Noto Sans CJK SC",
    "Noto Sans SC",
    "WenQuanYi Micro Hei",
    "WenQuanYi Zen Hei",
    "SimHei",
    "PingFang SC",
    "Microsoft YaHei",
    "Source Han Sans SC",
)
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
)


@dataclass(frozen=True, slots=True)
class Report:
    first: date
    last: date
    by_item: list[ReportRow]
    by_staff: list[ReportRow]


def _fmt(value: float | None, pattern: str) -> str:
    return "-" if value is None else pattern.format(value)


def _cells(row: ReportRow, name: str) -> list[str]:
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
    ]


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
        out.extend("\t".join(_cells(row, name(row))) for row in rows)
        if not rows:
            out.append("（这段时间没有工单）")
    return "\n".join(out)


def csv_text(report: Report, handbook: Handbook) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["分组", "id", *HEADERS])
    for kind, rows in (("事项", report.by_item), ("工作人员", report.by_staff)):
        for row in rows:
            name = item_name(handbook, row.key) if kind == "事项" else row.key
            writer.writerow([kind, row.key, *_cells(row, name)])
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


def _label_font() -> tuple[str | None, bool]:
    from matplotlib import font_manager

    available = {f.name for f in font_manager.fontManager.ttflist}
    for name in CJK_FONTS:
        if name in available:
            return name, True
    return None, False


def _ascii(text: str) -> str:
    from pypinyin import lazy_pinyin

    return " ".join(lazy_pinyin(text)).title() if any("\u4e00" <= ch <= "\u9fff" for ch in text) else text


def chart_png(report: Report, handbook: Handbook) -> bytes:
    """One page: tickets and on-time share per item; tickets and average rating per staff member."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    font, cjk = _label_font()
    if font:
        plt.rcParams["font.family"] = [font]
    label = (lambda s: s) if cjk else _ascii

    def names(rows: Sequence[ReportRow], of_item: bool) -> list[str]:
        return [label(item_name(handbook, r.key) if of_item and cjk else r.key) for r in rows]

    items = report.by_item[:12]
    staff = report.by_staff[:12]
    figure, (top, bottom) = plt.subplots(2, 1, figsize=(8.27, 11.69), dpi=100)  # A4 portrait
    figure.suptitle(
        label(f"社区服务月报 {report.first} 至 {report.last}")
        if cjk
        else f"Community service report {report.first} to {report.last}"
    )
    y = range(len(items))
    top.barh(list(y), [r.tickets for r in items], color="#4C78A8")
    top.set_yticks(list(y), names(items, True))
    top.invert_yaxis()
    top.set_title("工单数与按时办结率（按事项）" if cjk else "Tickets and share completed on time, by item")
    for i, row in enumerate(items):
        share = "-" if row.within_limit_share is None else f"{row.within_limit_share:.0%}"
        top.text(row.tickets, i, f" {share}", va="center")
    y2 = range(len(staff))
    bottom.barh(list(y2), [r.tickets for r in staff], color="#72B7B2")
    bottom.set_yticks(list(y2), names(staff, False))
    bottom.invert_yaxis()
    bottom.set_title(
        "工单数与平均评分（按工作人员）" if cjk else "Tickets and average rating, by staff member"
    )
    for i, row in enumerate(staff):
        rating = "-" if row.rating_average is None else f"{row.rating_average:.1f}"
        bottom.text(row.tickets, i, f" {rating}", va="center")
    figure.tight_layout(rect=(0, 0, 1, 0.97))
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    plt.close(figure)
    return buffer.getvalue()


async def gather(database: Database, first: date, last: date, tz: tzinfo) -> Report:
    """Figures for tickets created from `first` to `last` inclusive (the community's days)."""
    since = datetime.combine(first, time(0), tz)
    until = datetime.combine(last + timedelta(days=1), time(0), tz)
    return Report(
        first,
        last,
        await build_report(database, since, until, "item"),
        await build_report(database, since, until, "staff"),
    )


def previous_month(today: date) -> tuple[date, date]:
    last = today.replace(day=1) - timedelta(days=1)
    return last.replace(day=1), last
