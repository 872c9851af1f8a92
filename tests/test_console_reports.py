"""The console's 报表 and 未识别问题 pages through the real aiohttp app, on SQLite and on the real
PostgreSQL: the report's figures are gather's (the CLI's) for the same range, the CSV is the CLI's
CSV, the rates count what they say, roles are refused and audited, bad dates get a sentence, and
marking a group 非社区业务 needs the CSRF token and takes it out of the list (and the CLI's)."""

from __future__ import annotations

import csv
import html
import io
import re
from datetime import date, timedelta

import pytest

from bot.report import HEADERS, TOTAL, cells, csv_text, gather, item_name
from desk.answers import direct_answers, weekly
from desk.desk import ServiceDesk
from intents.normalize import simplify
from knowledge import Handbook
from storage.models import Ticket
from tests import test_console
from tests.conftest import SHANGHAI, FakeClock
from tests.test_console import Console, audit, sign_in
from tests.test_handlers import Chat
from tests.test_report import NOV, seed, ticket

console, say = test_console.console, test_console.say  # the console's fixtures, shared
NOVEMBER = "from=2026-11-01&to=2026-11-30"
ROW = re.compile(r"<tr(?: class=\"total\")?>((?:<td[^>]*>[^<]*</td>)+)</tr>")
CELL = re.compile(r"<td[^>]*>([^<]*)</td>")


def table(page: str, table_id: str) -> list[list[str]]:
    """The cells of each row of the page's table `table_id`, as the browser shows them."""
    body = page.split(f'id="{table_id}"', 1)[1].split("</table>", 1)[0]
    return [[html.unescape(c) for c in CELL.findall(row)] for row in ROW.findall(body)]


async def seed_rates(desk: ServiceDesk) -> None:
    """Tickets whose claim limits and ratings the rates count (ids after test_report's seed)."""
    limit = NOV + timedelta(minutes=30)

    def claimed(n: int, minutes: int | None, **more) -> Ticket:
        row = ticket(n, "residence_permit", "李强", claim_min=minutes, **more)
        row.claim_remind_at = limit
        return row

    async with desk.database.transaction() as session:
        session.add_all(
            [
                claimed(20, 10, done_h=1, due_h=8, rating=5),  # in time, done on time, satisfied
                claimed(21, 45, done_h=20, due_h=8, rating=4),  # late claim, late completion, satisfied
                claimed(22, None),  # never claimed, limit long past: counts against the response rate
                claimed(23, None, state="cancelled"),  # cancelled unclaimed: counts nowhere
            ]
        )


async def test_the_report_page_shows_gathers_figures_and_the_csv_is_the_clis(
    console: Console, handbook: Handbook
) -> None:
    client, desk = console.client, console.desk
    await seed(desk)
    await seed_rates(desk)
    await sign_in(client, desk, "张敏")  # the duty leader
    response = await client.get(f"/console/reports?{NOVEMBER}")
    assert response.status == 200
    page = await response.text()
    report = await gather(desk.database, date(2026, 11, 1), date(2026, 11, 30), SHANGHAI, desk.clock())
    assert table(page, "by-item")[:-1] == [cells(r, item_name(handbook, r.key)) for r in report.by_item]
    assert table(page, "by-item")[-1] == cells(report.total, TOTAL)
    assert table(page, "by-staff") == [cells(r, r.key) for r in report.by_staff]
    assert f'<b id="total-tickets">{report.total.tickets}</b>' in page and report.total.tickets == 10

    # The rates, counted by hand from the seeds: claims in time 5, 10, 20, 30, 40 of 30-minute
    # limits — only tickets 20..23 have one: 20 in time, 21 late, 22 overdue, 23 cancelled.
    total = report.total
    assert (total.claimed_in_time, total.claim_due) == (1, 3)
    assert (total.completed, total.tickets - total.cancelled) == (6, 9)
    assert (total.satisfied, total.ratings) == (4, 5)  # 5, 1, 4, 5, 4
    assert (total.follow_ups_done, total.low_ratings) == (1, 1)
    shown = dict(re.findall(r'data-rate="([^"]+)">([^<]+)<', page))
    assert shown == {
        "响应率": "33%",
        "办结率": "67%",
        "按时办结率": f"{total.within_limit_share:.0%}",
        "满意率": "80%",
        "回访率": "100%",
        "直接答复率": "-",  # nobody wrote to the bot in November
    }

    download = await client.get(f"/console/reports.csv?{NOVEMBER}")
    assert download.status == 200 and download.headers["Content-Type"].startswith("text/csv")
    assert 'filename="report-2026-11-01-2026-11-30.csv"' in download.headers["Content-Disposition"]
    body = await download.read()
    assert body.startswith("\ufeff".encode())  # the BOM: Excel reads it as UTF-8
    assert body.decode("utf-8-sig") == csv_text(report, handbook)
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows[0] == ["分组", "id", *HEADERS]
    by_item = [row[2:] for row in rows if row[0] == "事项"]
    assert by_item == table(page, "by-item")[:-1]  # the CSV is the page
    assert [row[2:] for row in rows if row[0] == TOTAL] == [table(page, "by-item")[-1]]


async def test_the_report_defaults_to_last_month_and_refuses_bad_dates(console: Console) -> None:
    client, desk = console.client, console.desk
    await sign_in(client, desk, "陈书记")
    page = await (await client.get("/console/reports")).text()  # the clock: 28 November 2026
    assert 'name="from" value="2026-10-01"' in page and 'name="to" value="2026-10-31"' in page
    assert "这段时间没有工单" in page
    for query, words in (
        ("from=2026-13-01&to=2026-12-01", "看不懂"),
        ("from=2026-11-30&to=2026-11-01", "早于开始日期"),
        ("from=2025-01-01&to=2026-11-30", "最长一年"),
        ("to=2026-11-30", "请填开始日期"),
        ("from=" + "9" * 500, "看不懂"),
    ):
        for path in ("/console/reports", "/console/reports.csv"):
            response = await client.get(f"{path}?{query}")
            assert response.status == 400, (path, query)
            assert words in await response.text()
    for bad in ("days=0", "days=abc", "days=366"):
        response = await client.get(f"/console/unanswered?{bad}")
        assert response.status == 400 and "天数" in await response.text()


async def test_staff_are_refused_both_pages_and_leaders_the_unanswered_one(console: Console) -> None:
    client, desk = console.client, console.desk
    csrf = await sign_in(client, desk, "赵磊")
    board = await (await client.get("/console/")).text()
    assert "/console/reports" not in board and "/console/unanswered" not in board
    for path in ("/console/reports", f"/console/reports.csv?{NOVEMBER}", "/console/unanswered"):
        response = await client.get(path)
        assert response.status == 403, path
        assert "只有" in await response.text()
    refused = await client.post("/console/unanswered/dismiss", data={"csrf": csrf, "key": "x"})
    assert refused.status == 403
    assert [e for e in await audit(desk) if e[0] == "refused"] == [("refused", "赵磊")] * 4

    leader = await console.new_client()
    try:
        await sign_in(leader, desk, "张敏")
        board = await (await leader.get("/console/")).text()
        assert 'href="/console/reports"' in board and "/console/unanswered" not in board
        assert (await leader.get("/console/reports")).status == 200
        page = await leader.get("/console/unanswered")
        assert page.status == 403 and "只有社区书记能看未识别问题" in await page.text()
    finally:
        await leader.close()


async def test_marking_a_group_needs_csrf_and_takes_it_out_of_the_list(
    console: Console, say: Chat, clock: FakeClock
) -> None:
    client, desk = console.client, console.desk
    await say("讲个笑话听听嘛 我电话13812345678", resident="r1")
    await say("讲个笑话听听嘛 我电话13812345678", resident="r2")
    await say("驾照扣满12分了咋个办", resident="r3")
    clock.advance(minutes=1)
    csrf = await sign_in(client, desk, "陈书记")
    board = await (await client.get("/console/")).text()
    assert 'href="/console/unanswered"' in board and 'href="/console/reports"' in board
    page = await (await client.get("/console/unanswered?days=7")).text()
    assert "讲个笑话听听嘛" in page and "138****5678" in page and "13812345678" not in page
    # The joke is an apology: the digits 12345 inside the phone number are no hotline word (session 13).
    assert '<b id="unanswered-total">3</b>' in page and "转介：车管所" in page and "转介：12345" not in page
    assert "加到这个事项的居民说法" in page and "标记为非社区业务" in page
    [joke] = [g for g in await desk.unanswered.review(7, simplify) if g.outcome == "apology"]
    assert joke.count == 2

    for data in ({"key": joke.key}, {"key": joke.key, "csrf": "forged"}):
        assert (await client.post("/console/unanswered/dismiss", data=data)).status == 403
    assert len(await desk.unanswered.review(7, simplify)) == 2  # still there
    assert [e for e in await audit(desk) if e[0] == "csrf_refused"] == [("csrf_refused", "陈书记")] * 2
    unknown = await client.post("/console/unanswered/dismiss", data={"csrf": csrf, "key": "没有这句"})
    assert unknown.status == 400 and "没有找到这组" in await unknown.text()

    done = await client.post(
        "/console/unanswered/dismiss",
        data={"csrf": csrf, "key": joke.key, "days": "7"},
        allow_redirects=False,
    )
    assert done.status == 303 and done.headers["Location"] == "/console/unanswered?days=7&done=dismissed"
    page = await (await client.get(done.headers["Location"])).text()
    assert "已标记为非社区业务" in page and "讲个笑话" not in page and "驾照扣满12分" in page
    assert [g.outcome for g in await desk.unanswered.review(7, simplify)] == ["referral:vehicle_office"]
    again = await client.post("/console/unanswered/dismiss", data={"csrf": csrf, "key": joke.key})
    assert again.status == 400  # marked already: gone from the list


async def test_the_direct_answer_rate_counts_conversations_by_resident_and_day(
    console: Console, say: Chat, handbook: Handbook, clock: FakeClock
) -> None:
    client, desk = console.client, console.desk
    await say("办居住证要带啥子", resident="r1")  # answered: the checklist
    await say("居住证多久能办好", resident="r1")  # the same conversation
    await say("讲个笑话听听嘛", resident="r2")  # the apology: not answered
    await say("老年证和高龄津贴有什么区别", resident="r3")  # "which one?" …
    await say("1", resident="r3")  # … and a pick: answered by the bot
    await say("3栋楼道灯坏了", resident="r4")  # an order: a person takes it
    await say("李大爷", resident="r4")
    await say("13812345678", resident="r4")
    await say("阳光苑3栋", resident="r4")
    assert "工单号" in await say("确认", resident="r4")
    await desk.staff.invite("李强")
    await say("你好", resident="wx-li")  # a staff member's own chat: not counted once bound
    code, _ = await desk.staff.invite("李强")
    assert "绑定成功" in await say(f"绑定 {code}", resident="wx-li")
    clock.advance(days=1)
    await say("办居住证要带啥子", resident="r1")  # the next day: a second conversation
    await desk.conversations.flush()

    today = clock().astimezone(SHANGHAI).date()
    answers = await direct_answers(desk.database, today - timedelta(days=1), today, SHANGHAI)
    assert (answers.conversations, answers.with_ticket, answers.unanswered, answers.direct) == (5, 1, 1, 3)
    assert answers.rate == pytest.approx(3 / 5)
    asked = dict(answers.asked)
    assert asked["residence_permit"] == 2 and asked["facility_repair"] == 1
    [week] = await weekly(desk.database, today, today, SHANGHAI)  # Sunday 29 Nov: the week of Mon 23
    assert week.first == date(2026, 11, 23) and week.conversations == 5

    await sign_in(client, desk, "陈书记")
    page = await (await client.get("/console/unanswered")).text()
    assert "11-23 起" in html.unescape(page) and "60%（3/5）" in html.unescape(page)
    report = await (await client.get("/console/reports?from=2026-11-28&to=2026-11-29")).text()
    assert 'data-rate="直接答复率">60%<' in report
    assert "居住证办理" in report.split("最常问的事项", 1)[1].split("</section>", 1)[0]


async def test_unanswered_text_is_escaped_on_the_page(console: Console, say: Chat, clock: FakeClock) -> None:
    """What residents wrote reaches staff escaped, here as on the ticket pages."""
    client, desk = console.client, console.desk
    await say("<script>alert(1)</script> 讲个笑话嘛 <img src=x onerror=alert(2)>", resident="r1")
    clock.advance(minutes=1)
    await sign_in(client, desk, "陈书记")
    page = await (await client.get("/console/unanswered?days=7")).text()
    assert "讲个笑话嘛" in page
    assert "<script>alert" not in page and "&lt;script&gt;" in page
    assert "<img src=x" not in page and "&lt;img" in page
