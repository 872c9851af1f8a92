"""Ticket clocks driven by a controllable clock through a week of the example rota — lunchtime,
evening, a weekend, a public holiday — on SQLite and PostgreSQL: every reminder, escalation,
completion warning, 督办, appointment reminder and handover, at the minute it is due, once."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from bot.scheduler import clock_keeper
from desk.clocks import add_working_days, local, working_fraction
from desk.desk import ServiceDesk
from handlers.ordering import limits_of
from knowledge import Handbook
from tests.conftest import SHANGHAI, FakeClock

STEP = timedelta(minutes=5)


def at(month: int, day: int, hour: int, minute: int = 0, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


async def place(desk: ServiceDesk, handbook: Handbook, item_id: str, key: str, window=None) -> str:
    item = handbook.item(item_id)
    placement = await desk.place_order(
        resident=f"resident-{key}",
        item_id=item_id,
        category=item.category,
        name="张秀英",
        mobile="13812345678",
        fields={},
        window=window,
        urgent=False,
        request_key=key,
        limits=limits_of(item),
    )
    return placement.ticket.number


async def simulate(
    desk, handbook, clock: FakeClock, until: datetime, actions: dict[datetime, object]
) -> list[str]:
    """Tick every 5 minutes until `until`, running `actions` at their times; returns the timeline
    of group pushes and resident notices as 'MM-DD HH:MM event ticket → mentions'."""
    keeper = clock_keeper(desk, handbook)
    seen: set[int] = set()
    timeline: list[str] = []
    while clock.now < until.astimezone(clock.now.tzinfo):
        now_local = clock.now.astimezone(SHANGHAI)
        action = actions.get(now_local)
        if action is not None:
            await action()
        report = await keeper.tick()
        if action is None and not report.counts:
            clock.advance(minutes=5)  # nothing happened: no new outbox row to read
            continue
        for row in await desk.outbox.rows():
            if row.id in seen:
                continue
            seen.add(row.id)
            when = local(row.created_at, SHANGHAI)
            if row.event == "handover":
                moves = ", ".join(
                    f"{m['ticket']}:{m['from']}→{m['to'] if not m.get('kept') else '保留'}"
                    for m in row.payload["moves"]
                )
                timeline.append(f"{when:%m-%d %H:%M} handover {row.payload['window']} {moves}")
            elif row.channel == "group":
                mentions = ",".join(row.payload.get("mentions") or [row.payload.get("wecom") or "-"])
                due = local(row.due_at, SHANGHAI)
                timeline.append(
                    f"{max(when, due):%m-%d %H:%M} {row.event} {row.payload['ticket']} → {mentions}"
                )
            else:
                timeline.append(f"{when:%m-%d %H:%M} resident:{row.event} {row.payload['ticket']}")
        clock.advance(minutes=5)
    return timeline


async def test_a_week_of_clocks(desk: ServiceDesk, handbook: Handbook, clock: FakeClock) -> None:
    clock.set(at(11, 23, 8))  # Monday
    # 李强 and 张敏, the grade-A staff on weekend duty, are on leave that weekend: nobody on duty
    # then is qualified for social security, so its clocks wait for Monday.
    await desk.staff.add_leave("李强", date(2026, 11, 28), date(2026, 11, 28))
    await desk.staff.add_leave("张敏", date(2026, 11, 29), date(2026, 11, 29))
    numbers: dict[str, str] = {}
    staff = {m.name: m for m in await desk.staff.all()}

    async def order(name: str, item_id: str, window=None) -> None:
        numbers[name] = await place(desk, handbook, item_id, name, window)

    async def claim(name: str, who: str) -> None:
        await desk.claim(staff[who], numbers[name])

    async def keep(name: str, who: str) -> None:
        await desk.keep(staff[who], numbers[name])

    async def complete(name: str, who: str) -> None:
        await desk.complete(staff[who], numbers[name], "")

    actions = {
        at(11, 23, 10): lambda: order("residence", "residence_permit"),  # morning: 王芳's post
        at(11, 23, 10, 5): lambda: claim("residence", "王芳"),
        at(11, 23, 11): lambda: order("certificate", "community_certificate"),  # 王芳 again
        at(11, 23, 11, 30): lambda: keep("certificate", "王芳"),
        at(11, 23, 11, 40): lambda: order("venue", "venue_booking"),  # convenience: 赵磊, left unclaimed
        at(11, 23, 12, 30): lambda: order("pension", "pension_certification"),  # lunchtime: 张敏's B角 李强
        at(11, 23, 14, 20): lambda: claim("pension", "李强"),
        at(11, 24, 9): lambda: order("visit", "home_visit", (at(11, 25, 10), at(11, 25, 11))),
        # Booked for Wednesday morning: 王芳 (赵磊's B角) is on duty then, 赵磊 is not.
        at(11, 24, 9, 10): lambda: claim("visit", "王芳"),
        at(11, 24, 11): lambda: keep("visit", "王芳"),  # keeps it through the 12:00 handover
        at(11, 25, 10, 30): lambda: complete("visit", "王芳"),
        at(11, 27, 17, 55): lambda: order("repair", "facility_repair"),  # Friday after hours
        at(11, 27, 18, 0): lambda: order("friday-pension", "pension_certification"),
    }
    timeline = await simulate(desk, handbook, clock, at(11, 30, 11), actions)
    assert timeline == WEEK.strip().splitlines()
    assert len(set(timeline)) == len(timeline)  # nothing fired twice


# Read against the example rota (examples/rota.yaml) and checked line by line when written:
# - 10002 (community certificate, 王芳) unclaimed: reminder at 15 duty minutes, escalation at 30
#   to her, her B角 赵磊 and the duty leader on the morning window (张敏); kept (保留) through the
#   12:00 handover, handed on at 17:30 to 赵磊 (evening extension) with a fresh claim clock.
# - 10004 (pension, lunchtime): 张敏's post, he is off the lunch window, so his B角 李强; claimed
#   14:20; 即办 means the end of the duty day for social security (17:30; 赵磊 on the evening is
#   grade B without it): warning at 80% of the duty time (16:30), 督办 to the secretary at 17:30.
# - 10005 (home visit booked Wed 10:00): routed to 王芳, on duty in the booked window (赵磊, the
#   post owner, is not); reminders the evening before at 19:00, to the resident and to the
#   assignee; completed Wed 10:30.
# - 10006 (repair, Friday 17:55): nobody on duty until Saturday 09:00; weekend duty (赵磊, swapped
#   in for 王芳) covers repairs, so its 10-minute claim clock runs on Saturday.
# - 10007 (pension, Friday 18:00): the weekend's grade-A staff are on leave, so nobody on weekend
#   duty covers social security: pushed Monday 09:00, reminded 09:15, escalated 09:30.
# - Handovers list who leaves each window; staff on leave that day hand nothing over.
WEEK = """
11-23 10:00 new_ticket 10001 → wangfang
11-23 10:05 resident:claimed 10001
11-23 11:00 new_ticket 10002 → wangfang
11-23 11:15 claim_reminder 10002 → wangfang
11-23 11:30 claim_escalation 10002 → wangfang,zhaolei,zhangmin
11-23 11:40 new_ticket 10003 → zhaolei
11-23 11:55 claim_reminder 10003 → zhaolei
11-23 12:00 handover 上午 10001:王芳→李强, 10002:王芳→保留, 10003:赵磊→李强
11-23 12:15 claim_reminder 10001 → liqiang
11-23 12:15 claim_reminder 10003 → liqiang
11-23 12:30 new_ticket 10004 → liqiang
11-23 12:30 claim_escalation 10001 → liqiang,zhangmin,chenshuji
11-23 12:30 claim_escalation 10003 → liqiang,zhangmin,chenshuji
11-23 12:45 claim_reminder 10004 → liqiang
11-23 13:00 claim_escalation 10004 → liqiang,zhangmin,chenshuji
11-23 14:20 resident:claimed 10004
11-23 16:30 done_warning 10004 → liqiang
11-23 17:30 done_overdue 10004 → liqiang,chenshuji
11-23 17:30 handover 下午 10001:李强→赵磊, 10002:王芳→赵磊, 10003:李强→赵磊, 10004:李强→None
11-23 17:45 claim_reminder 10001 → zhaolei
11-23 17:45 claim_reminder 10002 → zhaolei
11-23 17:45 claim_reminder 10003 → zhaolei
11-23 17:50 done_warning 10002 → zhaolei
11-23 18:00 claim_escalation 10001 → zhaolei,wangfang,zhangmin,chenshuji
11-23 18:00 claim_escalation 10002 → zhaolei,wangfang,zhangmin,chenshuji
11-23 18:00 claim_escalation 10003 → zhaolei,wangfang,zhangmin,chenshuji
11-23 18:00 done_warning 10003 → zhaolei
11-23 19:30 done_overdue 10002 → zhaolei,chenshuji
11-23 19:30 done_overdue 10003 → zhaolei,chenshuji
11-23 19:30 handover 延时服务 10001:赵磊→None, 10002:赵磊→None, 10003:赵磊→None
11-24 09:00 new_ticket 10005 → wangfang
11-24 09:10 resident:claimed 10005
11-24 12:00 handover 上午 10001:赵磊→张敏, 10002:赵磊→张敏, 10003:赵磊→张敏, 10004:李强→张敏, 10005:王芳→保留
11-24 12:15 claim_reminder 10001 → zhangmin
11-24 12:15 claim_reminder 10002 → zhangmin
11-24 12:15 claim_reminder 10003 → zhangmin
11-24 12:15 claim_reminder 10004 → zhangmin
11-24 12:30 claim_escalation 10001 → zhangmin,liqiang
11-24 12:30 claim_escalation 10002 → zhangmin,liqiang
11-24 12:30 claim_escalation 10003 → zhangmin,liqiang
11-24 12:30 claim_escalation 10004 → zhangmin,liqiang
11-24 17:30 handover 下午 10001:张敏→None, 10002:张敏→None, 10003:张敏→None, 10004:张敏→None
11-24 19:00 appointment 10005 → wangfang
11-24 19:00 resident:appointment 10005
11-25 10:30 resident:done 10005
11-25 12:00 handover 上午 10001:张敏→赵磊, 10002:张敏→赵磊, 10003:张敏→赵磊, 10004:张敏→None
11-25 12:15 claim_reminder 10001 → zhaolei
11-25 12:15 claim_reminder 10002 → zhaolei
11-25 12:15 claim_reminder 10003 → zhaolei
11-25 12:30 claim_escalation 10001 → zhaolei,wangfang,zhangmin,chenshuji
11-25 12:30 claim_escalation 10002 → zhaolei,wangfang,zhangmin,chenshuji
11-25 12:30 claim_escalation 10003 → zhaolei,wangfang,zhangmin,chenshuji
11-25 17:30 handover 下午 10001:赵磊→李强, 10002:赵磊→李强, 10003:赵磊→李强, 10004:张敏→李强
11-25 17:45 claim_reminder 10001 → liqiang
11-25 17:45 claim_reminder 10002 → liqiang
11-25 17:45 claim_reminder 10003 → liqiang
11-25 17:45 claim_reminder 10004 → liqiang
11-25 18:00 claim_escalation 10001 → liqiang,zhangmin,chenshuji
11-25 18:00 claim_escalation 10002 → liqiang,zhangmin,chenshuji
11-25 18:00 claim_escalation 10003 → liqiang,zhangmin,chenshuji
11-25 18:00 claim_escalation 10004 → liqiang,zhangmin,chenshuji
11-25 19:30 handover 延时服务 10001:李强→None, 10002:李强→None, 10003:李强→None, 10004:李强→None
11-26 12:00 handover 上午 10001:李强→王芳, 10002:李强→王芳, 10003:李强→王芳, 10004:李强→None
11-26 12:15 claim_reminder 10001 → wangfang
11-26 12:15 claim_reminder 10002 → wangfang
11-26 12:15 claim_reminder 10003 → wangfang
11-26 12:30 claim_escalation 10001 → wangfang,zhaolei,zhangmin,chenshuji
11-26 12:30 claim_escalation 10002 → wangfang,zhaolei,zhangmin,chenshuji
11-26 12:30 claim_escalation 10003 → wangfang,zhaolei,zhangmin,chenshuji
11-26 17:30 handover 下午 10001:王芳→None, 10002:王芳→None, 10003:王芳→None, 10004:李强→None
11-27 12:00 handover 上午 10001:王芳→李强, 10002:王芳→李强, 10003:王芳→李强
11-27 12:15 claim_reminder 10001 → liqiang
11-27 12:15 claim_reminder 10002 → liqiang
11-27 12:15 claim_reminder 10003 → liqiang
11-27 12:30 claim_escalation 10001 → liqiang,zhangmin,chenshuji
11-27 12:30 claim_escalation 10002 → liqiang,zhangmin,chenshuji
11-27 12:30 claim_escalation 10003 → liqiang,zhangmin,chenshuji
11-27 17:30 handover 下午 10001:李强→None, 10002:李强→None, 10003:李强→None, 10004:李强→None
11-28 09:00 new_ticket 10006 → zhaolei
11-30 09:00 new_ticket 10007 → zhangmin
11-28 09:10 claim_reminder 10006 → zhaolei
11-28 09:20 claim_escalation 10006 → zhaolei,wangfang,zhangmin,chenshuji
11-28 17:00 handover 周末值班（5+2） 10006:赵磊→None
11-29 17:00 handover 周末值班（5+2） 10006:赵磊→None
11-30 09:15 claim_reminder 10007 → zhangmin
11-30 09:30 claim_escalation 10007 → zhangmin,liqiang
"""


async def test_a_public_holiday(desk: ServiceDesk, handbook: Handbook, clock: FakeClock) -> None:
    """National Day: holiday duty on 10-01 (陈书记) runs the clocks; 10-02..10-07 have no duty, so a
    ticket that arrives then waits for 10-08; working days skip the holiday and count the make-up
    Saturday 10-10."""
    clock.set(at(9, 30, 20))
    numbers: dict[str, str] = {}

    async def order(name: str, item_id: str) -> None:
        numbers[name] = await place(desk, handbook, item_id, name)

    actions = {
        at(9, 30, 20): lambda: order("evening", "venue_booking"),
        at(10, 1, 17, 30): lambda: order("holiday", "residence_permit"),
    }
    timeline = await simulate(desk, handbook, clock, at(10, 8, 10), actions)
    # 10001: venue booking at 20:00 after the evening extension: holiday duty (陈书记, grade A) on
    # 10-01 takes it; 即办 ends with that duty day (17:00), warned at 80% of its duty time (15:24).
    # 10002: a residence permit after holiday duty ended: nobody until 10-08, when the post owner
    # 王芳 is off but her B角 赵磊 is on the morning window.
    assert timeline == [
        "10-01 09:00 new_ticket 10001 → chenshuji",
        "10-01 09:15 claim_reminder 10001 → chenshuji",
        "10-01 09:30 claim_escalation 10001 → chenshuji,zhangmin",
        "10-01 15:25 done_warning 10001 → chenshuji",
        "10-01 17:00 done_overdue 10001 → chenshuji",
        "10-01 17:00 handover 节假日值班 10001:陈书记→None",
        "10-08 09:00 new_ticket 10002 → zhaolei",
        "10-08 09:15 claim_reminder 10002 → zhaolei",
        "10-08 09:30 claim_escalation 10002 → zhaolei,wangfang,zhangmin",
    ]
    ticket = await desk.tickets.get(numbers["holiday"])
    # 15 working days from the holiday: the clock starts 10-08 and counts the make-up Saturday 10-10.
    assert local(ticket.done_due_at, SHANGHAI) == at(10, 28, 0)


def test_working_days_skip_holidays_and_count_make_up_days(handbook: Handbook) -> None:
    calendar = handbook.calendar
    assert add_working_days(at(9, 30, 16), 3, calendar) == at(10, 10, 16)  # 10-08, 10-09, 10-10 (调休)
    assert add_working_days(at(11, 23, 10), 3, calendar) == at(11, 26, 10)
    assert add_working_days(at(11, 28, 10), 1, calendar) == at(12, 1, 0)  # Saturday: counting starts Monday
    warn = working_fraction(at(11, 23, 10), at(11, 26, 10), 0.8, calendar)
    assert warn == at(11, 25, 19, 36)


async def test_two_processes_ticking_fire_each_job_once(desk: ServiceDesk, handbook: Handbook, clock) -> None:
    """Two schedulers (as in two processes) tick at the same moments: every push exists once."""
    import asyncio

    clock.set(at(11, 23, 10))
    await place(desk, handbook, "residence_permit", "a")
    await place(desk, handbook, "community_certificate", "b")
    keepers = [clock_keeper(desk, handbook), clock_keeper(desk, handbook)]
    for _ in range(31):  # 10:00 → 12:30: reminders, escalations, the 12:00 handover
        await asyncio.gather(*(k.tick() for k in keepers))
        clock.advance(minutes=5)
    events = [r.event for r in await desk.outbox.rows()]
    assert events.count("claim_reminder") == 4 and events.count("claim_escalation") == 4
    assert events.count("handover") == 1


async def test_a_process_dying_mid_job_leaves_it_for_the_next_tick(
    desk: ServiceDesk, handbook: Handbook, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock.set(at(11, 23, 10))
    await place(desk, handbook, "residence_permit", "a")
    clock.set(at(11, 23, 10, 15))
    keeper = clock_keeper(desk, handbook)
    original = keeper._push

    def crash(*args, **kwargs):
        raise RuntimeError("process killed while writing the reminder")

    monkeypatch.setattr(keeper, "_push", crash)
    with pytest.raises(RuntimeError):
        await keeper.tick()
    assert [r.event for r in await desk.outbox.rows()] == ["new_ticket"]  # rolled back: nothing half-done
    monkeypatch.setattr(keeper, "_push", original)
    await keeper.tick()
    await keeper.tick()
    assert [r.event for r in await desk.outbox.rows()] == ["new_ticket", "claim_reminder"]
    actions = [e.action for e in await desk.tickets.events(10001)]
    assert actions.count("claim_reminder") == 1


async def test_a_booked_tickets_completion_clock_runs_from_its_appointment(
    desk: ServiceDesk, handbook: Handbook, clock: FakeClock
) -> None:
    """Booked on Wednesday for Friday afternoon: the limit counts from the booked window, not from
    the booking, so the ticket is not overdue (nor warned, nor 督办) before the visit happens."""
    clock.set(at(12, 2, 10))  # Wednesday
    # 即办 (venue booking): the end of the booked day's duty, not Wednesday's 19:30.
    venue = await desk.tickets.get(
        await place(desk, handbook, "venue_booking", "venue", (at(12, 4, 14), at(12, 4, 17, 30)))
    )
    assert local(venue.done_due_at, SHANGHAI) == at(12, 4, 17, 30)
    assert local(venue.supervise_at, SHANGHAI) == at(12, 4, 17, 30)
    assert at(12, 4, 17, 30) >= local(venue.done_warn_at, SHANGHAI) >= at(12, 4, 14)
    # Two working days (home visit) after the booked window ends: Friday 17:30 → Tuesday 17:30.
    visit = await desk.tickets.get(
        await place(desk, handbook, "home_visit", "visit", (at(12, 4, 14), at(12, 4, 15)))
    )
    assert local(visit.done_due_at, SHANGHAI) == add_working_days(at(12, 4, 15), 2, handbook.calendar)
    assert local(visit.done_warn_at, SHANGHAI) > at(12, 4, 15)
    # The claim clock still runs from now: someone must take it on before the visit.
    assert local(visit.claim_remind_at, SHANGHAI) == at(12, 2, 10, 15)


async def test_a_booked_visit_goes_to_staff_on_duty_in_its_window(
    desk: ServiceDesk, handbook: Handbook, clock: FakeClock
) -> None:
    """Booked on Wednesday lunchtime (赵磊 on duty, the post owner for convenience) for Saturday
    morning, when 李强 and 王芳 are on weekend duty: it goes to 王芳 (赵磊's B角), pushed now."""
    clock.set(at(12, 2, 12, 30))
    number = await place(desk, handbook, "home_visit", "saturday", (at(12, 5, 10), at(12, 5, 11)))
    ticket = await desk.tickets.get(number)
    assert ticket.assignee == "王芳"
    [push] = await desk.outbox.rows()
    assert push.payload["wecom"] == "wangfang" and local(push.due_at, SHANGHAI) == at(12, 2, 12, 30)
    # Claimed within the usual duty minutes from now, by whoever qualified is on duty.
    assert local(ticket.claim_remind_at, SHANGHAI) == at(12, 2, 12, 30) + timedelta(
        minutes=limits_of(handbook.item("home_visit")).claim_minutes
    )
    # Not booked: today's rules (赵磊, on lunch duty, owns convenience).
    walk_in = await desk.tickets.get(await place(desk, handbook, "facility_repair", "now"))
    assert walk_in.assignee == "赵磊"
