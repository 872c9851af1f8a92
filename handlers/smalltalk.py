"""greeting and the empty message: be friendly (unknown: handlers/directions.py, never a dead end)."""

from __future__ import annotations

import re
from dataclasses import replace

from handlers import directions, render
from handlers.types import Context, Reply
from intents import Classification


async def handle_greeting(ctx: Context, result: Classification) -> Reply:
    lexicon = ctx.services.classifier.lexicon  # thanks and bye words: phrasings.yaml
    text = lexicon.normalize(ctx.message.text)
    if any(word in text for word in lexicon.thanks):
        return Reply("不客气！还有什么要办的，随时问我。")
    if any(word in text for word in lexicon.bye):
        return Reply("再见，祝您生活愉快！")
    if _WISHES.search(text):
        # "新年好哇 提前给你们拜个早年": wished back, not the service menu (blind batch 79).
        return Reply("谢谢您！也祝您和家人节日快乐、身体健康！有要办的事，随时问我。")
    words = [w.strip(" ，,。.!！~") for w in text.split()]
    if words and all(w in _ACKNOWLEDGED for w in words if w):
        # "要得 晓得了" at the end: heard, no menu (trial Z4 r13 got the whole welcome text).
        return Reply("好的。还有要办的事，随时发消息问我。")
    if text.strip(" 。.!！~") in lexicon.nothing_more:
        # "没事了" after an alarm was stood down got the whole menu again (trial WW).
        return Reply("好的。还有要办的事，随时发消息问我。")
    return Reply("您好！" + render.service_menu(ctx.services.handbook))


_WISHES = re.compile(r"快乐|新年好|过年好|拜(个)?早年|(给|跟)(你们|您|你|大家)拜(个)?年|恭喜发财|安康")

# Words that only say the answer was heard (normalised: 要得 → 好的, 晓得了 → 知道了).
_ACKNOWLEDGED = frozenset(
    {
        "好的",
        "好",
        "好嘛",
        "知道了",
        "明白了",
        "懂了",
        "收到",
        "行",
        "嗯",
        "嗯嗯",
        "ok",
        "晓得了",
        "可以",
        "对",
    }
)


def empty() -> Reply:
    return Reply("您好像没有输入内容。请直接打字说您想办的事，比如“办居住证要带什么”。")


def who_asked(ctx: Context) -> bool | None:
    """ "你是哪个哦 是机器人还是人嘛": the resident wants to know who answers (a trial resident got
    the out-of-scope apology)."""
    lexicon = ctx.services.classifier.lexicon
    clauses = lexicon.normalize(ctx.message.text).split()
    return True if any(word in clause for clause in clauses for word in lexicon.who) else None


async def say_who(ctx: Context, _: bool) -> Reply:
    office = ctx.services.handbook.office
    if directions.lonely_words(ctx):
        # "你是机器人哇 我78了 儿女一年回来一回 摆哈龙门阵嘛": who answers, and company offered too
        # (blind batch 77 got only what the bot is).
        company = await directions.keep_company(ctx, True)
        return replace(
            company,
            text=f"我是{office.name}的“社区百事通”，是自动回复的小助手，白天晚上都在，您想说什么都可以跟我说。"
            f"\n{company.text}",
        )
    return Reply(
        f"我是{office.name}的“社区百事通”，是自动回复的小助手，白天晚上都在。"
        "办事要带什么、预约、报修、查进度都可以问我。\n"
        "想跟工作人员说话，回复“人工”，他们会在这里回复您或者给您打电话。"
    )
