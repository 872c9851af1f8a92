"""Party members and volunteers (双报到), the task list and points, at the desk (SQLite and
PostgreSQL): registration and approval, who may take what, offers returned to duty once, grid
fallback, community tasks with places under concurrency, leaving, and the points rule."""

from __future__ import annotations

import asyncio
import copy
import uuid
from datetime import date, datetime

import pytest

from bot.report import points_report
from desk.desk import Limits, ServiceDesk
from desk.points import lines as points_lines
from desk.points import parse_rule
from desk.refusals import Refused
from desk.responders import ResponderFileError, parse_document
from storage.models import Responder, StaffMember
from tests.conftest import SHANGHAI, FakeClock

ROBOT = "http://127.0.0.1:9/cgi-bin/webhook/send?key="
DOCUMENT = {
    "groups": [
        {"key": "tax", "name": "税务局第一党支部", "kind": "party_member", "robot": ROBOT + "tax"},
        {
            "key": "hospital",
            "name": "医院第三党支部",
            "kind": "party_member",
            "robot": ROBOT + "hos",
            "items": ["home_care"],
        },
        {"key": "team", "name": "幸福里志愿服务队", "kind": "volunteer", "robot": ROBOT + "team"},
    ],
    "points": {
        "stars": {5: 10, 4: 8, 3: 5, 2: 2, 1: 0},
        "unrated": 6,
        "weights": {"default": 1, "home_visit": 2},
    },
    "responders": [
        {"name": "刘建国", "group": "tax", "mobile": "13900002001", "skills": ["跑腿"]},
        {"name": "周楼长", "group": "team", "mobile": "13900002002"},
    ],
}


async def setup(desk: ServiceDesk, items: set[str]) -> None:
    await desk.responders.import_document(copy.deepcopy(DOCUMENT), items)


async def member(desk: ServiceDesk, name: str, group: str, mobile: str = "") -> Responder:
    """A registered and approved responder, bound to a WeChat identity of their own."""
    openid = f"o-{uuid.uuid4().hex[:8]}"
    known = {p["name"]: p.get("mobile", "") for p in DOCUMENT["responders"]}
    mobile = mobile or known.get(name, "")  # an imported person is bound by their mobile
    values = {"name": name, "group": group, "mobile": mobile, "unit": "单位", "community": "幸福里"}
    signup = await desk.responders.register(openid, values)
    await desk.responders.approve(await secretary(desk), str(signup.id))
    found = await desk.responders.by_openid(openid)
    assert found is not None
    return found


async def secretary(desk: ServiceDesk) -> StaffMember:
    return await desk.staff.by_name("陈书记")


async def order(desk: ServiceDesk, item: str, address: str, *, urgent: bool = False, minutes: int = 15):
    return await desk.tasks.place_order(
        takers=desk_takers[item],
        resident=f"r-{uuid.uuid4().hex[:6]}",
        item_id=item,
        category=desk_categories[item],
        name="孙秀兰",
        mobile="13712345678",
        fields={"address": address, "description": "帮忙买药"},
        window=None,
        urgent=urgent,
        request_key=uuid.uuid4().hex,
        limits=Limits(claim_minutes=minutes),
    )


desk_takers: dict[str, tuple[str, ...]] = {}
desk_categories: dict[str, str] = {}


@pytest.fixture(autouse=True)
def _items(handbook) -> None:
    for item in handbook.items.values():
        if item.order:
            desk_takers[item.id] = item.order.takers
            desk_categories[item.id] = item.category


def test_the_document_is_checked_and_every_problem_named(handbook) -> None:
    broken = {
        "groups": [
            {"key": "tax branch", "name": "", "kind": "cadre", "robot": "not a url"},
            {"key": "t", "name": "队", "kind": "volunteer", "robot": ROBOT, "items": ["no_such_item"]},
        ],
        "points": {"stars": {5: 10, 6: 1}, "unrated": "many"},
        "responders": [{"name": "甲", "group": "nowhere", "mobile": "123"}, {"name": "甲", "group": "t"}],
    }
    with pytest.raises(ResponderFileError) as caught:
        parse_document(broken, set(handbook.items))
    problems = caught.value.problems
    for expected in (
        "groups[0].key: 'tax branch' must be 1-32 letters, digits, - or _",
        "groups[0].name: missing",
        "groups[0].kind: must be party_member (党支部) or volunteer (志愿服务队)",
        "groups[0].robot: 'not a url' is not the group robot's webhook URL",
        "groups[1].items: unknown item 'no_such_item'",
        "points.stars.6: must be a star from 1 to 5",
        "points.unrated: 'many' is not a number of points",
        "responders[0].mobile: '123' is not an 11-digit mobile number",
        "responders[1].name: '甲' listed twice",
    ):
        assert expected in problems, problems
    assert any(p.startswith("responders[0].group: unknown group 'nowhere'") for p in problems)
    with pytest.raises(ResponderFileError):
        parse_document(["not", "a", "mapping"])


def test_points_rule_weighs_items_and_stars() -> None:
    from storage.responders import DoneWork

    problems: list[str] = []
    rule = parse_rule(
        {"stars": {5: 10, 4: 8, 3: 5, 2: 2, 1: 0}, "unrated": 6, "weights": {"home_visit": 2}}, problems
    )
    assert problems == []
    at = datetime(2026, 11, 28)
    assert rule.points(DoneWork("甲", "home_visit", 5, None, at)) == 20
    assert rule.points(DoneWork("甲", "sanitation", 4, None, at)) == 8  # no default weight: 1
    assert rule.points(DoneWork("甲", "sanitation", None, None, at)) == 6
    assert rule.points(DoneWork("甲", "community_task", None, 1.5, at)) == 9  # the task's own weight


async def test_sign_up_approval_binds_the_imported_person_and_is_the_secretarys(
    desk: ServiceDesk, handbook
) -> None:
    await setup(desk, set(handbook.items))
    values = {"name": "刘建国", "group": "tax", "mobile": "13900002001", "skills": ["跑腿"]}
    signup = await desk.responders.register("o-liu", values)
    rows = [r for r in await desk.outbox.rows() if r.event == "responder_signup"]
    assert rows[-1].payload["mobile"] == "139****2001" and "13900002001" not in str(rows[-1].payload)
    with pytest.raises(Refused) as refused:
        await desk.responders.approve(await desk.staff.by_name("李强"), str(signup.id))
    assert refused.value.reason == "secretary_only"
    responder = await desk.responders.approve(await secretary(desk), str(signup.id))
    assert responder.name == "刘建国" and responder.openid == "o-liu"
    assert (
        len([r for r in await desk.responders.store.all() if r.name == "刘建国"]) == 1
    )  # bound, not doubled
    with pytest.raises(Refused) as refused:
        await desk.responders.approve(await secretary(desk), str(signup.id))
    assert refused.value.reason == "signup_decided"
    with pytest.raises(Refused) as refused:
        await desk.responders.register("o-liu", values)
    assert refused.value.reason == "already_registered"
    # Another 刘建国 (another mobile): approved only under another name.
    other = await desk.responders.register("o-liu-2", {**values, "mobile": "13900009999"})
    with pytest.raises(Refused) as refused:
        await desk.responders.approve(await secretary(desk), str(other.id))
    assert refused.value.reason == "name_taken"
    assert (await desk.responders.store.signup(other.id)).state == "pending"  # nothing half-done
    renamed = await desk.responders.approve(await secretary(desk), str(other.id), "刘建国（医院）")
    assert renamed.name == "刘建国（医院）"
    rejected = await desk.responders.register("o-x", {**values, "name": "某某", "mobile": ""})
    await desk.responders.reject(await secretary(desk), str(rejected.id), "不是本社区居民")
    assert (await desk.responders.by_openid("o-x")) is None
    with pytest.raises(Refused):
        await desk.responders.register("o-y", {**values, "group": "nowhere"})


async def test_no_groups_and_no_grid_means_duty_as_before(desk: ServiceDesk) -> None:
    placed = await order(desk, "home_visit", "阳光苑3栋2单元501")
    assert placed.route == "duty" and placed.assignee in ("李强", "赵磊")
    assert await desk.responders.store.offer(placed.ticket.id) is None


async def test_an_errand_goes_to_the_groups_open_to_it_and_only_they_may_take_it(
    desk: ServiceDesk, handbook
) -> None:
    await setup(desk, set(handbook.items))
    liu = await member(desk, "刘建国", "tax", "13900002001")
    doctor = await member(desk, "何医生", "hospital")
    placed = await order(desk, "home_visit", "幸福里小区5栋2单元301")
    assert placed.route == "groups" and placed.ticket.assignee is None and placed.ticket.state == "open"
    pushes = {r.target: r for r in await desk.outbox.rows() if r.event == "task_offer"}
    assert set(pushes) == {"team:tax", "team:team"}  # the hospital branch takes home_care only
    assert pushes["team:tax"].payload["robot"] == ROBOT + "tax"
    assert pushes["team:tax"].payload["mobile"] == "137****5678"
    assert pushes["team:tax"].payload["area"] == "幸福里小区"
    with pytest.raises(Refused) as refused:
        await desk.tasks.take(doctor, placed.ticket.number)
    assert refused.value.reason == "task_not_for_you"
    taken = await desk.tasks.take(liu, placed.ticket.number)
    assert taken.assignee == "刘建国" and taken.state == "accepted"
    rows = [r for r in await desk.outbox.rows() if r.ticket_id == placed.ticket.id]
    assert [r.event for r in rows if r.channel == "resident"] == ["task_claimed"]
    assert sorted(r.target for r in rows if r.event == "task_taken") == ["team:tax", "team:team"]


async def test_concurrent_takes_have_exactly_one_winner(desk: ServiceDesk, handbook) -> None:
    await setup(desk, set(handbook.items))
    members = [await member(desk, f"党员{n}", "tax") for n in range(6)]
    placed = await order(desk, "home_visit", "幸福里小区5栋")
    results = await asyncio.gather(
        *(desk.tasks.take(m, placed.ticket.number) for m in members), return_exceptions=True
    )
    won = [r for r in results if not isinstance(r, BaseException)]
    assert len(won) == 1
    assert {r.reason for r in results if isinstance(r, Refused)} == {"already_claimed"}
    ticket = await desk.tickets.get(placed.ticket.number)
    assert ticket.assignee == won[0].assignee
    assert [e.action for e in await desk.tickets.events(ticket.number)] == ["create", "accept"]


async def test_an_untaken_offer_returns_to_duty_once_and_can_no_longer_be_taken(
    desk: ServiceDesk, handbook, clock: FakeClock
) -> None:
    await setup(desk, set(handbook.items))
    liu = await member(desk, "刘建国", "tax")
    placed = await order(desk, "home_visit", "幸福里小区5栋", minutes=15)
    clock.advance(minutes=14)
    assert await desk.tasks.escalate_due() == 0
    clock.advance(minutes=2)
    results = await asyncio.gather(desk.tasks.escalate_due(), desk.tasks.escalate_due())
    assert sorted(results) == [0, 1]  # once, however many schedulers run
    ticket = await desk.tickets.get(placed.ticket.number)
    assert ticket.state == "assigned" and ticket.assignee in ("李强", "赵磊")
    assert ticket.claim_remind_at is not None  # the duty claim clock runs from now on
    push = [r for r in await desk.outbox.rows() if r.event == "new_ticket" and r.ticket_id == ticket.id]
    assert len(push) == 1 and push[0].payload["returned"] == "groups"
    with pytest.raises(Refused) as refused:
        await desk.tasks.take(liu, placed.ticket.number)
    assert refused.value.reason == "task_returned"
    # A taken offer is never returned.
    taken = await order(desk, "home_visit", "幸福里小区6栋")
    await desk.tasks.take(liu, taken.ticket.number)
    clock.advance(minutes=30)
    assert await desk.tasks.escalate_due() == 0
    assert (await desk.tickets.get(taken.ticket.number)).assignee == "刘建国"


async def test_a_grid_order_goes_to_its_member_then_back_to_duty(desk: ServiceDesk, clock: FakeClock) -> None:
    placed = await order(desk, "sanitation", "锦绣花园三号楼2单元")
    assert placed.route == "grid" and placed.ticket.assignee == "王芳"
    offer = await desk.responders.store.offer(placed.ticket.id)
    assert offer is not None and offer.stage == "grid" and offer.grid == "锦绣花园第一网格"
    # An urgent report skips the grid: straight to duty.
    urgent = await order(desk, "sanitation", "锦绣花园三号楼", urgent=True)
    assert urgent.route == "duty" and urgent.ticket.assignee != "王芳"
    clock.advance(minutes=16)
    assert await desk.tasks.escalate_due() == 1
    ticket = await desk.tickets.get(placed.ticket.number)
    assert ticket.state == "assigned" and ticket.assignee == "赵磊"  # convenience, on duty for 王芳
    with pytest.raises(Refused):
        await desk.claim(await desk.staff.by_name("王芳"), placed.ticket.number)


async def test_a_grid_member_on_leave_or_a_responder_building_head(desk: ServiceDesk, handbook) -> None:
    await setup(desk, set(handbook.items))
    await desk.staff.add_leave("王芳", date(2026, 11, 28), date(2026, 11, 28))
    # 王芳 is away: the grid's next member, the building head 周楼长, once bound to WeChat.
    # 周楼长 not bound yet: nobody in the grid, so the groups open to the item have it.
    assert (await order(desk, "sanitation", "锦绣花园1栋")).route == "groups"
    head = await member(desk, "周楼长", "team", "13900002002")
    placed = await order(desk, "sanitation", "锦绣花园1栋")
    assert placed.route == "grid" and placed.ticket.assignee == "周楼长"
    notices = [r for r in await desk.outbox.rows() if r.event == "grid_task"]
    assert notices[-1].target == head.openid and notices[-1].payload["mobile"] == "137****5678"
    taken = await desk.tasks.take(head, placed.ticket.number)
    assert taken.state == "accepted"
    done = await desk.tasks.complete(head, placed.ticket.number, "已清理")
    assert done.state == "done"


async def test_community_task_places_fill_exactly_and_earn_points(
    desk: ServiceDesk, handbook, clock: FakeClock
) -> None:
    await setup(desk, set(handbook.items))
    members = [await member(desk, f"队员{n}", "team") for n in range(5)]
    with pytest.raises(Refused) as refused:
        await desk.tasks.post(await desk.staff.by_name("李强"), "清理3栋楼道", 3)
    assert refused.value.reason == "leader_or_secretary"
    task = await desk.tasks.post(await secretary(desk), "周六上午清理3栋楼道杂物", 3, detail="带手套")
    assert task.number == "800001"
    assert {r.target for r in await desk.outbox.rows() if r.event == "community_task"} == {
        "team:team",
        "team:tax",
        "team:hospital",
    }
    results = await asyncio.gather(
        *(desk.tasks.take(m, task.number) for m in members), return_exceptions=True
    )
    assert sum(not isinstance(r, BaseException) for r in results) == 3
    assert {r.reason for r in results if isinstance(r, Refused)} == {"task_full"}
    assert (await desk.responders.store.task(task.id)).taken == 3
    holders = [m for m, r in zip(members, results, strict=True) if not isinstance(r, BaseException)]
    with pytest.raises(Refused) as refused:
        await desk.tasks.take(holders[0], task.number)
    assert refused.value.reason in ("task_full", "place_held")
    await desk.tasks.complete(holders[0], task.number, "清完了")
    with pytest.raises(Refused) as refused:
        await desk.tasks.complete(holders[0], task.number, "again")
    assert refused.value.reason == "no_place"
    report = "\n".join(points_lines(await points_report(desk, date(2026, 11, 1), date(2026, 11, 30))))
    assert f"{holders[0].name}\t幸福里志愿服务队\t1\t-\t6" in report  # unrated: 6 × weight 1
    with pytest.raises(Refused) as refused:
        await desk.tasks.take(members[0], "800099")
    assert refused.value.reason == "unknown_task"


async def test_leaving_is_refused_while_holding_a_task(desk: ServiceDesk, handbook) -> None:
    await setup(desk, set(handbook.items))
    liu = await member(desk, "刘建国", "tax")
    placed = await order(desk, "home_visit", "幸福里小区5栋")
    await desk.tasks.take(liu, placed.ticket.number)
    tickets, places = await desk.tasks.holding(liu)
    with pytest.raises(Refused) as refused:
        await desk.responders.leave(liu, [t.number for t in tickets] + [p.number for p in places])
    assert refused.value.reason == "still_holding" and refused.value.facts["numbers"] == [
        placed.ticket.number
    ]
    await desk.tasks.complete(liu, placed.ticket.number, "")
    await desk.responders.leave(liu, [])
    assert await desk.responders.by_openid(liu.openid or "") is None
    again = await order(desk, "home_visit", "幸福里小区5栋")
    gone = await desk.responders.store.by_name("刘建国")
    assert gone is not None and not gone.active
    with pytest.raises(Refused) as refused:
        await desk.tasks.take(gone, again.ticket.number)
    assert refused.value.reason == "task_not_for_you"


async def test_points_over_a_period_by_member_and_branch(
    desk: ServiceDesk, handbook, clock: FakeClock
) -> None:
    await setup(desk, set(handbook.items))
    liu = await member(desk, "刘建国", "tax")
    wang = await member(desk, "王党员", "tax")
    for who, stars in ((liu, 5), (liu, 3), (wang, 4)):
        placed = await order(desk, "home_visit", "幸福里小区5栋")
        await desk.tasks.take(who, placed.ticket.number)
        done = await desk.tasks.complete(who, placed.ticket.number, "")
        await desk.rate(done.resident, done, stars, "")
    clock.set(datetime(2026, 12, 2, 10, 0, tzinfo=SHANGHAI))  # December: another period
    placed = await order(desk, "home_visit", "幸福里小区5栋")
    await desk.tasks.take(liu, placed.ticket.number)
    await desk.tasks.complete(liu, placed.ticket.number, "")
    november = await points_report(desk, date(2026, 11, 1), date(2026, 11, 30))
    by_name = {t.key: t for t in november.members}
    assert by_name["刘建国"].points == 30 and by_name["刘建国"].rating_average == 4  # 2×10 + 2×5
    assert by_name["王党员"].points == 16
    (branch,) = [g for g in november.groups if g.key == "税务局第一党支部"]
    assert branch.points == 46 and branch.tasks == 3
    december = await points_report(desk, date(2026, 12, 1), date(2026, 12, 31))
    assert [(t.key, t.points, t.rating_average) for t in december.members] == [("刘建国", 12.0, None)]


async def test_a_grid_ticket_passed_on_by_its_member_is_not_taken_back(
    desk: ServiceDesk, clock: FakeClock
) -> None:
    placed = await order(desk, "sanitation", "锦绣花园2栋")
    assert placed.ticket.assignee == "王芳"
    await desk.transfer(await desk.staff.by_name("王芳"), placed.ticket.number, "李强")
    clock.advance(minutes=30)
    assert await desk.tasks.escalate_due() == 0
    assert (await desk.tickets.get(placed.ticket.number)).assignee == "李强"


async def test_staff_taking_an_offered_task_tell_the_groups(desk: ServiceDesk, handbook) -> None:
    await setup(desk, set(handbook.items))
    placed = await order(desk, "home_visit", "幸福里小区5栋")
    taken = await desk.claim(await desk.staff.by_name("李强"), placed.ticket.number)  # on duty, grade A
    assert taken.assignee == "李强"
    told = [r for r in await desk.outbox.rows() if r.event == "task_taken"]
    assert sorted(r.target for r in told) == ["team:tax", "team:team"]
    assert told[0].payload["group"] == "社区工作人员" and told[0].payload["taker"] == "李强"


def test_a_member_holding_an_offer_read_before_it_went_back_cannot_take_it() -> None:
    """The offer was read before the escalation committed (escalated_at still unset), the ticket
    after: it is with duty staff now, so the member is refused, not handed it."""
    from types import SimpleNamespace

    from desk import policy

    member = SimpleNamespace(name="刘建国", kind="party_member", group_key="tax", active=True)
    stale = SimpleNamespace(
        stage="groups", groups=["tax"], takers=["staff", "party_member"], escalated_at=None
    )
    assigned = SimpleNamespace(number="10001", state="assigned", assignee="李强", resident="r")
    refused = policy.may_take_task(member, assigned, stale)
    assert refused is not None and refused.reason == "task_returned"
    open_ticket = SimpleNamespace(number="10002", state="open", assignee=None, resident="r")
    assert policy.may_take_task(member, open_ticket, stale) is None
    accepted = SimpleNamespace(number="10003", state="accepted", assignee="王党员", resident="r")
    assert policy.may_take_task(member, accepted, stale).reason == "already_claimed"  # type: ignore[union-attr]
    other_kind = SimpleNamespace(name="周", kind="volunteer", group_key="tax", active=True)
    assert policy.may_take_task(other_kind, open_ticket, stale).reason == "task_not_for_you"  # type: ignore[union-attr]
