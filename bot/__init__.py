"""Transports: the WeChat webhook, the outbox worker (later), the CLI. Only this package knows
aiohttp, wechatpy, XML, crypto and configuration."""
