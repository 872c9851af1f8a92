"""One contract, two stores: MemoryStore and RedisStore (the real server) must behave the same."""

from __future__ import annotations

import asyncio

import pytest

from storage import Store


async def test_first_claim_owns_and_later_claims_see_pending_then_reply(store: Store) -> None:
    first = await store.claim("m1", ttl=30)
    second = await store.claim("m1", ttl=30)
    assert first.owner and not first.pending
    assert not second.owner and second.pending
    await store.complete("m1", "<reply/>", ttl=30)
    third = await store.claim("m1", ttl=30)
    assert (third.owner, third.reply) == (False, "<reply/>")


async def test_concurrent_claims_have_exactly_one_owner(store: Store) -> None:
    claims = await asyncio.gather(*(store.claim("race", ttl=30) for _ in range(20)))
    assert sum(claim.owner for claim in claims) == 1


async def test_waiter_receives_reply_when_owner_completes(store: Store) -> None:
    await store.claim("m2", ttl=30)

    async def finish_later() -> None:
        await asyncio.sleep(0.1)
        await store.complete("m2", "done", ttl=30)

    finisher = asyncio.create_task(finish_later())
    assert await store.wait_reply("m2", timeout=2) == "done"
    await finisher


async def test_wait_reply_times_out_while_pending_and_is_none_for_unknown(store: Store) -> None:
    await store.claim("slow", ttl=30)
    assert await store.wait_reply("slow", timeout=0.1) is None
    assert await store.wait_reply("never-claimed", timeout=0.1) is None


async def test_claim_expires_after_ttl(store: Store) -> None:
    assert (await store.claim("short", ttl=0.1)).owner
    await asyncio.sleep(0.25)
    assert (await store.claim("short", ttl=30)).owner


async def test_state_round_trip_expiry_and_clear(store: Store) -> None:
    assert await store.get_state("resident-a") is None
    await store.set_state("resident-a", {"await": "choose", "options": ["a", "b"]}, ttl=30)
    assert await store.get_state("resident-a") == {"await": "choose", "options": ["a", "b"]}
    await store.clear_state("resident-a")
    assert await store.get_state("resident-a") is None
    await store.set_state("resident-b", {"last_item": "x"}, ttl=0.1)
    await asyncio.sleep(0.25)
    assert await store.get_state("resident-b") is None


async def test_state_is_a_copy_not_a_live_reference(store: Store) -> None:
    state = {"last_item": "x"}
    await store.set_state("r", state, ttl=30)
    state["last_item"] = "changed"
    assert await store.get_state("r") == {"last_item": "x"}


async def test_lock_serialises_one_resident_in_arrival_order(store: Store) -> None:
    order: list[int] = []

    async def work(n: int) -> None:
        async with store.lock("same-resident"):
            order.append(n)
            await asyncio.sleep(0.01)

    tasks = []
    for n in range(6):
        tasks.append(asyncio.create_task(work(n)))
        await asyncio.sleep(0.002)  # arrival order 0..5
    await asyncio.gather(*tasks)
    assert order == list(range(6))


async def test_lock_does_not_block_other_residents(store: Store) -> None:
    async with store.lock("busy-resident"):
        # Another resident gets its lock at once while the first is held.
        async with asyncio.timeout(1):
            async with store.lock("other-resident"):
                pass


async def test_lock_times_out_instead_of_waiting_forever(store: Store) -> None:
    async with store.lock("held"):
        with pytest.raises(TimeoutError):
            async with store.lock("held", timeout=0.2):
                pass


async def test_ping(store: Store) -> None:
    assert await store.ping() is True
