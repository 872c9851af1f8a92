"""office and human: opening hours, duty, address, phone — and how to reach a person."""

from __future__ import annotations

from handlers import render
from handlers.types import Message, Reply, Services


async def handle_office(message: Message, services: Services) -> Reply:
    return Reply(render.office_hours(services.handbook.office))


async def handle_human(message: Message, services: Services) -> Reply:
    office = services.handbook.office
    community = office.places["community"]
    return Reply(
        "好的，请联系值班工作人员：\n"
        f"电话：{office.phone}（{office.hours['weekdays']}）\n"
        f"值班手机：{office.duty_phone}（中午和周末值班时间）\n"
        f"也可以到{community.name}（{community.address}），任何一位在岗工作人员都能帮您办。"
    )
