"""Binding codes cannot be guessed: attempts are limited per WeChat identity and for the whole
community, a locked-out identity cannot bind even with the right code, the staff group is alerted,
and codes are long enough that a week at the allowed rate has a negligible chance (item 5)."""

from __future__ import annotations

import logging

import pytest

from desk import binding
from desk.desk import ServiceDesk
from handlers import Services
from handlers.notices import group_markdown
from knowledge import Handbook
from tests.conftest import FakeClock
from tests.test_handlers import Chat


@pytest.fixture
def say(desk_services: Services) -> Chat:
    return Chat(desk_services)


def test_a_week_of_guessing_at_the_allowed_rate_has_a_negligible_chance() -> None:
    # The global limit bounds every attacker together, however many WeChat identities they use.
    limit, window = binding.OVERALL
    attempts_a_week = limit * (7 * 24 * 3600 / window)  # 30 an hour -> 5,040 a week
    space = len(binding.ALPHABET) ** binding.CODE_LENGTH  # 32 ** 10 ~ 1.1e15
    # Each guess matches one of at most MAX_LIVE_CODES unspent codes (a week's invitations).
    chance = 1 - (1 - binding.MAX_LIVE_CODES / space) ** attempts_a_week
    assert attempts_a_week == 5040 and chance < 1e-9  # ~2.2e-10
    # The old six-character codes: 5,040 x 50 / 32**6 ~ 2.3e-4 a week, and no limit at all.


async def test_invitation_codes_are_long_and_forgiving_to_type(say: Chat, desk: ServiceDesk) -> None:
    code, _ = await desk.staff.invite("李强")
    plain = code.replace("-", "")
    assert len(plain) == binding.CODE_LENGTH and set(plain) <= set(binding.ALPHABET)
    assert "绑定成功" in await say(f"绑定 {plain.lower()[:4]} {plain.lower()[4:]}", resident="wx-li")


async def test_one_identity_is_locked_out_and_even_the_right_code_then_fails(
    say: Chat, desk: ServiceDesk, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    code, _ = await desk.staff.invite("李强")
    limit, window = binding.PER_OPENID
    for n in range(limit):
        assert "无效" in await say(f"绑定 WRONG{n:05d}", resident="wx-guess")
    locked = await say(f"绑定 {code}", resident="wx-guess")
    assert "尝试次数太多" in locked and "绑定成功" not in locked
    assert await desk.staff.by_openid("wx-guess") is None
    assert any("bind_locked" in r.getMessage() for r in caplog.records)
    assert [r.event for r in await desk.outbox.rows()] == ["bind_guessing"]  # the group is told
    # Someone else is not affected, and the identity may try again after the window.
    clock.advance(seconds=window + 1)
    assert "绑定成功" in await say(f"绑定 {code}", resident="wx-guess")


async def test_guessing_from_many_identities_pauses_binding_and_alerts_the_group_once(
    say: Chat, desk: ServiceDesk, handbook: Handbook
) -> None:
    code, _ = await desk.staff.invite("李强")
    limit, _ = binding.OVERALL
    for n in range(limit):
        assert "无效" in await say(f"绑定 WRONG{n:05d}", resident=f"wx-bot-{n}")
    for n in range(5):
        assert "暂停" in await say(f"绑定 WRONG{n:05d}", resident=f"wx-bot2-{n}")
    assert "暂停" in await say(f"绑定 {code}", resident="wx-li")
    alerts = [r for r in await desk.outbox.rows() if r.event == "bind_guessing"]
    assert len(alerts) == 1 and alerts[0].channel == "group"
    content = group_markdown(alerts[0].event, alerts[0].payload, handbook)
    assert "绑定码" in content and "暂停" in content
