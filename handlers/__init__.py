"""Decide the answer to one resident message. Transport-agnostic: no aiohttp, no wechatpy.

The same `dispatch` serves the WeChat webhook and `baishitong chat`.
"""

from handlers.dispatcher import dispatch
from handlers.types import Message, Reply, Services

__all__ = ["Message", "Reply", "Services", "dispatch"]
