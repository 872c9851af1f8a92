"""Route one message to the handler of its kind and intent, reading the conversation state first.

The conversation's declared state (handlers/conversation.py) says what a message may refer to: an
order draft, a pending numbered question, an order just placed, or the last item answered.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable

from handlers import consult, events, office, order, ordering, rate, smalltalk, staff, status
from handlers.conversation import CHOOSING, ORDERING, PLACED
from handlers.render import truncate
from handlers.types import Context, Reply
from intents import Classification, normalize

_CHECKLIST_WORDS = frozenset({"材料", "清单", "要带什么", "带什么", "办事清单", "详情", "详细"})
_MENU_WORDS = re.compile(r"^(业务|菜单|帮助|help|\?|服务)$")
_MEDIA_KINDS = frozenset({"image", "location", "link", "video", "shortvideo"})

IntentHandler = Callable[[Context, Classification], Awaitable[Reply]]

INTENT_HANDLERS: dict[str, IntentHandler] = {
    "consult": consult.handle,
    "order": ordering.handle,
    "status": status.handle_status,
    "cancel": status.handle_cancel,
    "rate": rate.handle,
    "office": office.handle_office,
    "human": office.handle_human,
    "greeting": smalltalk.handle_greeting,
    "unknown": smalltalk.handle_unknown,
}


async def dispatch(ctx: Context) -> Reply:
    """Answer one message. The caller serialises a resident's messages and saves ctx.conversation.

    Notices WeChat would not deliver earlier (outside its 48-hour window) come first.
    """
    reply = await _dispatch(ctx)
    if ctx.notice and ctx.services.desk is not None:
        kept = await ctx.services.desk.outbox.take_kept(ctx.message.resident)
        if kept:
            return Reply(truncate("\n\n".join([*kept, reply.text or ""]).strip()))
    return reply


async def _dispatch(ctx: Context) -> Reply:
    kind = ctx.message.kind
    if kind in ("text", "voice"):
        if kind == "voice" and not ctx.message.text.strip():
            return events.voice_unclear()
        return await _text(ctx)
    if kind == "subscribe":
        return events.welcome(ctx)
    if kind == "click":
        return await _click(ctx)
    if kind in _MEDIA_KINDS:
        return events.media(ctx)
    return Reply.silent()


async def _text(ctx: Context) -> Reply:
    text = ctx.message.text.strip()
    if not text:
        return smalltalk.empty()
    command = staff.match(text)
    if command:
        reply = await staff.handle(ctx, command)
        if reply is not None:
            return reply
    draft = ctx.conversation.get(ORDERING)
    if draft is not None:
        return await ordering.answer(ctx, draft)
    placed = ctx.conversation.get(PLACED)
    if placed is not None and ordering.confirms(text):
        return await ordering.placed_again(ctx, placed)
    choice = ctx.conversation.get(CHOOSING)
    if choice is not None:
        chosen = consult.chosen_option(text, list(choice.options))
        if chosen is not None:
            intent = choice.intent
            return await INTENT_HANDLERS[intent](ctx, Classification(text, intent, chosen, 1.0, (chosen,)))
    last_item = ctx.conversation.item
    if last_item:
        word = normalize(text)
        if word in order.FOLLOW_UP_WORDS:
            return ordering.start(ctx, last_item, text)
        if word in _CHECKLIST_WORDS:
            return consult.answer(ctx, last_item)
    if _MENU_WORDS.match(normalize(text)):
        return await consult.handle(ctx, Classification(text, "consult", None, 1.0))
    if rate.looks_like_rating(text):
        rated = await rate.rate_ticket(ctx)
        if rated is not None:
            return rated
    result = ctx.services.classifier.classify(text)
    return await INTENT_HANDLERS[result.intent](ctx, result)


async def _click(ctx: Context) -> Reply:
    key = ctx.message.event_key
    if key.startswith(events.ITEM_KEY_PREFIX):
        item_id = key[len(events.ITEM_KEY_PREFIX) :]
        if item_id in ctx.services.handbook.items:
            return consult.answer(ctx, item_id)
    intent = events.MENU_INTENTS.get(key, "consult")
    return await INTENT_HANDLERS[intent](ctx, Classification("", intent, None, 1.0))
