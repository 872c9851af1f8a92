"""The monthly report (群众评议 and 限时办结 in figures), computed by the database.

One SQL statement per grouping (item, staff member): counts, medians, shares and averages are
aggregates and window functions, so the report over 100,000 tickets never loads them into Python.
Medians use ROW_NUMBER/COUNT windows rather than percentile_cont, which SQLite does not have.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import DateTime, bindparam, text

from desk.clocks import utc
from storage.db import Database

GROUPINGS = {"item": "t.item_id", "staff": "COALESCE(t.assignee, '-')"}


@dataclass(frozen=True, slots=True)
class ReportRow:
    key: str  # item id or staff name
    tickets: int
    median_claim_minutes: float | None
    median_complete_hours: float | None
    completed: int
    within_limit_share: float | None  # of completed tickets that had a limit
    escalations: int  # tickets escalated for claiming late, or supervised (督办) for finishing late
    rating_average: float | None
    ratings: int
    low_ratings: int  # 2 stars or fewer
    follow_ups_done: int  # 回访 tickets completed for this group's low ratings


def _seconds(dialect: str, later: str, earlier: str) -> str:
    if dialect == "postgresql":
        return f"EXTRACT(EPOCH FROM ({later} - {earlier}))"
    return f"((julianday({later}) - julianday({earlier})) * 86400.0)"


def _median(dialect: str, key: str, value: str, name: str) -> str:
    """A CTE with the median of `value` per `key` over the period's order tickets."""
    return f"""
    {name}_values AS (
        SELECT {key} AS k, {value} AS v FROM tickets t
        WHERE t.kind = 'order' AND t.created_at >= :since AND t.created_at < :until AND {value} IS NOT NULL
    ),
    {name}_ranked AS (
        SELECT k, v, ROW_NUMBER() OVER (PARTITION BY k ORDER BY v) AS rn, COUNT(*) OVER (PARTITION BY k) AS n
        FROM {name}_values
    ),
    {name} AS (
        SELECT k, AVG(v) AS median FROM {name}_ranked
        WHERE rn IN ((n + 1) / 2, (n + 2) / 2) GROUP BY k
    )"""


def report_sql(dialect: str, grouping: str) -> str:
    key = GROUPINGS[grouping]
    claim = _seconds(dialect, "t.claimed_at", "t.created_at")
    complete = _seconds(dialect, "t.done_at", "t.created_at")
    return f"""
    WITH {_median(dialect, key, claim, "claim")},
    {_median(dialect, key, complete, "complete")},
    follow_ups AS (
        SELECT {key} AS k, COUNT(*) AS done
        FROM tickets f JOIN tickets t ON f.parent_id = t.id
        WHERE f.kind = 'follow_up' AND f.state IN ('done', 'closed')
          AND t.created_at >= :since AND t.created_at < :until
        GROUP BY {key}
    ),
    base AS (
        SELECT {key} AS k,
            COUNT(*) AS tickets,
            SUM(CASE WHEN t.done_at IS NOT NULL THEN 1 ELSE 0 END) AS completed,
            SUM(CASE WHEN t.done_at IS NOT NULL AND t.done_due_at IS NOT NULL
                THEN 1 ELSE 0 END) AS with_limit,
            SUM(CASE WHEN t.done_at IS NOT NULL AND t.done_due_at IS NOT NULL AND t.done_at <= t.done_due_at
                THEN 1 ELSE 0 END) AS within,
            SUM(CASE WHEN t.escalated_at IS NOT NULL OR t.supervised_at IS NOT NULL
                THEN 1 ELSE 0 END) AS escalations,
            AVG(t.rating * 1.0) AS rating_average,
            COUNT(t.rating) AS ratings,
            SUM(CASE WHEN t.rating <= 2 THEN 1 ELSE 0 END) AS low_ratings
        FROM tickets t
        WHERE t.kind = 'order' AND t.created_at >= :since AND t.created_at < :until
        GROUP BY {key}
    )
    SELECT base.k, base.tickets, claim.median / 60.0, complete.median / 3600.0, base.completed,
           base.with_limit, base.within, base.escalations, base.rating_average, base.ratings,
           base.low_ratings, COALESCE(follow_ups.done, 0)
    FROM base
    LEFT JOIN claim ON claim.k = base.k
    LEFT JOIN complete ON complete.k = base.k
    LEFT JOIN follow_ups ON follow_ups.k = base.k
    ORDER BY base.tickets DESC, base.k
    """


async def build_report(
    database: Database, since: datetime, until: datetime, grouping: str
) -> list[ReportRow]:
    """Rows for tickets created in [since, until), grouped by "item" or "staff"."""
    dialect = database.engine.dialect.name
    async with database.engine.connect() as connection:
        if dialect == "postgresql":
            # The medians sort every period's ticket per group; PostgreSQL's default 4 MB of sort
            # memory spills 100,000 of them to disk. Raised for this transaction only.
            await connection.execute(text("SET LOCAL work_mem = '64MB'"))
        # Typed parameters, so SQLite compares them in the format it stores datetimes in.
        statement = text(report_sql(dialect, grouping)).bindparams(
            bindparam("since", type_=DateTime(timezone=True)),
            bindparam("until", type_=DateTime(timezone=True)),
        )
        result = await connection.execute(statement, {"since": utc(since), "until": utc(until)})
        rows = result.all()
    out = []
    for (
        k,
        tickets,
        claim,
        complete,
        completed,
        with_limit,
        within,
        escalations,
        avg,
        ratings,
        low,
        follow,
    ) in rows:
        out.append(
            ReportRow(
                key=str(k),
                tickets=int(tickets),
                median_claim_minutes=float(claim) if claim is not None else None,
                median_complete_hours=float(complete) if complete is not None else None,
                completed=int(completed or 0),
                within_limit_share=(int(within or 0) / int(with_limit)) if with_limit else None,
                escalations=int(escalations or 0),
                rating_average=float(avg) if avg is not None else None,
                ratings=int(ratings or 0),
                low_ratings=int(low or 0),
                follow_ups_done=int(follow or 0),
            )
        )
    return out
