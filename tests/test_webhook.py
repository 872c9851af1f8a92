"""The webhook, driven by requests built the way the Official Account platform builds them."""

from __future__ import annotations

import asyncio
import logging
import os
from contextlib import asynccontextmanager

import pytest

import bot.pipeline
from tests.wechat_peer import (
    WeChatPlatform,
    event_xml,
    media_xml,
    reply_content,
    text_xml,
    voice_xml,
)

platform = WeChatPlatform()


@asynccontextmanager
async def holding(store, resident):
    """Keep a turn of `resident` open, as a slow handler would, so their next messages queue."""
    turn = await store.begin(f"blocker-{resident}", resident)
    try:
        yield
    finally:
        await store.finish(turn, "", None)


async def post(client, request):
    return await client.post(request.path, data=request.body)


@pytest.mark.parametrize("store_kind", ["memory", "redis"])
async def test_safe_mode_answers_the_encrypted_complete_checklist(make_client, store_kind, request) -> None:
    if store_kind == "redis":
        request.getfixturevalue("redis_url")
    client, _ = await make_client(store_kind)
    req = platform.safe(text_xml("resident-1", "办居住证要带啥子"), "resident-1")
    response = await post(client, req)
    assert response.status == 200
    body = await response.text()
    assert "<Encrypt>" in body and "居住证" not in body  # nothing readable on the wire
    reply = platform.decrypt_reply(body, req)
    content = reply_content(reply)
    assert content.startswith("【居住证办理】一次性告知")
    for must in ("本人居民身份证", "住所证明", "就业或就读证明", "在哪办", "办多久", "费用"):
        assert must in content
    assert "<ToUserName><![CDATA[resident-1]]></ToUserName>" in reply


async def test_url_verification_returns_echostr_and_refuses_bad_signature(make_client) -> None:
    client, _ = await make_client()
    good = platform.verification("hello-echo")
    response = await client.get(good.path)
    assert (response.status, await response.text()) == (200, "hello-echo")
    bad = platform.verification("hello-echo")
    bad.query["signature"] = "0" * 40
    assert (await client.get(bad.path)).status == 403


async def test_plaintext_mode_replies_plain_xml(make_client) -> None:
    client, _ = await make_client()
    response = await post(client, platform.plaintext(text_xml("r-plain", "社区周六上班吗"), "r-plain"))
    assert response.status == 200
    content = reply_content(await response.text())
    assert "9:00-17:00" in content  # weekend duty


async def test_compatible_mode_reply_is_encrypted_because_the_request_was(make_client) -> None:
    client, _ = await make_client()
    req = platform.safe(text_xml("r-compat", "低保怎么申请"), "r-compat", compatible=True)
    body = await (await post(client, req)).text()
    assert "最低生活保障" in reply_content(platform.decrypt_reply(body, req))


async def test_voice_with_and_without_recognition(make_client) -> None:
    client, _ = await make_client()
    heard = reply_content(
        await (await post(client, platform.plaintext(voice_xml("r-v", "养老金认证要带啥子")))).text()
    )
    assert heard.startswith("【养老金领取资格认证】")
    unheard = reply_content(await (await post(client, platform.plaintext(voice_xml("r-v", None)))).text())
    assert "打字" in unheard and "转人工" in unheard


async def test_subscribe_click_and_media(make_client) -> None:
    client, _ = await make_client()
    welcome = reply_content(
        await (await post(client, platform.plaintext(event_xml("r-e", "subscribe")))).text()
    )
    assert "欢迎关注" in welcome and "居住证" in welcome
    office = reply_content(
        await (await post(client, platform.plaintext(event_xml("r-e", "CLICK", "MENU_OFFICE")))).text()
    )
    assert "12:00-14:00" in office
    item = reply_content(
        await (
            await post(client, platform.plaintext(event_xml("r-e", "CLICK", "ITEM_elderly_card", 1700000001)))
        ).text()
    )
    assert item.startswith("【老年人优待证办理】")
    for kind in ("image", "location", "link", "video"):
        text = reply_content(await (await post(client, platform.plaintext(media_xml("r-e", kind)))).text())
        assert "文字" in text


async def test_every_kind_of_subscribe_gets_the_welcome_and_a_card_the_polite_line(make_client) -> None:
    """wechatpy's own samples: a follow from a product page (scanbarcode|… / scanimage|…, parsed as
    subscribe_scan_product) and from a QR code (qrscene_…) are follows like any other."""
    client, _ = await make_client()
    for n, key in enumerate(
        ("scanbarcode|keystandard|keystr", "scanimage|keystandard|keystr", "qrscene_123")
    ):
        xml = event_xml(f"r-s{n}", "subscribe", key)
        welcome = reply_content(await (await post(client, platform.plaintext(xml))).text())
        assert "欢迎关注" in welcome
    card = reply_content(
        await (await post(client, platform.plaintext(media_xml("r-x", "miniprogrampage")))).text()
    )
    assert card.startswith("收到您发的小程序") and "文字" in card


async def test_other_events_answer_success_and_are_named_in_the_log(make_client, caplog) -> None:
    client, _ = await make_client()
    caplog.set_level(logging.INFO)
    for xml in (
        event_xml("r-x", "unsubscribe"),
        event_xml("r-x", "VIEW", "x"),
    ):
        response = await post(client, platform.plaintext(xml))
        assert (response.status, await response.text()) == (200, "success")
    logged = caplog.text
    assert "unsubscribe" in logged and "view" in logged and "unsupported event" not in logged


async def test_empty_text_is_answered_politely(make_client) -> None:
    client, _ = await make_client()
    content = reply_content(await (await post(client, platform.plaintext(text_xml("r-empty", "   ")))).text())
    assert "没有输入内容" in content


@pytest.mark.parametrize("store_kind", ["memory", "redis"])
async def test_retries_get_the_same_reply_and_handlers_run_once(
    make_client, monkeypatch, store_kind, request
) -> None:
    if store_kind == "redis":
        request.getfixturevalue("redis_url")
    calls: list[str] = []
    real_dispatch = bot.pipeline.dispatch

    async def counting_dispatch(ctx):
        calls.append(ctx.message.text)
        return await real_dispatch(ctx)

    monkeypatch.setattr(bot.pipeline, "dispatch", counting_dispatch)
    client, _ = await make_client(store_kind)
    await post(client, platform.plaintext(text_xml("r-retry", "老年证和高龄津贴", msg_id=9001)))
    # The resident answers "2"; WeChat then retries that delivery three times.
    xml = text_xml("r-retry", "2", msg_id=9002, create_time=1700000000)
    replies = [await (await post(client, platform.plaintext(xml))).text() for _ in range(4)]
    assert len(set(replies)) == 1
    assert reply_content(replies[0]).startswith("【老年人优待证办理】")
    assert calls == ["老年证和高龄津贴", "2"]


async def test_retry_arriving_during_processing_waits_for_the_first(make_client) -> None:
    client, store = await make_client()
    xml = text_xml("r-wait", "居住证明在哪开", msg_id=9100)
    async with holding(store, "r-wait"):  # the first delivery is stuck behind this open turn
        first = asyncio.create_task(post(client, platform.plaintext(xml)))
        await asyncio.sleep(0.1)
        retry = asyncio.create_task(post(client, platform.plaintext(xml)))
        await asyncio.sleep(0.1)
    bodies = [await (await task).text() for task in (first, retry)]
    assert bodies[0] == bodies[1]
    assert reply_content(bodies[0]).startswith("【社区证明开具】")


@pytest.mark.parametrize("store_kind", ["memory", "redis"])
async def test_one_residents_messages_are_handled_in_arrival_order(make_client, store_kind, request) -> None:
    if store_kind == "redis":
        request.getfixturevalue("redis_url")
    client, store = await make_client(store_kind)
    texts = ["老年证和高龄津贴", "2", "预约"]  # each answer depends on the state the previous one left
    async with holding(store, "r-order"):
        tasks = []
        for text in texts:
            tasks.append(asyncio.create_task(post(client, platform.plaintext(text_xml("r-order", text)))))
            await asyncio.sleep(0.05)
    contents = [reply_content(await (await task).text()) for task in tasks]
    assert contents[0].startswith("您想问的是哪一项")
    assert contents[1].startswith("【老年人优待证办理】")
    assert contents[2].startswith("收到，您要办的是【老年人优待证办理】")


async def test_other_residents_are_not_held_up(make_client) -> None:
    client, store = await make_client()
    async with holding(store, "r-stuck"):
        stuck = asyncio.create_task(post(client, platform.plaintext(text_xml("r-stuck", "你好"))))
        async with asyncio.timeout(1):
            other = await post(client, platform.plaintext(text_xml("r-free", "你好")))
        assert other.status == 200 and not stuck.done()
    await stuck


async def test_reply_past_the_deadline_is_success_and_logged_then_retry_gets_reply(
    make_client, caplog
) -> None:
    client, store = await make_client(reply_deadline=0.3)
    xml = text_xml("r-slow", "社保卡丢了怎么办", msg_id=9200)
    with caplog.at_level(logging.WARNING, logger="baishitong.pipeline"):
        async with holding(store, "r-slow"):
            response = await post(client, platform.plaintext(xml))
            assert (response.status, await response.text()) == (200, "success")
    assert any("deadline" in record.getMessage() for record in caplog.records)
    await asyncio.sleep(0.1)  # the work finished in the background
    retry = await (await post(client, platform.plaintext(xml))).text()
    assert reply_content(retry).startswith("【社会保障卡申领、补换与挂失】")


async def test_handler_failure_gives_apology_not_500(make_client, monkeypatch) -> None:
    async def broken(ctx):
        raise RuntimeError("boom")

    monkeypatch.setattr(bot.pipeline, "dispatch", broken)
    client, _ = await make_client()
    response = await post(client, platform.plaintext(text_xml("r-broken", "你好")))
    assert response.status == 200
    assert "系统开小差" in reply_content(await response.text())


# --- bad input: a clear status and one log line, never a traceback or a 500 ----------------------

BILLION_LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>'
    "<xml><ToUserName>a</ToUserName><FromUserName>b</FromUserName><CreateTime>1</CreateTime>"
    "<MsgType>text</MsgType><Content>&lol2;</Content><MsgId>1</MsgId></xml>"
)
EXTERNAL_ENTITY = (
    '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
    "<xml><ToUserName>a</ToUserName><FromUserName>b</FromUserName><CreateTime>1</CreateTime>"
    "<MsgType>text</MsgType><Content>&xxe;</Content><MsgId>2</MsgId></xml>"
)


@pytest.mark.parametrize(
    ("name", "build", "status"),
    [
        ("missing signature", lambda: _without(platform.plaintext(text_xml("r", "hi")), "signature"), 403),
        ("wrong signature", lambda: _with(platform.plaintext(text_xml("r", "hi")), signature="f" * 40), 403),
        ("old timestamp", lambda: WeChatPlatform(clock_skew=-301).plaintext(text_xml("r", "hi")), 403),
        ("future timestamp", lambda: WeChatPlatform(clock_skew=301).plaintext(text_xml("r", "hi")), 403),
        ("malformed XML", lambda: _body(platform.plaintext(""), b"<xml><Content>unclosed"), 400),
        ("not WeChat XML", lambda: _body(platform.plaintext(""), b"<xml><Foo>1</Foo></xml>"), 400),
        ("billion laughs", lambda: _body(platform.plaintext(""), BILLION_LAUGHS.encode()), 400),
        ("external entity", lambda: _body(platform.plaintext(""), EXTERNAL_ENTITY.encode()), 400),
        ("AppID not ours", lambda: platform.safe(text_xml("r", "hi"), app_id="wx_someone_else"), 403),
        ("bad msg_signature", lambda: _with(platform.safe(text_xml("r", "hi")), msg_signature="0" * 40), 403),
        ("garbage ciphertext", lambda: _encrypted_garbage(), 400),
        ("oversized body", lambda: _body(platform.plaintext(""), b"<xml>" + b"x" * 70_000 + b"</xml>"), 413),
        ("empty body", lambda: _body(platform.plaintext(""), b""), 400),
    ],
)
async def test_bad_requests_get_a_clear_status_and_one_log_line(
    make_client, caplog, name, build, status
) -> None:
    client, _ = await make_client()
    request = build()
    with caplog.at_level(logging.WARNING, logger="baishitong.webhook"):
        response = await post(client, request)
    assert response.status == status, name
    assert "Traceback" not in await response.text()
    rejected = [r for r in caplog.records if r.name == "baishitong.webhook"]
    assert len(rejected) == 1 and str(status) in rejected[0].getMessage()


async def test_oversized_chunked_body_is_refused(make_client) -> None:
    client, _ = await make_client()
    request = platform.plaintext("")

    async def chunks():
        for _ in range(20):
            yield b"x" * 8192

    response = await client.post(request.path, data=chunks())
    assert response.status == 413


async def test_encrypted_request_without_aes_key_configured_is_refused(make_client) -> None:
    client, _ = await make_client(wechat_aes_key="", wechat_app_id="")
    response = await post(client, platform.safe(text_xml("r", "你好")))
    assert response.status == 400


@pytest.mark.parametrize("store_kind", ["memory", "redis"])
async def test_healthz_reports_the_store(make_client, store_kind, request) -> None:
    if store_kind == "redis":
        request.getfixturevalue("redis_url")
    client, _ = await make_client(store_kind)
    response = await client.get("/healthz")
    assert response.status == 200
    assert await response.json() == {
        "status": "ok",
        "store": store_kind,
        "store_ok": True,
        "database_ok": None,
        "outbox_pending": None,
        "handbook_items": 54,
        "handbook_version": None,  # no database: the handbook the app was given
        "pid": os.getpid(),
    }


async def test_healthz_reports_an_unreachable_redis(make_client) -> None:
    from storage import RedisStore

    client, _ = await make_client(RedisStore("redis://127.0.0.1:1/0"))
    response = await client.get("/healthz")
    assert response.status == 503
    assert (await response.json())["store_ok"] is False


async def test_unreachable_store_answers_503_so_wechat_retries(make_client, caplog) -> None:
    from storage import RedisStore

    client, _ = await make_client(RedisStore("redis://127.0.0.1:1/0"))
    with caplog.at_level(logging.ERROR):
        response = await post(client, platform.plaintext(text_xml("r-down", "你好")))
    assert response.status == 503
    assert "Traceback" not in await response.text()


def _without(request, key):
    request.query.pop(key)
    return request


def _with(request, **values):
    request.query.update(values)
    return request


def _body(request, body):
    request.body = body
    return request


def _encrypted_garbage():
    from tests.wechat_peer import OFFICIAL_ACCOUNT, TOKEN, sha1_signature

    request = platform.safe(text_xml("r", "hi"))
    garbage = "bm90IHJlYWxseSBjaXBoZXJ0ZXh0"
    request.query["msg_signature"] = sha1_signature(
        TOKEN, request.query["timestamp"], request.query["nonce"], garbage
    )
    request.body = (
        f"<xml><ToUserName>{OFFICIAL_ACCOUNT}</ToUserName><Encrypt>{garbage}</Encrypt></xml>".encode()
    )
    return request


async def test_event_retries_are_deduplicated_but_distinct_events_are_not(make_client, monkeypatch) -> None:
    seen: list[str] = []
    real_dispatch = bot.pipeline.dispatch

    async def counting_dispatch(ctx):
        seen.append(ctx.message.kind + ":" + ctx.message.event_key)
        return await real_dispatch(ctx)

    monkeypatch.setattr(bot.pipeline, "dispatch", counting_dispatch)
    client, _ = await make_client()
    subscribe = event_xml("r-evt", "subscribe", create_time=1700000100)
    click = event_xml("r-evt", "CLICK", "MENU_HUMAN", create_time=1700000100)  # same second, other event
    for xml in (subscribe, subscribe, click, click):
        assert (await post(client, platform.plaintext(xml))).status == 200
    assert seen == ["subscribe:", "click:MENU_HUMAN"]


async def test_overload_beyond_the_in_flight_cap_gets_a_busy_reply_at_once(make_client, caplog) -> None:
    client, store = await make_client(max_in_flight=1)
    async with holding(store, "r-busy-1"):
        stuck = asyncio.create_task(post(client, platform.plaintext(text_xml("r-busy-1", "你好"))))
        await asyncio.sleep(0.1)  # one turn in flight, waiting for the held resident
        with caplog.at_level(logging.WARNING, logger="baishitong.pipeline"):
            async with asyncio.timeout(1):
                busy = await post(client, platform.plaintext(text_xml("r-busy-2", "办居住证要带啥子")))
        assert busy.status == 200
        assert "请过一分钟再发一次" in reply_content(await busy.text())
        assert any("in flight" in record.getMessage() for record in caplog.records)
    assert reply_content(await (await stuck).text()).startswith("您好")
    # Capacity is back: the next message is handled normally.
    normal = await post(client, platform.plaintext(text_xml("r-busy-2", "办居住证要带啥子")))
    assert reply_content(await normal.text()).startswith("【居住证办理】")


async def test_healthz_reports_the_database(settings, desk_services, tmp_path) -> None:
    from aiohttp.test_utils import TestClient, TestServer

    from bot.app import create_app
    from storage import MemoryStore

    client = TestClient(TestServer(create_app(settings, desk_services, MemoryStore()), host="127.0.0.1"))
    await client.start_server()
    try:
        health = await (await client.get("/healthz")).json()
        assert health["database_ok"] is True and health["outbox_pending"] == 0
    finally:
        await client.close()
    broken = create_app(settings, replace_desk_url(desk_services, tmp_path), MemoryStore())
    client = TestClient(TestServer(broken, host="127.0.0.1"))
    await client.start_server()
    try:
        response = await client.get("/healthz")
        assert response.status == 503 and (await response.json())["database_ok"] is False
    finally:
        await client.close()


def replace_desk_url(services, tmp_path):
    """Services whose database points at a file in a directory that does not exist."""
    from dataclasses import replace

    from desk.desk import ServiceDesk
    from storage.db import Database

    desk = services.desk
    missing = Database(f"sqlite+aiosqlite:///{tmp_path / 'no-such-dir' / 'x.db'}")
    return replace(services, desk=ServiceDesk(missing, desk.calendar, desk.tz, desk.clock))


def _message_xml(
    *,
    msg_id: str = "123456",
    create_time: str = "1700000000",
    sender: str = "r-malformed",
    content: str = "你好",
) -> str:
    from tests.wechat_peer import OFFICIAL_ACCOUNT

    return (
        f"<xml><ToUserName>{OFFICIAL_ACCOUNT}</ToUserName><FromUserName>{sender}</FromUserName>"
        f"<CreateTime>{create_time}</CreateTime><MsgType>text</MsgType>"
        f"<Content>{content}</Content><MsgId>{msg_id}</MsgId></xml>"
    )


@pytest.mark.parametrize("store_kind", ["memory", "redis"])
@pytest.mark.parametrize(
    ("name", "xml"),
    [
        ("non-numeric MsgId", _message_xml(msg_id="12ab")),
        ("non-numeric CreateTime", _message_xml(create_time="yesterday")),
        ("MsgId too long", _message_xml(msg_id="9" * 40)),
        ("nested FromUserName", _message_xml(sender="<a>x</a><b>y</b>")),
        (
            "duplicated FromUserName",
            _message_xml().replace("</xml>", "<FromUserName>other</FromUserName></xml>"),
        ),
        ("nested Content", _message_xml(content="<p>hi</p>")),
        ("duplicated Content", _message_xml().replace("</xml>", "<Content>again</Content></xml>")),
        ("empty FromUserName", _message_xml(sender="")),
    ],
)
async def test_malformed_but_signed_message_gets_400_not_a_store_outage(
    make_client, caplog, request, store_kind, name, xml
) -> None:
    if store_kind == "redis":
        request.getfixturevalue("redis_url")
    client, _ = await make_client(store_kind)
    with caplog.at_level(logging.WARNING):
        response = await post(client, platform.plaintext(xml))
    assert response.status == 400, name
    assert "Traceback" not in await response.text()
    assert [r.name for r in caplog.records if r.levelno >= logging.WARNING] == ["baishitong.webhook"]
    assert not any(r.exc_info for r in caplog.records)


class _FakeDatabase:
    def __init__(self, stall: float = 0.0) -> None:
        self.stall = stall

    async def ping(self) -> bool:
        await asyncio.sleep(self.stall)
        return True


class _FakeOutbox:
    def __init__(self, error: Exception | None = None) -> None:
        self.error = error

    async def pending(self) -> int:
        if self.error is not None:
            raise self.error
        return 0


async def _health_client(services, store, database, outbox):
    from dataclasses import replace
    from types import SimpleNamespace

    from aiohttp.test_utils import TestClient, TestServer

    from bot.app import create_app
    from bot.settings import Settings
    from tests.wechat_peer import AES_KEY, APP_ID, TOKEN

    desk = SimpleNamespace(database=database, outbox=outbox)
    settings = Settings(wechat_token=TOKEN, wechat_app_id=APP_ID, wechat_aes_key=AES_KEY)
    client = TestClient(
        TestServer(create_app(settings, replace(services, desk=desk), store), host="127.0.0.1")
    )
    await client.start_server()
    return client


async def test_healthz_answers_503_with_the_reason_when_the_database_drops_between_queries(services) -> None:
    from storage import MemoryStore

    client = await _health_client(
        services, MemoryStore(), _FakeDatabase(), _FakeOutbox(ConnectionResetError("server closed"))
    )
    try:
        response = await client.get("/healthz")
        assert response.status == 503
        health = await response.json()
        assert health["status"] == "degraded" and "database" in health["reason"]
    finally:
        await client.close()


async def test_healthz_answers_within_a_second_when_the_database_stalls(services) -> None:
    from storage import MemoryStore

    client = await _health_client(services, MemoryStore(), _FakeDatabase(stall=30), _FakeOutbox())
    try:
        async with asyncio.timeout(1):
            response = await client.get("/healthz")
        assert response.status == 503
        health = await response.json()
        assert health["database_ok"] is False and "did not answer" in health["reason"]
    finally:
        await client.close()


async def test_healthz_answers_within_a_second_when_the_store_stalls(services) -> None:
    from storage import MemoryStore

    class StalledStore(MemoryStore):
        async def ping(self) -> bool:
            await asyncio.sleep(30)
            return True

    client = await _health_client(services, StalledStore(), _FakeDatabase(), _FakeOutbox())
    try:
        async with asyncio.timeout(1):
            response = await client.get("/healthz")
        assert response.status == 503
        health = await response.json()
        assert health["store_ok"] is False and "store" in health["reason"]
    finally:
        await client.close()


async def test_a_store_outage_is_logged_once_when_it_starts_and_once_when_it_ends(
    make_client, caplog
) -> None:
    from storage import MemoryStore

    class FlakyStore(MemoryStore):
        down = True

        async def begin(self, key, resident):
            if self.down:
                raise ConnectionError("Error 111 connecting to redis:6379. Connection refused.")
            return await super().begin(key, resident)

    store = FlakyStore()
    client, _ = await make_client(store)
    with caplog.at_level(logging.INFO):
        for _ in range(20):
            response = await post(client, platform.plaintext(text_xml("r-outage", "你好")))
            assert response.status == 503
        noisy = [r for r in caplog.records if r.levelno >= logging.WARNING]
        assert len(noisy) == 1 and "began" in noisy[0].getMessage()
        assert not any(r.exc_info for r in caplog.records)
        store.down = False
        response = await post(client, platform.plaintext(text_xml("r-outage", "你好")))
        assert response.status == 200
    outage = [r.getMessage() for r in caplog.records if "outage" in r.getMessage()]
    assert len(outage) == 2 and "20 requests refused" in outage[1], outage


async def test_an_unreachable_redis_does_not_flood_the_log(make_client, caplog) -> None:
    from storage import RedisStore

    client, _ = await make_client(RedisStore("redis://127.0.0.1:1/0"))
    with caplog.at_level(logging.INFO):
        for _ in range(10):
            assert (await post(client, platform.plaintext(text_xml("r-down", "你好")))).status == 503
    assert len([r for r in caplog.records if r.levelno >= logging.WARNING]) == 1
    assert not any(r.exc_info for r in caplog.records)


# --- forged and replayed requests ----------------------------------------------------------------


async def test_safe_mode_refuses_plaintext_requests(make_client, caplog) -> None:
    client, _ = await make_client(message_mode="safe")
    with caplog.at_level(logging.WARNING, logger="baishitong.webhook"):
        response = await post(client, platform.plaintext(text_xml("r-forged", "你好")))
    assert response.status == 403 and "encrypt" in await response.text()
    assert len([r for r in caplog.records if r.name == "baishitong.webhook"]) == 1


async def test_safe_mode_is_the_default_when_the_aes_key_is_set(make_client) -> None:
    from bot.settings import Settings
    from storage import MemoryStore
    from tests.wechat_peer import AES_KEY, APP_ID, TOKEN

    env = {"WECHAT_TOKEN": TOKEN, "WECHAT_APP_ID": APP_ID, "WECHAT_AES_KEY": AES_KEY}
    defaults = Settings.from_env(env)
    client, _ = await make_client(MemoryStore(), message_mode=defaults.message_mode)
    assert (await post(client, platform.plaintext(text_xml("r-def", "你好")))).status == 403
    assert (await post(client, platform.safe(text_xml("r-def", "你好")))).status == 200


async def test_in_safe_mode_only_msg_signature_counts(make_client) -> None:
    client, _ = await make_client(message_mode="safe")
    # The platform also sends `signature`; it covers no body, so it is neither needed nor enough.
    without_plain = _without(platform.safe(text_xml("r-ms", "你好")), "signature")
    assert (await post(client, without_plain)).status == 200
    bad_plain = _with(platform.safe(text_xml("r-ms", "你好")), signature="0" * 40)
    assert (await post(client, bad_plain)).status == 200
    no_msg_signature = _without(platform.safe(text_xml("r-ms", "你好")), "msg_signature")
    assert (await post(client, no_msg_signature)).status == 403


async def test_the_url_verification_signature_does_not_work_for_post(make_client) -> None:
    for mode in ("safe", "compatible"):
        client, _ = await make_client(message_mode=mode)
        verification = platform.verification("echo")
        query = {k: v for k, v in verification.query.items() if k != "echostr"}
        forged = type(verification)(query, text_xml("r-victim", "取消 12345").encode())
        assert (await post(client, forged)).status == 403, mode


async def test_compatible_mode_takes_the_message_from_the_encrypted_part_only(make_client) -> None:
    client, _ = await make_client(message_mode="compatible")
    assert (await post(client, platform.plaintext(text_xml("r-cm", "你好")))).status == 403
    req = platform.safe(text_xml("r-cm", "低保怎么申请"), "r-cm", compatible=True)
    # A readable copy changed on the way is not what is answered: only the encrypted part is signed.
    req.body = req.body.replace("低保怎么申请".encode(), "社区周六上班吗".encode())
    body = await (await post(client, req)).text()
    assert "最低生活保障" in reply_content(platform.decrypt_reply(body, req))
    bad = _with(platform.safe(text_xml("r-cm", "你好"), compatible=True), msg_signature="0" * 40)
    assert (await post(client, bad)).status == 403


async def test_safe_mode_refuses_a_body_with_a_readable_copy(make_client) -> None:
    client, _ = await make_client(message_mode="safe")
    req = platform.safe(text_xml("r-sm", "你好"), compatible=True)
    response = await post(client, req)
    assert response.status == 403 and "compatible" in await response.text()


@pytest.mark.parametrize("store_kind", ["memory", "redis"])
async def test_a_replayed_request_is_refused(make_client, caplog, request, store_kind) -> None:
    if store_kind == "redis":
        request.getfixturevalue("redis_url")
    client, _ = await make_client(store_kind, message_mode="plaintext")
    original = platform.plaintext(text_xml("r-replay", "你好"))
    assert (await post(client, original)).status == 200
    with caplog.at_level(logging.WARNING, logger="baishitong.webhook"):
        replay = await post(client, original)
        # The captured signature, timestamp and nonce with a body of the attacker's choosing.
        forged = await post(client, _body(original, text_xml("r-victim", "取消 12345").encode()))
    assert (replay.status, forged.status) == (403, 403)
    assert "replay" in await replay.text()
    assert len([r for r in caplog.records if r.name == "baishitong.webhook"]) == 2


async def test_replay_cache_is_shared_through_redis(make_client, redis_url) -> None:
    one, store = await make_client("redis", message_mode="plaintext")
    from tests.conftest import new_redis_store

    other_store = await new_redis_store(redis_url)
    other_store._prefix = store._prefix  # the same deployment: another worker process
    two, _ = await make_client(other_store, message_mode="plaintext")
    original = platform.plaintext(text_xml("r-shared", "你好"))
    assert (await post(one, original)).status == 200
    assert (await post(two, original)).status == 403
    verification = platform.verification("e")
    assert (await two.get(verification.path)).status == 200
    assert (await one.get(verification.path)).status == 403


async def test_access_log_holds_no_signature_nonce_or_openid(make_client, caplog) -> None:
    from aiohttp.test_utils import TestClient, TestServer

    from bot.app import access_log_options, create_app
    from bot.settings import Settings
    from storage import MemoryStore
    from tests.wechat_peer import TOKEN

    app = create_app(Settings(wechat_token=TOKEN), _services(), MemoryStore())
    server = TestServer(app, host="127.0.0.1")
    await server.start_server(**access_log_options(True))  # the runner options `serve` uses
    client = TestClient(server)
    await client.start_server()
    try:
        req = platform.plaintext(text_xml("o-secret-openid", "你好"), "o-secret-openid")
        with caplog.at_level(logging.INFO, logger="aiohttp.access"):
            assert (await post(client, req)).status == 200
            assert (await client.get(platform.verification("e").path)).status == 200
    finally:
        await client.close()
    lines = [r.getMessage() for r in caplog.records if r.name == "aiohttp.access"]
    assert len(lines) == 2 and all("/wechat" in line for line in lines)
    for line in lines:
        for secret in (req.query["signature"], req.query["nonce"], "o-secret-openid", "signature"):
            assert secret not in line
    assert access_log_options(False) == {"access_log": None}


def _services():
    from handlers import Services
    from intents import Classifier
    from knowledge import load_handbook

    handbook = load_handbook()
    return Services(handbook, Classifier(handbook))


async def test_a_retry_takes_over_when_the_worker_handling_the_message_dies(
    make_client, monkeypatch, redis_url, caplog
) -> None:
    """The first delivery's worker dies mid-turn (here: its handler hangs and its lease is dropped,
    as SIGKILL would leave it); WeChat's retry, on another worker, is handled and gets the reply."""
    from tests.conftest import new_redis_store

    real_dispatch = bot.pipeline.dispatch
    calls: list[str] = []
    unblock = asyncio.Event()

    async def first_hangs(ctx):
        calls.append(ctx.message.text)
        if len(calls) == 1:
            await unblock.wait()
        return await real_dispatch(ctx)

    monkeypatch.setattr(bot.pipeline, "dispatch", first_hangs)
    one, store = await make_client("redis", reply_deadline=0.5)
    store.lease_ttl = 0.4
    other_store = await new_redis_store(redis_url)
    other_store._prefix = store._prefix  # another worker process of the same deployment
    other_store.lease_ttl = 0.4
    two, _ = await make_client(other_store)
    xml = text_xml("r-orphan", "社保卡丢了怎么办", msg_id=9300)
    first = asyncio.create_task(post(one, platform.plaintext(xml)))
    await asyncio.sleep(0.2)
    assert calls == ["社保卡丢了怎么办"]
    retry = asyncio.create_task(post(two, platform.plaintext(xml)))  # waits for the live first
    await asyncio.sleep(0.3)
    assert not retry.done()
    store._heartbeat.cancel()  # the first worker is killed: its lease lapses
    await store._client.delete(store._lease_key(store.owner_id))
    with caplog.at_level(logging.WARNING, logger="baishitong.store"):
        async with asyncio.timeout(3):
            body = await (await retry).text()
    assert reply_content(body).startswith("【社会保障卡申领、补换与挂失】")
    assert calls == ["社保卡丢了怎么办", "社保卡丢了怎么办"]
    assert any("taken over" in r.getMessage() for r in caplog.records)
    assert await (await first).text() == "success"  # its deadline passed while it hung
    unblock.set()  # the "dead" worker wakes after all: its late finish changes nothing
    await asyncio.sleep(0.2)
    again = await (await post(two, platform.plaintext(xml))).text()
    assert again == body
