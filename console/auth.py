"""Who is asking: the session cookie read into a Viewer, the CSRF check on every POST, and the
cookies' settings (HttpOnly, SameSite=Strict, Secure behind HTTPS, path /console)."""

from __future__ import annotations

import hmac
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from functools import wraps

from aiohttp import web

from console.state import state
from desk import policy
from desk.board import scope
from storage.models import StaffMember

SESSION_COOKIE = "bst_console"
PENDING_COOKIE = "bst_console_signin"
CSRF_FIELD = "csrf"
CSRF_HEADER = "X-CSRF-Token"
log = logging.getLogger("baishitong.console")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
ViewerHandler = Callable[[web.Request, "Viewer"], Awaitable[web.StreamResponse]]


@dataclass(frozen=True, slots=True)
class Viewer:
    member: StaffMember
    csrf: str
    token: str
    scope: policy.Scope
    expires_at: datetime


def client_of(request: web.Request) -> str:
    """The client a sign-in attempt is counted against: the peer address."""
    return request.remote or "unknown"


def set_cookie(
    response: web.StreamResponse, request: web.Request, name: str, value: str, seconds: int
) -> None:
    response.set_cookie(
        name,
        value,
        max_age=seconds,
        path="/console",
        httponly=True,
        samesite="Strict",
        secure=_https(request),
    )


def _https(request: web.Request) -> bool:
    """Behind the HTTPS reverse proxy the README describes, the proxy says so. Trusting the header
    is harmless: a client that forges it only makes its own cookie HTTPS-only."""
    return request.secure or request.headers.get("X-Forwarded-Proto", "").lower() == "https"


def drop_cookie(response: web.StreamResponse, name: str) -> None:
    response.del_cookie(name, path="/console")


async def viewer_of(request: web.Request) -> Viewer | None:
    desk = state(request).desk()
    token = request.cookies.get(SESSION_COOKIE, "")
    found = await desk.signin.session(token)
    if found is None:
        return None
    session, member = found
    return Viewer(member, session.csrf, token, await scope(desk, member), session.expires_at)


def signed_in(handler: ViewerHandler) -> Handler:
    """The page for a signed-in viewer: others go to the sign-in page (GET) or get 403 (POST);
    a POST without the session's CSRF token is refused (403) and audited."""

    @wraps(handler)
    async def wrapper(request: web.Request) -> web.StreamResponse:
        viewer = await viewer_of(request)
        if viewer is None:
            if request.method == "GET":
                raise web.HTTPSeeOther("/console/signin")
            log.info("refused %s %s from %s: not signed in", request.method, request.path, client_of(request))
            raise web.HTTPForbidden(text="请先登录")
        if request.method == "POST" and not await _csrf_ok(request, viewer):
            log.warning(
                "refused %s %s for %s: no valid CSRF token", request.method, request.path, viewer.member.name
            )
            await (
                state(request)
                .desk()
                .signin.refused("csrf_refused", viewer.member.name, client_of(request), path=request.path)
            )
            raise web.HTTPForbidden(text="请求已过期或来源不明（缺少校验码），请刷新页面后再试")
        return await handler(request, viewer)

    return wrapper


async def _csrf_ok(request: web.Request, viewer: Viewer) -> bool:
    sent = request.headers.get(CSRF_HEADER, "")
    if not sent:
        form = await request.post()
        value = form.get(CSRF_FIELD, "")
        sent = value if isinstance(value, str) else ""
    return bool(sent) and hmac.compare_digest(sent, viewer.csrf)
