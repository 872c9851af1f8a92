"""Everything WeChat-specific about one HTTP exchange: signatures, timestamps, safe XML, AES,
parsing into plain handler messages, and rendering replies. Crypto and parsing are wechatpy's.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from xml.parsers import expat

from wechatpy import parse_message
from wechatpy.crypto import WeChatCrypto
from wechatpy.exceptions import InvalidAppIdException, InvalidSignatureException
from wechatpy.messages import BaseMessage
from wechatpy.replies import TextReply
from wechatpy.utils import check_signature

from bot.settings import Settings
from handlers import Message, Reply

SUCCESS = "success"  # what WeChat expects when there is nothing to say; it then does not retry

_KINDS = {"text", "voice", "image", "location", "link", "video", "shortvideo", "miniprogrampage"}
# Every way of following: plain, from a QR code (qrscene_…), from a product page (scanbarcode|… /
# scanimage|…), each parsed by wechatpy into its own event type.
_SUBSCRIBE_EVENTS = frozenset({"subscribe", "subscribe_scan", "subscribe_scan_product"})


class Rejected(Exception):
    """A request that must not be processed; carries the HTTP status and a one-line reason."""

    def __init__(self, status: int, reason: str):
        super().__init__(reason)
        self.status = status
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Inbound:
    message: BaseMessage
    encrypted: bool
    nonce: str


class WeChatCodec:
    """Authenticates by the configured message mode (plaintext / compatible / safe) and refuses
    anything weaker: in compatible and safe mode only msg_signature over the encrypted body counts."""

    def __init__(self, settings: Settings, clock: Callable[[], float] = time.time):
        self._token = settings.wechat_token
        self._mode = settings.message_mode
        self._window = settings.timestamp_window
        self._clock = clock
        self._crypto = (
            WeChatCrypto(settings.wechat_token, settings.wechat_aes_key, settings.wechat_app_id)
            if settings.wechat_aes_key
            else None
        )

    @property
    def window(self) -> int:
        """Seconds a timestamp stays acceptable either side of now (and a nonce is remembered)."""
        return self._window

    def verify_url(self, query: Mapping[str, str]) -> str:
        """GET: the platform's server URL check; answer echostr when the signature is ours."""
        self._check_timestamp(query)
        self._check_signature(query)
        echostr = query.get("echostr")
        if echostr is None:
            raise Rejected(400, "missing echostr")
        return echostr

    def decode(self, query: Mapping[str, str], body: bytes) -> Inbound:
        """POST: authenticate, decrypt when asked to, and parse; raise Rejected on anything off."""
        self._check_timestamp(query)
        nonce = query.get("nonce", "")
        encrypted = query.get("encrypt_type", "raw").lower() == "aes"
        if not encrypted:
            if self._mode != "plaintext":
                raise Rejected(
                    403, f"{self._mode} mode: unencrypted request refused (needs encrypt_type=aes)"
                )
            # Plaintext mode (development): WeChat's signature covers token, timestamp, nonce only.
            self._check_signature(query)
        outer = _reject_unsafe_xml(body, "body")
        xml: bytes | str = body
        if encrypted:
            if self._mode == "safe" and _READABLE_FIELDS & outer:
                raise Rejected(
                    403,
                    "safe mode: the body also carries the message unencrypted (platform in compatible mode?)",
                )
            # Only the decrypted part is used: the readable copy of compatible mode is not signed.
            xml = self._decrypt(query, body)
            _reject_unsafe_xml(xml.encode("utf-8"), "decrypted message")
        try:
            message = parse_message(xml)
        except Exception as exc:  # xmltodict/expat errors, or XML without MsgType
            raise Rejected(400, f"not a WeChat message: {type(exc).__name__}") from None
        if message is None:
            raise Rejected(400, "not a WeChat message: empty")
        _check_fields(message)
        if not message.source:
            raise Rejected(400, "not a WeChat message: no FromUserName")
        return Inbound(message, encrypted, nonce)

    def encode(self, reply_xml: str, inbound: Inbound) -> str:
        """Encrypt the reply when its request was encrypted; "success" stays plain."""
        if not inbound.encrypted or reply_xml == SUCCESS or self._crypto is None:
            return reply_xml
        return self._crypto.encrypt_message(reply_xml, inbound.nonce, str(int(self._clock())))

    def _check_timestamp(self, query: Mapping[str, str]) -> None:
        timestamp, nonce = query.get("timestamp"), query.get("nonce")
        if not timestamp or not nonce:
            raise Rejected(403, "missing timestamp or nonce")
        if len(nonce) > 64:  # the platform's are about ten digits; the replay cache keeps each one
            raise Rejected(403, "nonce longer than 64 characters")
        if not timestamp.isascii() or not timestamp.isdigit() or len(timestamp) > 12:
            raise Rejected(403, "timestamp is not a number")
        if abs(self._clock() - int(timestamp)) > self._window:
            raise Rejected(403, f"timestamp outside the {self._window}s window")

    def _check_signature(self, query: Mapping[str, str]) -> None:
        """The plain signature: sha1 of the sorted token, timestamp and nonce (no body)."""
        signature, timestamp, nonce = query.get("signature"), query["timestamp"], query["nonce"]
        if not signature:
            raise Rejected(403, "missing signature")
        try:
            check_signature(self._token, signature, timestamp, nonce)
        except InvalidSignatureException:
            raise Rejected(403, "bad signature") from None

    def _decrypt(self, query: Mapping[str, str], body: bytes) -> str:
        if self._crypto is None:
            raise Rejected(400, "encrypted message but WECHAT_AES_KEY is not configured")
        msg_signature = query.get("msg_signature")
        if not msg_signature:
            raise Rejected(403, "missing msg_signature")
        try:
            return self._crypto.decrypt_message(body, msg_signature, query["timestamp"], query["nonce"])
        except InvalidSignatureException:
            raise Rejected(403, "bad msg_signature") from None
        except InvalidAppIdException:
            raise Rejected(403, "decrypted AppID is not ours") from None
        except Exception as exc:  # malformed base64, padding or length inside the ciphertext
            raise Rejected(400, f"cannot decrypt: {type(exc).__name__}") from None


def _forbidden(*_: object) -> None:
    raise _ForbiddenXml


class _ForbiddenXml(Exception):
    pass


def _reject_unsafe_xml(data: bytes, what: str) -> frozenset[str]:
    """Refuse DOCTYPE and entity declarations (billion laughs, external entities) and malformed XML.

    This is defusedxml's own technique (handlers on the expat parser that raise on DTD and entity
    declarations) applied to a bare expat pass: defusedxml's ElementTree wrapper builds a full tree
    in Python, which cost 8x more per message than this check and was thrown away unused.
    Returns the names of the root's child elements.
    """
    depth = 0
    children: set[str] = set()

    def start(name: str, _attrs: object) -> None:
        nonlocal depth
        depth += 1
        if depth == 2:
            children.add(name)

    def end(_name: str) -> None:
        nonlocal depth
        depth -= 1

    parser = expat.ParserCreate()
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.StartDoctypeDeclHandler = _forbidden
    parser.EntityDeclHandler = _forbidden
    parser.UnparsedEntityDeclHandler = _forbidden
    parser.ExternalEntityRefHandler = _forbidden
    try:
        parser.Parse(data, True)
    except _ForbiddenXml:
        raise Rejected(400, f"{what}: forbidden XML construct (DOCTYPE or entity)") from None
    except expat.ExpatError as exc:
        raise Rejected(400, f"{what}: malformed XML ({exc})") from None
    return frozenset(children)


# In safe mode the platform sends only ToUserName and Encrypt; these mean a readable copy came too.
_READABLE_FIELDS = frozenset({"FromUserName", "MsgType", "Content", "MsgId", "Event"})


# Fields the bot reads: each must be one plain value (xmltodict turns a nested element into a dict
# and a repeated one into a list, which would otherwise fail deep in the store as an "outage").
_SCALAR_FIELDS = ("ToUserName", "FromUserName", "CreateTime", "MsgType", "MsgId", "Content", "Recognition")
_SCALAR_FIELDS += ("Event", "EventKey")
_NUMBER_FIELDS = ("CreateTime", "MsgId")  # 64-bit unsigned on the platform: at most 20 digits
_MAX_NUMBER = 2**64


def _check_fields(message: BaseMessage) -> None:
    """Refuse (400) a message whose fields the handlers and the store cannot take as they are."""
    data = message._data
    for name in _SCALAR_FIELDS:
        value = data.get(name)
        if value is not None and not isinstance(value, str):
            shape = "repeated" if isinstance(value, list) else "nested"
            raise Rejected(400, f"not a WeChat message: {shape} {name}")
    for name in _NUMBER_FIELDS:
        value = data.get(name)
        if value is None and name == "MsgId":
            continue  # events have none
        if value is None or not value.isascii() or not value.isdigit() or int(value) >= _MAX_NUMBER:
            raise Rejected(400, f"not a WeChat message: {name} is not a 64-bit number")


def dedup_key(message: BaseMessage) -> str:
    """WeChat's retry identity: MsgId for messages, FromUserName + CreateTime for events.

    Event and EventKey are added because two different events of one resident in the same second
    (subscribe, then a menu click) would otherwise share a key; a retry repeats both exactly.
    """
    if message.id:
        return f"msg:{message.id}"
    event = getattr(message, "event", "")
    key = message._data.get("EventKey") or ""  # wechatpy's .key splits some keys and may raise
    return f"evt:{message.source}:{message.time}:{event}:{key}"


def to_message(message: BaseMessage) -> Message:
    kind, source = message.type, message.source  # wechatpy converts fields on every access: read once
    if kind == "text":
        return Message(source, "text", message.content or "")
    if kind == "voice":
        return Message(source, "voice", getattr(message, "recognition", None) or "")
    if kind == "event":
        event = getattr(message, "event", "")
        if event in _SUBSCRIBE_EVENTS:
            return Message(source, "subscribe")
        if event == "click":
            return Message(source, "click", event_key=getattr(message, "key", "") or "")
        return Message(source, "other")
    return Message(source, kind if kind in _KINDS else "other")


def describe(message: BaseMessage) -> str:
    """What the platform sent, for the log: the message type, or for an event its name."""
    if message.type == "event":
        return f"event {getattr(message, 'event', '') or message._data.get('Event') or '?'}"
    return f"message {message.type}"


def render_reply(message: BaseMessage, reply: Reply) -> str:
    if reply.text is None:
        return SUCCESS
    return TextReply(message=message, content=reply.text).render()
