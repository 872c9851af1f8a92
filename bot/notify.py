"""HTTP clients for what leaves through the outbox: the WeCom group robot and WeChat's
customer-service message API (with its access_token, cached for every process).

wechatpy's WeChatClient is synchronous (requests); these few calls are made with aiohttp so the
worker never blocks the event loop that also answers residents.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import aiohttp

from storage.shared import ValueCache

log = logging.getLogger("baishitong.notify")

RETRYABLE_ROBOT = {-1, 45009}  # system busy; over the per-minute limit
TOKEN_INVALID = {40001, 40014, 42001}  # invalid or expired access_token: fetch a new one
NOT_NOW = {45015, 45047}  # outside the 48-hour window; over the per-resident quota


@dataclass(frozen=True, slots=True)
class SendResult:
    ok: bool
    code: int
    message: str

    @property
    def retryable(self) -> bool:
        return self.code in RETRYABLE_ROBOT or self.code == -2  # -2: network error or timeout here


async def _post_json(session: aiohttp.ClientSession, url: str, body: dict[str, Any]) -> SendResult:
    try:
        async with session.post(url, json=body) as response:
            data = await response.json(content_type=None)
    except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
        return SendResult(False, -2, f"network: {exc!r}"[:200])
    code = int(data.get("errcode", 0) or 0)
    return SendResult(code == 0, code, str(data.get("errmsg", "")))


class WeComRobot:
    """One group robot: POST {"msgtype": "markdown"} to its webhook URL."""

    def __init__(self, session: aiohttp.ClientSession, url: str):
        self._session = session
        self.url = url

    async def send_markdown(self, content: str) -> SendResult:
        # The robot takes at most 4096 bytes of markdown.
        data = content.encode()
        if len(data) > 4096:
            content = data[:4080].decode(errors="ignore") + "\n……"
        return await _post_json(
            self._session, self.url, {"msgtype": "markdown", "markdown": {"content": content}}
        )

    async def send_image(self, base64_png: str, md5: str) -> SendResult:
        """An image message (the monthly chart): base64 of at most 2 MB, with its md5."""
        body = {"msgtype": "image", "image": {"base64": base64_png, "md5": md5}}
        return await _post_json(self._session, self.url, body)


class CustomerService:
    """WeChat customer-service text messages to a resident, within 48 hours of their last message."""

    TOKEN_KEY = "wechat:access_token"

    def __init__(
        self, session: aiohttp.ClientSession, base: str, app_id: str, secret: str, cache: ValueCache
    ):
        self._session = session
        self._base = base.rstrip("/")
        self._app_id = app_id
        self._secret = secret
        self._cache = cache

    async def access_token(self, *, refresh: bool = False, stale: str | None = None) -> str | None:
        """The cached token, or a new one. Refreshing deletes only the token the caller saw fail,
        so processes that all see 40001 at once fetch one new token, not one each."""
        if refresh and stale:
            await self._cache.delete(self.TOKEN_KEY, only_if=stale)
        token = await self._cache.get(self.TOKEN_KEY)
        if token:
            return token
        url = f"{self._base}/cgi-bin/token"
        params = {"grant_type": "client_credential", "appid": self._app_id, "secret": self._secret}
        try:
            async with self._session.get(url, params=params) as response:
                data = await response.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            log.warning("access_token request failed: %r", exc)
            return None
        token = data.get("access_token")
        if not token:
            log.error("access_token refused: %s %s", data.get("errcode"), data.get("errmsg"))
            return None
        # Renew five minutes early so no request carries a token about to lapse.
        await self._cache.set(self.TOKEN_KEY, token, max(60, int(data.get("expires_in", 7200)) - 300))
        return token

    async def send_text(self, openid: str, content: str) -> SendResult:
        token = await self.access_token()
        for _ in range(2):
            if token is None:
                return SendResult(False, -2, "no access_token")
            url = f"{self._base}/cgi-bin/message/custom/send?access_token={token}"
            body = {"touser": openid, "msgtype": "text", "text": {"content": content}}
            result = await _post_json(self._session, url, body)
            if result.code not in TOKEN_INVALID:
                return result
            log.info("access_token rejected (%d): fetching a new one", result.code)
            token = await self.access_token(refresh=True, stale=token)
        return result
