"""The tests keep to their own Redis database, key prefixes and PostgreSQL database, and leave
nothing behind (conftest.pytest_sessionfinish fails a run that leaves a key of its own)."""

from __future__ import annotations

import redis
from sqlalchemy import text

from storage.db import Database
from tests.conftest import REDIS_URL, RUN, TEST_DATABASE, leftover_keys, new_redis_store


def test_redis_tests_use_a_database_number_of_their_own() -> None:
    db = redis.Redis.from_url(REDIS_URL).connection_pool.connection_kwargs.get("db", 0)
    assert db != 0, "DB 0 is where a local bot keeps its conversations"


async def test_every_redis_key_of_the_run_is_found_by_the_session_end_check(redis_url: str) -> None:
    store = await new_redis_store(redis_url)
    assert store._prefix.startswith(f"bst-test-{RUN}-")
    client = redis.Redis.from_url(redis_url)
    try:
        client.set(f"{store._prefix}probe", "1", px=60_000)
        client.set(f"bst:{{resident-{RUN}}}:state", "1", px=60_000)  # a subprocess `serve`'s key
        assert {f"{store._prefix}probe", f"bst:{{resident-{RUN}}}:state"} <= set(leftover_keys(redis_url))
    finally:
        client.delete(f"{store._prefix}probe", f"bst:{{resident-{RUN}}}:state")
        client.close()
        await store.close()
    assert not [key for key in leftover_keys(redis_url) if key.startswith(store._prefix)]


async def test_postgresql_tests_use_a_database_of_their_own(postgres_url: str) -> None:
    database = Database(postgres_url)
    try:
        async with database.engine.connect() as connection:
            name = (await connection.execute(text("SELECT current_database()"))).scalar_one()
    finally:
        await database.close()
    assert name == TEST_DATABASE and name.startswith("bst_test_") and name != "test"
