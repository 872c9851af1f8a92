"""The order conversation (群众点单): collect what the item needs, one question at a time, then 确认.

The draft (handlers/draft.py) is the conversation's ORDERING state, so it survives between
messages and processes; the turn that starts after 30 idle minutes drops it. The draft's key
becomes the ticket's request key, so a confirmed order creates one ticket however often WeChat
retries or the resident repeats 确认.
"""

from __future__ import annotations

import contextlib
import uuid
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from desk.desk import Limits
from desk.states import OPEN_STATES
from handlers import consult, order, render
from handlers.conversation import ORDERING, PLACED, Placed
from handlers.draft import OrderDraft
from handlers.types import Context, Reply
from intents import Classification
from intents.contact import ContactError, read_address, read_description, read_mobile, read_name
from intents.normalize import simplify
from intents.when import WhenError, Window, first_fit, read_window
from knowledge import Item
from knowledge.models import OrderSpec

# Cancel, confirm, correction, field and home-visit words: phrasings.yaml (ordering), compiled in
# ctx.services.classifier.lexicon.
LABELS = {"name": "姓名", "mobile": "电话", "address": "地址", "time": "时间", "description": "情况"}
QUESTIONS = {
    "name": "请问怎么称呼您？（姓名）",
    "mobile": "请留一个手机号码，方便工作人员联系您。",
    "address": "请告诉我详细地址（小区、几栋几单元几号）。",
    "time": "您想约什么时候？比如“明天上午”“周六下午3点”。",
    "description": "请简单说一下情况：在哪里、什么问题。",
}
_FOOTER = "（随时回复“取消”可以不办了）"
SAME_ITEM_MINUTES = 30  # a second order of one item within this asks before it goes in


async def handle(ctx: Context, result: Classification) -> Reply:
    """Intent `order`: start the conversation for the item (or show the menu when none was named)."""
    if result.ambiguous:
        return consult.ask_which(ctx, result.intent, result.candidates)
    if result.item is None:
        return Reply(render.service_menu(ctx.services.handbook))
    return start(ctx, result.item, ctx.message.text)


def start(ctx: Context, item_id: str, text: str = "") -> Reply:
    """Begin an order for `item_id`; details already in `text` (a number, a time) are kept."""
    item = ctx.services.handbook.item(item_id)
    if item.order is None or ctx.services.desk is None:
        return order.book(ctx, item_id)
    now = ctx.services.now()
    home_visit = ctx.services.classifier.lexicon.home_visit
    visit = "address" in item.order.fields or (item.home_visit and bool(home_visit.search(simplify(text))))
    draft = OrderDraft(
        item_id, uuid.uuid4().hex, now, visit, urgent=any(word in text for word in item.order.urgent)
    )
    notes = _prefill(ctx, item, draft, text)
    kind = (
        "上门服务"
        if visit and item.home_visit
        else ("报修" if "description" in item.order.fields else "预约")
    )
    intro = f"好的，帮您{kind}【{item.title}】。" + ("我问几个问题，一次回答一个就行。" if not notes else "")
    return _next(ctx, item, draft, [intro, *notes])


def confirms(ctx: Context, text: str) -> bool:
    return ctx.services.classifier.lexicon.order_confirm.match(simplify(text).strip()) is not None


async def placed_again(ctx: Context, placed: Placed) -> Reply:
    """A second 确认 right after an order went in: say it is in, rather than "I don't understand"."""
    return Reply(f"这个预约已经提交过了，工单号 {placed.number}。回复“进度”可以查看办理情况。")


async def answer(ctx: Context, draft: OrderDraft) -> Reply:
    """The resident's answer to the pending question (or 确认, 取消, a correction)."""
    draft = replace(draft, fields=dict(draft.fields), at=ctx.services.now())
    item = ctx.services.handbook.item(draft.item)
    text = ctx.message.text.strip()
    plain = simplify(text).strip()
    lexicon = ctx.services.classifier.lexicon
    if lexicon.order_cancel.match(plain):
        ctx.conversation.forget()
        return Reply("好的，这次的预约已取消，没有提交。需要时再找我。")
    if lexicon.correction.search(plain):
        named = [f for f, words in lexicon.field_words.items() if words.search(plain)]
        field = next((f for f in named if f in _fields(item, draft)), None)
        if field is None:
            return _ask(ctx, draft, draft.asking, ["您要改哪一项？可以说“改电话”“改时间”“改地址”。"])
        draft.drop(field)
        remainder = lexicon.field_words[field].sub("", lexicon.correction.sub("", plain)).strip(" ：:是为")
        if remainder:
            with contextlib.suppress(ContactError, WhenError):
                _take(ctx, item, draft, field, remainder)
        if not draft.has(field):
            return _ask(ctx, draft, field, [f"好的，重新说一下{LABELS[field]}。"])
        return _next(ctx, item, draft, [f"{LABELS[field]}已改好。"])
    if draft.asking in ("confirm", "confirm_again"):
        if lexicon.order_confirm.match(plain):
            if draft.asking == "confirm" and (earlier := await _same_item_lately(ctx, draft)):
                return _ask(ctx, draft, "confirm_again", [earlier])
            return await _place(ctx, item, draft)
        return _ask(
            ctx, draft, "confirm", ["请回复“确认”提交；要改就说“改电话”“改时间”等；不办了回复“取消”。"]
        )
    try:
        _take(ctx, item, draft, draft.asking, text)
    except (ContactError, WhenError) as exc:
        return _ask(ctx, draft, draft.asking, [str(exc)])
    return _next(ctx, item, draft, [])


async def _same_item_lately(ctx: Context, draft: OrderDraft) -> str | None:
    """The question to ask when this resident ordered the same item minutes ago (a reply lost in
    an outage, a draft gone with Redis): a second ticket only when they say so."""
    desk = ctx.services.desk
    assert desk is not None
    since = ctx.services.now() - timedelta(minutes=SAME_ITEM_MINUTES)
    open_ones = [
        t
        for t in await desk.tickets_since(ctx.message.resident, since, draft.item)
        if t.state in OPEN_STATES and t.request_key != draft.key
    ]
    if not open_ones:
        return None
    title = ctx.services.handbook.item(draft.item).title
    return (
        f"您刚刚已经提交过【{title}】，工单号 {open_ones[-1].number}，工作人员会和您联系。\n"
        "还要再提交一张吗？要再提交请回复“确认”；不用了回复“取消”。"
    )


def _fields(item: Item, draft: OrderDraft) -> tuple[str, ...]:
    return item.order_fields(draft.visit)


def _take(ctx: Context, item: Item, draft: OrderDraft, field: str, text: str) -> None:
    """Read `text` as `field` into the draft; raises ContactError/WhenError saying why not."""
    if field == "name":
        draft.fields["name"] = read_name(text)
    elif field == "mobile":
        mobile = read_mobile(text)
        if mobile is None:
            raise ContactError("没看到手机号码。请发 11 位手机号，比如 13812345678。")
        draft.fields["mobile"] = mobile
    elif field == "address":
        draft.fields["address"] = read_address(text)
    elif field == "description":
        draft.fields["description"] = read_description(text)
    elif field == "time":
        window = _window(ctx, item, text)
        if window is None:
            raise WhenError("没听明白是什么时候。可以说“明天上午”“周六下午3点”“12月2日上午”。")
        draft.time = window


def _window(ctx: Context, item: Item, text: str) -> Window | None:
    assert item.order is not None
    now = ctx.services.now()
    window = read_window(text, now)
    if window is None:
        return None
    handbook = ctx.services.handbook
    hours = handbook.office.booking_hours[item.order.hours]

    def closed_reason(day: Any) -> str:
        holiday = handbook.calendar.holiday(day)
        return f"是{holiday}假期" if holiday else "这项业务不办理（周末只办值班事项）"

    return first_fit(window, lambda day: handbook.calendar.spans(hours, day), closed_reason, now)


def _prefill(ctx: Context, item: Item, draft: OrderDraft, text: str) -> list[str]:
    """Keep what the first message already says; a wrong time is explained, not silently dropped."""
    notes: list[str] = []
    fields = _fields(item, draft)
    if not text:
        return notes
    try:
        mobile = read_mobile(text)
        if mobile and "mobile" in fields:
            draft.fields["mobile"] = mobile
    except ContactError:
        pass
    if "time" in fields:
        try:
            window = _window(ctx, item, text)
            if window:
                draft.time = window
        except WhenError as exc:
            notes.append(str(exc))
    if "description" in fields and len(simplify(text)) >= 4:
        draft.fields["description"] = read_description(text)
    return notes


def _next(ctx: Context, item: Item, draft: OrderDraft, lines: list[str]) -> Reply:
    missing = [f for f in _fields(item, draft) if not draft.has(f)]
    if missing:
        return _ask(ctx, draft, missing[0], lines)
    return _ask(ctx, draft, "confirm", [*lines, summary(ctx, item, draft)])


def _ask(ctx: Context, draft: OrderDraft, field: str, lines: list[str]) -> Reply:
    draft.asking = field
    ctx.conversation.enter(ORDERING, draft)
    if field in ("confirm", "confirm_again"):
        return Reply("\n".join(lines))
    return Reply("\n".join([*lines, QUESTIONS[field] + _FOOTER]))


def summary(ctx: Context, item: Item, draft: OrderDraft) -> str:
    title = item.title + ("（上门）" if draft.visit and item.home_visit else "")
    lines = ["请核对：", f"事项：{title}"]
    for field in _fields(item, draft):
        value = draft.time.describe() if field == "time" and draft.time else draft.fields[field]
        lines.append(f"{LABELS[field]}：{value}")
    lines.append("没问题请回复“确认”；要改就说“改电话”“改时间”等；不办了回复“取消”。")
    return "\n".join(lines)


async def _place(ctx: Context, item: Item, draft: OrderDraft) -> Reply:
    desk = ctx.services.desk
    assert desk is not None
    fields, window = draft.fields, draft.time
    placement = await desk.place_order(
        resident=ctx.message.resident,
        item_id=item.id,
        category=item.category,
        name=fields.get("name", ""),
        mobile=fields.get("mobile", ""),
        fields={k: v for k, v in fields.items() if k not in ("name", "mobile")},
        window=(window.start, window.end) if window else None,
        urgent=draft.urgent,
        request_key=draft.key,
        limits=limits_of(item),
    )
    number = placement.ticket.number
    ctx.conversation.enter(PLACED, Placed(item.id, number))
    if not placement.created:
        return Reply(f"这个预约已经提交过了，工单号 {number}。回复“进度”可以查看办理情况。")
    lines = [f"已提交！工单号 {number}（请记下，查进度时报这个号）。"]
    if placement.assignee and placement.on_duty:
        lines.append(f"已派给值班的{placement.assignee[:1]}老师，会尽快和您联系。")
    elif placement.opens_at is not None:
        opens = placement.opens_at.astimezone(ctx.services.tz)
        lines.append(f"现在不是值班时间，{_moment(opens)}值班工作人员上班后会马上处理，并和您联系。")
    else:
        lines.append("工作人员上班后会和您联系。")
    if draft.urgent:
        lines.append("如有燃气味、井盖缺失等危险，请先远离，并拨打 119 或燃气公司抢修电话。")
    lines.append("办好后会通知您，请给我们的服务打个分。")
    return Reply("\n".join(lines))


def limits_of(item: Item) -> Limits:
    """The handbook's time limits for the item: claim minutes, and working days to complete (0: 即办)."""
    working_days = item.time_limit.days if item.time_limit.kind == "working_days" else 0
    return Limits(item.order.claim_minutes if item.order else OrderSpec.claim_minutes, working_days)


def _moment(moment: datetime) -> str:
    return f"{moment.month}月{moment.day}日（周{'一二三四五六日'[moment.weekday()]}）{moment:%H:%M}"
