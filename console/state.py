"""The console's share of the app: the desk (opened at start-up), handbook, settings and the
live-update hub, kept under one typed app key."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from aiohttp import web

from bot.settings import Settings
from handlers import Services

if TYPE_CHECKING:
    from console.live import Live
    from desk.desk import ServiceDesk


@dataclass
class ConsoleState:
    settings: Settings
    services: Callable[[], Services]  # the webhook's services, with the desk once the database is open
    live: Live | None = field(default=None)

    def desk(self) -> ServiceDesk:
        desk = self.services().desk
        if desk is None:
            raise web.HTTPServiceUnavailable(text="工作台暂不可用：数据库未连接")
        return desk


CONSOLE: web.AppKey[ConsoleState] = web.AppKey("console", ConsoleState)


def state(request: web.Request) -> ConsoleState:
    return request.app[CONSOLE]
