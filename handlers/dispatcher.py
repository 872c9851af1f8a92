"""Route one message to the handler of its kind and intent, reading the conversation state first.

State carries two things between messages: a pending numbered question (which item did you
mean?) and the last item answered, so a bare "预约" or "材料" refers to it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from handlers import consult, events, office, ordering, rate, smalltalk, staff, status
from handlers.render import truncate
from handlers.types import Context, Reply
from intents import Classification

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
    if ordering.active(ctx):
        return await ordering.answer(ctx)
    repeated = ordering.repeated_confirmation(ctx)
    if repeated is not None:
        return repeated
    state = ctx.conversation.state
    options = state.get("await_choice")
    if options:
        chosen = consult.chosen_option(text, options)
        if chosen is not None:
            intent = state.get("intent", "consult")
            return await INTENT_HANDLERS[intent](ctx, Classification(text, intent, chosen, 1.0, (chosen,)))
    last_item = state.get("last_item")
    lexicon = ctx.services.classifier.lexicon  # after-item and menu words: phrasings.yaml
    if last_item:
        word = lexicon.normalize(text)
        if word in lexicon.follow_up:
            return ordering.start(ctx, last_item, text)
        if word in lexicon.checklist:
            return consult.answer(ctx, last_item)
    if lexicon.menu.match(lexicon.normalize(text)):
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
