"""Loopback stand-ins for WeChat's API and the WeCom group robot, behaving as their documentation says.

They run as real aiohttp servers; the project's own clients talk HTTP to them.
- WeChat: GET /cgi-bin/token (appid + secret → access_token, expires_in 7200);
  POST /cgi-bin/message/custom/send: 40001 for an unknown or revoked token, 45015 when the resident
  has not written within 48 hours, 45047 past the per-resident quota.
- WeCom robot: POST /cgi-bin/webhook/send?key=K: 20 messages per sliding minute per robot,
  45009 for the 21st; -1 (system busy) or a slow answer on demand.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer


@dataclass
class FakeWeChat:
    app_id: str
    secret: str
    tokens: set[str] = field(default_factory=set)
    token_requests: int = 0
    outside_48h: set[str] = field(default_factory=set)  # openids that have not written for 48 hours
    quota: int = 100  # messages per resident before 45047 (the real limit is 5 per 48 hours)
    sent: list[dict[str, Any]] = field(default_factory=list)
    server: TestServer | None = None

    def revoke_tokens(self) -> None:
        """As when the token expires or another client fetched a new one (40001 / 42001 follow)."""
        self.tokens.clear()

    async def start(self) -> str:
        app = web.Application()
        app.router.add_get("/cgi-bin/token", self._token)
        app.router.add_post("/cgi-bin/message/custom/send", self._send)
        self.server = TestServer(app, host="127.0.0.1")
        await self.server.start_server()
        return str(self.server.make_url("")).rstrip("/")

    async def close(self) -> None:
        if self.server:
            await self.server.close()

    async def _token(self, request: web.Request) -> web.Response:
        self.token_requests += 1
        q = request.query
        if (
            q.get("grant_type") != "client_credential"
            or q.get("appid") != self.app_id
            or q.get("secret") != self.secret
        ):
            return web.json_response({"errcode": 40125, "errmsg": "invalid appsecret"})
        token = uuid.uuid4().hex
        self.tokens.add(token)
        return web.json_response({"access_token": token, "expires_in": 7200})

    async def _send(self, request: web.Request) -> web.Response:
        if request.query.get("access_token") not in self.tokens:
            return web.json_response(
                {"errcode": 40001, "errmsg": "invalid credential, access_token is invalid"}
            )
        body = await request.json()
        openid = body.get("touser")
        if openid in self.outside_48h:
            return web.json_response(
                {"errcode": 45015, "errmsg": "response out of time limit or subscription is canceled"}
            )
        if sum(1 for m in self.sent if m["touser"] == openid) >= self.quota:
            return web.json_response({"errcode": 45047, "errmsg": "out of response count limit"})
        self.sent.append(body)
        return web.json_response({"errcode": 0, "errmsg": "ok"})

    def texts_to(self, openid: str) -> list[str]:
        return [m["text"]["content"] for m in self.sent if m["touser"] == openid]


@dataclass
class FakeRobot:
    key: str = "robot-key"
    per_minute: int = 20
    busy_next: int = 0  # answer -1 (system busy) to this many requests
    delay: float = 0.0  # answer this late
    received: list[dict[str, Any]] = field(default_factory=list)  # accepted messages
    refused: list[int] = field(default_factory=list)  # errcodes answered
    _times: deque[float] = field(default_factory=deque)
    server: TestServer | None = None

    async def start(self) -> str:
        app = web.Application()
        app.router.add_post("/cgi-bin/webhook/send", self._send)
        self.server = TestServer(app, host="127.0.0.1")
        await self.server.start_server()
        return str(self.server.make_url(f"/cgi-bin/webhook/send?key={self.key}"))

    async def close(self) -> None:
        if self.server:
            await self.server.close()

    async def _send(self, request: web.Request) -> web.Response:
        if self.delay:
            await asyncio.sleep(self.delay)
        if request.query.get("key") != self.key:
            return self._refuse(93000, "invalid webhook url")
        if self.busy_next > 0:
            self.busy_next -= 1
            return self._refuse(-1, "system busy")
        now = time.monotonic()
        while self._times and self._times[0] <= now - 60:
            self._times.popleft()
        if len(self._times) >= self.per_minute:
            return self._refuse(45009, "api freq out of limit")
        body = await request.json()
        if body.get("msgtype") == "image":
            import base64
            import hashlib

            data = base64.b64decode(body["image"]["base64"])
            if len(data) > 2 * 1024 * 1024 or hashlib.md5(data).hexdigest() != body["image"]["md5"]:
                return self._refuse(40009, "invalid image size or md5")
        elif body.get("msgtype") != "markdown" or len(body["markdown"]["content"].encode()) > 4096:
            return self._refuse(40058, "markdown.content exceed max length or invalid")
        self._times.append(now)
        self.received.append(body)
        return web.json_response({"errcode": 0, "errmsg": "ok"})

    def _refuse(self, code: int, message: str) -> web.Response:
        self.refused.append(code)
        return web.json_response({"errcode": code, "errmsg": message})

    @property
    def contents(self) -> list[str]:
        return [m["markdown"]["content"] for m in self.received if m["msgtype"] == "markdown"]

    @property
    def images(self) -> list[bytes]:
        import base64

        return [base64.b64decode(m["image"]["base64"]) for m in self.received if m["msgtype"] == "image"]
