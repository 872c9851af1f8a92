"""Shared fixtures. Redis tests use the real server at REDIS_URL (default redis://127.0.0.1:6379/0):
with CI=true they fail when it is unreachable; elsewhere they are skipped with the reason."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace

import pytest
import redis
from aiohttp.test_utils import TestClient, TestServer

from bot.app import create_app
from bot.settings import Settings
from handlers import Services
from intents import Classifier
from knowledge import Handbook, load_handbook
from storage import MemoryStore, RedisStore, Store
from tests.wechat_peer import AES_KEY, APP_ID, TOKEN

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")


@pytest.fixture(scope="session")
def handbook() -> Handbook:
    return load_handbook()


@pytest.fixture(scope="session")
def classifier(handbook: Handbook) -> Classifier:
    return Classifier(handbook)


@pytest.fixture(scope="session")
def services(handbook: Handbook, classifier: Classifier) -> Services:
    return Services(handbook, classifier)


def _redis_problem() -> str | None:
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except (redis.RedisError, OSError) as exc:
        return f"Redis at {REDIS_URL} unreachable: {exc}"
    return None


@pytest.fixture(scope="session")
def redis_url() -> str:
    problem = _redis_problem()
    if problem:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(problem + " (CI=true: Redis tests must run)")
        pytest.skip(problem)
    return REDIS_URL


async def new_redis_store(url: str = REDIS_URL) -> RedisStore:
    """A RedisStore with its own key prefix, so tests never see each other's keys."""
    return RedisStore(url, prefix=f"bst-test-{uuid.uuid4().hex[:8]}:")


async def cleanup_redis(store: RedisStore) -> None:
    client = redis.asyncio.Redis.from_url(REDIS_URL)
    keys = [key async for key in client.scan_iter(match=f"{store._prefix}*")]
    if keys:
        await client.delete(*keys)
    await client.aclose()
    await store.close()


@pytest.fixture(params=["memory", "redis"])
async def store(request: pytest.FixtureRequest) -> AsyncIterator[Store]:
    """Each contract test runs against both implementations."""
    if request.param == "memory":
        yield MemoryStore()
        return
    redis_store = await new_redis_store(request.getfixturevalue("redis_url"))
    yield redis_store
    await cleanup_redis(redis_store)


@pytest.fixture
def settings() -> Settings:
    return Settings(wechat_token=TOKEN, wechat_app_id=APP_ID, wechat_aes_key=AES_KEY)


ClientFactory = Callable[..., Awaitable[tuple[TestClient, Store]]]


@pytest.fixture
async def make_client(services: Services, settings: Settings) -> AsyncIterator[ClientFactory]:
    """Start the real aiohttp app on a loopback port; returns (client, store)."""
    clients: list[TestClient] = []
    redis_stores: list[RedisStore] = []

    async def factory(store: Store | str = "memory", **overrides: object) -> tuple[TestClient, Store]:
        if store == "memory":
            store = MemoryStore()
        elif store == "redis":
            store = await new_redis_store(REDIS_URL)
            redis_stores.append(store)
        app = create_app(replace(settings, **overrides), services, store)
        client = TestClient(TestServer(app, host="127.0.0.1"))
        await client.start_server()
        clients.append(client)
        return client, store

    yield factory
    for client in clients:
        await client.close()
    for redis_store in redis_stores:
        await cleanup_redis(redis_store)
