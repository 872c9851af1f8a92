"""The staff console through the real aiohttp app, on SQLite and on the real PostgreSQL: sign-in
through the Official Account and by one-time link, sessions and their expiry, CSRF, lockout, the
audit log, who sees what, and every action landing on the ticket's log as the person who made it."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass

import aiohttp
import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select

from bot.app import create_app
from bot.settings import Settings
from desk import signin
from desk.desk import ServiceDesk
from handlers import Services
from knowledge import Handbook
from storage import MemoryStore
from storage.models import ConsoleAudit
from tests.conftest import FakeClock
from tests.test_handlers import Chat

CSRF = re.compile(r'name="csrf" value="([^"]+)"')
CODE = re.compile(r'id="signin-code">登录 ([A-Z0-9]{6})<')


@dataclass
class Console:
    client: TestClient
    desk: ServiceDesk

    async def new_client(self) -> aiohttp.ClientSession:
        """A second browser on the same server, with its own cookie jar."""
        return aiohttp.ClientSession(
            base_url=str(self.client.server.make_url("/")), cookie_jar=aiohttp.CookieJar(unsafe=True)
        )


@pytest.fixture
async def console(settings: Settings, desk_services: Services, desk: ServiceDesk) -> AsyncIterator[Console]:
    app = create_app(settings, desk_services, MemoryStore())
    client = TestClient(TestServer(app, host="127.0.0.1"))
    await client.start_server()
    try:
        yield Console(client, desk)
    finally:
        await client.close()


@pytest.fixture
def say(desk_services: Services) -> Chat:
    return Chat(desk_services)


async def sign_in(client: TestClient | aiohttp.ClientSession, desk: ServiceDesk, name: str) -> str:
    """Signed in as `name` by a one-time link; returns the session's CSRF token."""
    token, _ = await desk.signin.link(await desk.staff.by_name(name))
    response = await client.get(f"/console/link/{token}", allow_redirects=False)
    assert response.status == 303
    board = await client.get("/console/")
    assert board.status == 200
    return CSRF.search(await board.text()).group(1)


async def audit(desk: ServiceDesk) -> list[tuple[str, str]]:
    async with desk.database.session() as session:
        rows = await session.scalars(select(ConsoleAudit).order_by(ConsoleAudit.id))
        return [(r.event, r.staff) for r in rows]


async def place(
    desk: ServiceDesk,
    handbook: Handbook,
    item_id: str,
    key: str,
    *,
    name: str = "张秀英",
    urgent=False,
    **fields,
) -> str:
    item = handbook.item(item_id)
    placement = await desk.place_order(
        resident=f"resident-{key}",
        item_id=item_id,
        category=item.category,
        name=name,
        mobile="13812345678",
        fields=dict(fields),
        window=None,
        urgent=urgent,
        request_key=key,
    )
    return placement.ticket.number


async def bind(say: Chat, desk: ServiceDesk, name: str, openid: str) -> None:
    code, _ = await desk.staff.invite(name)
    assert "绑定成功" in await say(f"绑定 {code}", resident=openid)


# ---- signing in ---------------------------------------------------------------------------------


async def test_sign_in_through_the_official_account(console: Console, say: Chat) -> None:
    client, desk = console.client, console.desk
    assert (await client.get("/console/", allow_redirects=False)).headers["Location"] == "/console/signin"
    page = await client.get("/console/signin")
    code = CODE.search(await page.text()).group(1)
    assert "HttpOnly" in page.headers["Set-Cookie"] and "SameSite=Strict" in page.headers["Set-Cookie"]
    assert "Secure" not in page.headers["Set-Cookie"]  # plain HTTP in the test
    proxied = await console.new_client()
    try:
        behind = await proxied.get("/console/signin", headers={"X-Forwarded-Proto": "https"})
        assert "Secure" in behind.headers["Set-Cookie"]
    finally:
        await proxied.close()
    assert (await (await client.get("/console/signin/status")).json())["state"] == "waiting"

    # A resident sending the code is politely refused, and the browser stays signed out.
    assert "工作人员用的指令" in await say(f"登录 {code}", resident="resident-1")
    # "登录" without a code is a resident's question, not a command.
    assert "工作人员用的指令" not in await say("登录不上社保网站怎么办", resident="resident-1")
    assert (await (await client.get("/console/signin/status")).json())["state"] == "waiting"

    await bind(say, desk, "李强", "wx-li")
    assert "已确认，李强" in await say(f"登录 {code.lower()}", resident="wx-li")
    answer = await client.get("/console/signin/status")
    assert (await answer.json()) == {"state": "ok", "next": "/console/"}
    cookie = answer.headers.getall("Set-Cookie")
    assert any("bst_console=" in c and "HttpOnly" in c and "SameSite=Strict" in c for c in cookie)
    board = await client.get("/console/")
    assert board.status == 200 and "李强" in await board.text()
    assert (await client.get("/console/signin", allow_redirects=False)).headers["Location"] == "/console/"
    # The code is spent: sending it again confirms nothing.
    assert "登录码不对或已过期" in await say(f"登录 {code}", resident="wx-li")
    assert ("signin", "李强") in await audit(desk)


async def test_codes_expire_and_wrong_codes_from_wechat_lock_out(
    console: Console, say: Chat, clock: FakeClock
) -> None:
    client, desk = console.client, console.desk
    await bind(say, desk, "李强", "wx-li")
    code = CODE.search(await (await client.get("/console/signin")).text()).group(1)
    clock.advance(minutes=signin.CODE_MINUTES + 1)
    assert "登录码不对或已过期" in await say(f"登录 {code}", resident="wx-li")
    assert (await (await client.get("/console/signin/status")).json())["state"] == "expired"

    for _ in range(signin.WRONG_LIMIT - 1):
        await say("登录 ZZZ999", resident="wx-li")
    fresh = CODE.search(await (await client.get("/console/signin")).text()).group(1)
    assert "登录尝试次数太多" in await say(f"登录 {fresh}", resident="wx-li")  # locked, even when right
    assert (await (await client.get("/console/signin/status")).json())["state"] == "waiting"
    events = [event for event, _ in await audit(desk)]
    assert events.count("signin_wrong") == signin.WRONG_LIMIT and "signin_locked" in events
    clock.advance(minutes=signin.LOCK_MINUTES + 1)  # the window passes: a new code works
    fresh = CODE.search(await (await client.get("/console/signin")).text()).group(1)
    assert "已确认" in await say(f"登录 {fresh}", resident="wx-li")


async def test_links_work_once_and_ten_wrong_ones_lock_the_client_out(console: Console) -> None:
    client, desk = console.client, console.desk
    token, _ = await desk.signin.link(await desk.staff.by_name("陈书记"))
    assert (await client.get(f"/console/link/{token}", allow_redirects=False)).status == 303
    other = await console.new_client()
    try:
        assert (await other.get(f"/console/link/{token}")).status == 403  # spent
        for _ in range(signin.WRONG_LIMIT - 1):
            assert (await other.get("/console/link/not-a-real-token")).status == 403
        token, _ = await desk.signin.link(await desk.staff.by_name("陈书记"))
        locked = await other.get(f"/console/link/{token}")
        assert locked.status == 429 and "登录尝试次数太多" in await locked.text()
        assert (await other.get("/console/signin")).status == 429  # no new code for this client either
    finally:
        await other.close()
    events = [event for event, _ in await audit(desk)]
    assert events.count("signin_wrong") == signin.WRONG_LIMIT and "signin_locked" in events


async def test_sessions_expire_and_sign_out_here_and_everywhere(console: Console, clock: FakeClock) -> None:
    client, desk = console.client, console.desk
    csrf = await sign_in(client, desk, "李强")
    other = await console.new_client()
    try:
        await sign_in(other, desk, "李强")
        out = await client.post("/console/signout", data={"csrf": csrf}, allow_redirects=False)
        assert out.status == 303
        assert (await client.get("/console/", allow_redirects=False)).status == 303
        assert (await other.get("/console/")).status == 200  # the other browser is still in
        csrf_other = CSRF.search(await (await other.get("/console/")).text()).group(1)
        third = await console.new_client()
        try:
            await sign_in(third, desk, "李强")
            await other.post("/console/signout-all", data={"csrf": csrf_other}, allow_redirects=False)
            assert (await third.get("/console/", allow_redirects=False)).status == 303
        finally:
            await third.close()
    finally:
        await other.close()
    await sign_in(client, desk, "李强")
    clock.advance(hours=13)
    assert (await client.get("/console/", allow_redirects=False)).headers["Location"] == "/console/signin"
    events = [event for event, _ in await audit(desk)]
    assert {"signin", "signout", "signout_all"} <= set(events)


async def test_a_post_without_its_csrf_token_is_refused_and_audited(console: Console, handbook) -> None:
    client, desk = console.client, console.desk
    number = await place(desk, handbook, "pension_certification", "k1")
    await sign_in(client, desk, "李强")
    for data in ({}, {"csrf": "forged"}):
        refused = await client.post(f"/console/t/{number}/claim", data=data)
        assert refused.status == 403
    assert (await desk.tickets.get(number)).state == "assigned"
    assert [e for e in await audit(desk) if e[0] == "csrf_refused"] == [("csrf_refused", "李强")] * 2
    assert (await client.post("/console/signout", data={})).status == 403  # sign-out is a change too
    anonymous = await console.new_client()
    try:
        assert (await anonymous.post(f"/console/t/{number}/claim", data={"csrf": "x"})).status == 403
    finally:
        await anonymous.close()


# ---- who sees what --------------------------------------------------------------------------------


async def test_roles_decide_the_board_the_pages_and_the_actions(
    console: Console, say: Chat, handbook
) -> None:
    client, desk = console.client, console.desk
    pension = await place(desk, handbook, "pension_certification", "k1")  # 李强 (social_security post)
    repair = await place(desk, handbook, "facility_repair", "k2")  # 赵磊 (convenience post)
    complaint = (await desk.complain("resident-9", "工作人员态度太差了", None, "c1")).ticket.number

    csrf = await sign_in(client, desk, "赵磊")  # grade B (convenience, rights, residence), on duty
    board = await (await client.get("/console/")).text()
    assert f"t-{repair}" in board and f"t-{pension}" not in board and f"t-{complaint}" not in board
    page = await client.get(f"/console/t/{pension}")
    assert page.status == 403
    refused = await client.post(f"/console/t/{pension}/claim", data={"csrf": csrf})
    assert refused.status == 403 and (await desk.tickets.get(pension)).state == "assigned"
    assert (await client.get("/console/complaints")).status == 403
    assert (await client.get("/console/audit")).status == 403
    assert (await client.get(f"/console/t/{complaint}")).status == 403
    assert [e for e in await audit(desk) if e[0] == "refused"] == [("refused", "赵磊")] * 5
    # Routed to him: he is its assignee and sees the mobile in full.
    assert "13812345678" in await (await client.get(f"/console/t/{repair}")).text()

    leader = await console.new_client()
    try:
        await sign_in(leader, desk, "张敏")  # the duty leader, off duty today
        board = await (await leader.get("/console/")).text()
        assert f"t-{repair}" in board and f"t-{pension}" in board and f"t-{complaint}" not in board
        assert "13812345678" not in board and "138****5678" in board  # nobody's assignee: masked
        page = await (await leader.get(f"/console/t/{repair}")).text()
        assert "13812345678" not in page and "138****5678" in page
        assert (await leader.get("/console/complaints")).status == 403
    finally:
        await leader.close()

    secretary = await console.new_client()
    try:
        await sign_in(secretary, desk, "陈书记")
        board = await (await secretary.get("/console/")).text()
        assert all(f"t-{n}" in board for n in (repair, pension, complaint)) and "13812345678" in board
        listing = await secretary.get("/console/complaints")
        assert listing.status == 200 and f"t-{complaint}" in await listing.text()
        log = await secretary.get("/console/audit")
        assert log.status == 200 and "越权被拒" in await log.text() and "赵磊" in await log.text()
    finally:
        await secretary.close()


async def test_resident_text_is_escaped_and_id_numbers_never_shown(console: Console, handbook) -> None:
    client, desk = console.client, console.desk
    number = await place(
        desk,
        handbook,
        "facility_repair",
        "k1",
        name="<script>alert(1)</script>",
        description="灯坏了 <img src=x onerror=alert(1)> 我身份证 110101199003078888",
        address="阳光苑3栋",
    )
    await sign_in(client, desk, "陈书记")
    page = await (await client.get(f"/console/t/{number}")).text()
    assert "<script>alert" not in page and "&lt;script&gt;" in page
    assert "<img src=x" not in page and "&lt;img" in page
    assert "110101199003078888" not in page and "证件号已隐去" in page
    board = await (await client.get("/console/")).text()
    assert "<script>alert" not in board


async def test_mobiles_written_in_free_text_are_masked_for_all_but_assignee_and_secretary(
    console: Console, handbook
) -> None:
    client, desk = console.client, console.desk
    number = await place(desk, handbook, "facility_repair", "k1", description="打我儿子电话 139-0000-1234")
    await sign_in(client, desk, "张敏")  # the duty leader: not the assignee, not the secretary
    page = await (await client.get(f"/console/t/{number}")).text()
    assert "139-0000-1234" not in page and "139****1234" in page
    holder = await console.new_client()
    try:
        await sign_in(holder, desk, "赵磊")  # the assignee
        assert "139-0000-1234" in await (await holder.get(f"/console/t/{number}")).text()
    finally:
        await holder.close()


# ---- the board ------------------------------------------------------------------------------------


async def test_board_filters_search_and_urgent_first(console: Console, handbook, clock: FakeClock) -> None:
    client, desk = console.client, console.desk
    first = await place(desk, handbook, "facility_repair", "k1", name="王大爷")
    second = await place(desk, handbook, "pension_certification", "k2", name="李阿姨")
    urgent = await place(desk, handbook, "facility_repair", "k3", urgent=True)
    await sign_in(client, desk, "陈书记")

    def numbers(html: str) -> list[str]:
        return re.findall(r'<tr id="t-(\d+)"', html)

    async def board(query: str = "") -> list[str]:
        response = await client.get(f"/console/?{query}")
        assert response.status == 200
        return numbers(await response.text())

    assert await board() == [urgent, first, second]
    assert await board("item=pension_certification") == [second]
    assert await board("q=李阿姨") == [second]
    assert await board(f"q={first}") == [first]
    assert await board("q=5678") == [urgent, first, second]
    assert await board("staff=李强") == [second]
    assert await board("state=accepted") == []
    assert await board("day=2026-11-28") == [urgent, first, second]
    assert await board("day=2026-11-29") == []
    assert await board("overdue=1") == []
    clock.advance(hours=6)  # past the claim limit (and the duty day's end for 即办 items)
    assert set(await board("overdue=1")) == {urgent, first, second}
    page = await (await client.get("/console/")).text()
    assert 'class="clock over"' in page
    for bad in ("state=nonsense", "item=nope", "day=2026-13-45", "page=abc", "page=0"):
        response = await client.get(f"/console/?{bad}")
        assert response.status == 400, bad
        assert "筛选条件有误" in await response.text()


async def test_unknown_tickets_and_actions_get_a_clear_answer(console: Console, handbook) -> None:
    client, desk = console.client, console.desk
    number = await place(desk, handbook, "facility_repair", "k1")
    csrf = await sign_in(client, desk, "陈书记")
    for missing in ("99999", "abc", "12147483648"):
        response = await client.get(f"/console/t/{missing}")
        assert response.status == 404 and "没有编号为" in await response.text()
    assert (await client.post("/console/t/99999/claim", data={"csrf": csrf})).status == 404
    assert (await client.post(f"/console/t/{number}/explode", data={"csrf": csrf})).status == 400
    assert (await client.post(f"/console/t/{number}/note", data={"csrf": csrf, "text": "  "})).status == 400
    assert (await client.post(f"/console/t/{number}/transfer", data={"csrf": csrf})).status == 400
    nobody = await client.post(f"/console/t/{number}/transfer", data={"csrf": csrf, "to": "无此人"})
    assert nobody.status == 400 and "没有叫“无此人”的工作人员" in await nobody.text()
    assert len(await desk.tickets.events(number)) == 2  # create, assign: nothing else was written


# ---- actions --------------------------------------------------------------------------------------


async def test_every_action_is_a_desk_operation_logged_as_its_author(console: Console, handbook) -> None:
    client, desk = console.client, console.desk
    repair = await place(desk, handbook, "facility_repair", "k1")  # to 赵磊
    pension = await place(desk, handbook, "pension_certification", "k2")  # to 李强
    zhao = await sign_in(client, desk, "赵磊")

    async def act(
        c: TestClient | aiohttp.ClientSession, csrf: str, number: str, action: str, **form: str
    ) -> int:
        response = await c.post(f"/console/t/{number}/{action}", data={"csrf": csrf, **form})
        return response.status

    assert await act(client, zhao, repair, "claim") == 200
    text = await (await client.get(f"/console/t/{repair}")).text()
    assert "13812345678" in text  # his ticket now: the mobile in full
    assert await act(client, zhao, repair, "note", text="已联系物业") == 200
    assert await act(client, zhao, repair, "reply", text="您好，明天上午来修") == 200
    assert await act(client, zhao, repair, "complete", text="灯已换好") == 200
    assert (await desk.tickets.get(repair)).state == "done"
    log = [(e.action, e.actor, e.detail.get("note", "")) for e in await desk.tickets.events(repair)]
    assert log[2:] == [
        ("accept", "赵磊", ""),
        ("note", "赵磊", "已联系物业"),
        ("note", "赵磊", "回复居民：您好，明天上午来修"),
        ("complete", "赵磊", "灯已换好"),
    ]
    notices = [
        (r.event, r.payload.get("note", "")) for r in await desk.outbox.rows() if r.channel == "resident"
    ]
    assert notices == [("claimed", ""), ("staff_reply", "您好，明天上午来修"), ("done", "灯已换好")]
    # A second complete: the desk's rule answers, in Chinese, and nothing changes.
    refused = await client.post(f"/console/t/{repair}/complete", data={"csrf": zhao})
    text = await refused.text()
    assert refused.status == 409 and "已办结" in text and f'href="/console/t/{repair}">返回' in text

    li = await console.new_client()
    leader = await console.new_client()
    try:
        li_csrf = await sign_in(li, desk, "李强")
        assert await act(li, li_csrf, pension, "transfer", to="张敏") == 200
        assert (await desk.tickets.get(pension)).assignee == "张敏"
        # 李强 (on duty, grade A) still sees the unclaimed ticket, but only a leader reassigns or cancels.
        assert await act(li, li_csrf, pension, "reassign", to="李强") == 403
        leader_csrf = await sign_in(leader, desk, "张敏")
        assert await act(leader, leader_csrf, pension, "reassign", to="李强") == 200
        assert (await desk.tickets.get(pension)).assignee == "李强"
        assert await act(li, li_csrf, pension, "cancel", text="居民来电说不用了") == 403
        assert await act(leader, leader_csrf, pension, "cancel", text="居民来电说不用了") == 200
        assert (await desk.tickets.get(pension)).state == "cancelled"
    finally:
        await li.close()
        await leader.close()
    log = [(e.action, e.actor) for e in await desk.tickets.events(pension)]
    assert log[2:] == [("transfer", "李强"), ("reassign", "张敏"), ("cancel", "张敏")]
    groups = [r.event for r in await desk.outbox.rows() if r.channel == "group"]
    assert groups.count("transferred") == 2 and "withdrawn" in groups


# ---- live updates ---------------------------------------------------------------------------------


async def read_events(response, wanted: int, timeout: float = 3.0) -> list[dict]:
    found: list[dict] = []
    async with asyncio.timeout(timeout):
        event = ""
        while len(found) < wanted:
            line = (await response.content.readline()).decode().rstrip("\n")
            if line.startswith("event: "):
                event = line[7:]
            elif line.startswith("data: ") and event == "ticket":
                found.append(json.loads(line[6:]))
    return found


async def test_the_board_stream_sends_new_and_changed_rows_within_a_second(
    console: Console, handbook
) -> None:
    client, desk = console.client, console.desk
    await sign_in(client, desk, "赵磊")
    stream = await client.get("/console/events")
    assert stream.headers["Content-Type"].startswith("text/event-stream")
    loop = asyncio.get_running_loop()
    started = loop.time()
    number = await place(desk, handbook, "facility_repair", "k1", name="王大爷")
    [row] = await read_events(stream, 1)
    assert loop.time() - started < 1.0
    assert row["number"] == number and "王**" in row["html"] and f"/console/t/{number}" in row["html"]
    hidden = await place(desk, handbook, "pension_certification", "k2")  # not his: sent as gone
    [gone] = await read_events(stream, 1)
    assert gone == {"number": hidden, "gone": True}
    await desk.claim(await desk.staff.by_name("赵磊"), number)
    [claimed] = await read_events(stream, 1)
    assert "已签收" in claimed["html"]
    stream.close()


async def test_pages_are_never_cached_or_framed_and_link_tokens_stay_out_of_the_access_log(
    settings: Settings, desk_services: Services, desk: ServiceDesk, caplog
) -> None:
    import logging

    from bot.app import access_log_options

    server = TestServer(create_app(settings, desk_services, MemoryStore()), host="127.0.0.1")
    await server.start_server(**access_log_options(True))  # the runner options `serve` uses
    client = TestClient(server)
    await client.start_server()
    try:
        token, _ = await desk.signin.link(await desk.staff.by_name("陈书记"))
        with caplog.at_level(logging.INFO, logger="aiohttp.access"):
            assert (await client.get(f"/console/link/{token}", allow_redirects=False)).status == 303
        page = await client.get("/console/")
        assert page.headers["Cache-Control"] == "no-store"
        assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
        assert (await client.get("/console/static/board.js")).status == 200
    finally:
        await client.close()
    lines = [r.getMessage() for r in caplog.records if r.name == "aiohttp.access"]
    assert lines and all(token not in line for line in lines)
    assert any("/console/link/…" in line for line in lines)


async def test_console_off_serves_no_console(settings: Settings, desk_services: Services) -> None:
    from dataclasses import replace

    client = TestClient(
        TestServer(create_app(replace(settings, console=False), desk_services, MemoryStore()))
    )
    await client.start_server()
    try:
        assert (await client.get("/console/signin")).status == 404
        assert Settings.from_env({"CONSOLE": "off"}).console is False
        assert Settings.from_env({}).console is True
    finally:
        await client.close()


def test_the_scope_of_each_role() -> None:
    """desk/policy's rule for one ticket, as the board's query applies it to many."""
    from types import SimpleNamespace

    from desk import policy

    def member(name: str, grade: str = "A", categories=(), roles=()) -> SimpleNamespace:
        return SimpleNamespace(name=name, grade=grade, categories=list(categories), roles=list(roles))

    def ticket(state: str, assignee: str | None, category: str = "convenience", kind: str = "order"):
        return SimpleNamespace(number="10001", state=state, assignee=assignee, category=category, kind=kind)

    zhao = member("赵磊", "B", ["convenience"])
    on, off = policy.scope_of(zhao, on_duty=True), policy.scope_of(zhao, on_duty=False)
    assert policy.can_view(on, ticket("assigned", "李强")) is None  # unclaimed, his category, on duty
    assert policy.can_view(off, ticket("assigned", "李强")) is not None  # off duty: only his own
    assert policy.can_view(off, ticket("accepted", "赵磊")) is None
    assert policy.can_view(on, ticket("accepted", "李强")) is not None  # claimed by someone else
    assert policy.can_view(on, ticket("assigned", "李强", "social_security")) is not None
    assert policy.can_view(on, ticket("assigned", None, kind="complaint")) is not None
    leader = policy.scope_of(member("张敏", roles=["leader"]), on_duty=False)
    assert policy.can_view(leader, ticket("accepted", "李强", "social_security")) is None
    assert policy.can_view(leader, ticket("assigned", "陈书记", kind="complaint")) is not None
    secretary = policy.scope_of(member("陈书记", roles=["secretary", "leader"]), on_duty=False)
    assert (
        secretary.role == "secretary"
        and policy.can_view(secretary, ticket("open", None, kind="complaint")) is None
    )
    assert policy.sees_mobile(member("陈书记", roles=["secretary"]), ticket("accepted", "李强"))
    assert not policy.sees_mobile(member("张敏", roles=["leader"]), ticket("accepted", "李强"))


def test_browser_tests_fail_in_ci_and_skip_elsewhere_without_chromium(monkeypatch) -> None:
    from tests import browser

    monkeypatch.setattr(browser, "CHROMIUM", "/nonexistent/chromium")
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI=true"):
        browser.require_chromium()
    monkeypatch.setenv("CI", "")
    with pytest.raises(pytest.skip.Exception):
        browser.require_chromium()
