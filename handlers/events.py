"""Non-text messages: subscribe welcome, menu clicks, voice without recognition, media."""

from __future__ import annotations

from handlers import render
from handlers.types import Context, Reply

# Menu CLICK keys configured in the Official Account menu (documented in the README).
MENU_INTENTS = {
    "MENU_SERVICES": "consult",
    "MENU_OFFICE": "office",
    "MENU_HUMAN": "human",
    "MENU_STATUS": "status",
    "MENU_BOOK": "order",
}
ITEM_KEY_PREFIX = "ITEM_"  # ITEM_<catalogue id>, e.g. ITEM_residence_permit

_MEDIA_NAMES = {
    "image": "图片",
    "location": "位置",
    "link": "链接",
    "video": "视频",
    "shortvideo": "视频",
    "miniprogrampage": "小程序",
}


def welcome(ctx: Context) -> Reply:
    return Reply(
        "欢迎关注！" + render.service_menu(ctx.services.handbook) + "\n说话不方便打字的，可以直接发语音。"
    )


def voice_unclear() -> Reply:
    return Reply("抱歉，这段语音我没听清。请再说一遍，或者打字告诉我；要找工作人员请说“转人工”。")


def media(ctx: Context) -> Reply:
    name = _MEDIA_NAMES.get(ctx.message.kind, "消息")
    return Reply(f"收到您发的{name}，谢谢！我目前只看得懂文字和语音，请用文字或语音告诉我您想办的事。")
