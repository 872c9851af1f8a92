"""The date range of the 报表 page and the look-back of 未识别问题, read from the query string.
Pure functions: a value the pages cannot use raises BadPeriod with a sentence saying which."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta

from bot.report import previous_month

MAX_DAYS = 366  # a report over more than a year is a different question (and a slow one)
DAY_CHOICES = (7, 30, 90, 365)


class BadPeriod(ValueError):
    """A date or a number of days the page cannot use; the message is in Chinese."""


def _day(text: str, label: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise BadPeriod(f"{label}“{text[:20]}”看不懂，请用 2026-11-01 这样的格式") from None


def period_of(query: Mapping[str, str], today: date) -> tuple[date, date]:
    """`from` and `to` (inclusive); both missing: last month. Reversed or over a year: refused."""
    raw_first, raw_last = query.get("from", "").strip(), query.get("to", "").strip()
    if not raw_first and not raw_last:
        return previous_month(today)
    first = _day(raw_first, "开始日期") if raw_first else None
    last = _day(raw_last, "结束日期") if raw_last else None
    if first is None:
        raise BadPeriod("请填开始日期")
    last = last or today
    if last < first:
        raise BadPeriod(f"结束日期 {last} 早于开始日期 {first}")
    if (last - first).days + 1 > MAX_DAYS:
        raise BadPeriod(f"时间段最长一年（{MAX_DAYS} 天），{first} 至 {last} 是 {(last - first).days + 1} 天")
    return first, last


def days_of(query: Mapping[str, str], default: int = 30) -> int:
    """How many days back 未识别问题 looks: 1 to 365."""
    raw = query.get("days", "").strip() or str(default)
    if not raw.isdigit() or not 1 <= int(raw) <= 365:
        raise BadPeriod(f"天数“{raw[:20]}”不对，请用 1 到 365")
    return int(raw)


def weeks_back(today: date, weeks: int) -> tuple[date, date]:
    """The last `weeks` weeks to today, from a Monday."""
    monday = today - timedelta(days=today.weekday())
    return monday - timedelta(weeks=weeks - 1), today
