"""order, when it cannot be placed online: the item is not bookable (go in person) or no database
is connected. The resident gets the phone and desk that take the booking and what to bring, so
nothing they asked for is silently dropped. Online orders are handlers/ordering.py.
"""

from __future__ import annotations

from handlers import render
from handlers.conversation import AFTER_ITEM
from handlers.types import Context, Reply
from intents import Classification


async def handle(ctx: Context, result: Classification) -> Reply:
    if result.item is None:
        return Reply(render.service_menu(ctx.services.handbook))
    return book(ctx, result.item)


def book(ctx: Context, item_id: str) -> Reply:
    handbook = ctx.services.handbook
    item = handbook.item(item_id)
    office = handbook.office
    ctx.conversation.enter(AFTER_ITEM, item_id)
    lines = [f"收到，您要办的是【{item.title}】。"]
    if item.bookable or item.home_visit:
        lines.append(f"请拨打 {office.phone}（值班手机 {office.duty_phone}）说明姓名、电话和地址预约。")
    else:
        # Say plainly that it cannot be booked, then what to do instead: go in person, or online.
        lines.append(
            "这项不能预约，也不能上门办理。"
            f"请本人带齐材料到{render.place_text(item, office)}办理"
            f"（{item.when or office.hours['weekdays']}），不用预约，直接去就行；"
            f"可拨打 {office.phone} 先咨询。"
        )
        if item.online:
            lines.append(f"也可以网上办：{item.online}。")
    if item.documents:
        lines.append("要带的材料：" + "、".join(d.name for d in item.documents) + "。")
    lines.append("回复“材料”可看完整的办事清单。")
    return Reply("\n".join(lines))
