"""The console's 党员报到 page (the secretary's), through the real app on SQLite and PostgreSQL:
who sees it, what it shows (mobiles masked, text escaped), 通过 and 拒绝 as desk operations."""

from __future__ import annotations

import copy

from desk.desk import ServiceDesk
from tests.test_console import CSRF, Console, console, sign_in  # noqa: F401  (the fixture)
from tests.test_responder_commands import DOCUMENT


async def test_the_secretary_approves_and_rejects_from_the_console(console: Console, handbook) -> None:  # noqa: F811
    client, desk = console.client, console.desk
    await desk.responders.import_document(copy.deepcopy(DOCUMENT), set(handbook.items))
    first = await desk.responders.register(
        "o-a", {"name": "<b>吴刚</b>", "group": "team", "mobile": "13900003001", "skills": ["跑腿"]}
    )
    second = await desk.responders.register("o-b", {"name": "郑红", "group": "tax", "mobile": ""})

    await sign_in(client, desk, "李强")
    refused = await client.get("/console/responders")
    assert refused.status == 403

    csrf = await sign_in(client, desk, "陈书记")
    page = await client.get("/console/responders")
    text = await page.text()
    assert page.status == 200 and "待审核的报到（2）" in text
    assert "&lt;b&gt;吴刚&lt;/b&gt;" in text and "<b>吴刚</b>" not in text
    assert "139****3001" in text and "13900003001" not in text
    assert 'href="/console/responders"' in text

    empty = await client.post(f"/console/responders/{second.id}/reject", data={"csrf": csrf, "text": " "})
    assert empty.status == 409 and "拒绝要写原因" in await empty.text()
    approved = await client.post(
        f"/console/responders/{first.id}/approve", data={"csrf": csrf, "text": ""}, allow_redirects=False
    )
    assert approved.status == 303 and approved.headers["Location"] == "/console/responders?done=approved"
    assert (await desk.responders.by_openid("o-a")) is not None
    rejected = await client.post(
        f"/console/responders/{second.id}/reject",
        data={"csrf": csrf, "text": "不是本社区"},
        allow_redirects=False,
    )
    assert rejected.status == 303
    again = await client.post(f"/console/responders/{second.id}/approve", data={"csrf": csrf, "text": ""})
    assert again.status == 409 and "已经处理过了" in await again.text()
    forged = await client.post(f"/console/responders/{first.id}/approve", data={"csrf": "forged"})
    assert forged.status == 403
    page = await (await client.get("/console/responders?done=approved")).text()
    assert "已通过，已在微信上通知本人" in page and "没有待审核的报到" in page
    assert "已绑定微信" in page
    events = [r.event for r in await desk.outbox.rows()]
    assert events.count("responder_approved") == 1 and events.count("responder_rejected") == 1
    assert isinstance(desk, ServiceDesk)
