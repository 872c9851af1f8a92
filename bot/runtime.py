"""Build the long-lived services once at start-up (handbook, jieba, store, database, outbox worker)."""

from __future__ import annotations

from dataclasses import dataclass, replace

import aiohttp
import redis.asyncio as aioredis

from bot.notify import CustomerService, WeComRobot
from bot.outbox_worker import OutboxWorker
from bot.settings import Settings
from desk.binding import BindGuard
from desk.desk import ServiceDesk
from desk.handbook import HandbookDesk, validate
from handlers import Services
from intents import Classifier
from knowledge import Handbook, load_handbook
from storage import Store, open_store
from storage.db import Database
from storage.shared import MemoryRateLimiter, MemoryValueCache, RedisRateLimiter, RedisValueCache


def build_services(settings: Settings, handbook: Handbook | None = None) -> Services:
    if handbook is None:
        settings.require_handbook()
        handbook = load_handbook(settings.handbook_path)
    # The classifier loads jieba and the homophone index now, not on the first message.
    return Services(handbook, Classifier(handbook), tz=settings.tz)


async def database_handbook(settings: Settings, database: Database) -> tuple[Handbook, int]:
    """The newest handbook version in the database and its number; an empty table first gets the
    handbook directory (HANDBOOK_DIR, else the bundled copy) as version 1."""
    versions = HandbookDesk(database)
    number = await versions.ensure_first(settings.handbook_path)
    row = await versions.version(number)
    return await validate(row.files, f"database version {number}"), number


def build_store(settings: Settings, *, embedded: bool = False) -> Store:
    """Redis when REDIS_URL is set (unless `embedded`), the in-process store otherwise."""
    return open_store(
        None if embedded else (settings.redis_url or None),
        redis_max_connections=settings.redis_max_connections,
        dedup_ttl=settings.dedup_ttl,
        state_ttl=settings.state_ttl,
    )


async def open_desk(
    settings: Settings, services: Services, *, migrate: bool = True
) -> tuple[Services, Database]:
    """Connect the database (migrating it first, unless the caller already did) and hand the
    handlers a service desk."""
    database = Database(settings.database_url)
    if migrate:
        await database.upgrade()
    desk = ServiceDesk(database, services.handbook.calendar, settings.tz, services.clock)
    if settings.redis_url:  # binding attempts counted across every process, like the turn store
        desk.bind_guard = BindGuard.shared(aioredis.Redis.from_url(settings.redis_url))
    return replace(services, desk=desk), database


@dataclass
class Outgoing:
    """The outbox worker with its HTTP session and shared limiter/cache; closed together."""

    worker: OutboxWorker
    session: aiohttp.ClientSession
    redis: aioredis.Redis | None

    async def close(self) -> None:
        self.worker.stop()
        await self.session.close()
        if self.redis is not None:
            await self.redis.aclose()


def build_outgoing(
    settings: Settings, services: Services, store: Store | None, *, embedded: bool = False
) -> Outgoing:
    assert services.desk is not None
    session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))
    client = None if embedded or not settings.redis_url else aioredis.Redis.from_url(settings.redis_url)
    if client is None:
        limiter: MemoryRateLimiter | RedisRateLimiter = MemoryRateLimiter(settings.wecom_rate_per_minute)
        cache: MemoryValueCache | RedisValueCache = MemoryValueCache()
    else:
        limiter, cache = RedisRateLimiter(client, settings.wecom_rate_per_minute), RedisValueCache(client)
    robots = {key: WeComRobot(session, url) for key, url in settings.wecom_webhooks}
    customer_service = None
    if settings.wechat_app_secret:
        customer_service = CustomerService(
            session, settings.wechat_api_base, settings.wechat_app_id, settings.wechat_app_secret, cache
        )
    worker = OutboxWorker(
        services.desk.outbox,
        services.handbook,
        robots,
        limiter,
        customer_service,
        store,
        poll_seconds=settings.outbox_poll_seconds,
        lease_seconds=settings.outbox_lease_seconds,
        robot_for=lambda url: WeComRobot(session, url),
    )
    return Outgoing(worker, session, client)
