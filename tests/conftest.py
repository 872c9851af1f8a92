"""Shared fixtures. Redis tests use the real server at TEST_REDIS_URL (default
redis://127.0.0.1:6379/15: a database number of their own, never the app's REDIS_URL), every key
under a prefix naming this run (bst-test-<run>-…); PostgreSQL tests use a database of their own,
bst_test_<run>, created through the server at TEST_DATABASE_URL (default: its maintenance database
`postgres` on the local server) and dropped when the session ends. With CI=true they fail when
the server is unreachable; elsewhere they are skipped with the reason. When the session ends, no
key of the run may be left in Redis: leftovers are deleted and fail the run."""

from __future__ import annotations

import asyncio
import concurrent.futures
import copy
import functools
import os
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar
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

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
RUN = uuid.uuid4().hex[:8]  # this pytest session: every Redis key and the PostgreSQL database name it
KEY_PREFIX = f"bst-test-{RUN}-"
# The learned model's cache (intents/learned.py) goes to a directory of this run, not the user's
# ~/.cache; processes the tests start inherit it, and it is removed when the session ends.
MODEL_CACHE = tempfile.mkdtemp(prefix=f"bst-model-{RUN}-")
os.environ["BAISHITONG_CACHE_DIR"] = MODEL_CACHE


def key_prefix() -> str:
    """A key prefix no other test (nor any other run) uses; the session-end check covers it."""
    return f"{KEY_PREFIX}{uuid.uuid4().hex[:8]}:"


def leftover_keys(url: str = REDIS_URL) -> list[str]:
    """Keys of this run still in Redis: test prefixes, and residents named after the run."""
    client = redis.Redis.from_url(url, socket_connect_timeout=1)
    try:
        return sorted(
            key.decode()
            for pattern in (f"{KEY_PREFIX}*", f"*{{*{RUN}*}}*")
            for key in client.scan_iter(pattern)
        )
    finally:
        client.close()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Tests leave nothing behind: a key of this run still in Redis is deleted and fails the run."""
    shutil.rmtree(MODEL_CACHE, ignore_errors=True)
    if _redis_problem():
        return
    left = leftover_keys()
    if left:
        client = redis.Redis.from_url(REDIS_URL)
        client.delete(*left)
        client.close()
        print(f"\nRedis keys left behind by the tests (now deleted): {left[:20]} ({len(left)} in all)")
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.fixture(scope="session")
def handbook() -> Handbook:
    return load_handbook()


@pytest.fixture(scope="session")
def classifier(handbook: Handbook) -> Classifier:
    return Classifier(handbook)


@pytest.fixture(scope="session")
def services(handbook: Handbook, classifier: Classifier) -> Services:
    """On a weekday morning, whatever the machine's clock says: answers about today ("中午能办吗")
    depend on the day, and a run after midnight Beijing time on a Friday read Saturday's duty."""
    return Services(handbook, classifier, clock=lambda: WEDNESDAY_MORNING.astimezone(UTC))


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
    return RedisStore(url, prefix=key_prefix())


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


# Database tests run on SQLite and on the real PostgreSQL server at TEST_DATABASE_URL, in a database
# of this run's own (bst_test_<run>), one schema per test inside it.
SERVER_URL = os.environ.get("TEST_DATABASE_URL", "postgresql+asyncpg://root@127.0.0.1:5432/postgres")
TEST_DATABASE = f"bst_test_{RUN}"


def _asyncpg_dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


def _with_database(url: str, name: str) -> str:
    base, _, query = url.partition("?")
    return base.rsplit("/", 1)[0] + f"/{name}" + (f"?{query}" if query else "")


T = TypeVar("T")


def _run_apart(work: Coroutine[Any, Any, T]) -> T:
    """Run `work` to the end on a thread and event loop of its own: session fixtures may be set up
    from inside a test's running loop, where asyncio.run cannot be called."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, work).result()


def _admin(statement: str) -> None:
    """One statement on the maintenance database, outside any transaction (CREATE/DROP DATABASE)."""
    import asyncpg

    async def execute() -> None:
        connection = await asyncpg.connect(_asyncpg_dsn(SERVER_URL), timeout=5)
        try:
            await connection.execute(statement)
        finally:
            await connection.close()

    _run_apart(execute())


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """This run's own database, created from the maintenance database and dropped at the end."""
    try:
        _admin(f'CREATE DATABASE "{TEST_DATABASE}"')
    except Exception as exc:  # unreachable server, refused login, no right to create databases, …
        message = f"PostgreSQL at {SERVER_URL} unusable: {exc}"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message + " (CI=true: database tests must run)")
        pytest.skip(message)
    try:
        yield _with_database(SERVER_URL, TEST_DATABASE)
    finally:
        _admin(f'DROP DATABASE IF EXISTS "{TEST_DATABASE}" WITH (FORCE)')


async def _postgres(url: str, schema: str) -> Database:
    admin = Database(url)
    async with admin.engine.begin() as connection:
        await connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    await admin.close()
    return Database(url, connect_args={"server_settings": {"search_path": schema}})


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated SQLite file per run; each test gets a copy (migrating costs ~0.2 s a test)."""
    path = tmp_path_factory.mktemp("template") / "tickets.db"

    async def migrate() -> None:
        database = Database(f"sqlite+aiosqlite:///{path}")
        await database.upgrade()
        async with database.engine.begin() as connection:
            await connection.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
        await database.close()

    _run_apart(migrate())
    return path


@pytest.fixture(scope="session")
def postgres_schema(postgres_url: str) -> str:
    """One migrated schema per run, emptied after each test (TRUNCATE … RESTART IDENTITY) instead
    of a schema created and migrated per test."""
    schema = f"t_{RUN}"

    async def migrate() -> None:
        admin = Database(postgres_url)
        async with admin.engine.begin() as connection:
            await connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        await admin.close()
        database = Database(postgres_url, connect_args={"server_settings": {"search_path": schema}})
        await database.upgrade()
        await database.close()

    _run_apart(migrate())
    return schema


_TABLES_OF_SCHEMA = (
    "SELECT tablename FROM pg_tables WHERE schemaname = :schema AND tablename != 'alembic_version'"
)


async def _empty(url: str, schema: str) -> None:
    admin = Database(url)
    async with admin.engine.begin() as connection:
        tables = (
            await connection.execute(
                text(_TABLES_OF_SCHEMA),
                {"schema": schema},
            )
        ).scalars()
        names = ", ".join(f'"{schema}"."{name}"' for name in tables)
        if names:
            await connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    await admin.close()


@pytest.fixture(params=["sqlite", "postgresql"])
async def database(request: pytest.FixtureRequest, tmp_path) -> AsyncIterator[Database]:
    if request.param == "sqlite":
        path = tmp_path / "tickets.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        db = Database(f"sqlite+aiosqlite:///{path}")
        yield db
        await db.close()
        return
    url = request.getfixturevalue("postgres_url")
    schema = request.getfixturevalue("postgres_schema")
    db = Database(url, connect_args={"server_settings": {"search_path": schema}})
    try:
        yield db
    finally:
        await db.close()
        await _empty(url, schema)


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
WEDNESDAY_MORNING = datetime(2026, 12, 2, 10, 15, tzinfo=SHANGHAI)
EXAMPLE_ROTA = Path(__file__).resolve().parents[1] / "examples" / "rota.yaml"


@functools.cache
def _example_rota() -> dict:
    return yaml.safe_load(EXAMPLE_ROTA.read_text(encoding="utf-8"))


def example_rota() -> dict:
    """The example rota, parsed once per run (YAML parsing was a second of every ten); a deep copy
    each time, as import_rota may keep what it is given."""
    return copy.deepcopy(_example_rota())


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(SATURDAY_LUNCH)


@pytest.fixture
async def desk(database: Database, handbook: Handbook, clock: FakeClock) -> AsyncIterator[ServiceDesk]:
    """A service desk on SQLite and on PostgreSQL, with the example rota imported; the background
    conversation-day writes are waited for before the database closes (a write left running was
    seen as a garbage-collected SQLite connection warning)."""
    desk = ServiceDesk(database, handbook.calendar, SHANGHAI, clock)
    await desk.staff.import_rota(example_rota())
    yield desk
    await desk.conversations.flush()


@pytest.fixture
def desk_services(services: Services, desk: ServiceDesk, clock: FakeClock) -> Services:
    return replace(services, desk=desk, clock=clock, tz=SHANGHAI)
