"""Typed, immutable view of the handbook so callers never touch raw YAML dicts."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, time, timedelta

from knowledge.emergency import EmergencyGuide


@dataclass(frozen=True, slots=True)
class Document:
    name: str
    form: str  # 原件 / 复印件 / 原件和复印件 / 电子
    count: int
    note: str = ""


@dataclass(frozen=True, slots=True)
class Where:
    place: str  # community | street | compound | external
    name: str = ""
    note: str = ""
    # An external place's local branch (an office.yaml `nearby` key): its address and hours are the
    # answer to "派出所周末开门不" about this item (trial PP r01 got "以当地为准" four times).
    nearby: str = ""


@dataclass(frozen=True, slots=True)
class TimeLimit:
    kind: str  # immediate | working_days
    days: int = 0
    note: str = ""


@dataclass(frozen=True, slots=True)
class IncomeLine:
    """A means-tested item's monthly income line per person, as a range where cities differ, and what
    to tell a resident whose own figures fall below, inside or above it ("屋头四个人 一个月三千二 够不够")."""

    low: int
    high: int
    below: str
    within: str
    above: str


ORDER_FIELDS = ("name", "mobile", "address", "time", "description")
# Who may take an item's orders (三单: 群众点单 → 社区派单 → 党员接单): community staff on duty,
# the grid member of the resident's building (网格员/楼栋长), in-service party members (双报到)
# and volunteers. Staff always may: they are the fallback when nobody else takes it.
TAKERS = ("staff", "grid", "party_member", "volunteer")
# Facts of an item a resident may ask about alone ("高龄津贴多少钱一个月"), in the order tried.
ASPECTS = (
    "compare",
    "amount",
    "fee",
    "online",
    "duration",
    "where",
    "hours",
    "proxy",
    "who",
    "booking",
    "visit",
)
OPTIONAL_ASPECTS = ("proxy", "booking", "visit")  # a handbook version written before they existed still loads
# A handbook version written before these own-ticket cues still loads.
OPTIONAL_OWN_TICKET_CUES = (
    "add_on",
    "hurry",
    "note",
    "handler_phone",
    "waiting",
    "in_person",
    "book_later",
    "included",
)
# phrasings.yaml own_tickets: what a message about one's own tickets asks, and what it names.
OWN_TICKET_CUES = (
    "status",
    "cancel",
    "change",
    "retime",
    "address",
    "name",
    "mobile",
    "booking",
    "report",
    "every",
    "week",
    "unsure",
    "keep_as_is",
    *OPTIONAL_OWN_TICKET_CUES,
)


@dataclass(frozen=True, slots=True)
class OrderSpec:
    """What an online order for the item asks, one question at a time, and when it can be served."""

    fields: tuple[str, ...]  # in asking order, from ORDER_FIELDS
    hours: str  # a key of Office.booking_hours
    urgent: tuple[str, ...] = ()  # words that mark a report a safety hazard (pushed as urgent)
    claim_minutes: int = 15  # duty minutes before an unclaimed ticket is reminded (2x: escalated)
    # Who may take it (TAKERS); beyond staff, an unclaimed task returns to duty routing after
    # claim_minutes. 政务 items keep the default: staff only.
    takers: tuple[str, ...] = ("staff",)
    # How the description is asked for this item ("想报哪个班？"), not the repair's "在哪里、什么问题".
    ask: str = ""


@dataclass(frozen=True, slots=True)
class Question:
    """A question residents ask about an item that the checklist does not answer in one line
    ("家里有车能吃低保不", "户口在外地能领不"): the words that ask it and the short answer."""

    ask: tuple[str, ...]
    answer: str
    # Asked by words specific enough to answer whichever item the message was read as ("我妈老年痴呆
    # 有没有防走失手环" reads as long-term care; the wristband is the visiting item's answer).
    anywhere: bool = False
    # The answer says the community does not do what is asked ("亲属关系证明社区一般开不了"): asked in a
    # request, it is answered instead of a booking being opened (trial Z11 r20 was walked into one).
    not_done_here: bool = False


@dataclass(frozen=True, slots=True)
class Item:
    id: str
    title: str
    category: str
    aliases: tuple[str, ...]
    keywords: tuple[str, ...]
    eligibility: tuple[str, ...]
    documents: tuple[Document, ...]
    steps: tuple[str, ...]
    where: Where
    time_limit: TimeLimit
    fee: str
    bookable: bool
    home_visit: bool
    online: str
    when: str = ""
    notes: tuple[str, ...] = ()
    amount: str = ""  # what is paid out (津贴、补助的标准): the fact residents ask first
    scope: str = ""  # the catalogue's line on where this item ends and the next begins
    default_intent: str = "consult"
    # True for the catch-all item (上门服务): it only wins when no specific item matches.
    fallback: bool = False
    order: OrderSpec | None = None  # None: cannot be ordered online
    # Whole sentences residents write about this item, and situations that lead to it ("刚生了娃"):
    # examples the learned classifier trains on, so a community adds wording without touching code.
    phrasings: tuple[str, ...] = ()
    situations: tuple[str, ...] = ()
    questions: tuple[Question, ...] = ()
    income_line: IncomeLine | None = None  # means-tested: the per-person line residents' figures meet

    def order_fields(self, visit: bool) -> tuple[str, ...]:
        """Fields to collect; a home visit also needs the address."""
        if self.order is None:
            return ()
        fields = self.order.fields
        if visit and "address" not in fields:
            # Ask the address right after the contact details, before the time.
            at = fields.index("mobile") + 1 if "mobile" in fields else len(fields)
            fields = (*fields[:at], "address", *fields[at:])
        return fields


@dataclass(frozen=True, slots=True)
class Place:
    name: str
    address: str


@dataclass(frozen=True, slots=True)
class Nearby:
    """The branch of another agency that serves this community (office.yaml `nearby`): the referral
    directory knows the agency only, and "附近派出所在哪 电话好多" wants this one's address and number."""

    name: str
    address: str
    phone: str = ""
    hours: str = ""


Span = tuple[time, time]


@dataclass(frozen=True, slots=True)
class BookingHours:
    """When a service can be scheduled: spans on working days and on weekends (holidays: never)."""

    workdays: tuple[Span, ...]
    weekend: tuple[Span, ...]
    # Only these days of the week (1 = Monday … 7 = Sunday), empty: every day; `note` says why when
    # another day is asked ("驻点律师只在每周三下午坐班": trial JJ r10 was booked for a Thursday).
    days: tuple[int, ...] = ()
    note: str = ""


@dataclass(frozen=True, slots=True)
class Calendar:
    """Public holidays and make-up working days (调休), kept as data because they change yearly."""

    holidays: dict[date, str] = field(default_factory=dict)
    workdays: frozenset[date] = frozenset()

    def holiday(self, day: date) -> str | None:
        return self.holidays.get(day)

    def lists(self, name: str, year: int) -> bool:
        """Is the holiday `name` of `year` listed yet? The State Council publishes a year's late in the
        year before, so a day around next year's 春节 may still be unknown."""
        return any(day.year == year and said == name for day, said in self.holidays.items())

    def is_workday(self, day: date) -> bool:
        """Monday–Friday unless a holiday; a weekend day only when it is a make-up working day."""
        if day in self.holidays:
            return False
        return day in self.workdays or day.weekday() < 5

    def next_open(self, hours: BookingHours, start: date, within: int = 14) -> date | None:
        """The first day from `start` on which `hours` has any span (None: none within `within` days)."""
        days = (start + timedelta(days=n) for n in range(within + 1))
        return next((day for day in days if self.spans(hours, day)), None)

    def spans(self, hours: BookingHours, day: date) -> tuple[Span, ...]:
        if day in self.holidays or (hours.days and day.isoweekday() not in hours.days):
            return ()
        return hours.workdays if self.is_workday(day) else hours.weekend


@dataclass(frozen=True, slots=True)
class Office:
    name: str
    phone: str
    duty_phone: str
    places: dict[str, Place]
    hours: dict[str, str]
    holidays: str
    online: str
    policy_note: str
    booking_hours: dict[str, BookingHours] = field(default_factory=dict)
    # Keyed by the referral directory's place id (referrals.yaml); only what the community filled in.
    nearby: dict[str, Nearby] = field(default_factory=dict)
    # What residents ask of the centre itself ("社区能复印不", "有没有停车的地方"): words and answers.
    questions: tuple[Question, ...] = ()
    # What residents ask in the middle of booking a visit or an appointment ("一次要弄好久", "必须要我
    # 在屋头不", "邻居能不能一起"): answered then, whatever the service, never read as an intent.
    booking_questions: tuple[Question, ...] = ()


# The intent cues of phrasings.yaml, each a list of regular-expression parts (intents/lexicon.py
# compiles them; the classifier decides the order in which they are tried).
CUE_NAMES = (
    "human",
    "status_alone",
    "own_request",
    "status",
    "cancel",
    "rate",
    "question",
    "availability",
    "asking",
    "in_general",
    "demanded_by",
    "asked_to_act",
    "asks_how",
    "order_strong",
    "order_weak",
    "problem",
    "office",
    "general_consult",
    "greeting",
    "closing",
    "out_of_scope",
)
# Cue lists a handbook may leave out (versions written before them still load).
OPTIONAL_CUES = (
    "errand",
    "asks_steps",
    "aside",
    "cancel_if",
    "wanted",
    "topic",
    "not_understood",
    "staff_to_look",
    "duty_unreachable",
    "book_to_ask",
)


@dataclass(frozen=True, slots=True)
class Phrasings:
    """How residents say things (knowledge/data/phrasings.yaml), as the loader validated it.

    Raw words and patterns, in file order: intents/lexicon.py compiles them once per classifier, so
    a community worker changes how the bot reads people by editing data, not Python.
    """

    glosses: dict[str, str]  # dialect or colloquial word -> standard word, applied in normalisation
    fillers: tuple[str, ...]  # removed in normalisation
    cues: dict[str, tuple[str, ...]]  # CUE_NAMES -> regex parts
    greeting_only: tuple[str, ...]  # a message made only of these words is a greeting
    negation: tuple[str, ...]  # just before an item name: the item is denied
    context_before: tuple[str, ...]  # just before an item name: the item is context, not the subject
    context_after: tuple[str, ...]  # just after an item name: likewise
    follow_up: tuple[str, ...]  # the whole message after an item was answered: order it
    checklist: tuple[str, ...]  # the whole message after an item was answered: its checklist
    menu: tuple[str, ...]  # the whole message: the service menu
    order_cancel: tuple[str, ...]  # a message starting with one of these drops the order draft
    order_confirm: tuple[str, ...]  # the whole message (trailing ! or . allowed) confirms the order
    correction: tuple[str, ...]  # regex parts: the resident corrects a field of the draft
    field_words: dict[str, tuple[str, ...]]  # ORDER_FIELDS -> words naming it, first match wins
    home_visit: tuple[str, ...]  # in the first message: serve a home-visit item at home
    refuse_name: tuple[str, ...]  # asked for a name, the resident will not give one
    skip: tuple[str, ...]  # leave this field out (the name only)
    no_phone: tuple[str, ...]  # regex parts: asked for a number, the resident has no phone that works
    why_asked: tuple[str, ...]  # regex parts: "why do you need this?"
    order_question: tuple[str, ...]  # regex parts: the answer is a question, not a value
    aspects: dict[str, tuple[str, ...]]  # ASPECTS -> words asking for that one fact of an item
    office_only: tuple[str, ...]  # the whole message: the office card (时间, 地址, 电话)
    open_question: tuple[str, ...]  # with a day: "is it open then?" (上班不, 放假不, 有人不)
    rating_stars: dict[str, int]  # rating word -> stars (1-5)
    unhappy: tuple[str, ...]  # in a rating: apologise and promise a call back
    thanks: tuple[str, ...]  # in a greeting: answer "不客气"
    bye: tuple[str, ...]  # in a greeting: answer "再见"
    lonely: tuple[str, ...] = ()  # small talk of a lonely resident: answer warmly, say what is on offer
    visit: tuple[str, ...] = ()  # a lonely resident asking for someone to come: a visit is arranged
    who: tuple[str, ...] = ()  # "你是机器人还是人": say what the bot is and how to reach a person
    nothing_more: tuple[str, ...] = ()  # "没事了" on its own: a short goodbye, not the menu again
    chitchat: tuple[str, ...] = ()  # idle talk ("明天会不会下雪", "唱首歌"): a warm word, not a hotline
    # complaints section: regex parts. A complaint goes to the secretary; neglect words count as a
    # complaint about the resident's own open ticket only; handoff asks for a person.
    complaint: tuple[str, ...] = ()
    neglect: tuple[str, ...] = ()
    handoff: tuple[str, ...] = ()
    # OWN_TICKET_CUES -> regex parts: a request about one's own tickets (status, cancel, change)
    own_tickets: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # Kept contact details (profile): the answer to "还是用……吗？", and asking to see or erase them.
    profile_keep: tuple[str, ...] = ()  # the whole message: use the kept details
    profile_change: tuple[str, ...] = ()  # a message starting with one: not these, ask anew
    profile_erase: tuple[str, ...] = ()  # regex parts, anywhere in the message: erase them
    profile_show: tuple[str, ...] = ()  # regex parts, the whole message: show them (mobile masked)
    life_event_asks: tuple[str, ...] = ()  # "要办些啥": a life event's whole list, even if an item is named
    about_community: tuple[str, ...] = ()  # 社区, 工作人员: a complaint word about us, not another agency
    # A spoken self-correction ("就业创业证 不对 是失业登记"): a service named before the last one
    # is withdrawn when another is named after it.
    retract: tuple[str, ...] = ()
    # just before `context_before` ("听说有了居住证…"): a service supposed, so still the subject
    context_supposed: tuple[str, ...] = ()
    # Just before a service ("没有居住证 能办老年证不"): the resident lacks it — the situation, when
    # another service is asked about after it.
    context_lacking: tuple[str, ...] = ()
    # Said right after a service ("户口已经迁过来了", "就业创业证办好了"): that one is done, and a
    # service said after it is the subject (regex parts, matched on the unspaced text).
    done: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Referral:
    """Another agency's business, and how a resident reaches it (referrals.yaml): named instead
    of an apology when a question is outside community services."""

    id: str
    name: str
    handles: str
    how: str
    phone: str = ""
    words: tuple[str, ...] = ()
    # The community item that takes it up when the agency does not ("物业不处理的，可向社区反映"):
    # a resident asking the community to act after the referral is signed up for it.
    community_item: str = ""
    # Follow-up questions residents ask about this agency ("三力测试是啥子", "护照好多钱"): the words
    # that ask each and a short answer, so the referral is not repeated word for word (trial Q).
    questions: tuple[Question, ...] = ()


@dataclass(frozen=True, slots=True)
class LifeEvent:
    """A situation ("老人走了") that leads to several items, listed in the order usually done."""

    id: str
    title: str
    phrasings: tuple[str, ...]
    items: tuple[str, ...]
    note: str = ""


@dataclass(frozen=True, slots=True)
class TrainingData:
    """What the learned classifier trains on besides the items' own phrasings (training/)."""

    examples: tuple[tuple[str, str, str | None, str], ...] = ()  # text, intent, item, extra (life:…)
    frames: dict[str, tuple[str, ...]] = field(default_factory=dict)  # intent → frames with {名}


@dataclass(frozen=True, slots=True)
class Handbook:
    categories: dict[str, str]
    items: dict[str, Item]  # catalogue order
    office: Office
    phrasings: Phrasings
    source: str = ""
    calendar: Calendar = field(default_factory=Calendar)
    emergency: EmergencyGuide | None = None  # hazards and numbers (emergency.yaml)
    referrals: tuple[Referral, ...] = ()
    life_events: tuple[LifeEvent, ...] = ()
    training: TrainingData = field(default_factory=TrainingData)

    def item(self, item_id: str) -> Item:
        return self.items[item_id]

    def catch_all(self) -> Item | None:
        """The item an errand or a visit falls back to when no other service fits (`fallback: true`)."""
        return next((item for item in self.items.values() if item.fallback), None)

    def claim_minutes(self, item_id: str) -> int:
        """Duty minutes an order for the item may wait unclaimed (the OrderSpec default otherwise)."""
        item = self.items.get(item_id)
        return item.order.claim_minutes if item and item.order else OrderSpec.claim_minutes
