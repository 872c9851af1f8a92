"""Every instruction the bot gives ("回复“时间”", "回复“预约”", "说“转人工”") works when followed.

The walk starts from each place the bot tells a resident what to send — the welcome, the menu,
the apology, a checklist, an order's questions and read-back, a placed order, a ticket's status —
collects every quoted reply it suggests, follows each one from that same point, and checks the
answer is not the apology or silence.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable

import pytest

from handlers import Message, Services
from tests.test_handlers import Chat

_SUGGESTED = re.compile(r"(?:回复|说|发|问我)\s*“([^”]{1,20})”")
APOLOGY = "帮不上忙"


def suggested(text: str) -> list[str]:
    """The replies a message tells the resident to send (工单号 stands for a real number)."""
    return [q.replace("工单号", "10001").replace("1-5 的数字", "5") for q in _SUGGESTED.findall(text)]


Setup = Callable[[Chat], Awaitable[str]]


async def welcome(say: Chat) -> str:
    reply = await say.pipeline.respond("sub", Message("r1", "subscribe"), lambda r: r.text)
    return reply or ""


async def apology(say: Chat) -> str:
    return await say("帮我修一下电视机遥控器")


async def checklist(say: Chat) -> str:
    return await say("养老金认证要带什么")


async def order_question(say: Chat) -> str:
    return await say("预约居住证")


async def read_back(say: Chat) -> str:
    await say("预约居住证")
    await say("王芳芳")
    await say("13812345678")
    return await say("明天上午")


async def placed(say: Chat) -> str:
    await read_back(say)
    return await say("确认")


async def status(say: Chat) -> str:
    await placed(say)
    return await say("进度")


async def voice_unclear(say: Chat) -> str:
    reply = await say.pipeline.respond("v1", Message("r1", "voice", ""), lambda r: r.text)
    return reply or ""


STARTS: dict[str, Setup] = {
    "welcome": welcome,
    "apology": apology,
    "checklist": checklist,
    "order_question": order_question,
    "read_back": read_back,
    "placed": placed,
    "status": status,
    "voice_unclear": voice_unclear,
}


@pytest.mark.parametrize("start", list(STARTS))
async def test_every_suggested_reply_works_from_where_it_was_suggested(
    start: str, desk_services: Services
) -> None:
    shown = await STARTS[start](Chat(desk_services))
    instructions = suggested(shown)
    assert instructions, f"{start} suggests nothing: {shown!r}"
    for instruction in instructions:
        say = Chat(desk_services)
        await STARTS[start](say)
        # The tickets of earlier walks belong to the same resident: each walk uses its own.
        reply = await say(instruction)
        assert reply and APOLOGY not in reply, f"{start}: “{instruction}” → {reply!r}"
