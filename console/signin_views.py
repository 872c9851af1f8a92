"""Signing in and out: the code page and its poll, the CLI's one-time link, sign-out (here or
everywhere). Every outcome is in the audit log (desk/signin.py)."""

from __future__ import annotations

import logging

import aiohttp_jinja2
from aiohttp import web

from console.auth import (
    PENDING_COOKIE,
    SESSION_COOKIE,
    Viewer,
    client_of,
    drop_cookie,
    set_cookie,
    signed_in,
    viewer_of,
)
from console.pages import message
from console.state import state
from desk import signin
from desk.refusals import Refused
from handlers.wording import refusal

log = logging.getLogger("baishitong.console")
routes = web.RouteTableDef()


@routes.get("/console/signin")
async def signin_page(request: web.Request) -> web.StreamResponse:
    if await viewer_of(request) is not None:  # already signed in: no code needed
        return see_other("/console/")
    desk = state(request).desk()
    client = client_of(request)
    try:
        pending = await desk.signin.start(client)
    except Refused as refused:
        log.warning("sign-in refused for %s: %s", client, refused.reason)
        return _message(request, "登录已暂停", refusal(refused), status=429)
    response = aiohttp_jinja2.render_template(
        "signin.html",
        request,
        {"code": pending.code, "minutes": signin.CODE_MINUTES, "expires_at": pending.expires_at.isoformat()},
    )
    set_cookie(response, request, PENDING_COOKIE, pending.token, signin.CODE_MINUTES * 60)
    return response


@routes.get("/console/signin/status")
async def signin_status(request: web.Request) -> web.StreamResponse:
    """The sign-in page polls this each second: waiting, expired, or signed in (cookie set here)."""
    token = request.cookies.get(PENDING_COOKIE, "")
    desk = state(request).desk()
    try:
        signed = await desk.signin.poll(token, client_of(request)) if token else None
    except Refused:
        return web.json_response({"state": "expired"})
    if signed is None:
        return web.json_response({"state": "waiting" if token else "expired"})
    response = web.json_response({"state": "ok", "next": "/console/"})
    _signed_in(response, request, signed)
    return response


@routes.get("/console/link/{token}")
async def signin_link(request: web.Request) -> web.StreamResponse:
    desk = state(request).desk()
    client = client_of(request)
    try:
        signed = await desk.signin.use_link(request.match_info["token"], client)
    except Refused as refused:
        log.warning("sign-in link refused for %s: %s", client, refused.reason)
        status = 429 if refused.reason == "signin_locked" else 403
        return _message(request, "无法登录", refusal(refused), status=status)
    response = see_other("/console/")
    _signed_in(response, request, signed)
    return response


def _signed_in(response: web.StreamResponse, request: web.Request, signed: signin.Signed) -> None:
    seconds = int(state(request).desk().signin.session_hours * 3600)
    set_cookie(response, request, SESSION_COOKIE, signed.token, seconds)
    drop_cookie(response, PENDING_COOKIE)
    log.info("console: %s signed in from %s", signed.member.name, client_of(request))


@routes.post("/console/signout")
@signed_in
async def signout(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    await state(request).desk().signin.sign_out(viewer.token, viewer.member, client_of(request))
    response = see_other("/console/signin")
    drop_cookie(response, SESSION_COOKIE)
    return response


@routes.post("/console/signout-all")
@signed_in
async def signout_all(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    ended = await state(request).desk().signin.sign_out_everywhere(viewer.member, client_of(request))
    log.info("console: %s signed out everywhere (%d sessions)", viewer.member.name, ended)
    response = see_other("/console/signin")
    drop_cookie(response, SESSION_COOKIE)
    return response


def see_other(location: str) -> web.Response:
    """303 to `location` (after a POST, the browser asks for the page with GET)."""
    return web.Response(status=303, headers={"Location": location})


def _message(request: web.Request, heading: str, text: str, *, status: int) -> web.Response:
    return message(request, None, heading, text, status=status)
