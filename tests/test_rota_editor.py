"""The rota and staff as the console edits them (desk/rostering.py, desk/staffing.py), on SQLite
and on the real PostgreSQL: a saved edit routes the next order at once, every problem `staff
import` would name is named and nothing is saved, a save over a newer edit is refused, leave
added meanwhile survives, the audit log says who changed what, the policy's refusals, removal
hands tickets over, and `staff export` writes what `staff import` reads back to the same rota."""

from __future__ import annotations

import copy
import subprocess
import sys
from datetime import date, datetime
from pathlib import Path

import pytest
import yaml
from sqlalchemy import select

from desk.desk import ServiceDesk
from desk.refusals import Refused
from desk.rostering import LeaveRow, Rostering, RotaEdit, RotaView
from desk.rota import RotaError, parse_rota
from desk.rota_edit import changes, names_in
from desk.staffing import StaffAdmin
from knowledge import Handbook
from storage.models import ConsoleAudit, Leave
from tests.conftest import SHANGHAI, example_rota
from tests.test_console import place


def edit_of(view: RotaView, **parts) -> RotaEdit:
    """The page's form sent back unchanged, but for `parts` (week, holidays, swaps, leave)."""
    document = copy.deepcopy(view.document)
    leave = [
        LeaveRow(e.id, e.name, e.first_day.isoformat(), e.last_day.isoformat(), e.note) for e in view.leave
    ]
    return RotaEdit(
        parts.get("week", document.get("week", {})),
        parts.get("holidays", {str(k): v for k, v in (document.get("holidays") or {}).items()}),
        parts.get("swaps", [{k: str(v) for k, v in s.items()} for s in document.get("swaps") or []]),
        parts.get("leave", leave),
        frozenset(e.id for e in view.leave),
        parts.get("fingerprint", view.fingerprint),
    )


async def audits(desk: ServiceDesk, event: str) -> list[ConsoleAudit]:
    async with desk.database.session() as session:
        return list(await session.scalars(select(ConsoleAudit).where(ConsoleAudit.event == event)))


async def test_a_saved_edit_routes_the_next_order_and_is_audited(
    desk: ServiceDesk, handbook: Handbook
) -> None:
    rostering = Rostering(desk)
    secretary = await desk.staff.by_name("陈书记")
    # Saturday lunchtime: 李强 and 赵磊 (swapped in for 王芳) on weekend duty; 赵磊 owns convenience.
    first = await place(desk, handbook, "facility_repair", "before")
    assert (await desk.tickets.get(first)).assignee == "赵磊"
    view = await rostering.view()
    week = copy.deepcopy(view.document["week"])
    week["sat"]["weekend"] = ["张敏"]
    changed = await rostering.save(secretary, edit_of(view, week=week, swaps=[]), client="test")
    assert "week.sat.weekend +张敏 -李强 -王芳" in changed
    assert "swap -2026-11-28 weekend 王芳→赵磊" in changed
    second = await place(desk, handbook, "facility_repair", "after")
    assert (await desk.tickets.get(second)).assignee == "张敏"  # the only one on duty now
    [row] = await audits(desk, "rota_saved")
    assert row.staff == "陈书记" and "week.sat.weekend +张敏" in row.detail["changes"]
    # A second desk on the same database (another process) reads the same rota.
    other = ServiceDesk(desk.database, handbook.calendar, SHANGHAI, desk.clock)
    assert [
        n for _, names in (await other.staff.rota()).duty_at(desk.now(), handbook.calendar) for n in names
    ] == ["张敏"]


async def test_every_problem_is_named_and_nothing_is_saved(desk: ServiceDesk) -> None:
    rostering = Rostering(desk)
    leader = await desk.staff.by_name("张敏")
    view = await rostering.view()
    week = copy.deepcopy(view.document["week"])
    week["mon"]["morning"] = ["张敏", "张明"]
    bad = edit_of(
        view,
        week=week,
        holidays={"2026-13-01": {"holiday": ["张敏"]}, "2026-10-01": {"holiday": ["无名氏"]}},
        swaps=[{"date": "2026-12-05", "window": "nightshift", "from": "王芳", "to": "路人"}],
        leave=[LeaveRow(None, "王芳", "2026-12-10", "2026-12-01", "")],
    )
    with pytest.raises(RotaError) as raised:
        await rostering.save(leader, bad)
    assert sorted(raised.value.problems) == sorted(
        [
            "week.mon.morning: unknown staff member '张明'",
            "holidays.2026-13-01: '2026-13-01' is not a date like 2026-10-01",
            "holidays.2026-10-01.holiday: unknown staff member '无名氏'",
            "swaps[0].window: unknown window 'nightshift'",
            "swaps[0].to: unknown staff member '路人'",
            "leave[0]: ends before it starts",
        ]
    )
    after = await rostering.view()
    assert after.fingerprint == view.fingerprint and after.document == view.document
    assert after.leave == view.leave and await audits(desk, "rota_saved") == []


async def test_a_save_over_a_newer_edit_is_refused_and_leave_added_meanwhile_stays(desk: ServiceDesk) -> None:
    rostering = Rostering(desk)
    secretary = await desk.staff.by_name("陈书记")
    view = await rostering.view()
    [imported] = view.leave  # 王芳's annual leave from the file
    week = copy.deepcopy(view.document["week"])
    week["tue"]["evening"] = ["李强"]
    await desk.staff.add_leave(
        "赵磊", date(2026, 12, 1), date(2026, 12, 2), "病假"
    )  # `staff leave`, meanwhile
    await rostering.save(
        secretary,
        edit_of(view, week=week, leave=[LeaveRow(imported.id, "王芳", "2026-12-21", "2026-12-24", "年休假")]),
    )
    now = await rostering.view()
    assert [(e.name, e.first_day, e.last_day) for e in now.leave] == [
        ("赵磊", date(2026, 12, 1), date(2026, 12, 2)),
        ("王芳", date(2026, 12, 21), date(2026, 12, 24)),
    ]
    async with desk.database.session() as session:
        notes = sorted(r.note for r in await session.scalars(select(Leave)))
    assert notes == ["rota:年休假", "病假"]  # the edited row keeps its import tag
    stale = edit_of(view, week=view.document["week"])  # drawn before the save
    with pytest.raises(Refused) as refused:
        await rostering.save(secretary, stale)
    assert refused.value.reason == "rota_changed"
    assert (await rostering.view()).document["week"]["tue"]["evening"] == ["李强"]
    # Removing a row the page showed deletes it; a row it did not show is left alone.
    latest = await rostering.view()
    await rostering.save(secretary, _without_leave(latest, "王芳"))
    assert [e.name for e in (await rostering.view()).leave] == ["赵磊"]


def _without_leave(view: RotaView, name: str) -> RotaEdit:
    edit = edit_of(view)
    return RotaEdit(
        edit.week,
        edit.holidays,
        edit.swaps,
        [r for r in edit.leave if r.name != name],
        edit.shown,
        edit.fingerprint,
    )


async def test_staff_may_not_edit_the_rota(desk: ServiceDesk) -> None:
    view = await Rostering(desk).view()
    with pytest.raises(Refused) as refused:
        await Rostering(desk).save(await desk.staff.by_name("赵磊"), edit_of(view))
    assert refused.value == Refused("leader_or_secretary", page="值班表")


async def test_the_coming_weeks_gaps_follow_routings_rule(desk: ServiceDesk, handbook: Handbook) -> None:
    rostering = Rostering(desk)
    categories = list(handbook.categories)
    b_only = set(categories) - {"social_security", "social_assistance"}

    def listed(found) -> list[tuple[date, str, tuple[str, ...], set[str]]]:
        return [(g.day, g.window.key, g.names, set(g.missing)) for g in found]

    # The example rota leaves grade B staff alone three times in the coming week (Saturday 12:30).
    assert listed(await rostering.gaps(categories)) == [
        (date(2026, 11, 30), "evening", ("赵磊",), {"social_security", "social_assistance", "family"}),
        (date(2026, 12, 2), "lunch", ("赵磊",), {"social_security", "social_assistance", "family"}),
        (date(2026, 12, 3), "lunch", ("王芳",), {"social_security", "social_assistance", "rights"}),
    ]
    assert b_only  # grade A (张敏, 李强, 陈书记) covers every category
    view = await rostering.view()
    week = copy.deepcopy(view.document["week"])
    week["mon"]["evening"] = ["赵磊", "李强"]
    week["wed"]["lunch"] = ["赵磊", "张敏"]
    await rostering.save(await desk.staff.by_name("陈书记"), edit_of(view, week=week))
    await desk.staff.add_leave("王芳", date(2026, 12, 3), date(2026, 12, 3))
    [thursday] = await rostering.gaps(categories)  # 王芳 on leave: nobody at all at Thursday lunch
    assert (thursday.day, thursday.window.key, thursday.names) == (date(2026, 12, 3), "lunch", ())
    assert set(thursday.missing) == set(categories)
    nxt = await rostering.next_duty()  # Saturday 12:30, weekend duty on: next is Sunday's
    assert nxt is not None and nxt.window.key == "weekend" and nxt.names == ("张敏", "赵磊")
    assert nxt.start == datetime(2026, 11, 29, 9, 0, tzinfo=SHANGHAI)


# ---- staff --------------------------------------------------------------------------------------


async def test_staff_are_added_and_edited_with_the_imports_check(desk: ServiceDesk) -> None:
    admin = StaffAdmin(desk)
    leader, secretary = await desk.staff.by_name("张敏"), await desk.staff.by_name("陈书记")
    with pytest.raises(RotaError) as raised:
        await admin.save(
            leader, {"name": "孙丽", "mobile": "1380000", "grade": "B", "backup": "无名氏"}, new=True
        )
    assert sorted(raised.value.problems) == [
        "staff.backup: unknown staff member '无名氏'",
        "staff.categories: grade B needs the categories they handle",
        "staff.mobile: '1380000' is not an 11-digit mobile number",
    ]
    assert "孙丽" not in [m.name for m in await desk.staff.all()]
    with pytest.raises(RotaError, match="listed twice"):
        await admin.save(leader, {"name": "李强"}, new=True)
    added = await admin.save(
        leader,
        {"name": "孙丽", "mobile": "13900001111", "grade": "B", "categories": ["family"], "backup": "王芳"},
        new=True,
        client="test",
    )
    assert (added.grade, added.categories, added.backup, added.active) == ("B", ["family"], "王芳", True)
    with pytest.raises(Refused) as refused:  # a leader does not give roles
        await admin.save(leader, {"name": "孙丽", "grade": "A", "roles": ["leader"]}, new=False)
    assert refused.value.reason == "roles_secretary_only"
    with pytest.raises(Refused) as refused:  # nor edit the secretary
        await admin.save(
            leader, {"name": "陈书记", "grade": "A", "roles": ["secretary", "leader"]}, new=False
        )
    assert refused.value.reason == "secretary_record"
    with pytest.raises(Refused) as refused:  # the last secretary stays one
        await admin.save(secretary, {"name": "陈书记", "grade": "A", "roles": ["leader"]}, new=False)
    assert refused.value.reason == "last_secretary"
    await admin.save(secretary, {"name": "孙丽", "grade": "A", "roles": ["leader"]}, new=False, client="test")
    assert (await desk.staff.by_name("孙丽")).roles == ["leader"]
    with pytest.raises(Refused) as refused:
        await admin.save(await desk.staff.by_name("赵磊"), {"name": "x"}, new=True)
    assert refused.value.reason == "leader_or_secretary"
    logged = [(r.event, r.detail["name"], r.detail["fields"]) for r in await audits(desk, "staff_added")]
    assert logged == [("staff_added", "孙丽", "mobile,grade,categories,backup")]
    [edited] = await audits(desk, "staff_edited")
    assert (edited.staff, edited.detail["fields"]) == ("陈书记", "mobile,grade,categories,backup,roles")


async def test_invite_binds_unbind_ends_sessions_and_remove_hands_tickets_over(
    desk: ServiceDesk, handbook: Handbook
) -> None:
    admin = StaffAdmin(desk)
    leader = await desk.staff.by_name("张敏")
    code, _ = await admin.invite(leader, "赵磊")
    member = await desk.staff.bind("wx-zhao", code)
    assert member.name == "赵磊"
    token, _ = await desk.signin.link(member)
    signed = await desk.signin.use_link(token, "browser")
    assert await desk.signin.session(signed.token) is not None
    await admin.unbind(leader, "赵磊")
    assert (await desk.staff.by_name("赵磊")).openid is None
    assert await desk.signin.session(signed.token) is None  # the lost phone's console session ended
    with pytest.raises(Refused) as refused:
        await admin.invite(leader, "陈书记")  # a leader does not bind a phone to the secretary
    assert refused.value.reason == "secretary_record"

    number = await place(desk, handbook, "facility_repair", "held")  # routed to 赵磊
    assert (await desk.tickets.get(number)).assignee == "赵磊"
    with pytest.raises(Refused) as refused:
        await admin.remove(leader, "赵磊")
    assert refused.value == Refused("holds_tickets", name="赵磊", numbers=[number])
    with pytest.raises(Refused) as refused:
        await admin.remove(leader, "赵磊", successor="赵磊")
    assert refused.value.reason == "unknown_staff"
    assert await admin.remove(leader, "赵磊", successor="李强", client="test") == [number]
    ticket = await desk.tickets.get(number)
    assert ticket.assignee == "李强" and not (await desk.staff.by_name("赵磊")).active
    document = await desk.staff.directory.rota_document()
    assert "赵磊" not in str(document["week"]) and document["swaps"] == []  # off every cell and swap
    assert (await desk.staff.by_name("王芳")).backup == ""  # nobody's B角 any more
    after = await place(desk, handbook, "facility_repair", "after-removal")  # routing reads the rota
    # The swap that put 赵磊 on for 王芳 is gone: 王芳 is back on duty and holds fewer tickets.
    assert (await desk.tickets.get(after)).assignee == "王芳"
    assert (await Rostering(desk).view()).rota is not None
    [removed] = await audits(desk, "staff_removed")
    assert removed.detail == {"name": "赵磊", "handed_to": "李强", "tickets": number}
    with pytest.raises(Refused) as refused:
        await admin.remove(await desk.staff.by_name("陈书记"), "陈书记")
    assert refused.value.reason == "last_secretary"


# ---- staff export -------------------------------------------------------------------------------


def test_names_in_a_cell() -> None:
    assert names_in(" 张敏、王芳, 赵磊 张敏；李强 ") == ["张敏", "王芳", "赵磊", "李强"]
    assert names_in("") == []


def test_changes_name_cells_and_swaps() -> None:
    before = example_rota()
    after = copy.deepcopy(before)
    after["week"]["mon"]["evening"] = ["李强"]
    after["swaps"] = []
    assert changes(before, after) == ["week.mon.evening +李强 -赵磊", "swap -2026-11-28 weekend 王芳→赵磊"]


async def test_export_writes_what_import_reads_back(desk: ServiceDesk, tmp_path: Path) -> None:
    await desk.staff.add_leave("李强", date(2027, 1, 5), date(2027, 1, 5), "病假")
    rostering = Rostering(desk)
    view = await rostering.view()
    week = copy.deepcopy(view.document["week"])
    week["fri"]["evening"] = ["王芳"]
    await rostering.save(await desk.staff.by_name("陈书记"), edit_of(view, week=week))
    exported = await rostering.export()
    text = yaml.safe_dump(exported, allow_unicode=True, sort_keys=False)
    again = yaml.safe_load(text)
    rota, specs, leave = parse_rota(again)
    assert parse_rota(exported) == (rota, specs, leave)
    assert rota.week[4]["evening"] == ("王芳",)
    assert [(x.name, x.first_day, x.note) for x in leave] == [
        ("王芳", date(2026, 12, 21), "年休假"),
        ("李强", date(2027, 1, 5), "病假"),
    ]
    # Imported again: the same rota, staff and leave (no leave row twice).
    await desk.staff.import_rota(again)
    assert await rostering.export() == exported
    async with desk.database.session() as session:
        assert len(list(await session.scalars(select(Leave)))) == 2


def test_the_cli_exports_and_imports_the_same_file(tmp_path: Path, handbook: Handbook) -> None:
    env = {
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'a.db'}",
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
    }

    def cli(*args: str, db: str = "a.db") -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "bot", *args],
            env={**env, "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / db}"},
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
            cwd=Path(__file__).resolve().parents[1],
        )

    cli("staff", "import", "examples/rota.yaml")
    cli("staff", "leave", "赵磊", "--from", "2027-02-01", "--to", "2027-02-03", "--note", "探亲")
    cli("staff", "export", str(tmp_path / "out.yaml"))
    written = (tmp_path / "out.yaml").read_text(encoding="utf-8")
    assert written.startswith("# baishitong staff export")
    cli("staff", "import", str(tmp_path / "out.yaml"), db="b.db")
    assert cli("staff", "export", "-", db="b.db").stdout == written
    original = parse_rota(yaml.safe_load(Path("examples/rota.yaml").read_text(encoding="utf-8")))
    back = parse_rota(yaml.safe_load(written))
    assert back[0] == original[0] and back[1] == original[1]
    assert back[2][:1] == original[2] and back[2][1].name == "赵磊"
