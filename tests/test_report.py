"""The monthly report: figures computed by SQL on SQLite and PostgreSQL, the CLI's table, CSV
and chart, and the push on the 1st of the month (once, with its chart) to the group."""

from __future__ import annotations

import asyncio
import csv
import io
from datetime import UTC, date, datetime, timedelta

import aiohttp
import pytest

from bot.notify import WeComRobot
from bot.outbox_worker import OutboxWorker
from bot.report import chart_png, csv_text, gather, table
from bot.scheduler import Scheduler, clock_keeper
from desk.desk import ServiceDesk
from knowledge import Handbook
from storage.models import Ticket
from storage.shared import MemoryRateLimiter
from tests.conftest import SHANGHAI, FakeClock
from tests.fake_platforms import FakeRobot

NOV = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def ticket(
    n: int,
    item: str,
    assignee: str,
    *,
    claim_min=None,
    done_h=None,
    due_h=None,
    rating=None,
    escalated=False,
    kind="order",
    parent_id=None,
    state=None,
    created=NOV,
) -> Ticket:
    claimed = created + timedelta(minutes=claim_min) if claim_min is not None else None
    done = created + timedelta(hours=done_h) if done_h is not None else None
    return Ticket(
        id=n,
        resident=f"r{n}",
        contact_name="",
        contact_mobile="",
        item_id=item,
        fields={},
        state=state or ("closed" if rating else "done" if done else "assigned"),
        assignee=assignee,
        version=1,
        created_at=created,
        updated_at=created,
        kind=kind,
        parent_id=parent_id,
        category="",
        urgent=False,
        comment="",
        claimed_at=claimed,
        done_at=done,
        rating=rating,
        done_due_at=created + timedelta(hours=due_h) if due_h is not None else None,
        escalated_at=created if escalated else None,
        keep_at_handover=False,
    )


async def seed(desk: ServiceDesk) -> None:
    async with desk.database.transaction() as session:
        session.add_all(
            [
                # pension: claims after 5, 10, 30 minutes (median 10); done after 2, 4, 9 hours (median 4);
                # limit 8 hours: 2 of 3 on time; ratings 5, 1 (one low); one escalated.
                ticket(1, "pension_certification", "李强", claim_min=5, done_h=2, due_h=8, rating=5),
                ticket(2, "pension_certification", "李强", claim_min=10, done_h=4, due_h=8, rating=1),
                ticket(3, "pension_certification", "张敏", claim_min=30, done_h=9, due_h=8, escalated=True),
                # repairs: claims after 20 and 40 minutes (median of two: 30); one open, never claimed.
                ticket(4, "facility_repair", "赵磊", claim_min=20),
                ticket(5, "facility_repair", "赵磊", claim_min=40, done_h=30, due_h=72, rating=4),
                ticket(6, "facility_repair", "赵磊"),
                # outside the period: not counted
                ticket(7, "facility_repair", "赵磊", claim_min=1, created=datetime(2026, 10, 30, tzinfo=UTC)),
                # the follow-up (回访) of ticket 2's low rating, done by the secretary
                ticket(8, "pension_certification", "陈书记", kind="follow_up", parent_id=2, state="done"),
            ]
        )


async def test_figures_are_computed_by_the_database(desk: ServiceDesk) -> None:
    await seed(desk)
    report = await gather(desk.database, date(2026, 11, 1), date(2026, 11, 30), SHANGHAI)
    items = {row.key: row for row in report.by_item}
    pension, repair = items["pension_certification"], items["facility_repair"]
    assert (pension.tickets, repair.tickets) == (3, 3)  # follow-ups and October excluded
    assert pension.median_claim_minutes == pytest.approx(10) and repair.median_claim_minutes == pytest.approx(
        30
    )
    assert pension.median_complete_hours == pytest.approx(
        4
    ) and repair.median_complete_hours == pytest.approx(30)
    assert pension.completed == 3 and pension.within_limit_share == pytest.approx(2 / 3)
    assert repair.completed == 1 and repair.within_limit_share == 1.0
    assert pension.escalations == 1 and repair.escalations == 0
    assert pension.rating_average == pytest.approx(3.0) and pension.ratings == 2 and pension.low_ratings == 1
    assert pension.follow_ups_done == 1 and repair.follow_ups_done == 0
    staff = {row.key: row for row in report.by_staff}
    assert staff["李强"].tickets == 2 and staff["李强"].median_claim_minutes == pytest.approx(7.5)
    assert staff["赵磊"].tickets == 3 and staff["张敏"].escalations == 1
    assert "陈书记" not in staff  # follow-ups are not counted as orders


async def test_table_csv_and_chart(desk: ServiceDesk, handbook: Handbook) -> None:
    await seed(desk)
    report = await gather(desk.database, date(2026, 11, 1), date(2026, 11, 30), SHANGHAI)
    text = table(report, handbook)
    assert "养老金领取资格认证\t3\t10\t4.0\t3\t67%\t1\t3.00\t2\t1\t1" in text
    rows = list(csv.reader(io.StringIO(csv_text(report, handbook))))
    assert rows[0][:3] == ["分组", "id", "名称"]
    assert rows[1][:2] == ["事项", "facility_repair"]  # equal counts: by id
    png = chart_png(report, handbook)
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 10_000


async def test_the_monthly_report_is_pushed_once_on_the_first_with_its_chart(
    desk: ServiceDesk, handbook: Handbook, clock: FakeClock
) -> None:
    await seed(desk)
    schedulers = [Scheduler(clock_keeper(desk, handbook), handbook=handbook) for _ in range(2)]
    clock.set(datetime(2026, 11, 30, 23, 55, tzinfo=SHANGHAI))
    for _ in range(3):
        await asyncio.gather(*(s.tick() for s in schedulers))
        clock.advance(hours=4)  # 03:55 and 07:55 on the 1st: too early; then 11:55
    await asyncio.gather(*(s.tick() for s in schedulers))
    rows = [r for r in await desk.outbox.rows() if r.event in ("monthly_report", "report_chart")]
    assert [r.event for r in rows] == ["monthly_report", "report_chart"]
    robot = FakeRobot()
    try:
        async with aiohttp.ClientSession() as http:
            worker = OutboxWorker(
                desk.outbox,
                handbook,
                {"default": WeComRobot(http, await robot.start())},
                MemoryRateLimiter(20),
                None,
            )
            assert await worker.drain_once() == 2
        assert "社区服务月报 2026年11月" in robot.contents[0] and "工单 6 张" in robot.contents[0]
        assert robot.images and robot.images[0].startswith(b"\x89PNG")
    finally:
        await robot.close()


def test_the_cli_writes_table_csv_and_chart(tmp_path) -> None:
    from tests.test_cli import run

    url = f"sqlite+aiosqlite:///{tmp_path / 'report.db'}"
    done = run(
        "report",
        "--from",
        "2026-11-01",
        "--to",
        "2026-11-30",
        "--csv",
        str(tmp_path / "r.csv"),
        "--png",
        str(tmp_path / "r.png"),
        env={"DATABASE_URL": url},
    )
    assert done.returncode == 0 and "社区服务月报 2026-11-01 至 2026-11-30" in done.stdout
    assert (tmp_path / "r.png").read_bytes().startswith(b"\x89PNG")
    assert (tmp_path / "r.csv").read_text(encoding="utf-8-sig").startswith("分组,id,名称")
    backwards = run("report", "--from", "2026-11-30", "--to", "2026-11-01", env={"DATABASE_URL": url})
    assert backwards.returncode == 2 and "--to is before --from" in backwards.stderr


async def test_a_booked_ticket_done_at_its_visit_counts_on_time(
    desk: ServiceDesk, handbook: Handbook, clock: FakeClock
) -> None:
    """Booked on Wednesday for Friday afternoon (即办) and done at the visit: on time, because its
    completion limit runs from the booked window, not from the booking."""
    from handlers.ordering import limits_of

    clock.set(datetime(2026, 12, 2, 10, 0, tzinfo=SHANGHAI))
    item = handbook.item("venue_booking")
    window = (datetime(2026, 12, 4, 14, 0, tzinfo=SHANGHAI), datetime(2026, 12, 4, 17, 30, tzinfo=SHANGHAI))
    placement = await desk.place_order(
        resident="r-booked",
        item_id=item.id,
        category=item.category,
        name="张秀英",
        mobile="13812345678",
        fields={},
        window=window,
        urgent=False,
        request_key="booked",
        limits=limits_of(item),
    )
    holder = await desk.staff.by_name(placement.assignee)
    await desk.claim(holder, placement.ticket.number)
    clock.set(datetime(2026, 12, 4, 17, 0, tzinfo=SHANGHAI))
    await desk.complete(holder, placement.ticket.number, "场地已用完")
    report = await gather(desk.database, date(2026, 12, 1), date(2026, 12, 31), SHANGHAI)
    [row] = report.by_item
    assert row.completed == 1 and row.within_limit_share == 1.0


async def test_the_chart_is_chinese_in_the_packaged_font_with_whole_ticket_ticks(
    desk: ServiceDesk, handbook: Handbook, caplog: pytest.LogCaptureFixture, tmp_path
) -> None:
    """No system font needed: the title, item titles and staff names are set in the Noto Sans CJK
    SC face that noto-cjk-sans-otc ships, no glyph is missing, and counts are whole tickets."""
    import warnings

    from matplotlib import font_manager
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from noto_cjk_sans_otc import FONT_PATH

    from bot.report import chart_figure

    await seed(desk)
    report = await gather(desk.database, date(2026, 11, 1), date(2026, 11, 30), SHANGHAI)
    font_manager.fontManager._findfont_cached.cache_clear()  # its warnings are logged once per lookup
    with warnings.catch_warnings(record=True) as caught, caplog.at_level("WARNING", "matplotlib"):
        warnings.simplefilter("always")
        png = chart_png(report, handbook)
        figure = chart_figure(report, handbook)
        FigureCanvasAgg(figure).draw()
    assert not [w for w in caught if "missing from font" in str(w.message)], [str(w.message) for w in caught]
    assert not [r for r in caplog.records if "findfont" in r.getMessage()]
    (tmp_path / "chart.png").write_bytes(png)

    title = figure.get_suptitle()
    assert title == "社区服务月报 · 2026年11月"
    found = font_manager.findfont(figure._suptitle.get_fontproperties(), fallback_to_default=False)
    assert str(found) == str(FONT_PATH)
    face = font_manager.get_font(found)
    assert face.family_name == "Noto Sans CJK SC"

    top, bottom = figure.axes
    assert [t.get_text() for t in top.get_yticklabels()] == [
        "公共设施报修",
        "养老金领取资格认证",
    ]  # equal counts: by id
    assert {t.get_text() for t in bottom.get_yticklabels()} == {"赵磊", "李强", "张敏"}
    for axes in (top, bottom):
        labels = [t.get_text() for t in axes.get_xticklabels()]
        assert labels and all(label.isdigit() for label in labels), labels
        assert all(float(x).is_integer() for x in axes.get_xticks())
        fonts = {str(font_manager.findfont(t.get_fontproperties())) for t in axes.get_yticklabels()}
        assert fonts == {str(FONT_PATH)}


async def test_conversation_days_are_written_once_and_a_failed_write_is_tried_again(
    desk: ServiceDesk, tmp_path, caplog
) -> None:
    """The direct-answer rate's rows: one per resident, day and item, whatever the number of
    messages; a database that fails costs a warning and the row is written with a later message."""
    from desk.conversations import ConversationLog
    from storage.db import Database

    log = desk.conversations
    for _ in range(3):
        log.seen("r1", "residence_permit")
    log.seen("r2")
    await log.flush()
    today = desk.now().date()
    rows = sorted(await log.store.between(today, today))
    assert rows == [(today, "r1", ""), (today, "r1", "residence_permit"), (today, "r2", "")]

    broken = ConversationLog(
        Database(f"sqlite+aiosqlite:///{tmp_path / 'no-dir' / 'x.db'}"), desk.clock, SHANGHAI
    )
    broken.seen("r3")
    await broken.flush()
    assert "could not record a conversation day" in caplog.text
    broken.store = log.store  # the database is back
    broken.seen("r3")
    await broken.flush()
    assert (today, "r3", "") in await log.store.between(today, today)
