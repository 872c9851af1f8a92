"""Route one message to the handler of its kind and intent, using the conversation state first.

State carries two things between messages: a pending numbered question (which item did you
mean?) and the last item answered, so a bare "预约" or "材料" refers to it.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable

from handlers import consult, events, office, order, rate, smalltalk, status
from handlers.types import Message, Reply, Services
from intents import Classification, normalize

_CHECKLIST_WORDS = frozenset({"材料", "清单", "要带什么", "带什么", "办事清单", "详情", "详细"})
_MENU_WORDS = re.compile(r"^(业务|菜单|帮助|help|\?|服务)$")

IntentHandler = Callable[[Message, Classification, Services], Awaitable[Reply]]

INTENT_HANDLERS: dict[str, IntentHandler] = {
    "consult": consult.handle,
    "order": order.handle,
    "status": lambda m, r, s: status.handle_status(m, s),
    "cancel": lambda m, r, s: status.handle_cancel(m, s),
    "rate": lambda m, r, s: rate.handle(m, s),
    "office": lambda m, r, s: office.handle_office(m, s),
    "human": lambda m, r, s: office.handle_human(m, s),
    "greeting": lambda m, r, s: smalltalk.handle_greeting(m, s),
    "unknown": lambda m, r, s: smalltalk.handle_unknown(m, s),
}


async def dispatch(message: Message, services: Services) -> Reply:
    """Answer one message. Callers serialise messages of one resident (see bot/pipeline.py)."""
    if message.kind in ("text", "voice"):
        if message.kind == "voice" and not message.text.strip():
            return await events.voice_unclear(message, services)
        return await _text(message, services)
    if message.kind == "subscribe":
        return await events.welcome(message, services)
    if message.kind == "click":
        return await _click(message, services)
    if message.kind in ("image", "location", "link", "video", "shortvideo"):
        return await events.media(message, services)
    return Reply.silent()


async def _text(message: Message, services: Services) -> Reply:
    text = message.text.strip()
    if not text:
        return await smalltalk.handle_empty(message, services)
    state = await services.store.get_state(message.resident) or {}
    if state.get("await") == "choose":
        chosen = consult.chosen_option(text, state)
        if chosen is not None:
            intent = state.get("intent", "consult")
            result = Classification(text, intent, chosen, 1.0, (chosen,))
            return await INTENT_HANDLERS[intent](message, result, services)
    follow_up = _follow_up(text, state)
    if follow_up is not None:
        return await _answer_follow_up(message, services, *follow_up)
    if _MENU_WORDS.match(normalize(text)):
        return await consult.handle(message, Classification(text, "consult", None, 1.0), services)
    result = services.classifier.classify(text)
    return await INTENT_HANDLERS[result.intent](message, result, services)


def _follow_up(text: str, state: dict) -> tuple[str, str] | None:
    """A bare "预约" or "材料" right after a checklist refers to the item just answered."""
    item_id = state.get("last_item")
    if not item_id:
        return None
    word = normalize(text)
    if word in order.FOLLOW_UP_WORDS:
        return "order", item_id
    if word in _CHECKLIST_WORDS:
        return "consult", item_id
    return None


async def _answer_follow_up(message: Message, services: Services, intent: str, item_id: str) -> Reply:
    if intent == "order":
        return await order.handle(
            message, Classification(message.text, "order", item_id, 1.0), services, item_id
        )
    return await consult.answer(message, services, item_id)


async def _click(message: Message, services: Services) -> Reply:
    key = message.event_key
    if key.startswith(events.ITEM_KEY_PREFIX):
        item_id = key[len(events.ITEM_KEY_PREFIX) :]
        if item_id in services.handbook.items:
            return await consult.answer(message, services, item_id)
    intent = events.MENU_INTENTS.get(key)
    if intent is None:
        return await consult.handle(message, Classification("", "consult", None, 1.0), services)
    return await INTENT_HANDLERS[intent](message, Classification("", intent, None, 1.0), services)
