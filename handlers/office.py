"""office and human: opening hours, duty, address, phone — and how to reach a person."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date, datetime, time, timedelta

from desk.states import OPEN_STATES
from handlers import complaints, facts, render
from handlers.types import Context, Reply
from intents import Classification
from intents.normalize import number_said
from intents.when import FESTIVAL_NAMES, LUNAR_MONTHS, WhenError, Window, day_label, merged, read_window

_FESTIVAL = re.compile("|".join(FESTIVAL_NAMES))
# "正月初几开始上班": when the Spring Festival's break ends, which the State Council publishes.
_BACK_AFTER_NEW_YEAR = re.compile(
    r"(正月|过年|春节|年后|过了年)[^ ]{0,4}(初几|哪天|好久|什么时候|啥时候|几号)"
)


async def handle_office(ctx: Context, result: Classification) -> Reply:
    """ "今天上班不 / 元旦放假不 / 周六有人不": yes or no with that day's hours; otherwise the card."""
    said = open_on(ctx, ctx.message.text) if ctx.message.text else None
    handbook = ctx.services.handbook
    centre = facts.centre_answer(ctx, ctx.message.text or "", papers_too=True) if not said else None
    if centre:
        return Reply(f"【{handbook.office.name}】{centre}")
    office = handbook.office
    named = ctx.services.classifier.items_in(ctx.message.text) if ctx.message.text else ()
    if not said and named and handbook.item(named[0]).where.place != "community":
        # "社区卫生服务中心在哪里": another office's address is that item's, not ours (seen in a trial).
        answered = facts.fact(handbook.item(named[0]), "where", handbook)
        if answered:
            return Reply(answered)
    if said and asks_in_time(ctx.message.text):
        return Reply(said)  # its own line names the duty phone
    if said and not _ASKS_THE_WAY.search(ctx.message.text):
        return Reply(f"{said}\n电话：{office.phone}；值班手机：{office.duty_phone}")
    return Reply(render.office_hours(office))  # the card begins with the address


# "社区办公室在几楼 我从大门进来找不到": where the office is, not whether it is open today (blind
# batch 77 got today's hours only).
_ASKS_THE_WAY = re.compile(r"在哪|哪里|哪儿|哪点|几楼|哪层|哪一层|哪个位置|什么位置|咋个走|怎么走|找不到")


def open_on(ctx: Context, text: str) -> str | None:
    """Whether the centre is open on the day (and part of day) the message names, from the calendar."""
    in_time = _in_time(ctx, text)
    if in_time is not None:
        return in_time
    lexicon = ctx.services.classifier.lexicon
    if not lexicon.open_question.search(lexicon.normalize(text).replace(" ", "")):
        return None
    now = ctx.services.now()
    if _BACK_AFTER_NEW_YEAR.search(text):
        return _spring_festival_line(ctx, now)
    night = _in_the_night(ctx, text, now)
    if night is not None:
        return night
    try:
        # "腊月二十七才到屋 二十八那天有人没": the lunar day the asking clause names, not the first said.
        lunar = any(m in text for m in LUNAR_MONTHS)
        carried = _day_asked(ctx, text, now) if lunar else None
        window = carried or read_window(text, now) or asked_now(text, now)
    except WhenError:
        window = carried if lunar else _day_asked(ctx, text, now)
        if window is None:
            return None  # days named but none asked about: the whole week's hours, not today's
    if window is not None and not window.asap and window.start < now and not _TODAY_SAID.search(text):
        # "中午十二点半过来有人没得" asked in the evening: that hour next, not today's gone (blind batch 79
        # was told only that the centre had closed).
        window = replace(window, start=window.start + timedelta(days=1), end=window.end + timedelta(days=1))
    day = window.start.date() if window and not window.asap else now.date()
    handbook = ctx.services.handbook
    if _in_unlisted_spring_festival(ctx, day, now):
        # "过了年初八以后社区上班没得" before next year's break is published: not a guessed Saturday.
        return _spring_festival_line(ctx, now, day)
    label = _day_label(day, now.date())
    holiday = handbook.calendar.holiday(day)
    festival = _FESTIVAL.search(text)
    if festival and not holiday:  # next year's holidays are published by the State Council late in the year
        return (
            f"{label}是{festival.group()}，按国家法定节假日安排放假；"
            "具体放假日期以国务院公布为准，公布后我们会更新。节假日有人值班。"
        )
    if holiday:
        return f"{label}是{holiday}假期，放假不办公；节假日有人值班，急事请打值班手机。"
    office_hours = handbook.office.booking_hours["office"]
    spans = handbook.calendar.spans(office_hours, day)
    if not spans:
        return f"{label}不办公。"
    hours = "、".join(f"{b:%H:%M}-{e:%H:%M}" for b, e in merged(spans))
    kind = "上班" if handbook.calendar.is_workday(day) else "有人值班"
    if day == now.date() and now.time() >= max(e for _, e in spans):
        # "今天星期天能去办吗" at 18:20: today's hours are over — not "能办" (trial KK r03).
        then = _next_opening(ctx, now)  # nothing later today: the next open day
        duty = handbook.office.duty_phone
        return f"{label}{kind}时间是 {hours}，现在已经下班了。{then}急事请打值班手机 {duty}。"
    whole_day = (
        window is None or window.asap or (window.start.time() == time(0) and window.end.time() == time(0))
    )
    if not whole_day:
        assert window is not None
        begin, end = window.start.time(), window.end.time()
        overlapping = [f"{b:%H:%M}-{e:%H:%M}" for b, e in spans if begin < e and end > b]
        if not overlapping:
            return f"{label}{window.start:%H:%M}以后不办公。那天{kind}时间：{hours}。"
        return f"{label}{'、'.join(overlapping)}有人，能办。全天{kind}时间：{hours}。"
    return f"{label}{kind}，时间：{hours}。"


def _spring_festival_line(ctx: Context, now: datetime, asked: date | None = None) -> str:
    """When the Spring Festival is and that its break is the State Council's to publish; the day
    asked about, when one was, named first."""
    festival = read_window("春节", now)
    day = _day_label(festival.start.date(), now.date()) if festival else "春节"
    duty = ctx.services.handbook.office.duty_phone
    first = f"{_day_label(asked, now.date())}正赶上春节前后。" if asked is not None else ""
    return (
        f"{first}春节是{day}，放假到哪天、节后哪天上班，按国务院公布的放假安排（一般是正月初七或初八上班），"
        f"公布后我们会更新。放假期间有人值班，急事请打值班手机 {duty}。"
    )


def _in_unlisted_spring_festival(ctx: Context, day: date, now: datetime) -> bool:
    """Is `day` inside the days a Spring Festival break may cover, while the calendar does not list
    that year's break yet?"""
    festival = read_window("春节", now)
    if festival is None:
        return False
    start = festival.start.date()
    listed = ctx.services.handbook.calendar.lists("春节", start.year)
    return not listed and -_BREAK_BEFORE <= (day - start).days <= _BREAK_AFTER


# The days around 正月初一 a published break has covered (2026: 腊月二十八 to 正月初七, back on 初八).
_BREAK_BEFORE, _BREAK_AFTER = 3, 8


# Today named: an hour already gone is still today's.
_TODAY_SAID = re.compile(r"今天|今儿|今日|今早|今晚|现在|这会|刚才|刚刚")

# "现在都五点二十几了 我走过去要十分钟 来得及不嘛": will they make it before the centre closes?
_IN_TIME = re.compile(r"来得及|来不来得及|来不及|赶得上|赶不赶得上|赶得到|赶不赶得到|赶不上")
_ON_THE_WAY = re.compile(r"过来|过去|走过|赶过|赶到|走到|关门|下班|到社区|到你们")
# How long the way takes: "走过去要十分钟", "半个钟头", "20分钟".
_MINUTES = re.compile(r"(\d{1,3}|[一二两三四五六七八九十]{1,3})\s*(来)?分钟|(半)(个)?(钟头|小时)|(一刻钟)")


def asks_in_time(text: str) -> bool:
    """Does the message ask whether they will make it before closing ("现在过来来得及不")? Not a
    deadline ("现在报名还来得及不"): the way there or the closing is said."""
    return _IN_TIME.search(text) is not None and _ON_THE_WAY.search(text) is not None


def _in_time(ctx: Context, text: str) -> str | None:
    """Whether there is time to get to the centre before it closes, from the clock now and the way
    said (trial Z5 r14 was asked at 17:24 and got small talk, then the week's hours); None unless
    asked. Written by hand: the arithmetic is on today's spans, which no library knows."""
    if not asks_in_time(text):
        return None
    handbook = ctx.services.handbook
    now = ctx.services.now()
    office_hours = handbook.office.booking_hours["office"]
    spans = merged(handbook.calendar.spans(office_hours, now.date()))
    way = _way_minutes(text)
    duty = handbook.office.duty_phone
    current = next(((b, e) for b, e in spans if b <= now.time() < e), None)
    if current is not None:
        end = current[1]
        left = int((datetime.combine(now.date(), end) - now.replace(tzinfo=None)).total_seconds() // 60)
        said = f"现在 {now:%H:%M}，这一段 {end:%H:%M} 结束，还有 {left} 分钟"
        if way is None:
            return f"{said}；路上超过这个时间就来不及了，急事打值班手机 {duty}。"
        if way < left:
            return f"{said}，路上 {way} 分钟，来得及。到了直接到一楼大厅找值班的工作人员。"
        return f"{said}，路上要 {way} 分钟，怕是来不及了。{_next_opening(ctx, now)}急事打值班手机 {duty}。"
    return f"现在 {now:%H:%M}，服务站这会儿没人上班。{_next_opening(ctx, now)}急事打值班手机 {duty}。"


def _way_minutes(text: str) -> int | None:
    found = _MINUTES.search(text)
    if found is None:
        return None
    if found.group(3) or found.group(6):
        return 30 if found.group(3) else 15
    number = found.group(1)
    return number_said(number)


def _next_opening(ctx: Context, now: datetime) -> str:
    """ "下次有人是明天（周二）09:00 起。" from the calendar, later today included."""
    handbook = ctx.services.handbook
    office_hours = handbook.office.booking_hours["office"]
    later = [b for b, _ in merged(handbook.calendar.spans(office_hours, now.date())) if b > now.time()]
    if later:
        return f"今天 {later[0]:%H:%M} 再开门。"
    nearest = handbook.calendar.next_open(office_hours, now.date() + timedelta(days=1))
    if nearest is None:
        return ""
    first = merged(handbook.calendar.spans(office_hours, nearest))[0][0]
    return f"下次有人是{_day_label(nearest, now.date())} {first:%H:%M} 起。"


# Said in the small hours, "现在晚上有没有人值班" and "今晚" mean the night it is now (trial SS r12 was told
# at 01:30 that the centre closes at 17:30 that day).
_NIGHT_SAID = re.compile(r"现在|这会儿|今晚|晚上|夜里|半夜|深夜")
_SMALL_HOURS_END = time(6)


def _in_the_night(ctx: Context, text: str, now: datetime) -> str | None:
    """Before dawn, asked about now or tonight: nobody is at the centre now, when it opens, and whom to
    call meanwhile; None at any other hour or for another moment."""
    if now.time() >= _SMALL_HOURS_END or not _NIGHT_SAID.search(text):
        return None
    handbook = ctx.services.handbook
    office_hours = handbook.office.booking_hours["office"]
    opens = handbook.calendar.next_open(office_hours, now.date())
    then = ""
    if opens is not None:
        first = merged(handbook.calendar.spans(office_hours, opens))[0][0]
        then = f"{_day_label(opens, now.date())} {first:%H:%M} 起有人。"
    return (
        f"现在是夜里 {now:%H:%M}，服务站没有人上班。{then}夜里急事打值班手机 {handbook.office.duty_phone}；"
        "有人受伤、有危险先打 110、119 或 120。"
    )


# Where one clause ends: "对了 周六你们开门没得哦 上面写的周一到周五" asks about the first day only.
_CLAUSE = re.compile(r"[\s,，。;；!！?？]+")


_BARE_DAY = re.compile(r"(初)?[一二三四五六七八九十\d]{1,3}(那天|那日|号)?")


def _day_asked(ctx: Context, text: str, now: datetime) -> Window | None:
    """The day of the one clause that asks whether the centre is open, when the message names more
    than one ("周六你们开门没得哦 上面写的周一到周五" was answered for today, trial X r3); None unless
    exactly one clause both asks and names a day."""
    lexicon = ctx.services.classifier.lexicon
    found = []
    lunar_month = ""
    for clause in (c for c in _CLAUSE.split(text) if c):
        named = next((m for m in LUNAR_MONTHS if m in clause), None)
        if named is None and lunar_month and _BARE_DAY.match(clause):
            clause = lunar_month + clause  # "腊月二十七才到屋 二十八那天…": the 28th of that month
        lunar_month = named or lunar_month
        if not lexicon.open_question.search(lexicon.normalize(clause).replace(" ", "")):
            continue
        try:
            found.append(read_window(clause, now))
        except WhenError:
            continue
    return found[0] if len(found) == 1 else None


# "那我现在过来 现在还有人吧": the centre right now (trial KK r03 got small talk).
_NOW_ASKED = re.compile(
    r"(现在|这会儿|这阵)[^ ]{0,3}(有人|有没有人|上班|开门|开着|办公|办不办|能办|在不在|过来|来得)"
)


def asked_now(text: str, now: datetime) -> Window | None:
    """The hour from now, when the message asks about right now and names no other moment."""
    return Window(now, now + timedelta(hours=1)) if _NOW_ASKED.search(text) else None


def _day_label(day: date, today: date) -> str:
    names = {0: "今天", 1: "明天", 2: "后天"}
    date_text = day_label(day)
    prefix = names.get((day - today).days)
    return f"{prefix}{date_text}" if prefix else date_text


def centre_question(ctx: Context) -> str | None:
    """The centre's own answer ("社区能复印不嘛", "车停哪"), when the message asks one of office.yaml's
    questions and names no service (a paper's copies, "复印件要几份", are that service's)."""
    text = ctx.message.text or ""
    answer = facts.centre_answer(ctx, text)
    return None if answer is None or ctx.services.classifier.classify(text).named else answer


async def answer_centre_question(ctx: Context, answer: str) -> Reply:
    return Reply(f"【{ctx.services.handbook.office.name}】{answer}")


def duty_unreachable(ctx: Context) -> bool | None:
    """ "打了值班手机没人接 咋办嘛": the community's phone did not answer (trial SS r12 was asked for a
    new phone number of her own, twice)."""
    lexicon = ctx.services.classifier.lexicon
    if lexicon.duty_unreachable is None:
        return None
    compact = lexicon.normalize(ctx.message.text or "").replace(" ", "")
    return bool(lexicon.duty_unreachable.search(compact)) or None


async def when_unreachable(ctx: Context, _: bool) -> Reply:
    """What to do when nobody answers: try again, the other number, help first if it is dangerous,
    and the tickets they have, which are not lost."""
    office = ctx.services.handbook.office
    lines = [
        f"值班手机 {office.duty_phone} 一时没接通，可能正在通话或在外面处理事情：隔几分钟再打一次，"
        f"或发短信说清楚事情和地址；上班时间也可以打社区电话 {office.phone}。",
        "有人受伤、有危险的，不要等我们：马上打 110、119 或 120。",
    ]
    desk = ctx.services.desk
    tickets = await desk.resident_tickets(ctx.message.resident, limit=10) if desk is not None else []
    open_tickets = [ticket for ticket in tickets if ticket.state in OPEN_STATES]
    if open_tickets:
        numbers = "、".join(str(ticket.number) for ticket in open_tickets)
        lines.append(f"您的工单 {numbers} 已经登记，值班的工作人员上班后第一件事处理。")
        # "值班手机打不通 井盖今晚咋办": what the item says to do meanwhile (trial SS r12).
        item = ctx.services.handbook.items.get(open_tickets[0].item_id)
        own = facts.own_answer(ctx, item, ctx.message.text or "") if item is not None else None
        if own:
            lines.append(own)
    return Reply("\n".join(lines))


async def handle_human(ctx: Context, result: Classification) -> Reply:
    """A person answers: a handoff to the staff member on duty; without tickets, the numbers to call."""
    rest = complaints.after_waiting(ctx.message.text or "")
    if rest:
        # "好嘛等人工回。那娃娃医保咋个办": the person is waited for; the question is answered now.
        said = ctx.services.classifier.classify(rest)
        if said.intent in ("consult", "order") and said.item in ctx.services.handbook.items:
            from handlers import consult  # consult reaches office through by_intent

            return await consult.handle(ctx, said._replace(intent="consult"))
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
