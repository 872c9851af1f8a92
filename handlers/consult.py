"""consult: answer what to bring, where, when, how long — or ask which item when two are close."""

from __future__ import annotations

import re

from handlers import render
from handlers.types import Message, Reply, Services
from intents import Classification

_NUMBER = re.compile(r"^\s*(?:第)?([0-9１-９一二三四五六七八九])\s*(?:个|项|号)?\s*[。.!！]?\s*$")
_CHINESE_DIGITS = {c: i + 1 for i, c in enumerate("一二三四五六七八九")}


async def answer(message: Message, services: Services, item_id: str) -> Reply:
    """The checklist for one item; remember it so "预约" next means booking this item."""
    await services.store.set_state(message.resident, {"last_item": item_id}, services.state_ttl)
    return Reply(render.checklist(services.handbook.item(item_id), services.handbook))


async def handle(message: Message, result: Classification, services: Services) -> Reply:
    if result.ambiguous:
        return await ask_which(message, services, result.intent, result.candidates)
    if result.item is None:
        return Reply(render.service_menu(services.handbook))
    return await answer(message, services, result.item)


async def ask_which(message: Message, services: Services, intent: str, options: tuple[str, ...]) -> Reply:
    """Two items fit equally well: list them numbered and remember the question."""
    options = options[:5]
    await services.store.set_state(
        message.resident, {"await": "choose", "intent": intent, "options": list(options)}, services.state_ttl
    )
    titles = [services.handbook.item(item_id).title for item_id in options]
    lines = ["您想问的是哪一项？", *(f"{i}. {title}" for i, title in enumerate(titles, 1)), "请回复数字。"]
    return Reply("\n".join(lines))


def chosen_option(text: str, state: dict) -> str | None:
    """The item id the resident picked by number, or None when the text is not a valid choice."""
    match = _NUMBER.match(text)
    if not match:
        return None
    digit = match.group(1)
    index = _CHINESE_DIGITS.get(digit) or int(digit)
    options = state.get("options") or []
    return options[index - 1] if 1 <= index <= len(options) else None
