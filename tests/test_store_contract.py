"""One contract, two stores: MemoryStore and RedisStore (the real server) must behave the same."""

from __future__ import annotations

import asyncio

import pytest

from storage import Store


async def test_first_delivery_owns_and_retries_get_the_reply(store: Store) -> None:
    first = await store.begin("m1", "r1")
    assert first.owner and first.state == {}
    await store.finish(first, "<reply/>", None)
    retry = await store.begin("m1", "r1")
    assert (retry.owner, retry.reply, retry.pending) == (False, "<reply/>", False)


async def test_retry_while_first_runs_waits_for_its_reply(store: Store) -> None:
    first = await store.begin("m2", "r2")

    async def finish_later() -> None:
        await asyncio.sleep(0.1)
        await store.finish(first, "done", None)

    finisher = asyncio.create_task(finish_later())
    retry = await store.begin("m2", "r2")  # same resident: queues behind the open turn
    assert retry.reply == "done" or await store.wait_reply("m2", "r2", timeout=2) == "done"
    await finisher


async def test_concurrent_deliveries_of_one_message_have_exactly_one_owner(store: Store) -> None:
    async def deliver() -> bool:
        turn = await store.begin("race", "r-race")
        if turn.owner:
            await asyncio.sleep(0.01)
            await store.finish(turn, "reply", None)
        return turn.owner

    owners = await asyncio.gather(*(deliver() for _ in range(10)))
    assert sum(owners) == 1


async def test_state_is_loaded_saved_kept_and_forgotten(store: Store) -> None:
    turn = await store.begin("s1", "resident-a")
    await store.finish(turn, "x", {"await_choice": ["a", "b"], "intent": "consult"})
    turn = await store.begin("s2", "resident-a")
    assert turn.state == {"await_choice": ["a", "b"], "intent": "consult"}
    await store.finish(turn, "x", None)  # unchanged: kept
    turn = await store.begin("s3", "resident-a")
    assert turn.state == {"await_choice": ["a", "b"], "intent": "consult"}
    await store.finish(turn, "x", {})  # forgotten
    assert await store.get_state("resident-a") == {}
    assert await store.get_state("nobody") == {}


async def test_state_expires_after_idle_ttl(store: Store) -> None:
    store.state_ttl = 0.1
    turn = await store.begin("e1", "resident-b")
    await store.finish(turn, "x", {"last_item": "x"})
    await asyncio.sleep(0.25)
    assert (await store.begin("e2", "resident-b")).state == {}


async def test_activity_keeps_state_alive(store: Store) -> None:
    store.state_ttl = 0.3
    turn = await store.begin("k1", "resident-c")
    await store.finish(turn, "x", {"last_item": "x"})
    for n in range(3):  # a message every 0.15 s, each leaving the state untouched
        await asyncio.sleep(0.15)
        turn = await store.begin(f"k{n + 2}", "resident-c")
        assert turn.state == {"last_item": "x"}
        await store.finish(turn, "x", None)


async def test_dedup_record_expires_after_ttl(store: Store) -> None:
    store.dedup_ttl = 0.1
    turn = await store.begin("short", "r-short")
    await store.finish(turn, "x", None)
    await asyncio.sleep(0.25)
    assert (await store.begin("short", "r-short")).owner


async def test_one_residents_turns_run_one_at_a_time_in_arrival_order(store: Store) -> None:
    order: list[int] = []

    async def message(n: int) -> None:
        turn = await store.begin(f"order-{n}", "same-resident")
        order.append(n)
        await asyncio.sleep(0.01)
        await store.finish(turn, "x", {"last": n})

    tasks = []
    for n in range(6):
        tasks.append(asyncio.create_task(message(n)))
        await asyncio.sleep(0.002)  # arrival order 0..5
    await asyncio.gather(*tasks)
    assert order == list(range(6))
    assert await store.get_state("same-resident") == {"last": 5}


async def test_other_residents_are_not_held_up(store: Store) -> None:
    held = await store.begin("h1", "busy-resident")
    async with asyncio.timeout(1):
        other = await store.begin("h2", "other-resident")
        await store.finish(other, "x", None)
    await store.finish(held, "x", None)


async def test_begin_times_out_instead_of_waiting_forever(store: Store) -> None:
    held = await store.begin("t1", "held")
    store.lock_timeout = 0.2
    with pytest.raises(TimeoutError):
        await store.begin("t2", "held")
    await store.finish(held, "x", None)


async def test_ping(store: Store) -> None:
    assert await store.ping() is True


async def test_redis_turns_exclude_each_other_across_processes(redis_url: str) -> None:
    """Two RedisStores (two processes' worth of clients) share the resident's lock."""
    from tests.conftest import cleanup_redis, new_redis_store

    one, two = await new_redis_store(redis_url), await new_redis_store(redis_url)
    two._prefix = one._prefix  # same deployment
    events: list[str] = []
    first = await one.begin("x1", "shared-resident")

    async def second() -> None:
        turn = await two.begin("x2", "shared-resident")
        events.append("second began")
        assert turn.state == {"by": "one"}  # sees the first turn's state, so it waited for it
        await two.finish(turn, "y", None)

    task = asyncio.create_task(second())
    await asyncio.sleep(0.15)
    events.append("first finishing")
    await one.finish(first, "x", {"by": "one"})
    await task
    assert events == ["first finishing", "second began"]
    await cleanup_redis(one)
    await two.close()


async def test_memory_store_forgets_expired_entries_without_rescanning_every_write() -> None:
    from storage.memory import MemoryStore

    now = [0.0]
    store = MemoryStore(clock=lambda: now[0], dedup_ttl=1)
    for n in range(10_000):
        await store.finish(await store.begin(f"old-{n}", f"r{n % 50}"), "x", None)
    now[0] = 5.0  # all of them expired
    store.dedup_ttl = 600
    for n in range(10_000):
        await store.finish(await store.begin(f"new-{n}", f"r{n % 50}"), "x", None)
    assert len(store._dedup) < 20_000
    assert all(key.startswith("new-") for key, _resident in store._dedup)
    assert store._sweep_at["_dedup"] >= 2 * 4096


async def test_redis_burst_beyond_the_pool_waits_instead_of_failing(redis_url: str) -> None:
    """More concurrent turns than connections: every one completes (the pool blocks, not raises)."""
    from storage import RedisStore
    from tests.conftest import cleanup_redis, key_prefix

    store = RedisStore(redis_url, prefix=key_prefix(), max_connections=4)

    async def message(n: int) -> bool:
        turn = await store.begin(f"burst-{n}", f"burst-resident-{n}")
        await store.finish(turn, "ok", {"n": n})
        return turn.owner

    assert all(await asyncio.gather(*(message(n) for n in range(200))))
    assert await store.get_state("burst-resident-199") == {"n": 199}
    await cleanup_redis(store)


async def test_dedup_keys_are_per_resident(store: Store) -> None:
    """Resident B sending A's MsgId must get their own turn, never A's stored reply."""
    first = await store.begin("msg:shared-id", "resident-A")
    await store.finish(first, "reply meant for A", None)
    other = await store.begin("msg:shared-id", "resident-B")
    assert (other.owner, other.reply) == (True, None)
    await store.finish(other, "reply for B", None)
    assert await store.wait_reply("msg:shared-id", "resident-A", 0.1) == "reply meant for A"
    assert await store.wait_reply("msg:shared-id", "resident-B", 0.1) == "reply for B"


async def test_first_use_remembers_a_name_for_its_ttl(store: Store) -> None:
    assert await store.first_use("1700000000:nonce-1", 0.2) is True
    assert await store.first_use("1700000000:nonce-1", 0.2) is False
    assert await store.first_use("1700000000:nonce-2", 0.2) is True
    await asyncio.sleep(0.3)
    assert await store.first_use("1700000000:nonce-1", 0.2) is True


# Owner leases (Redis): a turn's owner is a process that keeps a lease alive; a process killed
# mid-turn is simulated by stopping its heartbeat and deleting its lease (its store stays usable,
# as a paused process that wakes up would).


async def _two_processes(redis_url: str, lease_ttl: float = 0.4):
    from tests.conftest import new_redis_store

    one, two = await new_redis_store(redis_url), await new_redis_store(redis_url)
    two._prefix = one._prefix  # same deployment
    one.lease_ttl = two.lease_ttl = lease_ttl
    assert getattr(one, "owner_id", 1) != getattr(two, "owner_id", 2)
    return one, two


async def _die(store) -> None:
    """What SIGKILL does to a store's process, as far as Redis can tell: the lease stops renewing."""
    heartbeat = getattr(store, "_heartbeat", None)  # (getattr: the tests also run on a store without leases)
    if heartbeat is not None:
        # Wait until the heartbeat has really stopped: cancelled while its renewal was in flight,
        # it could still write the lease after the DELETE below (seen in ~1 run in 10).
        while not heartbeat.done():
            heartbeat.cancel()
            await asyncio.wait({heartbeat}, timeout=0.05)
        await store._client.delete(store._lease_key(store.owner_id))


async def test_redis_retry_takes_over_a_message_whose_owner_died(redis_url: str) -> None:
    from tests.conftest import cleanup_redis

    one, two = await _two_processes(redis_url)
    setup = await one.begin("before", "orphaned")
    await one.finish(setup, "x", {"draft": "ticket"})
    first = await one.begin("m-dead", "orphaned")
    assert first.owner
    await _die(one)
    async with asyncio.timeout(2):  # neither "pending" nor a wait for the dead owner's lock
        retry = await two.begin("m-dead", "orphaned")
    assert retry.owner and retry.state == {"draft": "ticket"}  # runs the handlers on the state
    await two.finish(retry, "real reply", {"draft": "sent"})
    again = await two.begin("m-dead", "orphaned")
    assert (again.owner, again.reply) == (False, "real reply")
    # The presumed-dead owner finishing after all overwrites neither the reply nor the state.
    await one.finish(first, "late reply", {"draft": "late"})
    assert await two.wait_reply("m-dead", "orphaned", 0.1) == "real reply"
    assert await two.get_state("orphaned") == {"draft": "sent"}
    await cleanup_redis(one)
    await two.close()


async def test_redis_only_one_of_concurrent_retries_takes_over(redis_url: str) -> None:
    from tests.conftest import cleanup_redis, new_redis_store

    one, two = await _two_processes(redis_url)
    three = await new_redis_store(redis_url)
    three._prefix = one._prefix
    first = await one.begin("m-race", "orphan-race")
    assert first.owner
    await _die(one)
    turns = await asyncio.gather(two.begin("m-race", "orphan-race"), three.begin("m-race", "orphan-race"))
    assert sorted(turn.owner for turn in turns) == [False, True]
    taker = next(turn for turn in turns if turn.owner)
    await (two if turns[0].owner else three).finish(taker, "once", None)
    assert await two.wait_reply("m-race", "orphan-race", 0.5) == "once"
    await cleanup_redis(one)
    await two.close()
    await three.close()


async def test_redis_live_owners_pending_marker_is_respected(redis_url: str) -> None:
    from tests.conftest import cleanup_redis

    one, two = await _two_processes(redis_url, lease_ttl=0.3)
    first = await one.begin("m-live", "busy")
    await asyncio.sleep(0.8)  # well past one lease: the heartbeat keeps it
    retry = await two.begin("m-live", "busy")
    assert retry.pending
    waiting = asyncio.create_task(two.wait_reply("m-live", "busy", 3))
    await asyncio.sleep(0.8)
    assert not waiting.done()  # still waiting for the live owner, not told to take over
    await one.finish(first, "the reply", None)
    assert await waiting == "the reply"
    await cleanup_redis(one)
    await two.close()


async def test_redis_waiting_retry_is_told_when_the_owner_dies(redis_url: str) -> None:
    """wait_reply gives up early (None) once the owner's lease lapses, so the retry can begin again."""
    from tests.conftest import cleanup_redis

    one, two = await _two_processes(redis_url)
    first = await one.begin("m-dies", "widow")
    assert first.owner
    waiting = asyncio.create_task(two.wait_reply("m-dies", "widow", 10))
    await asyncio.sleep(0.3)
    await _die(one)
    async with asyncio.timeout(2):
        assert await waiting is None
    assert (await two.begin("m-dies", "widow")).owner
    await cleanup_redis(one)
    await two.close()


async def test_redis_lock_of_a_dead_owner_does_not_hold_up_the_next_message(redis_url: str) -> None:
    from tests.conftest import cleanup_redis

    one, two = await _two_processes(redis_url)
    assert two.lock_timeout == 30
    stuck = await one.begin("m-stuck", "next-in-line")
    await _die(one)
    async with asyncio.timeout(2):  # not the 30 s lock timeout
        turn = await two.begin("m-next", "next-in-line")
    assert turn.owner
    await one.finish(stuck, "late", None)  # does not release the lock the next message now holds
    assert (await two._client.get(two._keys("", "next-in-line")[1])) == turn.token
    await two.finish(turn, "next reply", None)
    await cleanup_redis(one)
    await two.close()


async def test_redis_lock_of_a_live_owner_is_waited_for(redis_url: str) -> None:
    from tests.conftest import cleanup_redis

    one, two = await _two_processes(redis_url, lease_ttl=0.3)
    held = await one.begin("m-held", "patient")
    two.lock_timeout = 1.0
    with pytest.raises(TimeoutError):
        await two.begin("m-after", "patient")
    await one.finish(held, "x", None)
    await cleanup_redis(one)
    await two.close()
