"""The 值班表 and 人员 pages through the real aiohttp app, on SQLite and on the real PostgreSQL:
staff are refused (403, audited) and do not see the links; every POST needs the CSRF token; a
rota edit with mistakes shows each problem beside its cell and saves nothing; a good edit is
saved, routes the next order and is in the audit log; who is on duty now and next and the week's
gaps are shown; staff are added and edited with problems beside their fields, mobiles shown
only to whom policy allows, invited (the code binds through the account), unbound and removed."""

from __future__ import annotations

import html
import re

from aiohttp.test_utils import TestClient

from desk.rostering import Rostering
from knowledge import Handbook
from tests import test_console
from tests.test_console import CSRF, Console, audit, place, sign_in
from tests.test_handlers import Chat

console, say = test_console.console, test_console.say  # the console's fixtures, shared
INPUT = re.compile(r'<input type="(?:text|date|hidden|tel)"[^>]*? name="([^"]+)"[^>]*? value="([^"]*)"')
CHECKED = re.compile(r'<input type="checkbox" name="([^"]+)" value="([^"]+)"[^>]*checked')
SELECTED = re.compile(
    r'<select (?:id="[^"]*" )?name="([^"]+)"[^>]*>.*?<option value="([^"]*)" selected', re.S
)


def form_of(page: str, form_id_or_action: str) -> list[tuple[str, str]]:
    """The fields a browser would send from the form (text, hidden, checked boxes, selections)."""
    body = page.split(form_id_or_action, 1)[1].split("</form>", 1)[0]
    fields = [(name, html.unescape(value)) for name, value in INPUT.findall(body)]
    fields += [(name, html.unescape(value)) for name, value in CHECKED.findall(body)]
    for select in re.findall(r"<select.*?</select>", body, re.S):
        name = re.search(r'name="([^"]+)"', select).group(1)
        chosen = re.search(r'<option value="([^"]*)" selected', select) or re.search(
            r'<option value="([^"]*)"', select
        )
        fields.append((name, html.unescape(chosen.group(1)) if chosen else ""))
    return fields


def replaced(fields: list[tuple[str, str]], **values: str) -> list[tuple[str, str]]:
    out = [(k, values.pop(k)) if k in values else (k, v) for k, v in fields]
    return out + list(values.items())


def cell_of(page: str, name: str) -> str:
    """The table cell holding the input `name`, as drawn."""
    start = page.index(f'name="{name}"')
    return page[page.rindex("<td", 0, start) : page.index("</td>", start)]


async def rota_form(client: TestClient) -> tuple[str, list[tuple[str, str]]]:
    page = await (await client.get("/console/rota")).text()
    return page, form_of(page, 'action="/console/rota"')


async def test_staff_are_refused_and_every_post_needs_the_csrf_token(console: Console) -> None:
    client, desk = console.client, console.desk
    csrf = await sign_in(client, desk, "赵磊")
    board = await (await client.get("/console/")).text()
    assert "/console/rota" not in board and "/console/staff" not in board
    for path in ("/console/rota", "/console/staff", "/console/staff/new", "/console/staff/1"):
        response = await client.get(path)
        assert response.status == 403 and "只有值班长和社区书记" in await response.text(), path
    for path in ("/console/rota", "/console/staff/new", "/console/staff/2/unbind", "/console/staff/2/remove"):
        assert (await client.post(path, data={"csrf": csrf})).status == 403, path
    assert [e for e in await audit(desk) if e[0] == "refused"] == [("refused", "赵磊")] * 8

    leader = await console.new_client()
    try:
        leader_csrf = await sign_in(leader, desk, "张敏")
        board = await (await leader.get("/console/")).text()
        assert 'href="/console/rota"' in board and 'href="/console/staff"' in board
        page = await (await leader.get("/console/rota")).text()
        fields = form_of(page, 'action="/console/rota"')
        without = [(k, v) for k, v in fields if k != "csrf"]
        assert (await leader.post("/console/rota", data=without)).status == 403  # no CSRF token
        bad = replaced(fields, csrf="forged")
        assert (await leader.post("/console/rota", data=bad)).status == 403
        assert ("csrf_refused", "张敏") in await audit(desk)
        assert leader_csrf
    finally:
        await leader.close()


async def test_problems_are_shown_beside_their_cells_and_nothing_is_saved(console: Console) -> None:
    client, desk = console.client, console.desk
    await sign_in(client, desk, "陈书记")
    before = await Rostering(desk).view()
    page, fields = await rota_form(client)
    assert 'value="张敏、王芳、赵磊"' in cell_of(page, "w-mon-morning")
    sent = replaced(
        fields,
        **{
            "w-mon-morning": "张敏、张明",
            "h2-date": "2026-13-01",
            "h2-holiday": "李强",
            "s1-date": "2026-12-05",
            "s1-window": "weekend",
            "s1-from": "王芳",
            "s1-to": "<b>路人</b>",
            "l1-name": "赵磊",
            "l1-from": "2026-12-10",
            "l1-to": "2026-12-01",
        },
    )
    response = await client.post("/console/rota", data=sent)
    assert response.status == 400
    page = await response.text()
    assert "有 4 处需要改，值班表没有保存" in page
    assert "没有这位工作人员：张明" in cell_of(page, "w-mon-morning")
    assert 'value="张敏、张明"' in cell_of(page, "w-mon-morning")  # what was typed, kept
    assert "“2026-13-01”不是日期" in cell_of(page, "h2-date")
    assert "没有这位工作人员：&lt;b&gt;路人&lt;/b&gt;" in cell_of(page, "s1-to") and "<b>路人" not in page
    assert "结束日期早于开始日期" in cell_of(page, "l1-to")
    assert "problem" not in cell_of(page, "w-tue-morning")
    after = await Rostering(desk).view()
    assert after.document == before.document and after.leave == before.leave
    assert not [e for e in await audit(desk) if e[0] == "rota_saved"]


async def test_a_saved_edit_routes_the_next_order_and_the_page_shows_duty_and_gaps(
    console: Console, handbook: Handbook
) -> None:
    client, desk = console.client, console.desk
    await sign_in(client, desk, "张敏")
    page, fields = await rota_form(client)
    # Saturday 12:30: weekend duty, 赵磊 swapped in for 王芳.
    now = page.split('id="on-duty-now"', 1)[1].split("</ul>", 1)[0]
    assert "周末值班（5+2）" in now and "李强、赵磊" in now
    assert "11月29日 09:00 周末值班（5+2）：张敏、赵磊" in page
    gaps = page.split('id="gaps"', 1)[1].split("</ul>", 1)[0]
    assert (
        "12月03日 周四 午间值班（8+2）（12:00-14:00）" in gaps
        and "没有人能办：社会保障、社会救助与民政、法律与权益" in gaps
    )
    assert (await desk.tickets.get(await place(desk, handbook, "facility_repair", "one"))).assignee == "赵磊"
    sent = replaced(fields, **{"w-sat-weekend": "张敏", "s0-drop": "1", "w-thu-lunch": "王芳 李强"})
    response = await client.post("/console/rota", data=sent, allow_redirects=False)
    assert response.status == 303 and response.headers["Location"] == "/console/rota?saved=1"
    page = await (await client.get("/console/rota?saved=1")).text()
    assert "值班表已保存" in page and 'value="张敏"' in cell_of(page, "w-sat-weekend")
    assert "12月03日" not in page.split('id="gaps"', 1)[1].split("</section>", 1)[0]
    assert (await desk.tickets.get(await place(desk, handbook, "facility_repair", "two"))).assignee == "张敏"
    [saved] = [e for e in await audit(desk) if e[0] == "rota_saved"]
    assert saved == ("rota_saved", "张敏")
    # The same form sent again (drawn before the save) is refused: someone saved since.
    again = await client.post("/console/rota", data=sent)
    assert again.status == 409 and "刚被别人改过" in await again.text()


async def test_staff_are_added_and_edited_with_problems_beside_fields_and_mobiles_as_policy_allows(
    console: Console,
) -> None:
    client, desk = console.client, console.desk
    await sign_in(client, desk, "张敏")  # a duty leader
    listing = await (await client.get("/console/staff")).text()
    assert "138****1002" in listing and "13800001002" not in listing  # colleagues' mobiles masked
    assert "13800001001" in listing  # her own in full
    page = await (await client.get("/console/staff/new")).text()
    assert 'name="roles"' not in page.split('id="member-form"', 1)[1].split("</form>", 1)[0].replace(
        'type="hidden" name="roles"', ""
    )  # a leader gives no roles
    csrf = CSRF.search(page).group(1)
    form = [
        ("csrf", csrf),
        ("name", "孙丽"),
        ("grade", "B"),
        ("mobile", "1380000"),
        ("backup", "无名氏"),
        ("wecom", "sunli"),
    ]
    response = await client.post("/console/staff/new", data=form)
    assert response.status == 400
    page = await response.text()
    assert "有 3 处需要改" in page
    mobile = page.split('id="f-mobile"', 1)[1].split("</div>", 1)[0]
    assert "“1380000”不是 11 位手机号" in mobile and 'value="1380000"' in page
    categories = page.split('id="f-categories"', 1)[1].split("A岗（主责类别）", 1)[0]
    assert "B 级（非全岗通）需要勾选能办的类别" in categories
    assert "没有这位工作人员：无名氏" in page.split('id="f-backup"', 1)[1].split("</div>", 1)[0]
    assert "孙丽" not in [m.name for m in await desk.staff.all()]
    good = [(k, v) for k, v in form if k not in ("mobile", "backup")]
    good += [("mobile", "13900001111"), ("categories", "family"), ("post", "family"), ("backup", "王芳")]
    response = await client.post("/console/staff/new", data=good, allow_redirects=False)
    assert response.status == 303
    listing = await (await client.get(response.headers["Location"])).text()
    assert "孙丽 已添加" in listing and "139****1111" in listing
    member = await desk.staff.by_name("孙丽")
    assert (member.grade, member.categories, member.post, member.backup, member.wecom_userid) == (
        "B",
        ["family"],
        ["family"],
        "王芳",
        "sunli",
    )
    # Editing: the masked mobile left empty is kept; a crafted roles field is refused (403).
    page = await (await client.get(f"/console/staff/{member.id}")).text()
    fields = form_of(page, 'id="member-form"')
    assert dict(fields)["mobile"] == "" and 'placeholder="139****1111' in page
    sent = replaced(fields, grade="A", wecom="sunli2")
    assert (await client.post(f"/console/staff/{member.id}", data=sent, allow_redirects=False)).status == 303
    member = await desk.staff.by_name("孙丽")
    assert (member.grade, member.mobile, member.wecom_userid) == ("A", "13900001111", "sunli2")
    crafted = await client.post(f"/console/staff/{member.id}", data=[*sent, ("roles", "secretary")])
    assert crafted.status == 403 and "只有社区书记能设置值班长和书记" in await crafted.text()
    secretary = (await desk.staff.by_name("陈书记")).id
    refused = await client.post(f"/console/staff/{secretary}", data=sent)
    assert refused.status == 403
    assert ("staff_added", "张敏") in await audit(desk) and ("staff_edited", "张敏") in await audit(desk)

    other = await console.new_client()
    try:
        await sign_in(other, desk, "陈书记")
        listing = await (await other.get("/console/staff")).text()
        assert "13800001002" in listing and "13900001111" in listing  # the secretary sees them all
    finally:
        await other.close()


async def test_invite_unbind_and_remove_from_the_staff_page(
    console: Console, say: Chat, handbook: Handbook
) -> None:
    client, desk = console.client, console.desk
    csrf = await sign_in(client, desk, "陈书记")
    zhao = await desk.staff.by_name("赵磊")
    response = await client.post(f"/console/staff/{zhao.id}/invite", data={"csrf": csrf})
    page = await response.text()
    code = re.search(r'id="invite-code">绑定 ([A-Z0-9]{5}-[A-Z0-9]{5})<', page).group(1)
    assert "绑定成功，赵磊" in await say(f"绑定 {code}", resident="wx-zhao")
    assert "已绑定" in (await (await client.get(f"/console/staff/{zhao.id}")).text())
    response = await client.post(
        f"/console/staff/{zhao.id}/unbind", data={"csrf": csrf}, allow_redirects=False
    )
    assert response.status == 303 and (await desk.staff.by_name("赵磊")).openid is None
    assert await desk.staff.by_openid("wx-zhao") is None

    number = await place(desk, handbook, "facility_repair", "held")
    page = await (await client.get(f"/console/staff/{zhao.id}")).text()
    assert f"手上 1 张未办完的工单（{number}）" in page
    refused = await client.post(f"/console/staff/{zhao.id}/remove", data={"csrf": csrf})
    assert refused.status == 409 and "请选一位同事接手后再停用" in await refused.text()
    assert (await desk.staff.by_name("赵磊")).active
    response = await client.post(
        f"/console/staff/{zhao.id}/remove", data={"csrf": csrf, "successor": "李强"}, allow_redirects=False
    )
    assert response.status == 303
    listing = await (await client.get(response.headers["Location"])).text()
    assert "赵磊 已停用" in listing and "已停用：赵磊" in listing
    assert (await desk.tickets.get(number)).assignee == "李强"
    rota = await (await client.get("/console/rota")).text()
    assert "赵磊" not in rota.split('id="week"', 1)[1].split("</table>", 1)[0]
    assert (await client.get(f"/console/staff/{zhao.id}")).status == 404
    events = [e for e in await audit(desk) if e[0].startswith("staff_")]
    assert events == [("staff_invited", "陈书记"), ("staff_unbound", "陈书记"), ("staff_removed", "陈书记")]
    audit_page = await (await client.get("/console/audit")).text()
    assert "停用人员" in audit_page and "handed_to=李强" in audit_page
