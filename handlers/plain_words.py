"""A resident who did not follow the answer just given: the same in three short lines, then a person.

Trial NN: "看不懂 说的啥子哦" after a checklist got "no ready answer" and then the welcome text; an
elderly reader needs fewer words, and someone lost twice needs a person, not a third try.
"""

from __future__ import annotations

from handlers import complaints, facts, render
from handlers.conversation import AFTER_ITEM
from handlers.types import Context, Reply

_DOCUMENTS_SHOWN = 3


def not_understood(ctx: Context) -> str | None:
    """The item just answered, when the message says only that the answer was not understood."""
    item_id = ctx.conversation.get(AFTER_ITEM)
    lexicon = ctx.services.classifier.lexicon
    if item_id is None or lexicon.not_understood is None:
        return None
    text = (ctx.message.text or "").strip()
    norm = lexicon.normalize(text)
    if not lexicon.not_understood.search(norm):
        return None
    rest = lexicon.not_understood.sub(" ", norm)
    if (
        lexicon.question.search(rest)
        or lexicon.asked_to_act.search(rest)
        or lexicon.order_strong.search(rest)
        or facts.aspect_of(ctx, rest)
    ):
        # "没看懂 到底要办哪个嘛 钱是在哪里领", "我不懂你说的啥 我就是要你们来人看我": something is
        # asked beside it, and answered as asked.
        return None
    result = ctx.services.classifier.classify(text)
    if result.named and result.item not in (None, item_id):
        return None  # "低保看不懂 那临时救助呢": a new question
    return item_id


async def say_plainly(ctx: Context, item_id: str) -> Reply:
    """Three short lines (what to bring, where, when); the second time, a person is asked to call."""
    lexicon = ctx.services.classifier.lexicon
    recent = ctx.conversation.recent
    assert lexicon.not_understood is not None
    if recent and lexicon.not_understood.search(lexicon.normalize(recent[-1])):
        handed = await complaints.hand_off(ctx, ctx.message.text or "")
        if handed is not None:
            return Reply(f"不好意思，我没讲清楚。我请工作人员来跟您说。\n{handed.text}")
    handbook = ctx.services.handbook
    item = handbook.item(item_id)
    papers = [d.name for d in item.documents[:_DOCUMENTS_SHOWN]]
    more = "等" if len(item.documents) > _DOCUMENTS_SHOWN else ""
    lines = [f"我说简单点，办【{item.title}】："]
    lines.append(f"1. 带上：{'、'.join(papers)}{more}" if papers else "1. 不用带材料。")
    lines.append(f"2. 到：{render.place_text(item, handbook.office)}")
    lines.append(f"3. 时间：{render.hours_text(item, handbook.office)}")
    lines.append(
        "还是不清楚的，再说一声“不懂”或回复“人工”，我请工作人员打电话给您慢慢讲；"
        "也可以带上身份证直接来，值班的工作人员当面帮您。"
    )
    ctx.conversation.enter(AFTER_ITEM, item_id)
    return Reply("\n".join(lines))
