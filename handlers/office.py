"""office and human: opening hours, duty, address, phone — and how to reach a person."""

from __future__ import annotations

from handlers import complaints, render
from handlers.types import Context, Reply
from intents import Classification


async def handle_office(ctx: Context, result: Classification) -> Reply:
    return Reply(render.office_hours(ctx.services.handbook.office))


async def handle_human(ctx: Context, result: Classification) -> Reply:
    """A person answers: a handoff to the staff member on duty; without tickets, the numbers to call."""
    handed = await complaints.hand_off(ctx, ctx.message.text)  # a menu click too: what they said before
    if handed is not None:
        return handed
    office = ctx.services.handbook.office
    community = office.places["community"]
    return Reply(
        "好的，请联系值班工作人员：\n"
        f"电话：{office.phone}（{office.hours['weekdays']}）\n"
        f"值班手机：{office.duty_phone}（中午和周末值班时间）\n"
        f"也可以到{community.name}（{community.address}），任何一位在岗工作人员都能帮您办。"
    )
