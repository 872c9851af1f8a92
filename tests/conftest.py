"""Shared fixtures. Redis tests use the real server at REDIS_URL (default redis://127.0.0.1:6379/0):
with CI=true they fail when it is unreachable; elsewhere they are skipped with the reason."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import redis
import yaml
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import text

from bot.app import create_app
from bot.settings import Settings
from desk.desk import ServiceDesk
from handlers import Services
from intents import Classifier
from knowledge import Handbook, load_handbook
from storage import MemoryStore, RedisStore, Store
from storage.db import Database
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
    # Plaintext mode (development) with the key set: plaintext and encrypted requests both work;
    # tests of the production modes pass message_mode="safe" or "compatible".
    return Settings(
        wechat_token=TOKEN, wechat_app_id=APP_ID, wechat_aes_key=AES_KEY, message_mode="plaintext"
    )


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


# Database tests run on SQLite and on the real PostgreSQL at DATABASE_URL (default: the local server).
DATABASE_URL = os.environ.get("DATABASE_URL", "postgresql+asyncpg://root@127.0.0.1:5432/test")


async def _postgres(schema: str) -> Database:
    admin = Database(DATABASE_URL)
    try:
        async with admin.engine.begin() as connection:
            await connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    except Exception as exc:  # unreachable server, refused login, …
        await admin.close()
        message = f"PostgreSQL at {DATABASE_URL} unusable: {exc}"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message + " (CI=true: database tests must run)")
        pytest.skip(message)
    await admin.close()
    return Database(DATABASE_URL, connect_args={"server_settings": {"search_path": schema}})


@pytest.fixture(params=["sqlite", "postgresql"])
async def database(request: pytest.FixtureRequest, tmp_path) -> AsyncIterator[Database]:
    if request.param == "sqlite":
        db = Database(f"sqlite+aiosqlite:///{tmp_path / 'tickets.db'}")
        await db.upgrade()
        yield db
        await db.close()
        return
    schema = f"bst_test_{uuid.uuid4().hex[:10]}"
    db = await _postgres(schema)
    await db.upgrade()
    yield db
    await db.close()
    admin = Database(DATABASE_URL)
    async with admin.engine.begin() as connection:
        await connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    await admin.close()


class FakeClock:
    """A clock the tests move: the desk, the handlers and the outbox all read it."""

    def __init__(self, local_time: datetime):
        self.now = local_time.astimezone(UTC)

    def __call__(self) -> datetime:
        return self.now

    def set(self, local_time: datetime) -> None:
        self.now = local_time.astimezone(UTC)

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


SHANGHAI = ZoneInfo("Asia/Shanghai")
# Saturday lunchtime: weekend duty (5+2) is on; the example rota swaps 王芳 for 赵磊 that day.
SATURDAY_LUNCH = datetime(2026, 11, 28, 12, 30, tzinfo=SHANGHAI)
EXAMPLE_ROTA = Path(__file__).resolve().parents[1] / "examples" / "rota.yaml"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(SATURDAY_LUNCH)


@pytest.fixture
async def desk(database: Database, handbook: Handbook, clock: FakeClock) -> ServiceDesk:
    """A service desk on SQLite and on PostgreSQL, with the example rota imported."""
    desk = ServiceDesk(database, handbook.calendar, SHANGHAI, clock)
    await desk.staff.import_rota(yaml.safe_load(EXAMPLE_ROTA.read_text(encoding="utf-8")))
    return desk


@pytest.fixture
def desk_services(services: Services, desk: ServiceDesk, clock: FakeClock) -> Services:
    return replace(services, desk=desk, clock=clock, tz=SHANGHAI)
