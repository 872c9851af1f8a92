"""Decide the answer to one resident message. Transport-agnostic: no aiohttp, no wechatpy, no store.

The same `dispatch` serves the WeChat webhook and `baishitong chat`.
"""

from handlers.conversation import Conversation
from handlers.dispatcher import dispatch
from handlers.types import Context, Message, Reply, Services

__all__ = ["Context", "Conversation", "Message", "Reply", "Services", "dispatch"]
