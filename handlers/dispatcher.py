"""Route one message by its kind: text through TEXT_ROUTES (handlers/routes.py), menu clicks to
the handler of their intent, other kinds to a fixed answer.
"""

from __future__ import annotations

import hashlib
import re

from desk.masking import mask_text
from handlers import complaints, consult, events, privacy, smalltalk, staff
from handlers.by_intent import by_intent
from handlers.render import truncate
from handlers.routes import TEXT_ROUTES, first_reply
from handlers.types import Context, Reply
from intents import Classification

_CONVERSATION_KINDS = frozenset({"text", "voice", "click"})  # what the direct-answer rate counts
_MEDIA_KINDS = frozenset({"image", "location", "link", "video", "shortvideo", "miniprogrampage"})


async def dispatch(ctx: Context) -> Reply:
    """Answer one message. The caller serialises a resident's messages and saves ctx.conversation.

    Notices WeChat would not deliver earlier (outside its 48-hour window) come first: flagged in
    the turn store when this process (or, with Redis, any process) kept them, and always found
    through the database, whichever process's worker kept them.
    """
    reply = await _dispatch(ctx)
    if ctx.message.kind in ("text", "voice"):
        reply = await _not_the_same_again(ctx, reply)
    _remember(ctx)
    desk, resident = ctx.services.desk, ctx.message.resident
    if desk is not None and ctx.message.kind in _CONVERSATION_KINDS and privacy.request_of(ctx) != "erase":
        # Written in the background; never for "删除我的信息", which has just erased these rows.
        desk.conversations.seen(resident, ctx.conversation.item or "")
    if desk is not None and (ctx.notice or await desk.outbox.kept_waiting(resident)):
        kept = await desk.outbox.take_kept(resident)
        if kept:
            return Reply(truncate("\n\n".join([*kept, reply.text or ""]).strip()))
    return reply


async def _not_the_same_again(ctx: Context, reply: Reply) -> Reply:
    """An item's answer word for word the same as the one just sent is not sent bare again (trial Z13:
    seven residents got the same paragraph twice): it is said to be the same, with a person offered;
    when the resident says it did not help ("还是没听懂", "你就说个数嘛", "问了三遍了") a person is
    asked to answer at once. Whole checklists ("材料" asked again) and emergencies are sent again."""
    text = reply.text or ""
    if not text.startswith("【") or text.startswith("【紧急】") or "一次性告知" in text:
        ctx.conversation.answer_sent("")
        return reply
    fingerprint = hashlib.sha1(text.encode("utf-8")).hexdigest()[:12]
    if fingerprint != ctx.conversation.answered:
        ctx.conversation.answer_sent(fingerprint)
        return reply
    ctx.conversation.answer_sent("")
    handed = (
        await complaints.hand_off(ctx, ctx.message.text) if _NOT_HELPED.search(ctx.message.text) else None
    )
    if handed is None:
        return Reply(f"{_SAID_AGAIN}\n{text}\n{_A_PERSON}")
    return Reply(f"{_SAID_ALREADY}已请工作人员直接回答您。\n{handed.text}")


_SAID_AGAIN = "这个问题上面答过了，就是这些（一般规定）："
_A_PERSON = "还没说清楚您家的情况，回复“人工”，请工作人员直接回答您。"
_SAID_ALREADY = "这个问题我能答的就是上面那段（一般规定），再说一遍也一样。"
# The resident says the answer did not help: a person answers rather than the paragraph again.
_NOT_HELPED = re.compile(
    r"没听懂|听不懂|看不懂|没看懂|还是不懂|还是没(懂|明白|搞懂|说)|不明白|问了?[两三几好]遍|第[二三几]遍|最后问一遍|"
    r"你就说|直接说|说个数|说清楚|答非所问|没回答|不回答|又是这|还是这段|一样的话|说来说去|没用"
)


def _remember(ctx: Context) -> None:
    """Keep the resident's text (masked) for a later handoff; staff commands are not theirs to show."""
    text = ctx.message.text.strip()
    if ctx.message.kind in ("text", "voice") and text and staff.parse(text) is None:
        ctx.conversation.remember(mask_text(text))


async def _dispatch(ctx: Context) -> Reply:
    kind = ctx.message.kind
    if kind in ("text", "voice"):
        if kind == "voice" and not ctx.message.text.strip():
            return events.voice_unclear()
        if not ctx.message.text.strip():
            return smalltalk.empty()
        return await first_reply(TEXT_ROUTES, ctx) or Reply.silent()  # the last route always answers
    if kind == "subscribe":
        return events.welcome(ctx)
    if kind == "click":
        return await _click(ctx)
    if kind in _MEDIA_KINDS:
        return events.media(ctx)
    return Reply.silent()


async def _click(ctx: Context) -> Reply:
    key = ctx.message.event_key
    if key.startswith(events.ITEM_KEY_PREFIX):
        item_id = key[len(events.ITEM_KEY_PREFIX) :]
        if item_id in ctx.services.handbook.items:
            return consult.answer(ctx, item_id)
    intent = events.MENU_INTENTS.get(key, "consult")
    return await by_intent(ctx, Classification("", intent, None, 1.0))
