"""The monthly report over 100,000 tickets, on SQLite and on PostgreSQL (issue 4: figures are
computed by the database, not by loading tickets into Python).

Tickets are spread over a month across the 26 bookable items and 6 staff, with realistic claim and
completion times, ratings and escalations; then `bot.report.gather` (both groupings) is timed.

    python -m benchmarks.report_bench [--tickets 100000] [--db sqlite postgresql]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import time
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import insert, text

from benchmarks.scratch_db import scratch_database
from bot.report import gather
from knowledge import load_handbook
from storage.db import Database
from storage.models import Ticket

STAFF = ("张敏", "李强", "王芳", "赵磊", "陈书记", "孙丽")


def rows(count: int, items: list[str]) -> list[dict]:
    rng = random.Random(7)
    start = datetime(2026, 11, 1, tzinfo=ZoneInfo("Asia/Shanghai")).astimezone(UTC)
    out = []
    for n in range(count):
        created = start + timedelta(seconds=rng.randrange(30 * 86400))
        claimed = created + timedelta(minutes=rng.expovariate(1 / 12)) if rng.random() < 0.95 else None
        done = claimed + timedelta(hours=rng.expovariate(1 / 20)) if claimed and rng.random() < 0.85 else None
        rating = rng.choice((5, 5, 5, 4, 4, 3, 2, 1)) if done and rng.random() < 0.6 else None
        out.append(
            {
                "resident": f"o{n % 20000}",
                "contact_name": "",
                "contact_mobile": "",
                "item_id": rng.choice(items),
                "fields": {},
                "state": "closed" if rating else "done" if done else "accepted" if claimed else "assigned",
                "assignee": rng.choice(STAFF),
                "version": 1,
                "created_at": created,
                "updated_at": created,
                "kind": "order",
                "category": "",
                "urgent": False,
                "comment": "",
                "claimed_at": claimed,
                "done_at": done,
                "rating": rating,
                "done_due_at": created + timedelta(hours=48),
                "escalated_at": created if claimed and (claimed - created) > timedelta(minutes=30) else None,
                "keep_at_handover": False,
            }
        )
    return out


async def measure(url: str, count: int) -> tuple[float, list[float]]:
    database = Database(url)
    await database.upgrade()
    items = [i.id for i in load_handbook().items.values() if i.order]
    data = rows(count, items)
    started = time.perf_counter()
    async with database.engine.begin() as connection:
        for chunk in range(0, len(data), 5000):
            await connection.execute(insert(Ticket), data[chunk : chunk + 5000])
    loading = time.perf_counter() - started
    if database.engine.dialect.name == "postgresql":
        # Statistics, as autovacuum would have gathered them on a live database.
        async with database.engine.connect() as connection:
            await connection.execution_options(isolation_level="AUTOCOMMIT")
            await connection.execute(text("ANALYZE tickets"))
    timings = []
    for _ in range(3):
        started = time.perf_counter()
        report = await gather(database, date(2026, 11, 1), date(2026, 11, 30), ZoneInfo("Asia/Shanghai"))
        timings.append(time.perf_counter() - started)
    assert sum(r.tickets for r in report.by_item) == count
    await database.close()
    return loading, timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--db", nargs="+", default=["sqlite", "postgresql"], choices=("sqlite", "postgresql"))
    args = parser.parse_args()
    for kind in args.db:
        with scratch_database(kind) as (url, _):
            loading, timings = asyncio.run(measure(url, args.tickets))
        print(
            f"{kind:<10} report over {args.tickets:,} tickets: median {statistics.median(timings):.2f} s "
            f"(runs {', '.join(f'{t:.2f}' for t in timings)} s; both groupings; loading took {loading:.1f} s)"
        )


if __name__ == "__main__":
    main()
