"""One handler per classified intent: the last text route, menu clicks and numbered choices end here."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from handlers import consult, directions, office, ordering, rate, smalltalk, status
from handlers.types import Context, Reply
from intents import Classification

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
    "unknown": directions.out_of_scope,
}


async def by_intent(ctx: Context, result: Classification) -> Reply:
    return await INTENT_HANDLERS[result.intent](ctx, result)
