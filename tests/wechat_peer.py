"""Build requests the way the Official Account platform does, from its documentation.

Signatures are computed here independently (sha1 of the sorted strings), so a test fails if the
server's checks drift from the documented algorithm. AES payloads use wechatpy's PrpCrypto, the
same message format the platform produces: random(16) + length(4, network order) + xml + AppID.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import math
import os
import time
from dataclasses import dataclass, field
from urllib.parse import urlencode

from wechatpy.crypto import PrpCrypto, WeChatCrypto

TOKEN = "baishitong-test-token"
APP_ID = "wx1234567890abcdef"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"  # 43 characters, as the platform issues
OFFICIAL_ACCOUNT = "gh_community0001"

_msg_ids = itertools.count(int(time.time() * 1000))


def sha1_signature(*parts: str) -> str:
    return hashlib.sha1("".join(sorted(parts)).encode()).hexdigest()


def text_xml(openid: str, content: str, msg_id: int | None = None, create_time: int | None = None) -> str:
    msg_id = next(_msg_ids) if msg_id is None else msg_id
    return (
        f"<xml><ToUserName><![CDATA[{OFFICIAL_ACCOUNT}]]></ToUserName>"
        f"<FromUserName><![CDATA[{openid}]]></FromUserName>"
        f"<CreateTime>{create_time or int(time.time())}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
        f"<Content><![CDATA[{content}]]></Content><MsgId>{msg_id}</MsgId></xml>"
    )


def voice_xml(openid: str, recognition: str | None) -> str:
    rec = f"<Recognition><![CDATA[{recognition}]]></Recognition>" if recognition is not None else ""
    return (
        f"<xml><ToUserName><![CDATA[{OFFICIAL_ACCOUNT}]]></ToUserName><FromUserName><![CDATA[{openid}]]></FromUserName>"
        f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[voice]]></MsgType>"
        f"<MediaId><![CDATA[media-1]]></MediaId><Format><![CDATA[amr]]></Format>{rec}<MsgId>{next(_msg_ids)}</MsgId></xml>"
    )


def event_xml(openid: str, event: str, key: str | None = None, create_time: int | None = None) -> str:
    key_xml = f"<EventKey><![CDATA[{key}]]></EventKey>" if key is not None else ""
    return (
        f"<xml><ToUserName><![CDATA[{OFFICIAL_ACCOUNT}]]></ToUserName><FromUserName><![CDATA[{openid}]]></FromUserName>"
        f"<CreateTime>{create_time or int(time.time())}</CreateTime><MsgType><![CDATA[event]]></MsgType>"
        f"<Event><![CDATA[{event}]]></Event>{key_xml}</xml>"
    )


def media_xml(openid: str, kind: str) -> str:
    extra = {
        "image": "<PicUrl><![CDATA[http://example.invalid/a.jpg]]></PicUrl><MediaId><![CDATA[m]]></MediaId>",
        "location": (
            "<Location_X>30.6</Location_X><Location_Y>104.0</Location_Y>"
            "<Scale>15</Scale><Label><![CDATA[x]]></Label>"
        ),
        "link": "<Title><![CDATA[t]]></Title><Description><![CDATA[d]]></Description><Url><![CDATA[http://example.invalid]]></Url>",
        "video": "<MediaId><![CDATA[m]]></MediaId><ThumbMediaId><![CDATA[t]]></ThumbMediaId>",
    }.get(kind, "")
    return (
        f"<xml><ToUserName><![CDATA[{OFFICIAL_ACCOUNT}]]></ToUserName><FromUserName><![CDATA[{openid}]]></FromUserName>"
        f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[{kind}]]></MsgType>{extra}"
        f"<MsgId>{next(_msg_ids)}</MsgId></xml>"
    )


@dataclass
class SignedRequest:
    query: dict[str, str]
    body: bytes

    @property
    def path(self) -> str:
        return "/wechat?" + urlencode(self.query)


@dataclass
class WeChatPlatform:
    """Signs (and in safe/compatible mode encrypts) deliveries like the platform does."""

    token: str = TOKEN
    app_id: str = APP_ID
    aes_key: str = AES_KEY
    clock_skew: int = 0
    openid_param: bool = True
    _nonces: itertools.count = field(default_factory=lambda: itertools.count(1))

    def _base_query(self, openid: str | None) -> dict[str, str]:
        # A skew ahead is rounded up: int() rounds down, and "301 s ahead" sent at x.9 s arrived only
        # 300.x s ahead a tenth of a second later — inside the 300 s window (a CI run failed so).
        now = time.time()
        timestamp = str((math.ceil(now) if self.clock_skew > 0 else int(now)) + self.clock_skew)
        nonce = f"{next(self._nonces)}{os.getpid()}"
        query = {
            "signature": sha1_signature(self.token, timestamp, nonce),
            "timestamp": timestamp,
            "nonce": nonce,
        }
        if openid and self.openid_param:
            query["openid"] = openid
        return query

    def verification(self, echostr: str = "echo-12345") -> SignedRequest:
        query = self._base_query(None)
        query["echostr"] = echostr
        return SignedRequest(query, b"")

    def plaintext(self, xml: str, openid: str = "") -> SignedRequest:
        return SignedRequest(self._base_query(openid), xml.encode())

    def safe(
        self, xml: str, openid: str = "", *, app_id: str | None = None, compatible: bool = False
    ) -> SignedRequest:
        query = self._base_query(openid)
        encrypt = PrpCrypto(base64.b64decode(self.aes_key + "=")).encrypt(xml, app_id or self.app_id).decode()
        query["encrypt_type"] = "aes"
        query["msg_signature"] = sha1_signature(self.token, query["timestamp"], query["nonce"], encrypt)
        if compatible:
            inner = xml.replace("</xml>", "")
            body = f"{inner}<Encrypt><![CDATA[{encrypt}]]></Encrypt></xml>"
        else:
            body = (
                f"<xml><ToUserName><![CDATA[{OFFICIAL_ACCOUNT}]]></ToUserName>"
                f"<Encrypt><![CDATA[{encrypt}]]></Encrypt></xml>"
            )
        return SignedRequest(query, body.encode())

    def decrypt_reply(self, body: str, request: SignedRequest) -> str:
        """Check the reply's MsgSignature and decrypt it, as the platform does on receipt."""
        import xmltodict

        fields = xmltodict.parse(body)["xml"]
        expected = sha1_signature(self.token, fields["TimeStamp"], fields["Nonce"], fields["Encrypt"])
        assert fields["MsgSignature"] == expected, "reply signature does not verify"
        crypto = WeChatCrypto(self.token, self.aes_key, self.app_id)
        return crypto.decrypt_message(body, fields["MsgSignature"], fields["TimeStamp"], fields["Nonce"])


def reply_content(xml: str) -> str:
    import xmltodict

    return xmltodict.parse(xml)["xml"]["Content"]
