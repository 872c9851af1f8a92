"""Mount the console on the bot's aiohttp app: templates (autoescaped), static files from the
package, the routes, and the live-update poller started once the database is open."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import aiohttp_jinja2
import jinja2
from aiohttp import web

from bot.settings import Settings
from console import (
    board_views,
    handbook_views,
    report_views,
    responder_views,
    rota_views,
    signin_views,
    staff_views,
    ticket_views,
    unanswered_views,
)
from console.live import Live
from console.state import CONSOLE, ConsoleState
from desk.desk import ServiceDesk
from handlers import Services

HERE = Path(__file__).parent


# Pages with residents' details: never cached, never framed, scripts only from the package.
HEADERS = {
    "Content-Security-Policy": "default-src 'self'; frame-ancestors 'none'; form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


async def _headers(request: web.Request, response: web.StreamResponse) -> None:
    if request.path.startswith("/console") and not request.path.startswith("/console/static/"):
        for name, value in HEADERS.items():
            response.headers.setdefault(name, value)


async def _to_board(request: web.Request) -> web.StreamResponse:
    raise web.HTTPMovedPermanently("/console/")


def setup(app: web.Application, settings: Settings, services: Callable[[], Services]) -> None:
    """Add /console to `app`. `services` returns the webhook's current services (the desk is opened
    at start-up, after this runs)."""
    console = ConsoleState(settings, services)
    app[CONSOLE] = console
    env = aiohttp_jinja2.setup(
        app,
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=True,  # residents' text is always escaped
        undefined=jinja2.StrictUndefined,
    )
    env.globals.update(static="/console/static", viewer=None, back=None)
    app.router.add_get("/console", _to_board)
    for table in (
        signin_views.routes,
        board_views.routes,
        ticket_views.routes,
        report_views.routes,
        unanswered_views.routes,
        rota_views.routes,
        staff_views.routes,
        responder_views.routes,  # 党员报到 (the task list, issue 16)
        handbook_views.routes,
    ):
        app.router.add_routes(table)
    app.router.add_static("/console/static", HERE / "static", name="console-static")

    async def start_live(app: web.Application) -> None:
        desk = services().desk
        if isinstance(desk, ServiceDesk):  # not a stand-in (tests of /healthz use one)
            desk.signin.session_hours = settings.console_session_hours
            console.live = Live(desk.database)
            await console.live.start()

    async def stop_live(app: web.Application) -> None:
        if console.live is not None:
            await console.live.close()

    app.on_response_prepare.append(_headers)
    app.on_startup.append(start_live)
    app.on_shutdown.append(stop_live)
