"""Kept contact details in the order conversation: offered back as one question, saved on 确认.

A resident who ordered before is asked "还是用 王阿姨、139****5678、阳光苑3栋2单元 吗？" instead of
three questions. "是" keeps them, a new value replaces that one field, "不是"/"换一个" asks them
anew. The confirmation reply says what is kept and how to erase it (desk/residents.py): consent by
informing, erasure by one message (handlers/privacy.py).
"""

from __future__ import annotations

import logging
import re

from desk.residents import KEPT, Profile
from handlers.conversation import ORDERING
from handlers.draft import OrderDraft
from handlers.types import Context, Reply
from intents.contact import (
    ContactError,
    is_form_of_address,
    is_full_name,
    looks_like_address,
    read_address,
    read_mobile,
    read_name,
)
from intents.normalize import simplify

log = logging.getLogger(__name__)

ASKING = "profile"  # draft.asking while the question waits
LABELS = {"name": "姓名", "mobile": "电话", "address": "地址"}
_MOBILE_IN_TEXT = re.compile(r"(?:\+?86)?1[3-9]\d(?:[\s\-]?\d){8}")
_FILLER = " ：:是为，,。.！!"
_NAME_VERB = re.compile(r"^\s*(?:就)?(?:写成|填成|改成|换成|写|填|是|叫|为|用)[:：]?\s*")
_NAME_SAID = re.compile(r"我叫|叫我|喊我|我姓")  # "对 叫我张姐": a name, said as one
# A bare answer with these is a remark ("都对", "不用改") or a time ("明天上午"), not a new name;
# "名字改成……" still sets one.
_NOT_A_NAME = re.compile("[不没用改换变对是好吗呢吧了的谢今明后天午晚点周号月日]")


async def recall(ctx: Context, draft: OrderDraft, fields: tuple[str, ...]) -> bool:
    """Copy the kept details the order needs and the first message did not give; True when any was
    copied (then ask()). A database that does not answer only means the questions are asked."""
    desk = ctx.services.desk
    if desk is None:
        return False
    try:
        profile = await desk.residents.recall(ctx.message.resident)
    except Exception:  # the order must go on without the convenience
        log.exception("kept details could not be read")
        return False
    wanted = [f for f in KEPT if f in fields and not draft.has(f) and profile and profile.get(f)]
    for field in wanted:
        draft.fields[field] = profile.get(field) if profile else ""
    draft.recalled = tuple(wanted)
    return bool(wanted)


def ask(ctx: Context, draft: OrderDraft, lines: list[str]) -> Reply:
    """The one question about the copied details, with the mobile masked."""
    draft.asking = ASKING
    ctx.conversation.enter(ORDERING, draft)
    copied = Profile(**{f: draft.fields.get(f, "") for f in draft.recalled}).masked()
    shown = "、".join(copied.get(f) for f in draft.recalled)
    question = f"还是用 {shown} 吗？回复“是”或者说要改的；回复“不是”就重新填。（随时回复“取消”可以不办了）"
    return Reply("\n".join([*lines, question]))


def settle(ctx: Context, draft: OrderDraft, text: str) -> tuple[list[str], bool, str]:
    """Read the answer to the question into the draft: (lines to say, settled, more of the request
    said after a yes, for the description). Unsettled: ask again."""
    lexicon = ctx.services.classifier.lexicon
    said = lexicon.normalize(text)
    agreed = lexicon.profile_keep.match(said) is not None
    if agreed and lexicon.profile_keep.fullmatch(said):
        return [], True, ""
    plain = simplify(text).strip()
    refused = lexicon.profile_change.match(said) is not None
    rest = lexicon.profile_change.sub("", plain, count=1) if refused else plain
    if agreed:
        rest = _after_yes(ctx, plain)  # "对 叫我张姐": what follows the yes
    try:
        changed = _new_values(ctx, draft, rest.strip(_FILLER), agreed=agreed)
    except ContactError as exc:
        return [str(exc)], False, ""
    if changed:
        return ["、".join(LABELS[f] for f in changed) + "已改好。"], True, ""
    if agreed:  # "好的谢谢", "是的没变"; "是 申请装一键呼叫和燃气报警器": yes, and more (trial X r13)
        more = rest.strip(_FILLER)
        return [], True, "" if len(more) < 4 or _REMARK.match(more) else more
    if refused:
        for field in draft.recalled:
            draft.drop(field)
        draft.recalled = ()
        return ["好的，那重新登记一下。"], True, ""
    return ["没听明白。要改名字请说“名字改成……”，改电话、地址直接发新的就行。"], False, ""


_BUT = re.compile(r"^\s*(不过|但是|就是|只是|另外)\s*")
# A place that stands alone: a building or an estate, not only a spot inside one ("一楼单元门").
_WHOLE_PLACE = re.compile(
    r"\d+\s*(栋|幢|号楼)|[一二三四五六七八九十]+(栋|幢|号楼)|小区|苑|花园|家园|大院|社区|路|街"
)


# What a yes is followed by that only agrees ("是的没变 谢谢"): nothing more for the ticket.
_REMARK = re.compile(
    r"^(?:的)?(?:都|也|还是|就)?(?:没变|不变|没错|一样|对的?|可以|行|好的?|没问题|不用改|谢谢|谢了|[\s,，。.!！~])*$"
)
_FIRST_BREAK = re.compile(r"[\s,，。.!！~]+")


def _after_yes(ctx: Context, plain: str) -> str:
    """The words after the yes ("是 申请装一键呼叫和燃气报警器"): after the first clause when it is
    a yes, else after the keep word the message opens with."""
    lexicon = ctx.services.classifier.lexicon
    head, *rest = _FIRST_BREAK.split(plain, maxsplit=1)
    if rest and lexicon.profile_keep.fullmatch(lexicon.normalize(head)):
        return rest[0]
    found = lexicon.profile_keep.match(plain)
    return plain[found.end() :] if found else plain


def _new_values(ctx: Context, draft: OrderDraft, text: str, *, agreed: bool = False) -> list[str]:
    """Fields of the question the answer gives a new value for ("电话13912345678", "改到5栋"); after a
    yes (`agreed`), a name only when it is named or reads as one ("是 申请装一键呼叫…" is no name)."""
    lexicon = ctx.services.classifier.lexicon
    changed: list[str] = []
    mobile = read_mobile(text) if "mobile" in draft.recalled else None
    if mobile:
        draft.fields["mobile"] = mobile
        changed.append("mobile")
        text = _MOBILE_IN_TEXT.sub(" ", text)
    named = next((f for f in ("address", "name") if lexicon.field_words[f].search(text)), None)
    for pattern in (lexicon.correction, lexicon.field_words["mobile"], *lexicon.field_words.values()):
        text = pattern.sub(" ", text)
    text = text.strip(_FILLER)
    if named == "name":
        text = _NAME_VERB.sub("", text)  # "名字写李芳" without 名字 is 写李芳 (trial Z13 r04)
    if not text:
        return changed
    if "address" in draft.recalled and (named == "address" or (named is None and looks_like_address(text))):
        address = read_address(_BUT.sub("", text))
        kept = draft.fields.get("address", "")
        if agreed and kept and not _WHOLE_PLACE.search(address):
            # "是 不过门禁是在一楼单元门": where in the kept address, not a new one (trial VV r11's
            # ticket read "不过门禁是在一楼单元门").
            address = f"{kept}，{address}"
        draft.fields["address"] = address
        changed.append("address")
    elif "name" in draft.recalled and (
        named == "name" or (named is None and not changed and not _NOT_A_NAME.search(text))
    ):
        try:
            name = read_name(text)
        except ContactError:
            if named == "name" or not (changed or agreed):
                raise
        else:
            said_as_name = named == "name" or _NAME_SAID.search(text) is not None
            if said_as_name or not agreed or is_full_name(name) or is_form_of_address(name):
                draft.fields["name"] = name
                changed.append("name")
    draft.recalled = tuple(f for f in draft.recalled if f not in changed)
    return changed


async def remember(ctx: Context, draft: OrderDraft) -> str | None:
    """Keep the confirmed order's details for next time; the line that tells the resident so."""
    desk = ctx.services.desk
    details = {f: draft.fields[f] for f in KEPT if draft.fields.get(f)}
    if desk is None or not details:
        return None
    try:
        kept = await desk.residents.remember(ctx.message.resident, details)
    except Exception:  # the order is in; not keeping the details only costs questions next time
        log.exception("contact details could not be kept")
        return None
    if kept is None:
        return None
    what = "、".join(LABELS[f] for f in KEPT if kept.get(f))
    return f"您的{what}已保存，下次预约不用再填；不想保存请回复“删除我的信息”。"
