"""consult: answer what to bring, where, when, how long — or ask which item when two are close."""

from __future__ import annotations

import re

from handlers import directions, facts, render
from handlers.conversation import AFTER_ITEM, CHOOSING, Choice
from handlers.types import Context, Reply
from intents import Classification

_NUMBER = re.compile(r"^\s*(?:第)?([0-9１-９一二三四五六七八九])\s*(?:个|项|号)?\s*[。.!！]?\s*$")
_CHINESE_DIGITS = {c: i + 1 for i, c in enumerate("一二三四五六七八九")}


def answer(ctx: Context, item_id: str) -> Reply:
    """The checklist for one item; remember it so "预约" next means booking this item."""
    ctx.conversation.enter(AFTER_ITEM, item_id)
    handbook = ctx.services.handbook
    return Reply(render.checklist(handbook.item(item_id), handbook))


async def handle(ctx: Context, result: Classification) -> Reply:
    aspect = facts.aspect_of(ctx, ctx.message.text) if ctx.message.text else None
    handbook = ctx.services.handbook
    if aspect == "compare" and len(result.candidates) >= 2:
        options = result.candidates[:3]
        ctx.conversation.enter(CHOOSING, Choice(options, "consult"))
        return Reply(facts.compare([handbook.item(i) for i in options]))
    if result.ambiguous:
        return await ask_which(ctx, result.intent, result.candidates)
    if result.item is None:
        return Reply(render.service_menu(handbook))
    asked = facts.question_answer(ctx, handbook.item(result.item), ctx.message.text or "")
    if asked:  # "家里有车能吃低保不": the handbook's own answer to that question
        ctx.conversation.enter(AFTER_ITEM, result.item)
        return Reply(asked)
    if aspect is not None and aspect != "compare":
        answered = facts.fact(handbook.item(result.item), aspect, handbook)
        if answered:
            ctx.conversation.enter(AFTER_ITEM, result.item)
            return Reply(answered)
    return answer(ctx, result.item)


async def ask_which(ctx: Context, intent: str, options: tuple[str, ...]) -> Reply:
    """Two items fit equally well: list them numbered, remember the question, record the offer."""
    return await directions.offer(ctx, "choice", options[:5], "您想问的是哪一项？", ["请回复数字。"], intent)


def chosen_option(text: str, options: list[str]) -> str | None:
    """The item id the resident picked by number, or None when the text is not a valid choice."""
    match = _NUMBER.match(text)
    if not match:
        return None
    digit = match.group(1)
    index = _CHINESE_DIGITS.get(digit) or int(digit)
    return options[index - 1] if 1 <= index <= len(options) else None
