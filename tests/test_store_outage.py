"""Redis lost as a resident confirms (item 8): the ticket was committed, the reply failed and the
draft vanished. The resident's next message says which tickets went in meanwhile, and ordering the
same item again within minutes asks before creating a second ticket."""

from __future__ import annotations

import pytest

from bot.pipeline import StoreUnavailable
from desk.desk import ServiceDesk
from handlers import Services
from storage import MemoryStore
from storage.base import State, Turn
from storage.tickets import UnknownTicket
from tests.conftest import FakeClock
from tests.test_handlers import Chat
from tests.test_ordering import order_home_visit


class DyingStore(MemoryStore):
    """A Redis without persistence: `die()` makes the next finish fail and forgets everything."""

    dying = False

    def die(self) -> None:
        self.dying = True

    async def finish(self, turn: Turn, reply: str, state: State | None) -> None:
        if self.dying:
            self.dying = False
            if turn._release is not None:
                turn._release()
            self.__init__()  # restarted empty
            raise ConnectionError("Connection reset by peer")
        await super().finish(turn, reply, state)


async def fill_home_visit_order(say: Chat) -> None:
    first = await say("我想预约上门办理养老金认证")
    if "还是用" in first:  # the details kept from the first order are offered again
        await say("是的")
    else:
        assert "怎么称呼" in first
        await say("张秀英")
        await say("13812345678")
        await say("阳光苑3栋2单元501")
    assert "确认" in await say("今天下午3点")


async def test_after_a_store_outage_the_next_message_names_the_tickets_created_meanwhile(
    desk_services: Services, desk: ServiceDesk
) -> None:
    store = DyingStore()
    say = Chat(desk_services, store)
    await fill_home_visit_order(say)
    store.die()
    with pytest.raises(StoreUnavailable):
        await say("确认")  # committed, but the reply never reached the resident (503)
    assert (await desk.tickets.get(10001)).state == "assigned"
    nxt = await say("确认")  # WeChat's retry or the resident trying again: the draft is gone
    assert "10001" in nxt and "已提交" in nxt and "养老金" in nxt
    # Told once; other residents are not told about r1's tickets.
    assert "10001" not in await say("你好")
    assert "10001" not in await say("你好", resident="r2")


async def test_ordering_the_same_item_again_within_minutes_asks_first(
    desk_services: Services, desk: ServiceDesk, clock: FakeClock
) -> None:
    say = Chat(desk_services)
    await order_home_visit(say)
    clock.advance(minutes=3)
    await fill_home_visit_order(say)
    asked = await say("确认")
    assert "10001" in asked and "再提交" in asked
    with pytest.raises(UnknownTicket):  # no second ticket yet
        await desk.tickets.get(10002)
    placed = await say("确认")
    assert "10002" in placed
    # An hour later the same order goes straight in.
    clock.advance(hours=1)
    await fill_home_visit_order(say)
    assert "10003" in await say("确认")


async def test_cancel_word_after_the_duplicate_question_places_nothing(
    desk_services: Services, desk: ServiceDesk, clock: FakeClock
) -> None:
    say = Chat(desk_services)
    await order_home_visit(say)
    await fill_home_visit_order(say)
    assert "再提交" in await say("确认")
    assert "没有提交" in await say("取消")
    assert len(await desk.resident_tickets("r1")) == 1
