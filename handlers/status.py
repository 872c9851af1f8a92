"""status and cancel: questions about an earlier request, answered by the people who hold it."""

from __future__ import annotations

from handlers.types import Context, Reply
from intents import Classification


async def handle_status(ctx: Context, result: Classification) -> Reply:
    office = ctx.services.handbook.office
    return Reply(
        f"查询办理进度，请拨打 {office.phone}（值班手机 {office.duty_phone}），报上您的姓名和所办事项，"
        "工作人员会马上帮您查。"
    )


async def handle_cancel(ctx: Context, result: Classification) -> Reply:
    ctx.conversation.forget()
    office = ctx.services.handbook.office
    return Reply(f"好的。已预约的服务要取消，请拨打 {office.phone} 告诉工作人员，我们会及时调整安排。")
