"""rate: a resident judges a service they received (群众评议)."""

from __future__ import annotations

from handlers.types import Context, Reply
from intents import Classification, normalize

_UNHAPPY = ("不满意", "差评", "投诉", "太差", "敷衍", "推诿", "不耐烦", "太慢", "没人理", "一般")


async def handle(ctx: Context, result: Classification) -> Reply:
    text = normalize(ctx.message.text)
    if any(word in text for word in _UNHAPPY):
        office = ctx.services.handbook.office
        return Reply(
            f"非常抱歉给您带来不好的体验。您的意见我们记下了，社区负责人会联系您回访；"
            f"也可以直接拨打 {office.phone} 反映。"
        )
    return Reply("谢谢您的评价和鼓励！我们会转达给工作人员，继续把服务做好。")
