"""值班表 and 人员 in a real Chromium against a real `baishitong serve` (issue 15, sections 3 and 5):
a rota edit with a mistake is refused with the problem beside each cell and nothing saved; the
corrected edit changes who the next order, placed by a resident through a signed webhook request,
is routed to — the WeCom group robot @-mentions the new person; the staff page invites a member
whose code binds through the account. Pages saved at phone and desktop width."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from knowledge import Handbook
from tests import test_console_browser
from tests.browser import Served, eventually, screenshots
from tests.conftest import SHANGHAI

served, browser = test_console_browser.served, test_console_browser.browser  # shared fixtures
new_page = test_console_browser.new_page
ZHAO = "o-staff-zhao-rota"


def order_light_repair(served: Served, resident: str) -> str:
    """A resident reports a broken stair light through the signed webhook; the ticket number."""
    assert "怎么称呼" in served.say(resident, "3栋楼道灯坏了")
    served.say(resident, "李大爷")
    served.say(resident, "13812345678")
    served.say(resident, "阳光苑3栋")
    reply = served.say(resident, "确认")
    assert "工单号" in reply, reply
    return re.search(r"工单号\s*(\d+)", reply).group(1)


def pushed(served: Served, number: str) -> str:
    """The group push of a new ticket, once the outbox worker has sent it."""
    found: list[str] = []

    def sent() -> bool:
        found[:] = [c for c in served.robot.contents if f"新工单 {number}" in c]
        return bool(found)

    eventually(sent)
    return found[0]


def week_cells(page: Any) -> list[str]:
    return page.eval_on_selector_all("#week input[type=text]", "inputs => inputs.map(i => i.name)")


def test_a_rota_edit_in_the_browser_routes_the_next_order_to_the_new_person(
    served: Served, browser: Any, handbook: Handbook
) -> None:
    first = order_light_repair(served, "o-resident-rota-1")
    assert "<@zhaolei>" in pushed(served, first)  # 赵磊 holds the convenience post (A岗)

    page = new_page(browser)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(served.link("陈书记"))
    page.click("header nav >> text=值班表")
    page.wait_for_url(served.url + "/console/rota")
    assert "李强、赵磊" in page.locator("#on-duty-now").inner_text()
    screenshots(page, "rota")

    # A name nobody has: refused, the problem beside every cell, nothing saved.
    cells = week_cells(page)
    assert len(cells) == 7  # all day on weekdays, all day at weekends
    for name in cells:
        page.fill(f"input[name='{name}']", "陈书记、张明")
    page.click("#save-rota")
    page.wait_for_selector("#problems")
    assert "值班表没有保存" in page.locator("#problems").inner_text()
    for name in cells:
        beside = page.locator(f"td:has(input[name='{name}']) .problem").inner_text()
        assert beside == "没有这位工作人员：张明（先在“人员”页添加）"
    assert page.locator(f"input[name='{cells[0]}']").input_value() == "陈书记、张明"  # kept as typed
    screenshots(page, "rota-problems")
    rota = served.run(served.desk.staff.rota())
    assert rota is not None and "赵磊" in str(rota.week)

    # Corrected: only 陈书记 (grade A, no post) on duty, today's holiday too if today is one.
    for name in cells:
        page.fill(f"input[name='{name}']", "陈书记")
    today = datetime.now(SHANGHAI).date()
    if handbook.calendar.holiday(today):
        page.fill("input[name='h0-date']", today.isoformat())
        page.fill("input[name='h0-holiday']", "陈书记")
    page.click("#save-rota")
    page.wait_for_selector(".flash")
    assert "值班表已保存" in page.locator(".flash").inner_text()
    assert page.locator("#on-duty-now").inner_text().endswith("陈书记")

    second = order_light_repair(served, "o-resident-rota-2")
    push = pushed(served, second)
    assert "<@chenshuji>" in push and "<@zhaolei>" not in push
    ticket = served.run(served.desk.tickets.get(int(second)))
    assert ticket.assignee == "陈书记"
    assert errors == []


def test_the_staff_page_invites_a_member_whose_code_binds_through_the_account(
    served: Served, browser: Any
) -> None:
    page = new_page(browser)
    page.goto(served.link("陈书记"))
    page.click("header nav >> text=人员")
    page.wait_for_url(served.url + "/console/staff")
    assert page.locator("#staff tbody tr").count() == 3
    assert "13800001004" in page.locator("#staff").inner_text()  # the secretary sees mobiles
    screenshots(page, "staff")
    page.click("#staff >> text=赵磊")
    page.fill("#f-mobile", "1380000")
    page.click("#save-member")
    page.wait_for_selector("#problems")
    assert "不是 11 位手机号" in page.locator("#f-mobile + .problem").inner_text()
    screenshots(page, "staff-member")
    page.click("#invite")
    code = page.locator("#invite-code").inner_text().split()[-1]
    screenshots(page, "staff-invite")
    assert "绑定成功，赵磊" in served.say(ZHAO, f"绑定 {code}")
    page.goto(served.url + "/console/staff")
    assert "已绑定" in page.locator("#staff tr", has_text="赵磊").inner_text()


def test_the_secretary_approves_a_party_member_in_the_browser(
    served: Served, browser: Any, handbook: Handbook
) -> None:
    """党员报到 in Chromium: a 报到 waiting (its name escaped, its mobile masked) is approved with 通过
    and the member appears on the roster, bound to their WeChat."""
    import copy

    from tests.test_responder_commands import DOCUMENT

    responders = served.desk.responders
    served.run(responders.import_document(copy.deepcopy(DOCUMENT), set(handbook.items)))
    served.run(
        responders.register("o-party-wu", {"name": "<b>吴刚</b>", "group": "tax", "mobile": "13900003001"})
    )
    page = new_page(browser)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(served.link("陈书记"))
    page.click("header nav >> text=党员报到")
    page.wait_for_url(served.url + "/console/responders")
    body = page.locator("main").inner_text()
    assert "<b>吴刚</b>" in body and "139****3001" in body and "13900003001" not in body
    assert page.locator("main b").count() == 0  # shown as text, not markup
    screenshots(page, "responders")
    page.locator("button", has_text="通过").first.click()
    page.wait_for_selector(".flash")
    assert "已通过" in page.locator(".flash").inner_text()
    assert "已绑定微信" in page.locator("main").inner_text()
    assert served.run(responders.by_openid("o-party-wu")) is not None
    assert not errors, errors
