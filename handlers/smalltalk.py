"""greeting and the empty message: be friendly (unknown: handlers/directions.py, never a dead end)."""

from __future__ import annotations

from handlers import render
from handlers.types import Context, Reply
from intents import Classification


async def handle_greeting(ctx: Context, result: Classification) -> Reply:
    lexicon = ctx.services.classifier.lexicon  # thanks and bye words: phrasings.yaml
    text = lexicon.normalize(ctx.message.text)
    if any(word in text for word in lexicon.thanks):
        return Reply("不客气！还有什么要办的，随时问我。")
    if any(word in text for word in lexicon.bye):
        return Reply("再见，祝您生活愉快！")
    return Reply("您好！" + render.service_menu(ctx.services.handbook))


def empty() -> Reply:
    return Reply("您好像没有输入内容。请直接打字说您想办的事，比如“办居住证要带什么”。")
