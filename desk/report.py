"""The monthly report (群众评议 and 限时办结 in figures), computed by the database.

One SQL statement per grouping (item, staff member): counts, medians, shares and averages are
aggregates and window functions, so the report over 100,000 tickets never loads them into Python.
Medians use ROW_NUMBER/COUNT windows rather than percentile_cont, which SQLite does not have.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import DateTime, bindparam, text

from desk.clocks import utc
from storage.db import Database

# "total": every ticket of the period in one row (a cast, as PostgreSQL refuses GROUP BY 'literal').
GROUPINGS = {"item": "t.item_id", "staff": "COALESCE(t.assignee, '-')", "total": "CAST('all' AS VARCHAR(8))"}


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
    # The counts behind the rates a 12345 hotline is judged by (see the properties below).
    cancelled: int = 0  # cancelled before they were done
    claim_due: int = 0  # had a claim limit that has passed, or were claimed (cancelled unclaimed: not)
    claimed_in_time: int = 0  # claimed at or before their claim limit
    with_limit: int = 0  # completed tickets that had a completion limit
    satisfied: int = 0  # rated 4 or 5 stars

    @property
    def response_rate(self) -> float | None:
        """响应率: claimed within the claim limit, of the tickets whose limit applied."""
        return _share(self.claimed_in_time, self.claim_due)

    @property
    def completion_rate(self) -> float | None:
        """办结率: completed, of the tickets not cancelled."""
        return _share(self.completed, self.tickets - self.cancelled)

    @property
    def on_time_rate(self) -> float | None:
        """按时办结率: completed within the limit, of the completed tickets that had one."""
        return self.within_limit_share

    @property
    def satisfaction_rate(self) -> float | None:
        """满意率: 4 or 5 stars, of the rated tickets."""
        return _share(self.satisfied, self.ratings)

    @property
    def follow_up_rate(self) -> float | None:
        """回访率: 回访 done, of the low ratings (2 stars or fewer) that call for one."""
        return _share(min(self.follow_ups_done, self.low_ratings), self.low_ratings)


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole > 0 else None


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
            SUM(CASE WHEN t.rating <= 2 THEN 1 ELSE 0 END) AS low_ratings,
            SUM(CASE WHEN t.state = 'cancelled' AND t.done_at IS NULL THEN 1 ELSE 0 END) AS cancelled,
            SUM(CASE WHEN t.claim_remind_at IS NOT NULL AND (t.claimed_at IS NOT NULL
                     OR (t.state <> 'cancelled' AND t.claim_remind_at <= :now))
                THEN 1 ELSE 0 END) AS claim_due,
            SUM(CASE WHEN t.claimed_at IS NOT NULL AND t.claim_remind_at IS NOT NULL
                     AND t.claimed_at <= t.claim_remind_at
                THEN 1 ELSE 0 END) AS claimed_in_time,
            SUM(CASE WHEN t.rating >= 4 THEN 1 ELSE 0 END) AS satisfied
        FROM tickets t
        WHERE t.kind = 'order' AND t.created_at >= :since AND t.created_at < :until
        GROUP BY {key}
    )
    SELECT base.k, base.tickets, claim.median / 60.0, complete.median / 3600.0, base.completed,
           base.with_limit, base.within, base.escalations, base.rating_average, base.ratings,
           base.low_ratings, COALESCE(follow_ups.done, 0), base.cancelled, base.claim_due,
           base.claimed_in_time, base.satisfied
    FROM base
    LEFT JOIN claim ON claim.k = base.k
    LEFT JOIN complete ON complete.k = base.k
    LEFT JOIN follow_ups ON follow_ups.k = base.k
    ORDER BY base.tickets DESC, base.k
    """


async def build_report(
    database: Database, since: datetime, until: datetime, grouping: str, now: datetime | None = None
) -> list[ReportRow]:
    """Rows for tickets created in [since, until), grouped by "item", "staff" or "total" (one row,
    none without tickets). `now` decides which unclaimed tickets are already past their limit."""
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
            bindparam("now", type_=DateTime(timezone=True)),
        )
        values = {"since": utc(since), "until": utc(until), "now": utc(now or datetime.now(UTC))}
        result = await connection.execute(statement, values)
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
        cancelled,
        claim_due,
        claimed_in_time,
        satisfied,
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
                cancelled=int(cancelled or 0),
                claim_due=int(claim_due or 0),
                claimed_in_time=int(claimed_in_time or 0),
                with_limit=int(with_limit or 0),
                satisfied=int(satisfied or 0),
            )
        )
    return out
