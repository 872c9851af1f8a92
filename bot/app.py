"""The aiohttp application: /wechat (GET verification, POST messages) and /healthz."""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import replace
from functools import partial
from typing import Any, Protocol

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger
from aiohttp.web_request import BaseRequest
from aiohttp.web_response import StreamResponse

from bot.handbook_reload import HandbookWatcher
from bot.pipeline import Pipeline, StoreUnavailable
from bot.runtime import build_outgoing, open_desk
from bot.scheduler import Scheduler, clock_keeper
from bot.settings import Settings
from bot.wechat import SUCCESS, Rejected, WeChatCodec, dedup_key, describe, render_reply, to_message
from desk.desk import ServiceDesk
from handlers import Services
from intents import Classifier
from knowledge import Handbook
from storage import Store
from storage.handbook import HandbookVersions

log = logging.getLogger("baishitong.webhook")


class Webhook:
    def __init__(
        self, settings: Settings, services: Services, store: Store, codec: WeChatCodec | None = None
    ):
        self._settings = settings
        self._services = services
        self._store = store
        self._codec = codec or WeChatCodec(settings)
        self.pipeline = Pipeline(
            services, store, deadline=settings.reply_deadline, max_in_flight=settings.max_in_flight
        )
        self.handbook_version: int | None = None  # the database version answered from (None: files)

    @property
    def services(self) -> Services:
        return self._services

    def use(self, services: Services) -> None:
        """Swap in services built after start-up (the database opens inside the event loop)."""
        self._services = services
        self.pipeline.services = services

    async def verify(self, request: web.Request) -> web.Response:
        try:
            echostr = self._codec.verify_url(request.query)
            await self._first_use(request.query)
        except Rejected as exc:
            return _reject(request, exc)
        except StoreUnavailable:
            return web.Response(status=503, text="service unavailable")
        return web.Response(text=echostr)

    async def receive(self, request: web.Request) -> web.Response:
        try:
            body = await self._read_body(request)
            inbound = self._codec.decode(request.query, body)
            await self._first_use(request.query)
        except Rejected as exc:
            return _reject(request, exc)
        except StoreUnavailable:
            return web.Response(status=503, text="service unavailable")
        message = to_message(inbound.message)
        if message.kind == "other":
            log.info("%s from WeChat: nothing to say, answered success", describe(inbound.message))
            return web.Response(text=SUCCESS)
        try:
            reply_xml = await self.pipeline.respond(
                dedup_key(inbound.message), message, partial(render_reply, inbound.message)
            )
        except StoreUnavailable:
            # Redis down or stalled: nothing was processed, so let WeChat retry. The pipeline's
            # outage log reports it once when it begins and once when it ends, not per request.
            return web.Response(status=503, text="service unavailable")
        body_out = self._codec.encode(reply_xml, inbound)
        return web.Response(
            text=body_out, content_type="text/plain" if body_out == SUCCESS else "application/xml"
        )

    async def _first_use(self, query: Mapping[str, str]) -> None:
        """Refuse a (timestamp, nonce) pair seen before: a captured request, or its signature with
        another body, cannot be replayed. Kept until the timestamp leaves the window; shared
        through the store, so through Redis by every worker when REDIS_URL is set."""
        timestamp, nonce = query["timestamp"], query["nonce"]  # both checked by the codec
        ttl = max(1.0, int(timestamp) + self._codec.window - time.time() + 1)
        try:
            fresh = await self._store.first_use(f"{timestamp}:{nonce}", ttl)
        except Exception as exc:
            self.pipeline.outage.failed(exc)
            raise StoreUnavailable(f"{type(exc).__name__}: {exc}") from exc
        if not fresh:
            raise Rejected(403, "replayed: this timestamp and nonce were already used")

    async def _read_body(self, request: web.Request) -> bytes:
        limit = self._settings.max_body_bytes
        if request.content_length is not None and request.content_length > limit:
            raise Rejected(413, f"body of {request.content_length} bytes exceeds {limit}")
        try:
            body = await request.read()
        except web.HTTPRequestEntityTooLarge:
            raise Rejected(413, f"body exceeds {limit} bytes") from None
        if not body.strip():
            raise Rejected(400, "empty body")
        return body

    async def health(self, request: web.Request) -> web.Response:
        """Always answers within HEALTH_SECONDS: a stalled store or database is a 503 with the reason,
        not a hung probe (load balancers then see "down", not "no answer")."""
        store = self._store
        desk = self._services.desk
        (store_ok, store_reason), (database_ok, pending, database_reason) = await asyncio.gather(
            _probe_store(store), _probe_database(desk)
        )
        healthy = store_ok and database_ok is not False
        body: dict[str, object] = {
            "status": "ok" if healthy else "degraded",
            "store": store.kind,
            "store_ok": store_ok,
            "database_ok": database_ok,  # null: no database connected (ordering off)
            # Pushes and notices not yet delivered: growing means WeCom or WeChat is not reachable.
            "outbox_pending": pending,
            "handbook_items": len(self._services.handbook.items),
            "handbook_version": self.handbook_version,
            "pid": os.getpid(),  # tells workers apart behind one port
        }
        if not healthy:
            body["reason"] = "; ".join(filter(None, (store_reason, database_reason)))
        return web.json_response(body, status=200 if healthy else 503)


HEALTH_SECONDS = 0.8  # each probe's budget; the two run side by side, so /healthz answers within 1 s


async def _probe_store(store: Store) -> tuple[bool, str]:
    try:
        async with asyncio.timeout(HEALTH_SECONDS):
            ok = await store.ping()
    except TimeoutError:
        return False, f"store ({store.kind}) did not answer within {HEALTH_SECONDS}s"
    except Exception as exc:  # a probe never turns into a 500
        return False, f"store ({store.kind}) failed: {type(exc).__name__}"
    return ok, "" if ok else f"store ({store.kind}) unreachable"


class _Pingable(Protocol):
    async def ping(self) -> bool: ...


class _Outbox(Protocol):
    async def pending(self) -> int: ...


class _Desk(Protocol):
    """What /healthz needs of the service desk (kept structural: the desk's module may move)."""

    @property
    def database(self) -> _Pingable: ...

    @property
    def outbox(self) -> _Outbox: ...


async def _probe_database(desk: _Desk | None) -> tuple[bool | None, int | None, str]:
    """(database_ok, outbox_pending, reason); both queries share one budget."""
    if desk is None:
        return None, None, ""
    try:
        async with asyncio.timeout(HEALTH_SECONDS):
            if not await desk.database.ping():
                return False, None, "database unreachable"
            pending = await desk.outbox.pending()
    except TimeoutError:
        return False, None, f"database did not answer within {HEALTH_SECONDS}s"
    except Exception as exc:  # e.g. the connection dropped between the two queries
        return False, None, f"database failed: {type(exc).__name__}"
    return True, pending, ""


# The only query fields an access log line keeps: the signatures would let anyone reading the log
# replay or forge within the window, and openid identifies the resident.
_LOGGED_QUERY = ("timestamp", "encrypt_type")
_SECRET_PATH = "/console/link/"


class RedactedAccessLogger(AbstractAccessLogger):
    """`--access-log` lines: remote, method, path, the harmless query fields, status, size, time."""

    def log(self, request: BaseRequest, response: StreamResponse, time: float) -> None:
        query = "&".join(f"{k}={request.query[k]}" for k in _LOGGED_QUERY if k in request.query)
        path = request.path
        if path.startswith(_SECRET_PATH):  # a console sign-in link carries its one-time token
            path = _SECRET_PATH + "…"
        self.logger.info(
            '%s "%s %s%s" %d %d %.3fs',
            request.remote,
            request.method,
            path,
            "?" + query if query else "",
            response.status,
            response.body_length,
            time,
        )


def access_log_options(enabled: bool) -> dict[str, Any]:
    """web.run_app / AppRunner arguments for `serve --access-log` (off: no access log at all)."""
    if not enabled:
        return {"access_log": None}
    return {"access_log": logging.getLogger("aiohttp.access"), "access_log_class": RedactedAccessLogger}


def _reject(request: web.Request, exc: Rejected) -> web.Response:
    log.warning(
        "rejected %s %s from %s: %d %s", request.method, request.path, request.remote, exc.status, exc.reason
    )
    return web.Response(status=exc.status, text=exc.reason)


def create_app(
    settings: Settings,
    services: Services,
    store: Store,
    codec: WeChatCodec | None = None,
    *,
    open_database: bool = False,
    run_worker: bool = False,
    handbook_version: int | None = None,
) -> web.Application:
    """The webhook app. `open_database`: connect and migrate DATABASE_URL at start-up (online
    ordering on); `run_worker`: drain the outbox in this process too; `handbook_version`: the
    database version `services` were built from (None: the newest at start-up is taken as the one
    in use). With a database, newer handbook versions are swapped in as they are published."""
    # client_max_size makes aiohttp refuse larger bodies while streaming them in (413 above).
    app = web.Application(client_max_size=settings.max_body_bytes)
    webhook = Webhook(settings, services, store, codec)
    app.router.add_get("/wechat", webhook.verify)
    app.router.add_post("/wechat", webhook.receive)
    app.router.add_get("/healthz", webhook.health)
    closing: list[Callable[[], Awaitable[None]]] = []
    # Whatever else keeps a handbook (the outbox worker, the scheduler) is told of a new version.
    handbook_users: list[Callable[[Handbook], None]] = []
    webhook.handbook_version = handbook_version

    def use_version(handbook: Handbook, classifier: Classifier, number: int) -> None:
        current = replace(webhook.services, handbook=handbook, classifier=classifier)
        if current.desk is not None:
            current.desk.calendar = handbook.calendar  # holidays and make-up working days
        webhook.use(current)
        webhook.handbook_version = number
        for user in handbook_users:
            user(handbook)

    async def startup(app: web.Application) -> None:
        current = services
        if open_database:
            # `serve` migrated before starting (once, not once per worker process).
            current, database = await open_desk(settings, services, migrate=False)
            webhook.use(current)
            closing.append(current.desk.conversations.flush)
            closing.append(database.close)
        if isinstance(current.desk, ServiceDesk) and settings.handbook_poll_seconds > 0:
            versions = HandbookVersions(current.desk.database, current.desk.clock)
            if webhook.handbook_version is None:  # read before the first request is served
                try:
                    webhook.handbook_version = await versions.latest_number()
                except Exception as exc:  # a database down at start-up: the watcher reads it later
                    log.warning("handbook version not read at start-up: %s", exc)
            watcher = HandbookWatcher(
                versions, webhook.handbook_version, use_version, settings.handbook_poll_seconds
            )
            watcher.start()
            closing.insert(0, watcher.close)
        if run_worker and current.desk is not None:
            outgoing = build_outgoing(settings, current, store)
            keeper = clock_keeper(current.desk, current.handbook)
            keeper.claim_minutes_of = lambda item_id: webhook.services.handbook.claim_minutes(item_id)
            scheduler = Scheduler(keeper, settings.scheduler_seconds, current.handbook)
            handbook_users.append(outgoing.worker.use_handbook)
            handbook_users.append(lambda handbook: setattr(scheduler, "handbook", handbook))
            tasks = {
                asyncio.create_task(outgoing.worker.run(), name="outbox-worker"),
                asyncio.create_task(scheduler.run(), name="ticket-clocks"),
            }

            async def stop_worker() -> None:
                outgoing.worker.stop()
                scheduler.stop()
                await asyncio.wait(tasks, timeout=5)
                await outgoing.close()

            closing.insert(0, stop_worker)

    async def shutdown(app: web.Application) -> None:
        await webhook.pipeline.drain()
        for close in closing:
            await close()
        await store.close()

    app.on_startup.append(startup)
    app.on_cleanup.append(shutdown)
    if settings.console:  # after `startup`, which opens the database the console reads
        import console

        console.setup(app, settings, lambda: webhook.services)
    return app
